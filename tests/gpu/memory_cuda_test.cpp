// SPDX-License-Identifier: Apache-2.0
// The device memory streams and host <-> device copies (kernels/memory/cuda/): every stream
// operation and every copy direction and host memory kind verified, and a deliberately corrupted
// element caught by the verifier. The closed forms (read sum, theoretical peak, copy pattern) are
// checked without a device; the rest skips, with the runtime's reason, where there is none.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <set>
#include <string>

#include "core/cuda/device_check.h"
#include "kernels/memory/cuda/device_stream.h"
#include "kernels/memory/cuda/host_device_copy.h"

namespace cobench::memory::cuda {
// Test names print the parameters as words, not bytes.
void PrintTo(CopyDirection d, std::ostream* os) { *os << copy_direction_name(d); }
void PrintTo(HostMemory h, std::ostream* os) { *os << host_memory_name(h); }
}  // namespace cobench::memory::cuda

namespace {

using namespace cobench::memory;
using namespace cobench::memory::cuda;

TEST(DeviceStreamClosedForms, ReadSumMatchesALoop) {
  // Hand-worked: 0 + 1 + ... + 1020 = 1020 x 1021 / 2 = 520710; the next element is 0, then 1.
  EXPECT_EQ(expected_read_sum(0), 0);
  EXPECT_EQ(expected_read_sum(1), 0);
  EXPECT_EQ(expected_read_sum(3), 3);
  EXPECT_EQ(expected_read_sum(1021), 520710);
  EXPECT_EQ(expected_read_sum(1022), 520710);
  EXPECT_EQ(expected_read_sum(1023), 520711);
  for (std::int64_t n :
       {std::int64_t{2}, std::int64_t{1020}, std::int64_t{4096}, std::int64_t{123457}}) {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += i % 1021;
    EXPECT_EQ(expected_read_sum(n), sum) << n;
  }
  // 4 GiB of doubles: the largest array the benchmark uses stays an exact double.
  EXPECT_LT(expected_read_sum(std::int64_t{1} << 29), std::int64_t{1} << 53);
}

TEST(DeviceStreamClosedForms, TheoreticalPeakOfAnH100Sxm) {
  // H100 SXM5: HBM3 at 2619 MHz on a 5120-bit bus: 2.619e9 x 2 x 640 B = 3.35232e12 B/s, the
  // datasheet's 3.35 TB/s.
  EXPECT_DOUBLE_EQ(theoretical_peak_bytes_per_s(2619000, 5120), 3.35232e12);
  EXPECT_DOUBLE_EQ(theoretical_peak_bytes_per_s(1000, 8), 2e6);
}

TEST(HostDeviceCopyPattern, DistinctPerWordAndSide) {
  std::set<std::uint64_t> seen;
  for (std::uint64_t i = 0; i < 4096; ++i) {
    seen.insert(copy_pattern(i, 1));
    seen.insert(copy_pattern(i, 2));
  }
  EXPECT_EQ(seen.size(), 8192u);  // no word repeats, on either side
  EXPECT_EQ(seen.count(0), 0u);   // a zeroed destination never passes
  EXPECT_STREQ(copy_direction_name(CopyDirection::kBidirectional), "bidir");
  EXPECT_STREQ(host_memory_name(HostMemory::kPageable), "pageable");
}

TEST(DeviceStream, EveryOperationVerifiesAndCountsStreamBytes) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  DeviceStream s((std::size_t{1} << 20) + 8);  // rounded down to 1 MiB: 131072 doubles
  ASSERT_EQ(s.elements(), 131072);
  EXPECT_EQ(s.bytes_per_pass(StreamOp::kRead), 1048576);
  EXPECT_EQ(s.bytes_per_pass(StreamOp::kWrite), 1048576);
  EXPECT_EQ(s.bytes_per_pass(StreamOp::kCopy), 2097152);
  EXPECT_EQ(s.bytes_per_pass(StreamOp::kTriad), 3145728);
  for (StreamOp op : {StreamOp::kRead, StreamOp::kWrite, StreamOp::kCopy, StreamOp::kTriad}) {
    s.run(op);
    EXPECT_EQ(s.verify(op), "") << stream_op_name(op);
  }
  // The last pass wrote the triad: c no longer holds the copy.
  EXPECT_NE(s.verify(StreamOp::kCopy), "");
}

