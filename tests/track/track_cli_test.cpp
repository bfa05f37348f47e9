// SPDX-License-Identifier: Apache-2.0
// `cobench compare` and `cobench history` as a user (or CI) runs them: exit codes and output.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/atomic_file.h"
#include "core/results_io.h"
#include "tests/command_util.h"
#include "tests/track/fixtures.h"

namespace {

namespace fs = std::filesystem;
using cobench::results::Results;
using cobench::test::fixture_header;
using cobench::test::fixture_record;
using cobench::test::Noise;
using cobench::test::noisy;

using cobench::test::CommandResult;
using cobench::test::fresh_dir;

// Runs `cobench args`; the output holds stdout and, unless `stdout_only`, stderr too.
CommandResult run(const std::string& args, bool stdout_only = false) {
  return cobench::test::run_command(std::string(COBENCH_BINARY) + " " + args, stdout_only);
}

// A baseline and a current run, one benchmark "BM_X|y" whose time changes by `change`, with
// `reps` repetitions (0.5% noise) on each side, plus one removed and one added benchmark.
std::pair<std::string, std::string> write_pair(const fs::path& dir, double change, int reps,
                                               const std::string& current_cpu = "AMD EPYC 9654") {
  fs::create_directories(dir);
  Noise noise(77);
  Results base, cur;
  base.run = fixture_header("2026-11-01T00:00:00Z", "aaa");
  cur.run = fixture_header("2026-11-02T00:00:00Z", "bbb", current_cpu);
  base.records.push_back(
      fixture_record("gemm", "BM_X|y", "time", "s", noisy(1e-3, 0.005, reps, noise)));
  cur.records.push_back(fixture_record("gemm", "BM_X|y", "time", "s",
                                       noisy(1e-3 * (1 + change), 0.005, reps, noise)));
  base.records.push_back(fixture_record("gemm", "BM_Removed", "time", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("mla", "BM_Added", "time", "s", {1, 1, 1}));
  const fs::path b = dir / "base.json", c = dir / "cur.json";
  cobench::results::write(b, base);
  cobench::results::write(c, cur);
  return {b.string(), c.string()};
}

TEST(TrackCli, CompareTenPercentSlowerExitsOne) {
  const fs::path dir = fresh_dir("cobench_cli_compare_slower");
  const auto [b, c] = write_pair(dir, 0.10, 5);
  const CommandResult r = run("compare " + b + " " + c);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("slower"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("added    mla/BM_Added"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("removed  gemm/BM_Removed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 slower, 0 faster, 0 same, 0 too noisy; 1 added, 1 removed"),
            std::string::npos)
      << r.out;
  const CommandResult j = run("compare " + b + " " + c + " --format json", true);
  EXPECT_EQ(j.status, 1);
  const auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["rows"][0]["verdict"], "slower");
  EXPECT_EQ(doc["rows"][0]["benchmark"], "BM_X|y");
  EXPECT_EQ(doc["added"][0]["benchmark"], "BM_Added");
  EXPECT_EQ(doc["removed"][0]["benchmark"], "BM_Removed");
  // A threshold above the change: same, exit 0.
  EXPECT_EQ(run("compare " + b + " " + c + " --threshold 0.2").status, 0);
  fs::remove_all(dir);
}

TEST(TrackCli, CompareOnePercentIsSameAndTwoRepetitionsTooFew) {
  const fs::path dir = fresh_dir("cobench_cli_compare_same");
  const auto [b, c] = write_pair(dir / "a", 0.01, 5);
  CommandResult r = run("compare " + b + " " + c + " --format json", true);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["rows"][0]["verdict"], "same");
  const auto [b2, c2] = write_pair(dir / "b", 0.10, 2);
  r = run("compare " + b2 + " " + c2 + " --format json", true);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["rows"][0]["verdict"], "too few");
  // The text says so, with the repetitions a side a verdict needs.
  r = run("compare " + b2 + " " + c2, true);
  EXPECT_NE(r.out.find("1 too few (no verdict possible: 4 repetitions a side needed)"),
            std::string::npos)
      << r.out;
  fs::remove_all(dir);
}

TEST(TrackCli, CompareMarkdownEscapesPipes) {
  const fs::path dir = fresh_dir("cobench_cli_compare_md");
  const auto [b, c] = write_pair(dir, 0.10, 5);
  const CommandResult r = run("compare " + b + " " + c + " --format markdown", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("| gemm/BM_X\\|y | time |"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("BM_X|y"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("**slower**"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("- `mla/BM_Added`"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(TrackCli, CompareRefusesDifferentCpuUnlessForced) {
  const fs::path dir = fresh_dir("cobench_cli_compare_hw");
  const auto [b, c] = write_pair(dir, 0.01, 5, "Intel Xeon Platinum 8480+");
  CommandResult r = run("compare " + b + " " + c);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("cobench: refusing to compare runs from different hardware: CPU model "
                       "'AMD EPYC 9654' (baseline) vs 'Intel Xeon Platinum 8480+' (current)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("--force compares them anyway"), std::string::npos) << r.out;
  r = run("compare " + b + " " + c + " --force");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("warning: different hardware (--force)"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(TrackCli, CompareUsageAndFileErrors) {
  const fs::path dir = fresh_dir("cobench_cli_compare_usage");
  const auto [b, c] = write_pair(dir, 0.0, 5);
  EXPECT_EQ(run("compare " + b).status, 2);
  EXPECT_EQ(run("compare " + b + " " + c + " --format html").status, 2);
  EXPECT_EQ(run("compare " + b + " " + (dir / "missing.json").string()).status, 2);
  cobench::write_file_atomic_no_overwrite(dir / "bad.json", R"({"schema": "x"})");
  const CommandResult r = run("compare " + b + " " + (dir / "bad.json").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find((dir / "bad.json").string() + ": $"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(TrackCli, HistoryJsonDatesThePlantedStep) {
  const fs::path dir = fresh_dir("cobench_cli_history");
  cobench::test::write_history(dir / "node-1", 24, 12, 0.05, 0.01, 4);
  CommandResult r = run("history " + dir.string() + " --format json --seed 7", true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["series"].size(), 1u);
  const auto& s = j["series"][0];
  EXPECT_EQ(s["suite"], "gemm");
  EXPECT_EQ(s["benchmark"], "BM_Step");
  EXPECT_EQ(s["points"].size(), 24u);
  ASSERT_EQ(s["change_points"].size(), 1u);
  EXPECT_EQ(s["change_points"][0]["index"], 12);
  EXPECT_EQ(s["change_points"][0]["git_commit"], "c1012");
  EXPECT_LT(s["change_points"][0]["p_value"].get<double>(), 0.05);
  r = run("history " + dir.string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("gemm/BM_Step time (s): 24 runs, 1 change point(s)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("at run 12 " + cobench::test::run_time(12) + " commit c1012"),
            std::string::npos)
      << r.out;
  r = run("history " + dir.string() + " --benchmark '^BM_None' --format json", true);
  EXPECT_EQ(nlohmann::json::parse(r.out)["series"].size(), 0u);
  EXPECT_EQ(run("history").status, 2);
  EXPECT_EQ(run("history " + (dir / "missing").string()).status, 1);
  fs::remove_all(dir);
}

}  // namespace
