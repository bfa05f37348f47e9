// SPDX-License-Identifier: Apache-2.0
// `compare` on fixture runs with known answers.
#include "track/compare.h"

#include <gtest/gtest.h>

#include "core/machine_identity.h"
#include "tests/test_util.h"
#include "tests/track/fixtures.h"

namespace {

using cobench::results::Results;
using cobench::results::Verification;
using cobench::test::fixture_header;
using cobench::test::fixture_record;
using cobench::test::Noise;
using cobench::test::noisy;
using cobench::track::CompareOptions;
using cobench::track::Verdict;

const cobench::track::RunInfo kBase{"base.json", "2026-11-01T00:00:00Z", "aaa", "node-1", ""};
const cobench::track::RunInfo kCur{"cur.json", "2026-11-02T00:00:00Z", "bbb", "node-1", ""};

Results run(const std::string& utc, std::string cpu = "AMD EPYC 9654") {
  Results r;
  r.run = fixture_header(utc, "aaa", cpu);
  return r;
}

const cobench::track::Comparison& row(const cobench::track::CompareReport& r,
                                      const std::string& benchmark) {
  for (const auto& c : r.rows)
    if (c.benchmark == benchmark) return c;
  throw std::runtime_error("no row " + benchmark);
}

TEST(Compare, ClassifiesFixtureChanges) {
  Noise noise(5);
  Results base = run("2026-11-01T00:00:00Z"), cur = run("2026-11-02T00:00:00Z");
  auto both = [&](const std::string& name, const std::string& metric, const std::string& unit,
                  double b, double c, int nb, int nc) {
    base.records.push_back(fixture_record("gemm", name, metric, unit, noisy(b, 0.005, nb, noise)));
    cur.records.push_back(fixture_record("gemm", name, metric, unit, noisy(c, 0.005, nc, noise)));
  };
  both("slower10", "time", "s", 1e-3, 1.1e-3, 5, 5);
  both("faster10", "real_time", "s", 1e-3, 0.9e-3, 5, 5);
  both("same1", "time", "s", 1e-3, 1.01e-3, 5, 5);
  both("two_reps", "time", "s", 1e-3, 1.1e-3, 2, 2);
  both("bw_drop", "bandwidth", "B/s", 3e12, 2.7e12, 5, 5);  // higher is better: slower
  // 3 against 4 values: even separated samples give p >= 2 / C(7, 3) = 0.057, so +10% can get
  // no verdict at alpha 0.05 ("too few").
  base.records.push_back(fixture_record("gemm", "tied", "time", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("gemm", "tied", "time", "s", {1.1, 1.1, 1.1, 1}));
  base.records.push_back(fixture_record("gemm", "gone", "time", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("mla", "new", "time", "s", {1, 1, 1}));

  const auto r = cobench::track::compare(base, kBase, cur, kCur, {});
  EXPECT_EQ(row(r, "slower10").verdict, Verdict::kSlower);
  EXPECT_NEAR(row(r, "slower10").change, 0.10, 0.02);
  EXPECT_LT(row(r, "slower10").p_value, 0.05);
  EXPECT_EQ(row(r, "faster10").verdict, Verdict::kFaster);
  EXPECT_EQ(row(r, "faster10").metric, "real_time");
  EXPECT_EQ(row(r, "same1").verdict, Verdict::kSame);
  EXPECT_EQ(row(r, "two_reps").verdict, Verdict::kTooFew);
  EXPECT_EQ(row(r, "two_reps").needed_repetitions, 4);
  EXPECT_EQ(row(r, "bw_drop").verdict, Verdict::kSlower);
  EXPECT_TRUE(row(r, "bw_drop").higher_is_better);
  EXPECT_EQ(row(r, "tied").verdict, Verdict::kTooFew);
  EXPECT_NEAR(row(r, "tied").min_p_value, 2.0 / 35, 1e-15);
  ASSERT_EQ(r.added.size(), 1u);
  EXPECT_EQ(r.added[0].suite, "mla");
  EXPECT_EQ(r.added[0].benchmark, "new");
  ASSERT_EQ(r.removed.size(), 1u);
  EXPECT_EQ(r.removed[0].benchmark, "gone");
  EXPECT_TRUE(r.regression());
  EXPECT_EQ(r.count(Verdict::kSlower), 2);

  // With a lower bar for repetitions, two each are enough for the (exact) test? No: the smallest
  // two-sided p with 2 vs 2 is 1/3, so the change stays without a verdict at alpha 0.05.
  CompareOptions o;
  o.min_repetitions = 2;
  EXPECT_EQ(row(cobench::track::compare(base, kBase, cur, kCur, o), "two_reps").verdict,
            Verdict::kTooFew);
  // A 15% threshold makes the 10% changes "same".
  o = {};
  o.threshold = 0.15;
  EXPECT_FALSE(cobench::track::compare(base, kBase, cur, kCur, o).regression());
}

TEST(Compare, TheSmallestPValueTheRepetitionsAllow) {
  // 2 / C(2n, n): 1/3, 0.1, 2/70, 2/252 for n = 2 .. 5; 2 / C(7, 3) for 3 against 4.
  EXPECT_NEAR(cobench::track::min_two_sided_p(2, 2), 1.0 / 3, 1e-15);
  EXPECT_NEAR(cobench::track::min_two_sided_p(3, 3), 0.1, 1e-15);
  EXPECT_NEAR(cobench::track::min_two_sided_p(4, 4), 2.0 / 70, 1e-15);
  EXPECT_NEAR(cobench::track::min_two_sided_p(5, 5), 2.0 / 252, 1e-15);
  EXPECT_NEAR(cobench::track::min_two_sided_p(3, 4), 2.0 / 35, 1e-15);
  EXPECT_EQ(cobench::track::min_two_sided_p(1, 1), 1);
  EXPECT_EQ(cobench::track::repetitions_needed(0.05, 3), 4);
  EXPECT_EQ(cobench::track::repetitions_needed(0.01, 3), 5);
  EXPECT_EQ(cobench::track::repetitions_needed(0.05, 6), 6);
}

TEST(Compare, ATwoFoldSlowdownNeedsFourRepetitionsASide) {
  // The quick suite once ran 3 repetitions: a 2x slowdown, samples completely apart, was "too
  // noisy" at p = 0.1 and compare exited 0. Now 3 a side is "too few" (saying 4 are needed), and
  // 5 a side (the quick suite's count) is "slower".
  Noise noise(7);
  for (int n : {3, 5}) {
    Results base = run("2026-11-01T00:00:00Z"), cur = run("2026-11-02T00:00:00Z");
    base.records.push_back(fixture_record("coll", "rs", "time", "s", noisy(1e-3, 0.05, n, noise)));
    cur.records.push_back(fixture_record("coll", "rs", "time", "s", noisy(2e-3, 0.05, n, noise)));
    const auto r = cobench::track::compare(base, kBase, cur, kCur, {});
    EXPECT_EQ(row(r, "rs").verdict, n == 3 ? Verdict::kTooFew : Verdict::kSlower) << n;
    EXPECT_EQ(r.regression(), n == 5);
  }
}

TEST(Compare, CommittedPairsClassifyAsDocumented) {
  // tests/data/track/pairs: `cobench run --suite memory` (5 repetitions) three times with the same
  // build on a 2-vCPU VM, and twice with both cores kept busy by two spinning shells (the
  // slowdown: +96% to +236%). Between two runs of the same build one benchmark moved 15-19% with
  // its repetitions apart (p = 0.0079): the default 5% threshold flags it in 2 of the 3 pairs (2 of
  // 9 rows); 20% flags none, and still finds all 18 rows of the 6 slowed pairs (docs/tracking.md).
  const std::string dir = std::string(COBENCH_TEST_DATA_DIR) + "/track/pairs/";
  auto slower = [&](const std::string& a, const std::string& b, double threshold) {
    CompareOptions o;
    o.threshold = threshold;
    return cobench::track::compare_files(dir + a, dir + b, o).count(Verdict::kSlower);
  };
  const char* same[] = {"same-build-1.json", "same-build-2.json", "same-build-3.json"};
  int same_default = 0, same_20 = 0, slowed_20 = 0;
  for (int a = 0; a < 3; ++a) {
    for (int b = a + 1; b < 3; ++b) {
      same_default += slower(same[a], same[b], 0.05);
      same_20 += slower(same[a], same[b], 0.2);
    }
    for (const char* s : {"slowed-1.json", "slowed-2.json"}) slowed_20 += slower(same[a], s, 0.2);
  }
  EXPECT_EQ(same_default, 2);
  EXPECT_EQ(same_20, 0);
  EXPECT_EQ(slowed_20, 18);
}

TEST(Compare, FlagsVerificationAndSkipsMissingMetrics) {
  Results base = run("2026-11-01T00:00:00Z"), cur = run("2026-11-02T00:00:00Z");
  base.records.push_back(fixture_record("gemm", "a", "time", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("gemm", "a", "time", "s", {1, 1, 1}, Verification::kFailed));
  base.records.push_back(fixture_record("gemm", "b", "time", "s", {1, 1, 1}));
  cur.records.push_back(fixture_record("gemm", "b", "time", "s", {1, 1, 1}));
  CompareOptions o;
  const auto r = cobench::track::compare(base, kBase, cur, kCur, o);
  EXPECT_TRUE(row(r, "a").flagged());
  EXPECT_FALSE(row(r, "b").flagged());
  EXPECT_NE(format_text(r).find("verification: baseline passed, current failed"),
            std::string::npos);
  // A metric that only a record new in this run has: the others are skipped, each named.
  cur.records.push_back(fixture_record("gemm", "c", "bandwidth", "B/s", {1, 1, 1}));
  o.metric = "bandwidth";
  const auto none = cobench::track::compare(base, kBase, cur, kCur, o);
  EXPECT_TRUE(none.rows.empty());
  ASSERT_EQ(none.skipped.size(), 2u);
  EXPECT_NE(none.skipped[0].find("metric 'bandwidth' is missing on the baseline"),
            std::string::npos);
  // A metric of no record at all is a usage error (a typo would skip everything, exit 0).
  o.metric = "bandwith";
  const std::string e =
      cobench::test::error_of([&] { cobench::track::compare(base, kBase, cur, kCur, o); });
  EXPECT_NE(e.find("--metric 'bandwith': no record of"), std::string::npos) << e;
  EXPECT_NE(e.find("their metrics: bandwidth, time"), std::string::npos) << e;
}

TEST(Compare, RefusesDifferentHardwareUnlessForced) {
  Results base = run("2026-11-01T00:00:00Z"), cur = run("2026-11-02T00:00:00Z", "Intel Xeon 8480");
  cur.run.sysinfo["cuda_devices"] = {{{"index", 0}, {"name", "NVIDIA H100"}}};
  const std::string e =
      cobench::test::error_of([&] { cobench::track::compare(base, kBase, cur, kCur, {}); });
  EXPECT_NE(e.find("refusing to compare runs from different hardware"), std::string::npos) << e;
  EXPECT_NE(e.find("CPU model 'AMD EPYC 9654' (baseline) vs 'Intel Xeon 8480' (current)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("GPUs 1 (NVIDIA H200) (baseline) vs 1 (NVIDIA H100) (current)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("--force"), std::string::npos);
  EXPECT_THROW(cobench::track::compare(base, kBase, cur, kCur, {}),
               cobench::track::HardwareMismatch);
  CompareOptions o;
  o.force = true;
  const auto r = cobench::track::compare(base, kBase, cur, kCur, o);
  EXPECT_EQ(r.hardware_differences.size(), 2u);
  EXPECT_NE(format_markdown(r).find("Different hardware"), std::string::npos);
  // The same hardware, and snapshots that do not say, compare without --force.
  EXPECT_TRUE(cobench::track::hardware_differences(base.run.sysinfo, base.run.sysinfo).empty());
  EXPECT_TRUE(cobench::track::hardware_differences({}, cur.run.sysinfo).empty());
}

TEST(Compare, TheMachineIsItsHardwareNotItsHostName) {
  // Two VMs called "vm" whose CPUs both say "AMD EPYC": a Zen 1 (family 23, AVX2) and a Zen 4
  // (family 25, AVX-512) are different machines; the same hardware under another name is not.
  auto snapshot = [](const std::string& host, int family, bool avx512) {
    return nlohmann::json{{"host", host},
                          {"cpu",
                           {{"model", "AMD EPYC"},
                            {"vendor", "AuthenticAMD"},
                            {"family", family},
                            {"model_number", 1},
                            {"stepping", 2},
                            {"sockets", 1},
                            {"cores", 2},
                            {"threads", 2},
                            {"features", {{"avx2", true}, {"fma", true}, {"avx512f", avx512}}}}},
                          {"pci_devices", nlohmann::json::array()},
                          {"cuda_devices", nlohmann::json::array()}};
  };
  const auto zen1 = cobench::machine_identity(snapshot("vm", 23, false));
  const auto zen4 = cobench::machine_identity(snapshot("vm", 25, true));
  const auto zen1_renamed = cobench::machine_identity(snapshot("ci-runner-7", 23, false));
  EXPECT_EQ(zen1.label, "vm");
  EXPECT_EQ(zen1.key.size(), 16u);
  EXPECT_NE(zen1.key, zen4.key);
  EXPECT_EQ(zen1.key, zen1_renamed.key);
  EXPECT_TRUE(zen1.complete);
  const auto d =
      cobench::track::hardware_differences(snapshot("vm", 23, false), snapshot("vm", 25, true));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], "CPU family '23' (baseline) vs '25' (current)");
  EXPECT_EQ(d[1], "CPU ISA features 'avx2; fma' (baseline) vs 'avx2; avx512f; fma' (current)");
  // Only the family differs: still two machines.
  auto other = snapshot("vm", 23, false);
  other["cpu"]["family"] = 24;
  EXPECT_NE(cobench::machine_identity(other).key, zen1.key);
  // A file from before the family was recorded: keyed by the rest, the family not compared.
  auto old = snapshot("vm", 23, false);
  old["cpu"].erase("family");
  EXPECT_FALSE(cobench::machine_identity(old).complete);
  EXPECT_TRUE(cobench::track::hardware_differences(old, snapshot("vm", 25, false)).empty());
}

TEST(Compare, MarkdownEscapesPipesAndJsonHasEveryRow) {
  Results base = run("2026-11-01T00:00:00Z"), cur = run("2026-11-02T00:00:00Z");
  base.records.push_back(fixture_record("gemm", "BM_A|B/x", "time", "s", {1, 1.1, 0.9}));
  cur.records.push_back(fixture_record("gemm", "BM_A|B/x", "time", "s", {1, 1.1, 0.9}));
  const auto r = cobench::track::compare(base, kBase, cur, kCur, {});
  const std::string md = format_markdown(r);
  EXPECT_NE(md.find("| gemm/BM_A\\|B/x | time |"), std::string::npos) << md;
  EXPECT_EQ(md.find("BM_A|B"), std::string::npos) << md;
  const auto j = to_json(r);
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["benchmark"], "BM_A|B/x");
  EXPECT_EQ(j["rows"][0]["verdict"], "same");
  EXPECT_EQ(j["regression"], false);
}

}  // namespace

namespace {

// From a median of 0, or a ratio beyond a double (a subnormal baseline, 1e308 against 1e-3),
// there is no relative change: the record is skipped and says why, never a "+inf" row.
TEST(Compare, NoRelativeChangeFromZeroOrBeyondADouble) {
  Results base = run("2026-11-01T00:00:00Z"), cur = run("2026-11-02T00:00:00Z");
  auto both = [&](const std::string& name, const std::string& unit, double b, double c) {
    base.records.push_back(fixture_record("gemm", name, "time", unit, {b, b, b}));
    cur.records.push_back(fixture_record("gemm", name, "time", unit, {c, c, c}));
  };
  both("from_zero", "s", 0, 1e-3);
  both("subnormal", "s", 5e-324, 7.4e-4);
  both("huge", "s", 7.4e-4, 1e308);
  both("zero_both", "s", 0, 0);
  both("plain", "s", 1e-3, 1e-3);
  const auto r = cobench::track::compare(base, kBase, cur, kCur, {});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(row(r, "zero_both").change, 0);
  EXPECT_EQ(row(r, "zero_both").verdict, Verdict::kSame);
  EXPECT_EQ(row(r, "plain").change, 0);
  ASSERT_EQ(r.skipped.size(), 3u);
  EXPECT_EQ(r.skipped[0],
            "gemm/from_zero: no relative change from a baseline median of 0 s to "
            "0.001 s");
  EXPECT_EQ(r.skipped[1],
            "gemm/huge: no relative change from a baseline median of 0.00074 s to "
            "1e+308 s");
  EXPECT_EQ(r.skipped[2],
            "gemm/subnormal: no relative change from a baseline median of "
            "4.94066e-324 s to 0.00074 s");
}

}  // namespace
