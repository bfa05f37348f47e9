// SPDX-License-Identifier: Apache-2.0
// The Mann-Whitney U test against hand-worked cases and scipy.stats.mannwhitneyu.
#include "track/mann_whitney.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/test_util.h"

namespace {

using cobench::track::mann_whitney_u;
using V = std::vector<double>;

TEST(MannWhitney, HandWorkedExactCases) {
  // 3 vs 3, fully separated: U = 0 is 1 of C(6,3) = 20 equally likely arrangements, so the
  // one-sided p is 1/20 and the two-sided 0.1.
  auto r = mann_whitney_u(V{1, 2, 3}, V{4, 5, 6});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_DOUBLE_EQ(r.p_value, 0.1);
  // 2 vs 2 separated: 1 of C(4,2) = 6, two-sided 1/3; the other way round U = 4, same p.
  r = mann_whitney_u(V{1, 2}, V{3, 4});
  EXPECT_DOUBLE_EQ(r.p_value, 1.0 / 3);
  r = mann_whitney_u(V{3, 4}, V{1, 2});
  EXPECT_DOUBLE_EQ(r.u, 4);
  EXPECT_DOUBLE_EQ(r.p_value, 1.0 / 3);
  // 1 vs 1: p = 2 * 1/2, clipped to 1.
  EXPECT_DOUBLE_EQ(mann_whitney_u(V{1}, V{2}).p_value, 1.0);
  // 5 vs 5 separated: 2 / C(10,5) = 2 / 252.
  EXPECT_DOUBLE_EQ(mann_whitney_u(V{1, 2, 3, 4, 5}, V{6, 7, 8, 9, 10}).p_value, 2.0 / 252);
}

// Reference values from scipy 1.17.1 in the repository's .venv:
//   .venv/bin/python -c "from scipy.stats import mannwhitneyu as m; r = m(X, Y,
//       alternative='two-sided'); print(float(r.statistic), float(r.pvalue))"
// with X and Y as in each case below (method and use_continuity left at their defaults).
TEST(MannWhitney, MatchesScipy) {
  struct Case {
    V x, y;
    double u, p;
    bool exact;
  };
  V x10, y12, x8, y20;
  for (int i = 0; i < 10; ++i) x10.push_back(i * 1.1);
  for (int i = 0; i < 12; ++i) y12.push_back(i * 0.9 + 2.05);
  for (int i = 0; i < 8; ++i) x8.push_back(0.5 + i);
  for (int i = 0; i < 20; ++i) y20.push_back(0.25 + 0.7 * i);
  const Case cases[] = {
      // m([1.0,2.5,3.1,4.7,5.2], [3.0,4.0,6.1,7.3,8.8])
      {{1.0, 2.5, 3.1, 4.7, 5.2}, {3.0, 4.0, 6.1, 7.3, 8.8}, 5.0, 0.15079365079365079, true},
      // m([10.1,11.3,9.7,12.2], [8.1,9.2,10.5,7.7,8.8,9.9,11.0])
      {{10.1, 11.3, 9.7, 12.2},
       {8.1, 9.2, 10.5, 7.7, 8.8, 9.9, 11.0},
       23.0,
       0.10909090909090909,
       true},
      // m([1,2,2,3,4], [2,3,4,4,5]): ties, so the normal approximation
      {{1, 2, 2, 3, 4}, {2, 3, 4, 4, 5}, 5.5, 0.16258685072635493, false},
      // m([i*1.1 for i in range(10)], [i*0.9+2.05 for i in range(12)]): both > 8
      {x10, y12, 40.0, 0.19851568979039613, false},
      // m([0.5+i for i in range(8)], [0.25+0.7*i for i in range(20)]): exact (8 <= 8)
      {x8, y20, 47.0, 0.09906229036663819, true},
      // m([1,1,1], [1,1,1]): every value equal
      {{1, 1, 1}, {1, 1, 1}, 4.5, 1.0, false},
  };
  for (const auto& c : cases) {
    const auto r = mann_whitney_u(c.x, c.y);
    EXPECT_DOUBLE_EQ(r.u, c.u);
    EXPECT_NEAR(r.p_value, c.p, 1e-12 * c.p) << "U = " << c.u;
    EXPECT_EQ(r.exact, c.exact) << "U = " << c.u;
  }
}

TEST(MannWhitney, RejectsEmptyAndNan) {
  EXPECT_NE(cobench::test::error_of([] { mann_whitney_u(V{}, V{1}); }).find("at least one"),
            std::string::npos);
  EXPECT_NE(cobench::test::error_of([] {
              mann_whitney_u(V{1, std::nan("")}, V{1});
            }).find("NaN"),
            std::string::npos);
}

}  // namespace
