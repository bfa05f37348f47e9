// SPDX-License-Identifier: Apache-2.0
#include "kernels/memory/storage_read.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/pass_clock.h"

namespace cobench::memory {
namespace {

constexpr std::uint64_t kMagic = 0x9E3779B97F4A7C15ull;
constexpr std::int64_t kAlign = 4096;
constexpr int kMaxQueueDepth = 256;

struct AlignedBuffer {
  std::uint64_t* data;
  explicit AlignedBuffer(std::int64_t bytes)
      : data(static_cast<std::uint64_t*>(std::aligned_alloc(kAlign, static_cast<size_t>(bytes)))) {
    COBENCH_CHECK(data != nullptr, fmt::format("cannot allocate {} bytes", bytes));
  }
  ~AlignedBuffer() { std::free(data); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

std::string errno_text(const std::string& what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

}  // namespace

std::string storage_dir() {
  const char* dir = std::getenv("COBENCH_STORAGE_DIR");
  return dir && *dir ? dir : std::filesystem::temp_directory_path().string();
}

KvFile::KvFile(const std::string& dir, std::int64_t bytes) {
  constexpr std::int64_t kMiB = 1 << 20;
  bytes_ = (std::max<std::int64_t>(bytes, 1) + kMiB - 1) / kMiB * kMiB;
  std::string tmpl = (std::filesystem::path(dir) / "cobench-kv-XXXXXX").string();
  Fd f;
  f.fd = mkstemp(tmpl.data());
  if (f.fd < 0) COBENCH_THROW(errno_text("cannot create a file in " + dir));
  path_ = tmpl;
  AlignedBuffer buf(kMiB);
  for (std::int64_t off = 0; off < bytes_; off += kMiB) {
    for (std::int64_t w = 0; w < kMiB / 8; ++w)
      buf.data[w] = static_cast<std::uint64_t>(off + 8 * w) ^ kMagic;
    // A short write (a full disk, a file-size limit) is retried for the rest, which then fails
    // with the reason in errno; a short count alone leaves errno as it was.
    const char* p = reinterpret_cast<const char*>(buf.data);
    for (std::int64_t done = 0; done < kMiB;) {
      const ssize_t n = write(f.fd, p + done, static_cast<size_t>(kMiB - done));
      if (n > 0) {
        done += n;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      const std::string e =
          fmt::format("cannot write {} ({} of {} bytes written): {}", path_, off + done, bytes_,
                      n < 0 ? std::strerror(errno) : "the file system accepted no more bytes");
      unlink(path_.c_str());
      throw Error(e);
    }
  }
  if (fsync(f.fd) != 0) {
    const std::string e = errno_text("cannot sync " + path_);
    unlink(path_.c_str());
    COBENCH_THROW(e);
  }
  posix_fadvise(f.fd, 0, 0, POSIX_FADV_DONTNEED);
}

KvFile::~KvFile() {
  if (!path_.empty()) unlink(path_.c_str());
}

StorageRead read_kv_file(const KvFile& f, std::int64_t block_bytes, bool verify, int queue_depth) {
  COBENCH_CHECK(block_bytes > 0 && block_bytes % kAlign == 0,
                fmt::format("block size {} must be a positive multiple of 4 KiB", block_bytes));
  COBENCH_CHECK(queue_depth >= 1 && queue_depth <= kMaxQueueDepth,
                fmt::format("queue depth {} must be in 1 .. {}", queue_depth, kMaxQueueDepth));
  StorageRead r;
  Fd fd;
  fd.fd = open(f.path().c_str(), O_RDONLY | O_DIRECT);
  r.direct = fd.fd >= 0;
  r.mode =
      r.direct ? "O_DIRECT" : fmt::format("buffered, O_DIRECT refused: {}", std::strerror(errno));
  if (r.direct) {
    // Some file systems accept O_DIRECT at open and refuse it at read: try one block, untimed
    // (O_DIRECT bypasses the page cache, so this read warms nothing).
    AlignedBuffer probe(block_bytes);
    if (pread(fd.fd, probe.data, static_cast<size_t>(block_bytes), 0) < 0 && errno == EINVAL) {
      r.direct = false;
      r.mode = "buffered, O_DIRECT refused at read: Invalid argument";
      close(fd.fd);
      fd.fd = -1;
    }
  }
  if (!r.direct) {
    fd.fd = open(f.path().c_str(), O_RDONLY);
    if (fd.fd < 0) COBENCH_THROW(errno_text("cannot open " + f.path()));
    posix_fadvise(fd.fd, 0, 0, POSIX_FADV_DONTNEED);
    posix_fadvise(fd.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  // tmpfs accepts O_DIRECT since Linux 6.6: such a read measures memory, and says so (the
  // benchmark then withholds it from the model, which takes only plain "O_DIRECT").
  struct statfs fs {};
  if (fstatfs(fd.fd, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC))
    r.mode += " on tmpfs (memory, not storage)";
  // `queue_depth` readers take the next block from a shared counter: the device sees that many
  // requests in flight, in file order.
  const std::int64_t blocks = (f.bytes() + block_bytes - 1) / block_bytes;
  std::atomic<std::int64_t> next{0}, bytes_read{0};
  std::atomic<bool> stop{false};
  struct Outcome {
    std::int64_t error_at = -1;  // byte offset of the reader's first wrong word
    std::string error, failure;
  };
  std::vector<Outcome> outcomes(static_cast<size_t>(queue_depth));
  // Buffers allocated here, not in the readers: an allocation failure throws on this thread.
  std::vector<std::unique_ptr<AlignedBuffer>> buffers;
  for (int id = 0; id < queue_depth; ++id)
    buffers.push_back(std::make_unique<AlignedBuffer>(block_bytes));
  auto read_blocks = [&](int id) {
    AlignedBuffer& buf = *buffers[static_cast<size_t>(id)];
    Outcome& o = outcomes[static_cast<size_t>(id)];
    for (std::int64_t i = next++; i < blocks && !stop; i = next++) {
      const std::int64_t off = i * block_bytes, len = std::min(block_bytes, f.bytes() - off);
      for (std::int64_t done = 0; done < len;) {
        const ssize_t got = pread(fd.fd, reinterpret_cast<char*>(buf.data) + done,
                                  static_cast<size_t>(len - done), off + done);
        if (got <= 0) {
          const std::string where = fmt::format("cannot read {} at {}", f.path(), off + done);
          o.failure = got == 0 ? where + ": unexpected end of file" : errno_text(where);
          stop = true;
          return;
        }
        done += got;
      }
      bytes_read += len;
      if (verify && o.error.empty())
        for (std::int64_t w = 0; w < len / 8; ++w) {
          const std::uint64_t want = static_cast<std::uint64_t>(off + 8 * w) ^ kMagic;
          if (buf.data[w] != want) {
            o.error_at = off + 8 * w;
            o.error = fmt::format("byte {}: {:#x}, expected {:#x}", o.error_at, buf.data[w], want);
            break;
          }
        }
    }
  };
  // Each reader reads the clock around its own reads: the pass lasts from the first reader's
  // start to the last one's end (core/pass_clock.h), whichever thread wakes first from the latch.
  PassClock clock(queue_depth);
  // Nothing escapes a reader thread (an exception there would terminate the process).
  auto reader = [&](int id) {
    try {
      clock.begin(id);
      read_blocks(id);
      clock.end(id);
    } catch (const std::exception& e) {
      outcomes[static_cast<size_t>(id)].failure = e.what();
      stop = true;
    }
  };
  std::vector<std::thread> pool;
  std::latch ready(queue_depth);
  try {
    for (int id = 1; id < queue_depth; ++id)
      pool.emplace_back([&, id] {
        ready.arrive_and_wait();
        reader(id);
      });
  } catch (...) {  // a thread could not start: release the started ones, which then stop
    stop = true;
    ready.count_down(queue_depth - static_cast<std::ptrdiff_t>(pool.size()));
    for (auto& t : pool) t.join();
    throw;
  }
  ready.arrive_and_wait();  // every reader started
  reader(0);
  for (auto& t : pool) t.join();
  r.seconds = clock.seconds();
  r.bytes = bytes_read;
  for (const Outcome& o : outcomes)
    if (!o.failure.empty()) COBENCH_THROW(o.failure);
  // The first wrong word in file order (each reader checked its blocks up to its first).
  std::int64_t first = -1;
  for (const Outcome& o : outcomes)
    if (o.error_at >= 0 && (first < 0 || o.error_at < first)) first = o.error_at, r.error = o.error;
  return r;
}

}  // namespace cobench::memory
