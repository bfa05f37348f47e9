// SPDX-License-Identifier: Apache-2.0
// The storage benchmark's KV file on a file system that fills up (issue 16): a short write is
// retried and the error says why the rest failed and how much was written, never a stale errno
// ("No such file or directory"). A file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) stands in for
// a full disk: write() returns a short count, then fails with EFBIG.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "kernels/memory/storage_read.h"

namespace {

TEST(StorageFull, AShortWriteNamesTheReasonAndTheBytesWritten) {
  EXPECT_EXIT(
      {
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit{};
        getrlimit(RLIMIT_FSIZE, &limit);
        limit.rlim_cur = (3u << 20) + 4096;  // 3 MiB and a page of a 8 MiB file
        setrlimit(RLIMIT_FSIZE, &limit);
        errno = ENOENT;  // what the message said before: a stale errno
        try {
          const cobench::memory::KvFile f(std::filesystem::temp_directory_path().string(), 8 << 20);
        } catch (const cobench::Error& e) {
          const std::string m = e.what();
          const bool ok = m.find("File too large") != std::string::npos &&
                          m.find("bytes written") != std::string::npos &&
                          m.find("No such file") == std::string::npos;
          fprintf(stderr, "%s\n", m.c_str());
          std::_Exit(ok ? 0 : 3);
        }
        std::_Exit(4);
      },
      ::testing::ExitedWithCode(0), "File too large");
}

}  // namespace
