// SPDX-License-Identifier: Apache-2.0
// A rank's optimizer timeline (optimizer_overlap.h), worked by hand.
#include "topologies/optimizer_overlap.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace cobench::topo {
namespace {

// Two positions: one's gradients final at 3 s (reduce-scatter 2 s), the other's at 4 s (1 s);
// the pipeline ends at 6 s. The links carry the first from 3 to 5, the second from 5 to 6; the
// update (0.5 s) and the all-gather (3 s) after 6: 9.5 s. Given in the other order, the same.
TEST(OptimizerOverlap, ReduceScattersRunBesideTheLastBackwards) {
  EXPECT_DOUBLE_EQ(optimizer_done_s({{3, 2}, {4, 1}}, 6, 0, 0.5, 3), 9.5);
  EXPECT_DOUBLE_EQ(optimizer_done_s({{4, 1}, {3, 2}}, 6, 0, 0.5, 3), 9.5);
  // A longer first reduce-scatter (4 s) holds the links until 7, the second until 8: 11.5 s.
  EXPECT_DOUBLE_EQ(optimizer_done_s({{3, 4}, {4, 1}}, 6, 0, 0.5, 3), 11.5);
  // Gradients final only at the pipeline's end: nothing overlaps, 6 + 2 + 1 + 0.5 + 3.
  EXPECT_DOUBLE_EQ(optimizer_done_s({{6, 2}, {6, 1}}, 6, 0, 0.5, 3), 12.5);
  // The embedding's gradients summed with a copy's (1 s) after the reduce-scatters, before the
  // update: 10.5 s.
  EXPECT_DOUBLE_EQ(optimizer_done_s({{3, 2}, {4, 1}}, 6, 1, 0.5, 3), 10.5);
  // No data-parallel traffic (one copy of each weight): the update alone after the end.
  EXPECT_DOUBLE_EQ(optimizer_done_s({{6, 0}}, 6, 0, 0.5, 0), 6.5);
}

TEST(OptimizerOverlap, BadTimesAreRefused) {
  EXPECT_EQ(test::error_of([] {
              optimizer_done_s({{-1, 2}}, 6, 0, 0.5, 3);
            }),
            "optimizer timeline: a group's ready time must be a finite time >= 0, got -1");
  EXPECT_EQ(test::error_of([] { optimizer_done_s({}, 6, 0, 0.5, 1.0 / 0.0); }),
            "optimizer timeline: the all-gather must be a finite time >= 0, got inf");
}

}  // namespace
}  // namespace cobench::topo
