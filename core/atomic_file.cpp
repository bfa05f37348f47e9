// SPDX-License-Identifier: Apache-2.0
#include "core/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "core/error.h"

namespace cobench {
namespace {

[[noreturn]] void fail_errno(std::string_view what, const std::filesystem::path& path, int err) {
  throw Error(fmt::format("{} '{}': {}", what, path.string(), std::strerror(err)));
}

// Closes a descriptor and unlinks the temporary file unless released.
struct TempFile {
  std::string path;
  int fd = -1;
  bool keep = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!keep) ::unlink(path.c_str());
  }
};

// Writes `content` to a flushed temporary file in `dir`; the caller links it to its name.
void write_temp(TempFile& tmp, const std::filesystem::path& dir, const std::string& base,
                std::string_view content) {
  // At most 100 bytes of the name: a long final name (up to 255 bytes) still gets its temporary.
  std::string pattern = (dir / ("." + base.substr(0, 100) + ".tmp.XXXXXX")).string();
  tmp.fd = ::mkstemp(pattern.data());
  if (tmp.fd < 0) fail_errno("cannot create a temporary file in", dir, errno);
  tmp.path = pattern;
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(tmp.fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot write", tmp.path, errno);
    }
    written += static_cast<size_t>(n);
  }
  if (::fchmod(tmp.fd, 0644) != 0) fail_errno("cannot set permissions of", tmp.path, errno);
  if (::fsync(tmp.fd) != 0) fail_errno("cannot flush", tmp.path, errno);
}

// link() is atomic and fails with EEXIST instead of replacing: no overwrite, even in a race.
// False when `path` exists.
bool link_new(const TempFile& tmp, const std::filesystem::path& path) {
  if (::link(tmp.path.c_str(), path.c_str()) == 0) return true;
  if (errno == EEXIST) return false;
  fail_errno("cannot create", path, errno);
}

void sync_dir(const std::filesystem::path& dir) {
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // make the new name durable; best effort on file systems that refuse
    ::close(dir_fd);
  }
}

std::filesystem::path parent_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

}  // namespace

void write_file_atomic_no_overwrite(const std::filesystem::path& path, std::string_view content) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    throw Error(fmt::format("refusing to overwrite existing file '{}'", path.string()));
  const std::filesystem::path dir = parent_of(path);
  TempFile tmp;
  write_temp(tmp, dir, path.filename().string(), content);
  if (!link_new(tmp, path))
    throw Error(fmt::format("refusing to overwrite existing file '{}'", path.string()));
  sync_dir(dir);
}

std::filesystem::path write_file_atomic_unique(const std::filesystem::path& path,
                                               std::string_view content) {
  const std::filesystem::path dir = parent_of(path);
  TempFile tmp;
  write_temp(tmp, dir, path.filename().string(), content);
  std::random_device seed;
  std::mt19937_64 rng((static_cast<std::uint64_t>(seed()) << 32) ^ seed() ^
                      static_cast<std::uint64_t>(::getpid()));
  std::filesystem::path name = path;
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (link_new(tmp, name)) {
      sync_dir(dir);
      return name;
    }
    name = dir / fmt::format("{}-{}-{:08x}{}", path.stem().string(), ::getpid(),
                             static_cast<std::uint32_t>(rng()), path.extension().string());
  }
  throw Error(fmt::format("cannot find a free name for '{}' (100 tried)", path.string()));
}

void check_writable_directory(const std::filesystem::path& dir, std::string_view what) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) throw Error(fmt::format("{}: no such directory", what));
    throw Error(fmt::format("{}: {}", what, std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) throw Error(fmt::format("{}: not a directory", what));
  std::string probe = (dir / ".cobench-write-test.XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0)
    throw Error(fmt::format("{}: cannot create a file there: {}", what, std::strerror(errno)));
  ::close(fd);
  ::unlink(probe.c_str());
}

std::string read_file(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st))
    throw Error(fmt::format(
        "cannot read '{}': not a regular file ({})", path.string(),
        std::filesystem::is_directory(st) ? "a directory" : "a device, FIFO or socket"));
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("cannot open '{}': {}", path.string(),
                            errno != 0 ? std::strerror(errno) : "unknown error"));
  // Read in pieces up to the limit: sysfs and procfs files report no size of their own.
  std::string text;
  std::array<char, 1 << 16> piece;
  while (in.read(piece.data(), piece.size()) || in.gcount() > 0) {
    text.append(piece.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxReadFileBytes)
      throw Error(
          fmt::format("cannot read '{}': larger than {} bytes ({} MiB), the most a file "
                      "read whole may hold",
                      path.string(), kMaxReadFileBytes, kMaxReadFileBytes >> 20));
  }
  if (in.bad()) throw Error(fmt::format("cannot read '{}'", path.string()));
  return text;
}

}  // namespace cobench
