// SPDX-License-Identifier: Apache-2.0
// A rank's optimizer timeline (optimizer_overlap.h), worked by hand.
#include "topologies/optimizer_overlap.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace cobench::topo {
namespace {

// Two positions: one's gradients final at 3 s (reduce-scatter 2 s), the other's at 4 s (1 s);
// the pipeline ends at 6 s. The links carry the first from 3 to 5, the second from 5 to 6:
// reduced at 6 s. Given in the other order, the same.
TEST(OptimizerOverlap, ReduceScattersRunBesideTheLastBackwards) {
  EXPECT_DOUBLE_EQ(gradients_reduced_s({{3, 2}, {4, 1}}, 6), 6);
  EXPECT_DOUBLE_EQ(gradients_reduced_s({{4, 1}, {3, 2}}, 6), 6);
  // A longer first reduce-scatter (4 s) holds the links until 7, the second until 8.
  EXPECT_DOUBLE_EQ(gradients_reduced_s({{3, 4}, {4, 1}}, 6), 8);
  // Gradients final only at the pipeline's end: nothing overlaps, 6 + 2 + 1.
  EXPECT_DOUBLE_EQ(gradients_reduced_s({{6, 2}, {6, 1}}, 6), 9);
  // No data-parallel traffic (one copy of each weight): reduced as the pipeline ends.
  EXPECT_DOUBLE_EQ(gradients_reduced_s({{6, 0}}, 6), 6);
  EXPECT_DOUBLE_EQ(gradients_reduced_s({}, 6), 6);
}

TEST(OptimizerOverlap, BadTimesAreRefused) {
  EXPECT_EQ(test::error_of([] {
              gradients_reduced_s({{-1, 2}}, 6);
            }),
            "optimizer timeline: a group's ready time must be a finite time >= 0, got -1");
  EXPECT_EQ(test::error_of([] { gradients_reduced_s({}, 1.0 / 0.0); }),
            "optimizer timeline: the pipeline's end must be a finite time >= 0, got inf");
}

}  // namespace
}  // namespace cobench::topo
