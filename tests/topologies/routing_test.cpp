// SPDX-License-Identifier: Apache-2.0
// The routing simulation checked against the exact hypergeometric expectation where one exists
// (no node limit), against a hand-worked case, and for stability across seeds.
#include "topologies/routing.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace {

using namespace cobench::topo;

TEST(Routing, HandWorkedUnlimited) {
  // 2 groups of 2 experts, top-2: both picks in one group with P = 2 x C(2,2) / C(4,2) = 1/3,
  // so E[nodes] = 2 - 1/3.
  EXPECT_NEAR(expected_nodes_unlimited({4, 2, 2, 2, 1}), 5.0 / 3.0, 1e-15);
  EXPECT_NEAR(expected_gpus_unlimited({4, 2, 2, 2, 1}), 2.0, 1e-15);
}

TEST(Routing, SimulationMatchesTheExactUnlimitedCase) {
  for (const RoutingShape r : {RoutingShape{256, 8, 8, 8, 4}, RoutingShape{160, 8, 8, 6, 5}}) {
    const RoutingEstimate est = simulate_routing(r, 20000, 7);
    EXPECT_NEAR(est.nodes.mean, expected_nodes_unlimited(r), 4 * est.nodes.std_error);
    EXPECT_NEAR(est.gpus.mean, expected_gpus_unlimited(r), 4 * est.gpus.std_error);
    EXPECT_GT(est.nodes.std_error, 0);
  }
}

TEST(Routing, NodeLimitIsRespectedAndReducesNodes) {
  const RoutingShape limited{256, 8, 4, 8, 4};
  const RoutingEstimate a = simulate_routing(limited, 20000, 1);
  const RoutingEstimate b = simulate_routing(limited, 20000, 2);
  EXPECT_LE(a.nodes.mean, 4.0);
  EXPECT_LT(a.nodes.mean, expected_nodes_unlimited(limited));
  // Two seeds agree within their combined error.
  EXPECT_LT(std::fabs(a.nodes.mean - b.nodes.mean),
            4 * std::hypot(a.nodes.std_error, b.nodes.std_error));
  // One group per token: every expert lands on one node.
  EXPECT_EQ(simulate_routing({256, 8, 1, 8, 4}, 100, 3).nodes.mean, 1.0);
}

TEST(Routing, BadShapes) {
  EXPECT_THROW(expected_nodes_unlimited({250, 8, 4, 8, 4}), cobench::Error);
  EXPECT_THROW(simulate_routing({256, 8, 9, 8, 4}, 10, 1), cobench::Error);
  EXPECT_THROW(simulate_routing({256, 8, 1, 40, 4}, 10, 1), cobench::Error);
}

}  // namespace
