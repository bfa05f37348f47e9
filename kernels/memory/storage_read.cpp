// SPDX-License-Identifier: Apache-2.0
#include "kernels/memory/storage_read.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/error.h"

namespace cobench::memory {
namespace {

constexpr std::uint64_t kMagic = 0x9E3779B97F4A7C15ull;
constexpr std::int64_t kAlign = 4096;

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
    if (write(f.fd, buf.data, kMiB) != kMiB) {
      const std::string e = errno_text("cannot write " + path_);
      unlink(path_.c_str());
      COBENCH_THROW(e);
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

StorageRead read_kv_file(const KvFile& f, std::int64_t block_bytes, bool verify) {
  COBENCH_CHECK(block_bytes > 0 && block_bytes % kAlign == 0,
                fmt::format("block size {} must be a positive multiple of 4 KiB", block_bytes));
  StorageRead r;
  Fd fd;
  fd.fd = open(f.path().c_str(), O_RDONLY | O_DIRECT);
  r.direct = fd.fd >= 0;
  if (!r.direct) {
    r.mode = fmt::format("buffered, O_DIRECT refused: {}", std::strerror(errno));
    fd.fd = open(f.path().c_str(), O_RDONLY);
    if (fd.fd < 0) COBENCH_THROW(errno_text("cannot open " + f.path()));
  } else {
    r.mode = "O_DIRECT";
  }
  AlignedBuffer buf(block_bytes);
  auto start = std::chrono::steady_clock::now();
  if (!r.direct) {
    posix_fadvise(fd.fd, 0, 0, POSIX_FADV_DONTNEED);
    posix_fadvise(fd.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    start = std::chrono::steady_clock::now();
  }
  for (std::int64_t off = 0; off < f.bytes();) {
    const ssize_t got = read(fd.fd, buf.data, static_cast<size_t>(block_bytes));
    if (got < 0 && errno == EINVAL && r.direct && off == 0) {
      // Some file systems accept O_DIRECT at open and refuse it at read: fall back.
      r.direct = false;
      r.mode = "buffered, O_DIRECT refused at read: Invalid argument";
      close(fd.fd);
      fd.fd = open(f.path().c_str(), O_RDONLY);
      if (fd.fd < 0) COBENCH_THROW(errno_text("cannot open " + f.path()));
      posix_fadvise(fd.fd, 0, 0, POSIX_FADV_DONTNEED);
      start = std::chrono::steady_clock::now();
      continue;
    }
    if (got <= 0) COBENCH_THROW(errno_text(fmt::format("cannot read {} at {}", f.path(), off)));
    if (verify && r.error.empty())
      for (std::int64_t w = 0; w < got / 8; ++w) {
        const std::uint64_t want = static_cast<std::uint64_t>(off + 8 * w) ^ kMagic;
        if (buf.data[w] != want) {
          r.error = fmt::format("byte {}: {:#x}, expected {:#x}", off + 8 * w, buf.data[w], want);
          break;
        }
      }
    off += got;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace cobench::memory
