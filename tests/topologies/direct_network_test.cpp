// SPDX-License-Identifier: Apache-2.0
// GF(q) and the Slim Fly and dragonfly router graphs (direct_network.h): field axioms checked
// over the whole tables, the MMS graph's degree, symmetry and diameter by breadth-first search
// (q = 5 against the Hoffman-Singleton graph's known invariants), and dragonfly link counts and
// minimal paths worked by hand.
#include <gtest/gtest.h>

#include <queue>
#include <set>
#include <string>

#include "core/error.h"
#include "tests/test_util.h"
#include "topologies/direct_network.h"
#include "topologies/galois_field.h"

namespace cobench::topo {
namespace {

using cobench::test::error_of;

TEST(GaloisField, PrimePowersAreFields) {
  for (std::int32_t q : {2, 3, 4, 5, 7, 8, 9, 16, 25, 27}) {
    const GaloisField f(q);
    std::set<std::int32_t> powers;
    for (std::int32_t e = 0; e < q - 1; ++e) powers.insert(f.power_of_primitive(e));
    EXPECT_EQ(static_cast<std::int32_t>(powers.size()), q - 1) << "q " << q;
    EXPECT_EQ(powers.count(0), 0u);
    for (std::int32_t a = 0; a < q; ++a) {
      EXPECT_EQ(f.add(a, 0), a);
      EXPECT_EQ(f.mul(a, 1), a);
      EXPECT_EQ(f.add(a, f.neg(a)), 0);
      bool inverse = a == 0;
      for (std::int32_t b = 0; b < q; ++b) {
        EXPECT_EQ(f.mul(a, b), f.mul(b, a));
        inverse = inverse || f.mul(a, b) == 1;
        for (std::int32_t c = 0; c < q; c += 3)  // distributivity, associativity (sampled c)
          ASSERT_EQ(f.mul(a, f.add(b, c)), f.add(f.mul(a, b), f.mul(a, c))) << q;
        for (std::int32_t c = 0; c < q; c += 3)
          ASSERT_EQ(f.mul(a, f.mul(b, c)), f.mul(f.mul(a, b), c)) << q;
      }
      EXPECT_TRUE(inverse) << "q " << q << " element " << a;
    }
    // Characteristic p: 1 added p times is 0.
    std::int32_t x = 0;
    for (std::int32_t i = 0; i < f.characteristic(); ++i) x = f.add(x, 1);
    EXPECT_EQ(x, 0);
  }
  EXPECT_EQ(GaloisField(9).characteristic(), 3);
  EXPECT_EQ(GaloisField(8).characteristic(), 2);
  EXPECT_NE(error_of([] { GaloisField f(6); }).find("GF(6): expected a prime power"),
            std::string::npos);
  EXPECT_NE(error_of([] { GaloisField f(1); }).find("GF(1)"), std::string::npos);
  EXPECT_EQ(prime_power_base(49), 7);
  EXPECT_EQ(prime_power_base(12), 0);
  EXPECT_EQ(prime_power_base(1), 0);
}

// Hop counts from router `from` to every router.
std::vector<int> bfs(const DirectNetwork& n, std::int32_t from) {
  std::vector<int> dist(static_cast<size_t>(n.routers()), -1);
  std::queue<std::int32_t> todo;
  dist[static_cast<size_t>(from)] = 0;
  todo.push(from);
  while (!todo.empty()) {
    const std::int32_t r = todo.front();
    todo.pop();
    for (std::int32_t l = 0; l < n.links(); ++l)  // slow but independent of neighbours()
      if (n.link_from(l) == r && dist[static_cast<size_t>(n.link_to(l))] < 0) {
        dist[static_cast<size_t>(n.link_to(l))] = dist[static_cast<size_t>(r)] + 1;
        todo.push(n.link_to(l));
      }
  }
  return dist;
}

TEST(SlimFly, MmsGraphsHaveTheDegreeAndDiameterTwo) {
  // q, delta, network degree (3q - delta)/2.
  const struct {
    std::int32_t q, delta, degree;
  } cases[] = {{3, -1, 5}, {4, 0, 6}, {5, 1, 7}, {7, -1, 11}, {8, 0, 12}, {9, 1, 13}};
  for (const auto& c : cases) {
    const DirectNetwork n = DirectNetwork::slim_fly(c.q);
    EXPECT_EQ(n.routers(), 2 * c.q * c.q);
    EXPECT_EQ(n.delta(), c.delta);
    EXPECT_EQ(n.network_radix(), c.degree);
    EXPECT_EQ(n.links(), n.routers() * c.degree);  // directed: each cable twice
    std::set<std::pair<std::int32_t, std::int32_t>> edges;
    for (std::int32_t l = 0; l < n.links(); ++l) edges.insert({n.link_from(l), n.link_to(l)});
    for (const auto& [a, b] : edges) ASSERT_TRUE(edges.count({b, a})) << "q " << c.q;
    for (std::int32_t from : {0, n.routers() / 2 + 1, n.routers() - 1}) {
      const std::vector<int> d = bfs(n, from);
      EXPECT_EQ(*std::max_element(d.begin(), d.end()), 2) << "q " << c.q << " from " << from;
    }
  }
}

TEST(SlimFly, QFiveIsTheHoffmanSingletonGraph) {
  // The Moore graph of degree 7 and diameter 2: 50 = 1 + 7 + 7 x 6 routers, so every router at
  // distance 2 is reached by exactly one path, and two neighbours have no common neighbour
  // (girth 5).
  const DirectNetwork n = DirectNetwork::slim_fly(5);
  EXPECT_EQ(n.routers(), 50);
  for (std::int32_t a = 0; a < n.routers(); a += 7)
    for (std::int32_t b = 0; b < n.routers(); ++b) {
      if (a == b) continue;
      ASSERT_EQ(n.minimal_paths(a, b), 1) << a << " " << b;
      const RouterPath p = n.minimal_path(a, b, 0);
      ASSERT_GE(p.hops, 1);
      EXPECT_EQ(n.link_from(p.links[0]), a);
      EXPECT_EQ(n.link_to(p.links[size_t(p.hops - 1)]), b);
      if (p.hops == 2) {
        EXPECT_EQ(n.link_to(p.links[0]), n.link_from(p.links[1]));
      }
    }
}

TEST(SlimFly, LargerQHasSeveralTwoHopPaths) {
  const DirectNetwork n = DirectNetwork::slim_fly(9);
  std::int32_t most = 0;
  for (std::int32_t b = 1; b < n.routers(); ++b) {
    const std::int32_t k = n.minimal_paths(0, b);
    ASSERT_GE(k, 1);
    most = std::max(most, k);
    for (std::int32_t i = 0; i < k; ++i) {
      const RouterPath p = n.minimal_path(0, b, i);
      EXPECT_EQ(n.link_to(p.links[size_t(p.hops - 1)]), b);
    }
  }
  EXPECT_GT(most, 1);
  EXPECT_EQ(n.router_name(81 + 9 + 4), "router 1.1.4");
  EXPECT_NE(error_of([] { DirectNetwork::slim_fly(6); }).find("Slim Fly q = 6"), std::string::npos);
  EXPECT_NE(error_of([] { DirectNetwork::slim_fly(2); }).find("not 2 modulo 4"), std::string::npos);
}

TEST(Dragonfly, LinksAndMinimalPathsByHand) {
  // 3 groups of 4 routers, 2 global links a router: a h = 8 ports a group, g - 1 = 2 other
  // groups, so 4 copies (4 global links between each pair of groups), no port left over.
  const DirectNetwork n = DirectNetwork::dragonfly(4, 2, 3);
  EXPECT_EQ(n.routers(), 12);
  EXPECT_EQ(n.copies(), 4);
  EXPECT_EQ(n.unused_global_ports(), 0);
  EXPECT_EQ(n.first_global_link(), 12 * 3);  // 3 local links out of each router
  EXPECT_EQ(n.global_links(), 3 * 8);        // each cable twice (directed)
  EXPECT_EQ(n.network_radix(), 3 + 2);
  // Group 0's port 1 (router 0, c 0, d 2) goes to group 2's port 0 x 2 + (3 - 2) - 1 = 0
  // (router 8); port 2 (router 1, c 1, d 1) to group 1's port 2 + 1 = 3 (router 5).
  EXPECT_EQ(n.link_from(36 + 1), 0);
  EXPECT_EQ(n.link_to(36 + 1), 8);
  EXPECT_EQ(n.link_from(36 + 2), 1);
  EXPECT_EQ(n.link_to(36 + 2), 5);
  // Every global link has its reverse.
  std::multiset<std::pair<std::int32_t, std::int32_t>> global;
  for (std::int32_t l = n.first_global_link(); l < n.links(); ++l)
    global.insert({n.link_from(l), n.link_to(l)});
  for (const auto& [a, b] : global) EXPECT_EQ(global.count({a, b}), global.count({b, a}));
  // Within a group: one local hop.
  EXPECT_EQ(n.minimal_paths(1, 3), 1);
  const RouterPath local = n.minimal_path(1, 3, 0);
  EXPECT_EQ(local.hops, 1);
  EXPECT_EQ(n.link_from(local.links[0]), 1);
  EXPECT_EQ(n.link_to(local.links[0]), 3);
  // Router 0 to router 5 (group 1), copy 1: d = 1, port 2 (router 1) -> group 1 port 3
  // (router 5): local 0 -> 1, global 1 -> 5, and no local hop at the far end.
  EXPECT_EQ(n.minimal_paths(0, 5), 4);
  const RouterPath p = n.minimal_path(0, 5, 1);
  ASSERT_EQ(p.hops, 2);
  EXPECT_EQ(n.link_from(p.links[0]), 0);
  EXPECT_EQ(n.link_to(p.links[0]), 1);
  EXPECT_EQ(p.links[1], 36 + 2);
  // Copy 0: port 0 (router 0) -> group 1's port 1 (router 4), then local 4 -> 5.
  const RouterPath q = n.minimal_path(0, 5, 0);
  ASSERT_EQ(q.hops, 2);
  EXPECT_EQ(n.link_from(q.links[0]), 0);
  EXPECT_EQ(n.link_to(q.links[0]), 4);
  EXPECT_EQ(n.link_to(q.links[1]), 5);
  EXPECT_EQ(n.router_name(7), "router 1.3");
}

TEST(Dragonfly, TheLargestHasOneLinkBetweenEachPairOfGroups) {
  // a = 4, h = 2: at most a h + 1 = 9 groups, each pair joined once; diameter 3 (local,
  // global, local).
  const DirectNetwork n = DirectNetwork::dragonfly(4, 2, 9);
  EXPECT_EQ(n.copies(), 1);
  EXPECT_EQ(n.global_links(), 9 * 8);
  std::set<std::pair<std::int32_t, std::int32_t>> pairs;
  for (std::int32_t l = n.first_global_link(); l < n.links(); ++l)
    pairs.insert({n.group_of(n.link_from(l)), n.group_of(n.link_to(l))});
  EXPECT_EQ(pairs.size(), 9u * 8u);
  // Minimal routing takes one global hop between groups (a path through a third group can
  // have fewer hops: two global ones), so a path is at least the hop distance and at most 3.
  for (std::int32_t from : {0, 13, 35}) {
    const std::vector<int> d = bfs(n, from);
    EXPECT_LE(*std::max_element(d.begin(), d.end()), 3);
    for (std::int32_t b = 0; b < n.routers(); ++b) {
      if (b == from) continue;
      const RouterPath p = n.minimal_path(from, b, 0);
      EXPECT_GE(p.hops, d[size_t(b)]);
      EXPECT_LE(p.hops, 3);
      int globals = 0;
      for (int i = 0; i < p.hops; ++i) globals += p.global(i, n.first_global_link());
      EXPECT_EQ(globals, n.group_of(from) != n.group_of(b) ? 1 : 0);
      EXPECT_EQ(n.link_to(p.links[size_t(p.hops - 1)]), b);
    }
  }
  // 7 groups of a = 4, h = 3: 12 ports, 6 other groups, 2 copies.
  EXPECT_EQ(DirectNetwork::dragonfly(4, 3, 7).copies(), 2);
  // 5 groups of a = 4, h = 2: 8 ports over 4 other groups, 2 copies; 2 groups: 8 copies.
  EXPECT_EQ(DirectNetwork::dragonfly(4, 2, 2).copies(), 8);
  EXPECT_EQ(DirectNetwork::dragonfly(3, 2, 5).unused_global_ports(), 6 - 4);
  EXPECT_NE(error_of([] { DirectNetwork::dragonfly(4, 2, 10); }).find("1 to a h + 1 = 9 groups"),
            std::string::npos);
}

}  // namespace
}  // namespace cobench::topo
