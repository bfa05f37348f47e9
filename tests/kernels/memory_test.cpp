// SPDX-License-Identifier: Apache-2.0
// The memory benchmarks' kernels check what they moved: every stream operation's output (and a
// check that catches the wrong one), the paged gather word for word, and the storage read against
// the file's pattern. Poisoned outputs fail every check until a pass writes them again, so the
// benchmarks' checks after timing prove that pass.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "kernels/memory/host_stream.h"
#include "kernels/memory/kv_gather.h"
#include "kernels/memory/storage_read.h"

namespace {

using namespace cobench::memory;

TEST(HostStream, EveryOperationWritesWhatItShould) {
  HostStream s(std::size_t{8} << 20, 2);
  EXPECT_EQ(s.threads(), 2);
  EXPECT_EQ(s.elements(), (std::int64_t{8} << 20) / 8);
  for (StreamOp op : {StreamOp::kRead, StreamOp::kWrite, StreamOp::kCopy, StreamOp::kTriad}) {
    EXPECT_GT(s.run(op), 0.0);
    EXPECT_EQ(s.verify(op), "") << stream_op_name(op);
  }
  EXPECT_EQ(s.bytes_per_pass(StreamOp::kTriad), 3 * s.bytes_per_pass(StreamOp::kRead));
  s.run(StreamOp::kCopy);
  EXPECT_NE(s.verify(StreamOp::kTriad), "") << "a copy is not a triad: the check must see it";
  EXPECT_FALSE(s.pinned().empty());
}

// Every copy method this CPU runs copies every element (memcpy, rep movsb, AVX2 non-temporal
// stores); the first copy pass without a set method times them all and keeps one of them.
TEST(HostStream, EveryCopyMethodCopiesEveryElement) {
  HostStream s(std::size_t{4} << 20, 2);
  const std::vector<CopyMethod> methods = copy_methods();
  ASSERT_FALSE(methods.empty());
  EXPECT_EQ(methods.front(), CopyMethod::kMemcpy);
  EXPECT_EQ(s.copy_choice(), "") << "nothing chosen before a copy pass";
  s.run(StreamOp::kCopy);
  EXPECT_EQ(s.verify(StreamOp::kCopy), "");
  EXPECT_NE(std::find(methods.begin(), methods.end(), s.copy_method()), methods.end());
  for (CopyMethod m : methods)
    EXPECT_NE(s.copy_choice().find(copy_method_name(m)), std::string::npos) << s.copy_choice();
  for (CopyMethod m : methods) {
    s.set_copy_method(m);
    EXPECT_EQ(s.copy_method(), m);
    EXPECT_EQ(s.copy_choice(), std::string(copy_method_name(m)) + " (set)");
    s.clear_outputs();
    EXPECT_NE(s.verify(StreamOp::kCopy), "");
    s.run(StreamOp::kCopy);
    EXPECT_EQ(s.verify(StreamOp::kCopy), "") << copy_method_name(m);
  }
}

TEST(HostStream, ClearedOutputsFailUntilAPass) {
  HostStream s(std::size_t{4} << 20, 2);
  for (StreamOp op : {StreamOp::kRead, StreamOp::kWrite, StreamOp::kCopy, StreamOp::kTriad}) {
    s.run(op);
    ASSERT_EQ(s.verify(op), "") << stream_op_name(op);
    s.clear_outputs();
    EXPECT_NE(s.verify(op), "") << stream_op_name(op) << ": poisoned outputs must fail";
    s.run(op);
    EXPECT_EQ(s.verify(op), "") << stream_op_name(op) << ": a pass after clearing must pass";
  }
  // A pass of another operation does not write what the check reads.
  s.clear_outputs();
  s.run(StreamOp::kWrite);
  EXPECT_NE(s.verify(StreamOp::kCopy), "");
  EXPECT_NE(s.verify(StreamOp::kRead), "");
}

TEST(HostStream, PinnedSaysWhetherEveryBindSucceeded) {
  // The message from each worker's bind result: pinned only when every bind succeeded.
  EXPECT_EQ(describe_pinning(2, {0, 0}), "pinned to 2 of 2 cores (hwloc)");
  EXPECT_EQ(describe_pinning(8, {0, 0, 0}), "pinned to 3 of 8 cores (hwloc)");
  EXPECT_EQ(describe_pinning(4, {0, EINVAL, 0, EPERM}),
            std::string("not pinned: hwloc_set_cpubind failed for 2 of 4 threads (") +
                std::strerror(EINVAL) + ")");
  // A real stream says one or the other.
  HostStream s(std::size_t{1} << 20, 2);
  const std::string& p = s.pinned();
  EXPECT_TRUE(p.starts_with("pinned to ") || p.starts_with("not pinned")) << p;
}

TEST(HostStream, PlacementSaysWhetherEveryMembindSucceeded) {
  EXPECT_EQ(describe_placement(1, {0, 0}),
            "memory bound to each worker's NUMA node (1 node, hwloc)");
  EXPECT_EQ(describe_placement(2, {0, 0, 0, 0}),
            "memory bound to each worker's NUMA node (2 nodes, hwloc)");
  EXPECT_EQ(describe_placement(2, {0, EPERM}),
            std::string("memory placed by first touch (hwloc_set_area_membind failed for 1 of 2 "
                        "threads: ") +
                std::strerror(EPERM) + ")");
  EXPECT_EQ(describe_placement(1, {-1, -1}),
            "memory placed by first touch (no hwloc NUMA node set to bind to)");
  HostStream s(std::size_t{1} << 20, 2);
  const std::string& p = s.placement();
  EXPECT_TRUE(p.starts_with("memory bound to") || p.starts_with("memory placed by first touch"))
      << p;
  s.run(StreamOp::kTriad);  // bound or not, the data is right
  EXPECT_EQ(s.verify(StreamOp::kTriad), "");
}

TEST(HostStream, UnevenSizesAndErrors) {
  HostStream s((std::size_t{3} << 20) + 12345, 3);  // per thread: whole 4 KiB pages
  EXPECT_EQ(s.elements() % (3 * 512), 0);
  s.run(StreamOp::kRead);
  EXPECT_EQ(s.verify(StreamOp::kRead), "");
  EXPECT_THROW(HostStream(4096, 2), cobench::Error);
  EXPECT_GT(measure_read_bandwidth(std::size_t{4} << 20, 2, 2), 0.0);
}

TEST(KvGather, GathersTheBlockTableInOrder) {
  for (std::int64_t page_bytes : {16 * 656, 64 * 656, 64 * 1152}) {
    KvGather g = make_kv_gather(page_bytes, 37, 3, 2);
    gather(g, 2);
    EXPECT_EQ(verify_gather(g), "") << page_bytes;
    EXPECT_EQ(g.gathered_bytes(), 37 * page_bytes);
    g.out[static_cast<size_t>(page_bytes / 8 * 5 + 1)] ^= 1;
    EXPECT_NE(verify_gather(g), "") << "a flipped bit must fail the check";
  }
  EXPECT_THROW(make_kv_gather(12, 4), cobench::Error);
}

TEST(KvGather, ClearedOutputFailsUntilAGather) {
  KvGather g = make_kv_gather(64 * 656, 23, 5, 2);
  ASSERT_EQ(verify_gather(g), "");
  clear_gather_output(g, 2);
  EXPECT_NE(verify_gather(g), "") << "a poisoned output must fail the check";
  for (size_t i = 0; i < static_cast<size_t>(g.gathered_bytes() / 8); ++i)
    ASSERT_EQ(g.out[i], ~std::uint64_t{0}) << "every word poisoned, word " << i;
  gather(g, 2);
  EXPECT_EQ(verify_gather(g), "");
}

TEST(StorageRead, ReadsTheFileBack) {
  std::string path;
  {
    KvFile f(storage_dir(), 3 << 20);
    path = f.path();
    EXPECT_EQ(f.bytes(), 3 << 20);
    const StorageRead r = read_kv_file(f, 1 << 20, true);
    EXPECT_EQ(r.error, "") << r.mode;
    EXPECT_GT(r.seconds, 0.0);
    EXPECT_FALSE(r.mode.empty());
    EXPECT_THROW(read_kv_file(f, 1000, false), cobench::Error);
  }
  EXPECT_FALSE(std::filesystem::exists(path)) << "the temporary file is removed";
}

// Several reads in flight read every block once: the pattern checks out, and a word changed on
// disk is found at its byte offset whichever reader got its block.
TEST(StorageRead, QueueDepthReadsEveryBlockOnce) {
  KvFile f(storage_dir(), 5 << 20);
  // 768 KiB blocks leave a short last block (5 MiB = 6 x 768 KiB + 512 KiB).
  for (std::int64_t block : {std::int64_t{256} << 10, std::int64_t{768} << 10})
    for (int depth : {1, 3, 8}) {
      const StorageRead r = read_kv_file(f, block, true, depth);
      EXPECT_EQ(r.error, "") << depth << " " << r.mode;
      EXPECT_EQ(r.bytes, f.bytes()) << "every block read once, depth " << depth;
    }
  // Words changed on disk in an odd block (13 of 256 KiB) and in the last block: the first in
  // file order is reported whichever reader got its block.
  const std::int64_t odd = (13 << 18) + 8, last = (5 << 20) - 16;
  const std::uint64_t junk = 42;
  const int fd = open(f.path().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, &junk, sizeof junk, last), static_cast<ssize_t>(sizeof junk));
  for (int depth : {1, 4}) {
    const StorageRead r = read_kv_file(f, 256 << 10, true, depth);
    EXPECT_NE(r.error.find(fmt::format("byte {}: 0x2a", last)), std::string::npos)
        << depth << ": " << r.error;
  }
  ASSERT_EQ(pwrite(fd, &junk, sizeof junk, odd), static_cast<ssize_t>(sizeof junk));
  ASSERT_EQ(fsync(fd), 0);
  close(fd);
  for (int depth : {1, 4, 8}) {
    const StorageRead r = read_kv_file(f, 256 << 10, true, depth);
    EXPECT_NE(r.error.find(fmt::format("byte {}: 0x2a", odd)), std::string::npos)
        << depth << ": " << r.error;
  }
  EXPECT_THROW(read_kv_file(f, 1 << 20, false, 0), cobench::Error);
  EXPECT_THROW(read_kv_file(f, 1 << 20, false, 257), cobench::Error);
}

}  // namespace
