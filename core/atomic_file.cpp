// SPDX-License-Identifier: Apache-2.0
#include "core/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
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

}  // namespace

void write_file_atomic_no_overwrite(const std::filesystem::path& path, std::string_view content) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    throw Error(fmt::format("refusing to overwrite existing file '{}'", path.string()));
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::string pattern = (dir / ("." + path.filename().string() + ".tmp.XXXXXX")).string();
  TempFile tmp;
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
  // link() is atomic and fails with EEXIST instead of replacing: no overwrite, even in a race.
  if (::link(tmp.path.c_str(), path.c_str()) != 0) {
    if (errno == EEXIST)
      throw Error(fmt::format("refusing to overwrite existing file '{}'", path.string()));
    fail_errno("cannot create", path, errno);
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // make the new name durable; best effort on file systems that refuse
    ::close(dir_fd);
  }
}

std::string read_file(const std::filesystem::path& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("cannot open '{}': {}", path.string(),
                            errno != 0 ? std::strerror(errno) : "unknown error"));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(fmt::format("cannot read '{}'", path.string()));
  return ss.str();
}

}  // namespace cobench