TEST(DeviceStream, CorruptedElementsAreCaught) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  DeviceStream s(std::size_t{1} << 20);
  s.run(StreamOp::kCopy);
  ASSERT_EQ(s.verify(StreamOp::kCopy), "");
  s.set_element(StreamArray::kC, 777, -1.0);
  const std::string copy_error = s.verify(StreamOp::kCopy);
  EXPECT_NE(copy_error.find("1 of 131072 elements wrong, the first at index 777 holds -1"),
            std::string::npos)
      << copy_error;
  // A wrong input: the read's sum and the triad (from b) both notice.
  s.set_element(StreamArray::kA, 5, 1e6);
  s.run(StreamOp::kRead);
  EXPECT_NE(s.verify(StreamOp::kRead), "");
  s.set_element(StreamArray::kA, 5, 5.0);  // restored: 5 mod 1021
  s.set_element(StreamArray::kB, 9, 0.5);
  s.run(StreamOp::kTriad);
  EXPECT_NE(s.verify(StreamOp::kTriad).find("index 9"), std::string::npos);
  s.run(StreamOp::kRead);
  EXPECT_EQ(s.verify(StreamOp::kRead), "");
  // Cleared results fail until a pass writes them again.
  s.clear_results();
  EXPECT_NE(s.verify(StreamOp::kRead), "");
  EXPECT_NE(s.verify(StreamOp::kCopy), "");
  s.run(StreamOp::kCopy);
  EXPECT_EQ(s.verify(StreamOp::kCopy), "");
}

class HostDeviceCopyTest : public ::testing::TestWithParam<std::tuple<CopyDirection, HostMemory>> {
};

TEST_P(HostDeviceCopyTest, CopiesVerifyAndCorruptionIsCaught) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  const auto [dir, host] = GetParam();
  // Three words past 1 MiB + 4 bytes: rounded down to whole words, across several pages.
  HostDeviceCopy c((std::size_t{1} << 20) + 28, host);
  ASSERT_EQ(c.bytes(), (1 << 20) + 24);
  EXPECT_EQ(c.bytes_per_pass(dir), (dir == CopyDirection::kBidirectional ? 2 : 1) * c.bytes());
  EXPECT_NE(c.verify(dir), "") << "destinations start zeroed: nothing copied yet must fail";
  const double seconds = c.run(dir);
  EXPECT_GT(seconds, 0.0);
  EXPECT_EQ(c.verify(dir), "");
  if (dir != CopyDirection::kH2D) {
    c.host_destination()[3] ^= 1;
    EXPECT_NE(c.verify(dir).find("word 3"), std::string::npos);
    c.host_destination()[3] ^= 1;
    EXPECT_EQ(c.verify(dir), "");
  }
  if (dir != CopyDirection::kD2H) {
    const std::uint64_t bad = 42;
    ASSERT_EQ(cudaMemcpy(static_cast<std::uint64_t*>(c.device_destination()) + 131074, &bad,
                         sizeof bad, cudaMemcpyHostToDevice),
              cudaSuccess);
    EXPECT_NE(c.verify(dir).find("word 131074"), std::string::npos);
  }
  c.clear_destinations();
  EXPECT_NE(c.verify(dir), "") << "cleared destinations fail until a pass copies again";
  c.run(dir);
  EXPECT_EQ(c.verify(dir), "");
}

INSTANTIATE_TEST_SUITE_P(
    DirectionsAndHostMemory, HostDeviceCopyTest,
    ::testing::Combine(::testing::Values(CopyDirection::kH2D, CopyDirection::kD2H,
                                         CopyDirection::kBidirectional),
                       ::testing::Values(HostMemory::kPinned, HostMemory::kPageable)),
    [](const auto& param_info) {
      return std::string(copy_direction_name(std::get<0>(param_info.param))) + "_" +
             host_memory_name(std::get<1>(param_info.param));
    });

}  // namespace
