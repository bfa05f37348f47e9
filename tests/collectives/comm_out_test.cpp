// SPDX-License-Identifier: Apache-2.0
// --out of cobench_coll, cobench_ep and cobench_comm (issue 16): an unusable one is refused on
// every rank before anything runs (it once cost the whole run at the end), and two runs that end
// in the same second into one directory both keep their results (the second once refused to
// overwrite, called MPI_Abort and lost its measurements).
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

TEST(CommOut, AnUnusableOutIsRefusedBeforeAnythingRuns) {
  const fs::path dir = fresh_dir("comm_out_bad");
  cobench::write_file_atomic_no_overwrite(dir / "taken.json", "{}");
  struct Case {
    std::string binary, prog, args, out, error;
  };
  const std::string missing = (dir / "missing" / "r.json").string();
  const std::string taken = (dir / "taken.json").string();
  const std::vector<Case> cases = {
      {COBENCH_COLL, "cobench_coll", "-b 8 -e 8", missing, "no such directory"},
      {COBENCH_COLL, "cobench_coll", "-b 8 -e 8", taken, "refusing to overwrite an existing file"},
      {COBENCH_EP, "cobench_ep", "--tokens 8 --hidden 128", missing, "no such directory"},
      {COBENCH_COMM, "cobench_comm", "coll -b 8 -e 8", (dir / "nodir" / "").string(),
       "no such directory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.prog + " --out " + c.out);
    // --out before a subcommand of cobench_comm, after the options of the others: both parse.
    const CommandResult r = cobench::test::run_command(
        cobench::test::mpirun_command(2, c.binary, "--out " + c.out + " " + c.args));
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find(c.prog + ": --out '" + c.out + "': " + c.error), std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("all_reduce"), std::string::npos) << "a benchmark ran: " << r.out;
    EXPECT_EQ(r.out.find("dispatch"), std::string::npos) << "a benchmark ran: " << r.out;
  }
  EXPECT_EQ(cobench::read_file(taken), "{}");
  fs::remove_all(dir);
}

TEST(CommOut, RunsEndingTogetherIntoOneDirectoryKeepEveryResultsFile) {
  const fs::path dir = fresh_dir("comm_out_twice");
  const std::string one = cobench::test::mpirun_command(
      1, COBENCH_COLL, "-b 8 -e 8 --ops all_reduce --out " + dir.string());
  // Three runs at once: two or more usually finish within one second.
  const CommandResult r = cobench::test::run_command("(" + one + " > /dev/null & " + one +
                                                     " > /dev/null & " + one + "; wait)");
  EXPECT_EQ(r.status, 0) << r.out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 3u) << r.out;
  for (const auto& f : files)
    EXPECT_EQ(cobench::results::read(f).records[0].benchmark, "all_reduce/bytes:8/out_of_place");
  fs::remove_all(dir);
}

}  // namespace
