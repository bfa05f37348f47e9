// SPDX-License-Identifier: Apache-2.0
// `cobench fabric --measured`: reading cobench_coll's busbw off the measured sizes (exact,
// log-log interpolation, nearest outside them) and the identity rule (same collective, same
// ranks), worked by hand.
#include "topologies/fabric_measured.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/test_util.h"

namespace {

using namespace cobench::topo;
namespace results = cobench::results;

// Two sizes two decades apart: 1 MB at 1 GB/s, 100 MB at 4 GB/s.
const std::vector<CollPoint> kPoints = {{1e6, 1e9, "a"}, {1e8, 4e9, "b"}};

TEST(FabricMeasured, InterpolatesLogLogBetweenTheTwoSizesAround) {
  // 10 MB is halfway in log(bytes): log-log gives sqrt(1 x 4) = 2 GB/s (linear in bytes would
  // give 1 + 3 x 9/99 = 1.27 GB/s).
  const BusbwEstimate e = estimate_busbw(kPoints, 1e7);
  EXPECT_EQ(e.method, "interpolated (log-log)");
  EXPECT_NEAR(e.busbw_bytes_per_s, 2e9, 1e-3);
  ASSERT_EQ(e.used.size(), 2u);
  EXPECT_EQ(e.used[0].bytes, 1e6);
  EXPECT_EQ(e.used[1].bytes, 1e8);
  // A quarter of the way (log): 1 x 4^0.25 = sqrt(2) = 1.41421 GB/s.
  EXPECT_NEAR(estimate_busbw(kPoints, 1e6 * std::pow(100, 0.25)).busbw_bytes_per_s, 1.41421e9, 1e4);
}

TEST(FabricMeasured, ExactSizeOrNearestOutsideNeverExtrapolates) {
  const BusbwEstimate exact = estimate_busbw(kPoints, 1e8);
  EXPECT_EQ(exact.method, "exact");
  EXPECT_EQ(exact.busbw_bytes_per_s, 4e9);
  const BusbwEstimate below = estimate_busbw(kPoints, 1e3);
  EXPECT_EQ(below.method, "nearest");
  EXPECT_EQ(below.busbw_bytes_per_s, 1e9);
  const BusbwEstimate above = estimate_busbw(kPoints, 1e12);
  EXPECT_EQ(above.method, "nearest");
  EXPECT_EQ(above.busbw_bytes_per_s, 4e9);
}

results::Record coll_record(const std::string& collective, int ranks, double bytes,
                            std::vector<double> busbw, results::Verification v) {
  results::Record r;
  r.suite = "collectives";
  r.benchmark = collective + "/bytes:" + std::to_string(static_cast<long long>(bytes));
  r.parameters = {{"collective", collective}, {"ranks", ranks}, {"bytes", bytes}};
  r.metrics.push_back({"busbw", "B/s", std::move(busbw), std::nullopt});
  r.verification = v;
  return r;
}

TEST(FabricMeasured, OnlyTheSameCollectiveAndRankCountApply) {
  using V = results::Verification;
  results::Results r;
  r.records = {coll_record("all_gather", 8, 1e6, {1e9, 3e9, 2e9}, V::kPassed),  // median 2e9
               coll_record("all_gather", 8, 1e6, {1.5e9}, V::kPassed),  // the same size, lower
               coll_record("all_gather", 8, 1e8, {9e9}, V::kFailed),    // failed: left out
               coll_record("all_gather", 16, 1e8, {5e9}, V::kPassed),   // other ranks
               coll_record("all_to_all", 8, 1e8, {5e9}, V::kPassed)};   // other collective
  // A sweep's 0-byte points (cobench_coll -b 0, nccl-tests' first line), of this collective and
  // another: valid records without a bandwidth to compare (a whole file was refused once).
  r.records.push_back(coll_record("all_to_all", 8, 0, {0}, V::kPassed));
  r.records.push_back(coll_record("all_gather", 8, 0, {0}, V::kPassed));
  results::Record baseline = coll_record("all_gather", 8, 1e8, {}, V::kNotChecked);
  baseline.metrics = {{"time", "s", {1e-3}, std::nullopt}};  // a timing baseline: no busbw
  r.records.push_back(baseline);
  results::Record gemm;
  gemm.suite = "gemm";
  gemm.benchmark = "BM_Gemm";
  r.records.push_back(gemm);
  MeasuredCollective m;
  m.collective = "all_gather";
  m.ranks = 8;
  collect_coll_points(r, "f.json", m);
  EXPECT_EQ(m.records_used, 2);
  EXPECT_EQ(m.left_out_other, 3);
  EXPECT_EQ(m.left_out_unverified, 1);
  EXPECT_EQ(m.left_out_no_busbw, 2);
  EXPECT_EQ(m.other_suites, 1);
  ASSERT_EQ(m.points.size(), 2u);
  EXPECT_EQ(m.points[0].busbw_bytes_per_s, 2e9);  // the median of {1, 3, 2} GB/s
  EXPECT_EQ(m.points[0].source, "f.json: all_gather/bytes:1000000");
  // A cobench_coll record whose ranks are not a number: an error naming the file and record.
  r.records[0].parameters["ranks"] = "eight";
  const std::string e = cobench::test::error_of([&] { collect_coll_points(r, "f.json", m); });
  EXPECT_NE(e.find("f.json: $.records[0] (all_gather/bytes:1000000): parameters.ranks: expected "
                   "a number above 0"),
            std::string::npos)
      << e;
}

}  // namespace
