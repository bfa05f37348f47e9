// SPDX-License-Identifier: Apache-2.0
// `cobench compare`, `cobench history` and `cobench results validate` on hostile results files
// (issue 16): negative times ("-200.0% faster" once), duplicate records (taken first by compare
// and history, last by the dashboard once), a truncated file in a history directory (dropped
// silently once), and benchmark names that would inject HTML or links into the Markdown.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/atomic_file.h"
#include "core/results_io.h"
#include "tests/command_util.h"
#include "tests/test_util.h"
#include "tests/track/fixtures.h"
#include "track/compare.h"

namespace {

namespace fs = std::filesystem;
using cobench::results::Results;
using cobench::test::CommandResult;
using cobench::test::fixture_header;
using cobench::test::fixture_record;
using cobench::test::fresh_dir;
using cobench::test::replace;

CommandResult run(const std::string& args, bool stdout_only = false) {
  return cobench::test::run_command(std::string(COBENCH_BINARY) + " " + args, stdout_only);
}

// Written as is: results::write refuses what a reader would (these files are hostile on purpose).
std::string write_run(const fs::path& path, const Results& r) {
  cobench::write_file_atomic_no_overwrite(path, cobench::results::to_json(r).dump(2) + "\n");
  return path.string();
}

TEST(HostileTrack, NegativeTimesNeverReachCompare) {
  const fs::path dir = fresh_dir("cobench_hostile_negative");
  Results base, cur;
  base.run = fixture_header("2026-11-01T00:00:00Z", "aaa");
  cur.run = fixture_header("2026-11-02T00:00:00Z", "bbb");
  base.records.push_back(fixture_record("gemm", "BM_X", "time", "s", {1, 1, 1, 1, 1}));
  cur.records.push_back(fixture_record("gemm", "BM_X", "time", "s", {-1, -1, -1, -1, -1}));
  const std::string b = write_run(dir / "base.json", base), c = write_run(dir / "cur.json", cur);
  CommandResult r = run("results validate " + c);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(c + ": $.records[0].metrics.time.values[0]: -1 is negative; a value in "
                           "'s' cannot be"),
            std::string::npos)
      << r.out;
  r = run("compare " + b + " " + c);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(c + ": $.records[0].metrics.time.values[0]"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("faster"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(HostileTrack, DuplicateRecordsAreRefusedByValidateCompareAndHistoryAlike) {
  const fs::path dir = fresh_dir("cobench_hostile_duplicates");
  Results base, cur;
  base.run = fixture_header("2026-11-01T00:00:00Z", "aaa");
  cur.run = fixture_header("2026-11-02T00:00:00Z", "bbb");
  base.records.push_back(fixture_record("gemm", "BM_X", "time", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("gemm", "BM_X", "time", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("gemm", "BM_Y", "time", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("gemm", "BM_X", "time", "s", {2, 2, 2}));
  const std::string b = write_run(dir / "base.json", base), c = write_run(dir / "cur.json", cur);
  const std::string error = c +
                            ": $.records[2]: duplicate record: suite 'gemm', benchmark 'BM_X' and "
                            "backend 'cpu' are those of $.records[0]";
  for (const std::string& args : {"results validate " + c, "compare " + b + " " + c,
                                  "history " + b + " " + c, "history " + dir.string()}) {
    SCOPED_TRACE(args);
    const CommandResult r = run(args);
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find(error), std::string::npos) << r.out;
  }
  fs::remove_all(dir);
}

TEST(HostileTrack, OneBenchmarkOnTwoBackendsIsTwoRecordsForCompareAndHistory) {
  const fs::path dir = fresh_dir("cobench_hostile_backends");
  Results base, cur;
  base.run = fixture_header("2026-11-01T00:00:00Z", "aaa");
  cur.run = fixture_header("2026-11-02T00:00:00Z", "bbb");
  for (Results* r : {&base, &cur}) {
    auto mpi = fixture_record("collectives", "all_reduce/bytes:8", "time", "s", {1, 1, 1, 1, 1});
    mpi.backend = cobench::results::Backend::kMpi;
    auto nccl = mpi;
    nccl.backend = cobench::results::Backend::kNccl;
    nccl.metrics[0].values = {2, 2, 2, 2, 2};
    r->records = {mpi, nccl};
  }
  // Only the NCCL one doubles: the MPI row is "same", the NCCL row "slower".
  for (double& v : cur.records[1].metrics[0].values) v = 4;
  const std::string b = write_run(dir / "base.json", base), c = write_run(dir / "cur.json", cur);
  CommandResult r = run("compare " + b + " " + c + " --format json", true);
  ASSERT_EQ(r.status, 1) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["backend"], "mpi");
  EXPECT_EQ(j["rows"][0]["verdict"], "same");
  EXPECT_EQ(j["rows"][1]["backend"], "nccl");
  EXPECT_EQ(j["rows"][1]["verdict"], "slower");
  r = run("compare " + b + " " + c);
  EXPECT_NE(r.out.find("collectives/all_reduce/bytes:8 [nccl]"), std::string::npos) << r.out;
  r = run("history " + b + " " + c + " --format json", true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto h = nlohmann::json::parse(r.out);
  ASSERT_EQ(h["series"].size(), 2u);
  EXPECT_EQ(h["series"][0]["backend"], "mpi");
  EXPECT_EQ(h["series"][0]["points"][1]["median"], 1.0);
  EXPECT_EQ(h["series"][1]["backend"], "nccl");
  EXPECT_EQ(h["series"][1]["points"][1]["median"], 4.0);
  fs::remove_all(dir);
}

TEST(HostileTrack, ATruncatedFileInAHistoryDirectoryIsAnErrorAsWhenNamed) {
  const fs::path dir = fresh_dir("cobench_hostile_history_dir");
  const auto files = cobench::test::write_history(dir / "node-1", 6, 3, 0.05, 0.01, 4);
  const std::string text = cobench::read_file(files[2]);
  const fs::path truncated = dir / "node-1" / "20261101T999999Z_node-1_quick.json";
  cobench::write_file_atomic_no_overwrite(truncated, text.substr(0, text.size() / 2));
  for (const std::string& path : {dir.string(), truncated.string()}) {
    SCOPED_TRACE(path);
    const CommandResult r = run("history " + path);
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("cobench: " + truncated.string() + ": not valid JSON: "),
              std::string::npos)
        << r.out;
  }
  fs::remove(truncated);
  // Other JSON is skipped, with a note; hidden directories (a run's work directory, whose
  // benchmark output may be half written) are not searched.
  cobench::write_file_atomic_no_overwrite(dir / "notes.json", R"({"a": 1})");
  fs::create_directories(dir / "node-1" / ".cobench-run-12345");
  cobench::write_file_atomic_no_overwrite(dir / "node-1" / ".cobench-run-12345" / "gemm.json",
                                          "{\"bench");
  const CommandResult r = run("history " + dir.string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("gemm/BM_Step time (s): 6 runs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cobench: note: skipping " + (dir / "notes.json").string() +
                       ": not a cobench results file"),
            std::string::npos)
      << r.out;
  // A results file of another version is a results file: refused, not skipped.
  cobench::write_file_atomic_no_overwrite(
      dir / "v2.json",
      replace(cobench::read_file(files[0]), "\"cobench.results/1\"", "\"cobench.results/2\""));
  const CommandResult v2 = run("history " + dir.string());
  EXPECT_EQ(v2.status, 1) << v2.out;
  EXPECT_NE(v2.out.find("unsupported schema 'cobench.results/2'"), std::string::npos) << v2.out;
  fs::remove_all(dir);
}

TEST(HostileTrack, CompareMarkdownEscapesHtmlAndLinksFromNames) {
  const fs::path dir = fresh_dir("cobench_hostile_markdown");
  const std::string img = "BM_<img src=x onerror=alert(1)>";
  const std::string link = "BM_[x](javascript:alert(1))";
  Results base, cur;
  base.run = fixture_header("2026-11-01T00:00:00Z", "aaa");
  cur.run = fixture_header("2026-11-02T00:00:00Z", "bbb");
  base.records.push_back(fixture_record("gemm", img, "time", "s", {1, 1, 1}));
  base.records.push_back(fixture_record("gemm", link, "<b>t</b>", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("gemm", img, "time", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("gemm", link, "time", "s", {1, 1, 1}));
  cur.records.push_back(
      fixture_record("x  <script>alert(2)</script>", "`a` | b", "time", "s", {1, 1, 1}));
  // A newline (which would end the Markdown list) or any control character never reaches a
  // report: the reader refuses it (core/control_characters.h).
  Results forged = cur;
  forged.records.back().suite = "x\n\n<script>alert(2)</script>";
  const std::string f = write_run(dir / "forged.json", forged);
  const CommandResult refused = run("compare " + f + " " + f + " --format markdown");
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_NE(refused.out.find(f + ": $.records[2].suite: text holds the control character U+000A"),
            std::string::npos)
      << refused.out;
  const std::string b = write_run(dir / "base.json", base), c = write_run(dir / "cur.json", cur);
  const CommandResult r = run("compare " + b + " " + c + " --format markdown", true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("<img"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("<b>"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[x](javascript"), std::string::npos) << r.out;  // only \\[x\\](...
  EXPECT_EQ(r.out.find("\n<script>"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| gemm/BM_&lt;img src=x onerror=alert(1)&gt; | time |"), std::string::npos)
      << r.out;
  // The metric missing on one side: "not compared" names it escaped.
  EXPECT_NE(r.out.find("- gemm/BM_\\[x\\](javascript:alert(1)): "), std::string::npos) << r.out;
  // An added record in inline code: no HTML, and no blank line that would end the list.
  EXPECT_NE(r.out.find("- `x  <script>alert(2)</script>/'a' | b`"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

// Round 3: a metric whose unit changed between runs was one history series (0.00074 s, then
// 740 in '1'), where a change point would be found; each unit is its own series.
TEST(HostileTrack, AMetricWhoseUnitChangedIsTwoHistorySeries) {
  const fs::path dir = fresh_dir("cobench_hostile_unit_change");
  Results a, b;
  a.run = fixture_header("2026-11-01T00:00:00Z", "aaa");
  b.run = fixture_header("2026-11-02T00:00:00Z", "bbb");
  a.records.push_back(fixture_record("gemm", "BM_X", "time", "s", {7.4e-4, 7.4e-4, 7.4e-4}));
  b.records.push_back(fixture_record("gemm", "BM_X", "time", "1", {740, 740, 740}));
  const std::string fa = write_run(dir / "a.json", a), fb = write_run(dir / "b.json", b);
  const CommandResult r = run("history " + fa + " " + fb + " --format json", true);
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["series"].size(), 2u) << r.out;
  for (const auto& s : j["series"]) {
    EXPECT_EQ(s["points"].size(), 1u) << s.dump();
    EXPECT_EQ(s["points"][0]["median"].get<double>(), s["unit"] == "s" ? 7.4e-4 : 740.0);
  }
  fs::remove_all(dir);
}

// Round 3: month 13 and 30 February matched the shape of a time and passed every reader.
TEST(HostileTrack, AUtcTimeOffTheCalendarIsRefused) {
  const fs::path dir = fresh_dir("cobench_hostile_calendar");
  for (const char* t : {"2026-13-45T25:61:61Z", "2026-02-30T00:00:00Z", "0000-01-01T00:00:00Z",
                        "2026-11-29T24:00:00Z"}) {
    SCOPED_TRACE(t);
    Results r;
    r.run = fixture_header(t, "aaa");
    r.records.push_back(fixture_record("gemm", "BM_X", "time", "s", {1, 1, 1}));
    const fs::path f =
        dir / (std::string(t).substr(0, 10) + std::string(t).substr(11, 2) + ".json");
    const std::string path = write_run(f, r);
    const CommandResult v = run("results validate " + path);
    EXPECT_EQ(v.status, 1) << v.out;
    EXPECT_NE(v.out.find(path + ": $.run.utc_time: '" + t +
                         "' is not an ISO 8601 UTC time of the calendar "
                         "(YYYY-MM-DDTHH:MM:SS[.fraction]Z, year from 0001)"),
              std::string::npos)
        << v.out;
  }
  Results leap;
  leap.run = fixture_header("2028-02-29T23:59:60Z", "aaa");
  leap.records.push_back(fixture_record("gemm", "BM_X", "time", "s", {1, 1, 1}));
  EXPECT_EQ(run("results validate " + write_run(dir / "leap.json", leap)).status, 0);
  fs::remove_all(dir);
}

}  // namespace
