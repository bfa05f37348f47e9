// SPDX-License-Identifier: Apache-2.0
// E-divisive means on series with known answers.
#include "track/changepoint.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/test_util.h"
#include "tests/track/fixtures.h"

namespace {

using cobench::test::Noise;
using cobench::track::best_split;
using cobench::track::ChangePointOptions;
using cobench::track::detect_change_points;

// 24 runs, 1% Gaussian noise, +5% from run 12 on.
std::vector<double> planted_step(std::uint64_t seed, int runs = 24, int at = 12,
                                 double step = 0.05) {
  Noise noise(seed);
  std::vector<double> x;
  for (int i = 0; i < runs; ++i)
    x.push_back((i >= at ? 1 + step : 1.0) * (1 + 0.01 * noise.normal()));
  return x;
}

TEST(ChangePoint, BestSplitOfACleanStep) {
  const std::vector<double> x = {1, 1, 1, 1, 2, 2, 2};
  const auto [at, q] = best_split(x, 2);
  EXPECT_EQ(at, 4u);
  // m = 4, n = 3: cross mean 1, within 0: q = 4 * 3 / 7 * 2 = 24 / 7.
  EXPECT_DOUBLE_EQ(q, 24.0 / 7);
  EXPECT_EQ(best_split(std::vector<double>{1, 2, 3}, 2).first, 0u);  // too short
}

// Reference: MongoDB's signal-processing-algorithms 2.1.6 (pip, in a scratch virtualenv), its
// pure-Python path:
//   from signal_processing_algorithms.energy_statistics.energy_statistics import (
//       _get_distance_matrix, _calculate_t_stats, _get_valid_input)
//   x = [1.0, 1.2, 0.9, 1.1, 1.0, 1.5, 1.6, 1.4, 1.55, 1.45, 1.0, 0.95]
//   print(list(_calculate_t_stats(_get_distance_matrix(_get_valid_input(x), False), False)))
TEST(ChangePoint, StatisticMatchesSignalProcessingAlgorithms) {
  const std::vector<double> x = {1.0, 1.2, 0.9, 1.1, 1.0, 1.5, 1.6, 1.4, 1.55, 1.45, 1.0, 0.95};
  const double expected[] = {0.0,
                             0.2310606060606061,
                             0.22833333333333344,
                             0.46944444444444444,
                             0.6458333333333331,
                             0.9983333333333333,
                             0.475,
                             0.15261904761904763,
                             0.05833333333333357,
                             0.1361111111111114,
                             0.528333333333334,
                             0.30378787878788044};
  const auto q = cobench::track::split_statistics(x);
  ASSERT_EQ(q.size(), std::size(expected));
  for (std::size_t t = 0; t < q.size(); ++t) EXPECT_NEAR(q[t], expected[t], 1e-12) << "t = " << t;
  const auto [at, best] = best_split(x, 1);  // the library's argmax
  EXPECT_EQ(at, 5u);
  EXPECT_NEAR(best, 0.9983333333333333, 1e-12);
}

TEST(ChangePoint, FindsAPlantedFivePercentStepAtTheRightRun) {
  for (std::uint64_t seed : {1, 2, 3, 4, 5}) {
    const auto cps = detect_change_points(planted_step(seed));
    ASSERT_EQ(cps.size(), 1u) << "seed " << seed;
    EXPECT_EQ(cps[0].index, 12u) << "seed " << seed;  // tolerance 0 runs
    EXPECT_LT(cps[0].p_value, 0.05);
    EXPECT_NEAR(cps[0].relative_change, 0.05, 0.015) << "seed " << seed;
    EXPECT_NEAR(cps[0].before_median, 1.0, 0.01);
    EXPECT_NEAR(cps[0].after_median, 1.05, 0.01);
  }
}

TEST(ChangePoint, PureNoiseGivesNoChangePoint) {
  for (std::uint64_t seed : {11, 12, 13, 14, 15, 16}) {
    const auto cps = detect_change_points(planted_step(seed, 24, 0, 0.0));
    EXPECT_TRUE(cps.empty()) << "seed " << seed << ": " << cps.size()
                             << " change point(s), first at " << (cps.empty() ? 0 : cps[0].index);
  }
}

TEST(ChangePoint, FindsTwoStepsAndDatesBoth) {
  std::vector<double> x = planted_step(7, 36, 12, 0.10);
  for (std::size_t i = 24; i < x.size(); ++i) x[i] *= 0.85;  // and a drop at 24
  const auto cps = detect_change_points(x);
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_EQ(cps[0].index, 12u);
  EXPECT_EQ(cps[1].index, 24u);
  EXPECT_GT(cps[0].relative_change, 0.05);
  EXPECT_LT(cps[1].relative_change, -0.05);
  EXPECT_DOUBLE_EQ(cps[0].after_median, cps[1].before_median);  // the same middle segment
}

TEST(ChangePoint, DeterministicForASeed) {
  const auto x = planted_step(3);
  ChangePointOptions o;
  o.seed = 42;
  const auto a = detect_change_points(x, o), b = detect_change_points(x, o);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, b[i].index);
    EXPECT_EQ(a[i].p_value, b[i].p_value);
    EXPECT_EQ(a[i].q, b[i].q);
  }
}

TEST(ChangePoint, MinimumSegmentAndOptions) {
  // A step two runs before the end: found with min_segment 2, not with 3.
  std::vector<double> x = planted_step(9, 24, 22, 0.2);
  ChangePointOptions o;
  o.min_segment = 3;
  for (const auto& cp : detect_change_points(x, o)) EXPECT_NE(cp.index, 22u);
  o.min_segment = 2;
  const auto cps = detect_change_points(x, o);
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].index, 22u);
  EXPECT_TRUE(detect_change_points(std::vector<double>{1, 2, 3}).empty());
  o.permutations = 0;
  EXPECT_NE(cobench::test::error_of([&] { detect_change_points(x, o); }).find("permutations"),
            std::string::npos);
  EXPECT_NE(cobench::test::error_of([] {
              detect_change_points(std::vector<double>{1, 2, INFINITY, 4});
            }).find("value 2 is not finite"),
            std::string::npos);
}

}  // namespace
