// SPDX-License-Identifier: Apache-2.0
// Input files that are not text files (issue 16): /dev/zero, a directory, a FIFO or a file above
// the size limit is refused with its name and the reason, never read into memory until
// std::bad_alloc.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/config.h"
#include "core/error.h"

namespace {

namespace fs = std::filesystem;
using cobench::Error;
using cobench::config::kMaxInputFileBytes;
using cobench::config::load_file;
using cobench::config::read_text_file;

std::string error_of_load(const fs::path& path) {
  try {
    load_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("cobench_config_file_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(ConfigFile, NonRegularFilesAreRefused) {
  EXPECT_NE(error_of_load("/dev/zero").find("/dev/zero: not a regular file"), std::string::npos)
      << error_of_load("/dev/zero");
  const fs::path dir = scratch("dir");
  const fs::path as_yaml = dir / "cluster.yaml";
  fs::create_directory(as_yaml);
  EXPECT_NE(error_of_load(as_yaml).find("not a regular file (a directory)"), std::string::npos)
      << error_of_load(as_yaml);
  const fs::path fifo = dir / "fifo.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(error_of_load(fifo).find("not a regular file"), std::string::npos);
  EXPECT_NE(error_of_load(dir / "missing.yaml").find("cannot open file"), std::string::npos);
}

TEST(ConfigFile, FilesAboveTheLimitAreRefused) {
  const fs::path dir = scratch("big");
  const fs::path big = dir / "big.yaml";
  { std::ofstream(big) << "a: 1\n"; }
  fs::resize_file(big, kMaxInputFileBytes + 1);  // sparse: no disk space used
  const std::string e = error_of_load(big);
  EXPECT_NE(e.find("67108865 bytes; input files may hold at most 67108864 bytes (64 MiB)"),
            std::string::npos)
      << e;
  // Below the limit the text is read whole.
  const fs::path small = dir / "small.yaml";
  { std::ofstream(small) << "a: 1\nb: two\n"; }
  EXPECT_EQ(read_text_file(small), "a: 1\nb: two\n");
  EXPECT_THROW(read_text_file(small, 4), Error);
  EXPECT_TRUE(load_file(small).is_map());
  fs::remove_all(dir);
}

}  // namespace
