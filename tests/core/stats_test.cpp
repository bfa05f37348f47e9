// SPDX-License-Identifier: Apache-2.0
#include "core/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace {

TEST(Stats, OddCount) {
  const std::vector<double> v{3, 1, 2};
  const auto s = cobench::summarize(v);
  EXPECT_EQ(s.median, 2);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 3);
  EXPECT_EQ(s.mean, 2);
  EXPECT_DOUBLE_EQ(s.stddev, 1.0);  // sqrt(((1)^2 + 0 + (1)^2) / (3 - 1))
}

TEST(Stats, EvenCountMedianIsMeanOfMiddlePair) {
  const std::vector<double> v{4, 1, 3, 2};
  const auto s = cobench::summarize(v);
  EXPECT_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(5.0 / 3.0));  // squares 2.25+0.25+0.25+2.25 = 5
}

TEST(Stats, OneValueHasZeroSpreadAndNoneIsAnError) {
  const std::vector<double> one{7};
  EXPECT_EQ(cobench::summarize(one).stddev, 0);
  EXPECT_THROW(cobench::summarize(std::vector<double>{}), cobench::Error);
}

}  // namespace
