// SPDX-License-Identifier: Apache-2.0
#include "core/atomic_file.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(AtomicFile, WritesContentAndLeavesNoTemporaryFile) {
  const fs::path dir = fresh_dir("cobench_atomic_a");
  cobench::write_file_atomic_no_overwrite(dir / "r.json", "hello\n");
  EXPECT_EQ(cobench::read_file(dir / "r.json"), "hello\n");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

TEST(AtomicFile, RefusesToOverwriteAndKeepsTheOriginal) {
  const fs::path dir = fresh_dir("cobench_atomic_b");
  cobench::write_file_atomic_no_overwrite(dir / "r.json", "first");
  EXPECT_THROW(cobench::write_file_atomic_no_overwrite(dir / "r.json", "second"), cobench::Error);
  EXPECT_EQ(cobench::read_file(dir / "r.json"), "first");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);  // the temporary file of the refused write is gone
  fs::remove_all(dir);
}

TEST(AtomicFile, ReadsOnlyRegularFilesOfBoundedSize) {
  // /dev/zero never ends and a directory has no text: refused before reading, not read forever.
  EXPECT_EQ(cobench::test::error_of([] { cobench::read_file("/dev/zero"); }),
            "cannot read '/dev/zero': not a regular file (a device, FIFO or socket)");
  EXPECT_EQ(cobench::test::error_of([] { cobench::read_file("/"); }),
            "cannot read '/': not a regular file (a directory)");
  // A procfs file reports size 0 and still has its text.
  EXPECT_NE(cobench::read_file("/proc/self/status").find("Name:"), std::string::npos);
}

TEST(AtomicFile, MissingDirectoryIsAClearError) {
  try {
    cobench::write_file_atomic_no_overwrite("/nonexistent_dir_cobench/r.json", "x");
    FAIL() << "no error";
  } catch (const cobench::Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("cannot create a temporary file in '/nonexistent_dir_cobench'"),
        std::string::npos)
        << e.what();
  }
  EXPECT_THROW(cobench::read_file("/nonexistent_dir_cobench/r.json"), cobench::Error);
}

}  // namespace
