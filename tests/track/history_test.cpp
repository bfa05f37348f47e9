// SPDX-License-Identifier: Apache-2.0
// `history` over fixture histories written as results files.
#include "track/history.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "tests/test_util.h"
#include "tests/track/fixtures.h"

namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(History, DatesAPlantedStepToItsRun) {
  const fs::path dir = fresh_dir("cobench_history_step");
  const auto files = cobench::test::write_history(dir / "machine", 24, 12, 0.05, 0.01, 1);
  // Other JSON in the tree is skipped; the runs are ordered by time, not by name.
  cobench::write_file_atomic_no_overwrite(dir / "machine" / "notes.json", R"({"a": 1})");
  fs::rename(files[3], dir / "machine" / "zzz_renamed.json");

  const auto found = cobench::track::find_results_files({dir.string()});
  ASSERT_EQ(found.size(), 24u);
  const auto runs = cobench::track::load_history(found);
  EXPECT_EQ(runs[3].file, (dir / "machine" / "zzz_renamed.json").string());
  EXPECT_TRUE(cobench::track::mixed_hardware(runs).empty());
  const auto series = cobench::track::build_series(runs, {});
  ASSERT_EQ(series.size(), 1u);
  const auto& s = series[0];
  EXPECT_EQ(s.benchmark, "BM_Step");
  EXPECT_EQ(s.metric, "time");
  ASSERT_EQ(s.points.size(), 24u);
  ASSERT_EQ(s.change_points.size(), 1u);
  EXPECT_EQ(s.change_points[0].index, 12u);

  const auto j = cobench::track::to_json(series);
  const auto& cp = j["series"][0]["change_points"][0];
  EXPECT_EQ(cp["index"], 12);
  EXPECT_EQ(cp["utc_time"], cobench::test::run_time(12));
  EXPECT_EQ(cp["git_commit"], "c1012");
  EXPECT_EQ(cp["file"], j["series"][0]["points"][12]["file"]);
  EXPECT_NEAR(cp["relative_change"].get<double>(), 0.05, 0.015);
  EXPECT_EQ(j["series"][0]["unit"], "s");
  EXPECT_EQ(j["series"][0]["points"][0].size(), 4u);  // file, utc_time, git_commit, median
  EXPECT_EQ(cp.size(), 8u);
  fs::remove_all(dir);
}

TEST(History, RunsOfDifferentMachinesNeverShareASeries) {
  // The same benchmark on two VMs both called "vm": one a Zen 1 (family 23), one a Zen 4 (25).
  // Two series, each named by its machine; without hardware fields, by host.
  auto run = [](const std::string& utc, int family, double t) {
    cobench::track::HistoryRun r;
    r.file = utc + ".json";
    r.utc_time = utc;
    r.results.run = cobench::test::fixture_header(utc, "c");
    r.results.run.host = "vm";
    r.results.run.sysinfo = {{"host", "vm"}, {"cpu", {{"model", "AMD EPYC"}, {"family", family}}}};
    r.results.records.push_back(
        cobench::test::fixture_record("gemm", "BM_X", "time", "s", {t, t, t}));
    return r;
  };
  std::vector<cobench::track::HistoryRun> runs = {run("2026-12-01T00:00:00Z", 23, 1.0),
                                                  run("2026-12-02T00:00:00Z", 25, 0.4),
                                                  run("2026-12-03T00:00:00Z", 23, 1.0)};
  const auto series = cobench::track::build_series(runs, {});
  ASSERT_EQ(series.size(), 2u);
  EXPECT_NE(series[0].machine, series[1].machine);
  EXPECT_EQ(series[0].points.size() + series[1].points.size(), 3u);
  EXPECT_NE(cobench::track::format_text(series).find(" on machine "), std::string::npos);
  EXPECT_EQ(cobench::track::mixed_hardware(runs).size(), 1u);  // run 1 against run 0
  runs[1].results.run.sysinfo = nlohmann::json::object();
  runs[1].results.run.host = "other";
  EXPECT_EQ(cobench::track::build_series(runs, {})[1].machine.substr(0, 5), "host:");
}

// A results file copied beside its original holds the same run: counted twice, its values would
// weigh double in every series. Refused, naming both files.
TEST(History, ACopiedRunIsRefusedNamingBothFiles) {
  const fs::path dir = fresh_dir("cobench_history_copy");
  const auto files = cobench::test::write_history(dir, 4, 0, 0.0, 0.01, 3);
  const fs::path copy = dir / "zz_copy.json";
  fs::copy_file(files[1], copy);
  EXPECT_EQ(
      cobench::test::error_of([&] {
        cobench::track::load_history(cobench::track::find_results_files({dir.string()}));
      }),
      fmt::format("{} holds the same run as {} (host 'node-1', {}): a copy counts a run twice; "
                  "keep one of them",
                  copy.string(), files[1].string(), cobench::test::run_time(1)));
  // The same records under another header (a rerun at another time) are another run.
  fs::remove(copy);
  EXPECT_EQ(cobench::track::load_history(cobench::track::find_results_files({dir.string()})).size(),
            4u);
  fs::remove_all(dir);
}

TEST(History, NoiseOnlyFilterAndErrors) {
  const fs::path dir = fresh_dir("cobench_history_noise");
  cobench::test::write_history(dir, 20, 0, 0.0, 0.01, 21);
  const auto runs =
      cobench::track::load_history(cobench::track::find_results_files({dir.string()}));
  const auto series = cobench::track::build_series(runs, {});
  ASSERT_EQ(series.size(), 1u);
  EXPECT_TRUE(series[0].change_points.empty());

  cobench::track::HistoryOptions o;
  o.benchmark_regex = "^BM_Other";
  EXPECT_TRUE(cobench::track::build_series(runs, o).empty());
  o.benchmark_regex = "(";
  EXPECT_NE(cobench::test::error_of([&] {
              cobench::track::build_series(runs, o);
            }).find("invalid --benchmark regular expression '('"),
            std::string::npos);
  EXPECT_NE(cobench::test::error_of([&] {
              cobench::track::find_results_files({(dir / "missing").string()});
            }).find("no such file or directory"),
            std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
