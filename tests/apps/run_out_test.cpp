// SPDX-License-Identifier: Apache-2.0
// `cobench run` and its results (issue 16): an unusable --out or a missing --mpirun launcher is
// refused before any benchmark runs (exit 1, naming it); runs that end together each keep their
// results file; nothing of a run's work is left among the results.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/results_io.h"
#include "tests/command_util.h"

namespace {

namespace fs = std::filesystem;
using cobench::test::CommandResult;
using cobench::test::fresh_dir;

CommandResult run(const std::string& args) {
  return cobench::test::run_command(std::string(COBENCH_BINARY) + " " + args);
}

std::vector<fs::path> entries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

TEST(RunOut, AnUnusableOutIsRefusedBeforeAnythingRuns) {
  const fs::path dir = fresh_dir("cobench_run_out");
  cobench::write_file_atomic_no_overwrite(dir / "file", "x");
  struct Case {
    std::string out, error;
  };
  std::vector<Case> cases = {
      {(dir / "missing").string(), "no such directory"},
      {(dir / "file").string(), "not a directory"},
  };
  if (fs::is_directory("/proc/self")) cases.push_back({"/proc/self", "cannot create a file there"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.out);
    const CommandResult r = run("run --suite model --no-analysis --out " + c.out);
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("cobench: --out '" + c.out + "': " + c.error), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("[1/"), std::string::npos) << "a benchmark ran: " << r.out;
  }
  EXPECT_FALSE(fs::exists(dir / "missing")) << "an explicit --out is not created";
  fs::remove_all(dir);
}

TEST(RunOut, AMissingLauncherIsAnErrorNotAnEmptyRun) {
  const fs::path dir = fresh_dir("cobench_run_launcher");
  for (const std::string suites : {"collectives", "ep", "model collectives"}) {
    SCOPED_TRACE(suites);
    const CommandResult r =
        run("run --suite " + suites + " --mpirun 'missing-launcher -np 2' --out " + dir.string());
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("cobench: --mpirun 'missing-launcher -np 2': cannot find the launcher "
                         "'missing-launcher' (not an executable on PATH)"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("[1/"), std::string::npos) << "a benchmark ran: " << r.out;
  }
  const CommandResult path =
      run("run --suite ep --mpirun '/nonexistent/mpirun' --out " + dir.string());
  EXPECT_EQ(path.status, 1) << path.out;
  EXPECT_NE(path.out.find("'/nonexistent/mpirun' (not an executable file)"), std::string::npos)
      << path.out;
  const CommandResult empty = run("run --suite ep --mpirun '  ' --out " + dir.string());
  EXPECT_EQ(empty.status, 2) << empty.out;
  EXPECT_NE(empty.out.find("--mpirun: expected a launcher command"), std::string::npos)
      << empty.out;
  EXPECT_TRUE(entries(dir).empty()) << "no results file was written";
  fs::remove_all(dir);
}

TEST(RunOut, TwoRunsIntoOneDirectoryBothKeepTheirResults) {
  const fs::path dir = fresh_dir("cobench_run_twice");
  const std::string one =
      std::string(COBENCH_BINARY) + " run --suite model --no-analysis --out " + dir.string();
  const CommandResult r = cobench::test::run_command(
      "(" + one + " > " + (dir.parent_path() / "cobench_run_twice_a.log").string() + " 2>&1 & " +
      one + "; wait)");
  EXPECT_EQ(r.status, 0) << r.out;
  const auto files = entries(dir);
  ASSERT_EQ(files.size(), 2u) << r.out;
  for (const auto& f : files) {
    EXPECT_EQ(f.extension(), ".json") << f;
    EXPECT_NE(f.filename().string()[0], '.') << "a work directory was left: " << f;
    EXPECT_GE(cobench::results::read(f).records.size(), 2u) << f;
  }
  fs::remove_all(dir);
  fs::remove(dir.parent_path() / "cobench_run_twice_a.log");
}

}  // namespace
