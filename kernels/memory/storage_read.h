// SPDX-License-Identifier: Apache-2.0
// The storage tier of a KV cache (context caching on SSD): the read bandwidth of a KV-sized file
// read in file order. The file is written once with a pattern (the 8-byte word at byte offset o
// holds o ^ 0x9E3779B97F4A7C15), synced and dropped from the page cache; reads use O_DIRECT (4 KiB
// aligned buffers, whole blocks) so they come from the device. Where the file system refuses
// O_DIRECT (tmpfs before Linux 6.6, some overlay and network file systems) the read falls back to
// buffered I/O after posix_fadvise(DONTNEED) drops the file's cached pages before every pass, and
// the result says so: those numbers may include page-cache hits. A file on tmpfs (or ramfs) is
// memory whatever the mode: the mode then ends in "on tmpfs (memory, not storage)".
#pragma once

#include <cstdint>
#include <string>

namespace cobench::memory {

/// A temporary file of `bytes` (rounded up to whole MiB) in `dir`, removed by the destructor.
class KvFile {
 public:
  KvFile(const std::string& dir, std::int64_t bytes);
  ~KvFile();
  KvFile(const KvFile&) = delete;
  KvFile& operator=(const KvFile&) = delete;

  const std::string& path() const { return path_; }
  std::int64_t bytes() const { return bytes_; }

 private:
  std::string path_;
  std::int64_t bytes_ = 0;
};

struct StorageRead {
  double seconds = 0;
  bool direct = false;     ///< O_DIRECT was used
  std::string mode;        ///< "O_DIRECT" or "buffered, O_DIRECT refused: <reason>"
  std::string error;       ///< verification: empty, or the first wrong word (in file order)
  std::int64_t bytes = 0;  ///< bytes read (the file's size when every block was read)
};

/// Reads the whole file in `block_bytes` blocks (a multiple of 4 KiB), in file order, with
/// `queue_depth` (1 .. 256) reads in flight: that many threads each take the next block (pread),
/// as an NVMe drive needs several outstanding requests to reach its bandwidth. With `verify`
/// every word is checked against the pattern (outside the timed read's purpose: run one verified
/// pass, then time unverified ones). `seconds` spans the reads alone: threads started first, then
/// from the first reader's start to the last one's end (core/pass_clock.h).
StorageRead read_kv_file(const KvFile& f, std::int64_t block_bytes, bool verify,
                         int queue_depth = 1);

/// The directory KV files go to: $COBENCH_STORAGE_DIR, else the system's temporary directory.
std::string storage_dir();

}  // namespace cobench::memory
