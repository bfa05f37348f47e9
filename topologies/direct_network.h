// SPDX-License-Identifier: Apache-2.0
// The router graphs of the direct networks of the paper's Table 3, for the fabric simulator
// (fabric_graph.h): routers joined to each other, endpoints (NICs) on each router.
//
// Slim Fly (Besta and Hoefler, SC14): the McKay-Miller-Siran (MMS) graph of a prime power
// q = 4w + delta (delta in {-1, 0, 1}) over GF(q) (galois_field.h), xi its primitive element.
// Routers (0, x, y) and (1, m, c), x, y, m, c in GF(q), router id s q^2 + x q + y (or m, c):
//   (0, x, y) ~ (0, x, y')  iff  y - y' in X;
//   (1, m, c) ~ (1, m, c')  iff  c - c' in X';
//   (0, x, y) ~ (1, m, c)   iff  y = m x + c;
//   delta = 1:  X = {xi^0, xi^2, ..., xi^(q-3)},                 X' = {xi^1, xi^3, ..., xi^(q-2)};
//   delta = 0:  X = {xi^0, xi^2, ..., xi^(q-2)},                 X' = {xi^1, xi^3, ..., xi^(q-1)};
//   delta = -1: X = {xi^0, xi^2, ..., xi^(2w-2)} u {xi^(2w-1), xi^(2w+1), ..., xi^(4w-3)},
//               X' = {xi^1, xi^3, ..., xi^(2w-1)} u {xi^(2w), xi^(2w+2), ..., xi^(4w-2)}.
// 2q^2 routers of network degree (3q - delta)/2, diameter 2 (tested by breadth-first search;
// q = 5 gives the Hoffman-Singleton graph). Link r x degree + j joins router r to its j-th
// neighbour (neighbours in increasing id order).
//
// Dragonfly (Kim et al., ISCA 2008), canonical: g groups of a routers, the routers of a group
// all joined to each other (local links), h global links a router. Group i's global ports are
// numbered j = 0 .. a h - 1 (router j / h, its port j mod h); the consecutive arrangement
// joins them by copies: with m = floor(a h / (g - 1)) copies, port c (g - 1) + d - 1 of group i
// (c < m, offset d = 1 .. g - 1) joins port c (g - 1) + (g - d) - 1 of group (i + d) mod g, so
// every pair of groups has m global links (m = 1 at the largest size, g = a h + 1) and the
// a h - m (g - 1) ports left over stay unused. Links: local ones first, (group a + r) (a - 1) +
// (the other router's index in the group, skipping r); then global ones, a_h_used x group +
// port.
//
// Minimal paths between two routers (the routing's equal-cost choices):
//   Slim Fly: the direct link when they are neighbours, else one path through each common
//             neighbour (diameter 2: there is at least one);
//   dragonfly: the local link within a group; across groups one path a global copy c:
//             local link to the router holding the copy's port (when it is not the source),
//             the global link, local link from the far end (when it is not the destination).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cobench::topo {

enum class DirectTopology : std::uint8_t { kSlimFly, kDragonfly };

struct RouterPath {
  std::array<std::int32_t, 3> links{};  ///< link ids of the router graph, in order
  int hops = 0;
  bool global(int i, std::int32_t first_global) const { return links[size_t(i)] >= first_global; }
};

class DirectNetwork {
 public:
  /// The MMS graph of prime power q (3 .. 256); an Error otherwise.
  static DirectNetwork slim_fly(std::int32_t q);
  /// A canonical dragonfly of `groups` groups of `a` routers with `h` global links each;
  /// groups from 1 to a h + 1.
  static DirectNetwork dragonfly(std::int32_t a, std::int32_t h, std::int32_t groups);

  DirectTopology topology() const { return topology_; }
  std::int32_t routers() const { return routers_; }
  std::int32_t links() const { return static_cast<std::int32_t>(link_from_.size()); }
  std::int32_t link_from(std::int32_t link) const { return link_from_[size_t(link)]; }
  std::int32_t link_to(std::int32_t link) const { return link_to_[size_t(link)]; }
  /// Network ports a router uses (Slim Fly: its degree; dragonfly: a - 1 + h, used or not).
  std::int32_t network_radix() const { return network_radix_; }

  // Slim Fly.
  std::int32_t q() const { return q_; }
  std::int32_t delta() const { return delta_; }
  std::span<const std::int32_t> neighbours(std::int32_t router) const;

  // Dragonfly.
  std::int32_t groups() const { return groups_; }
  std::int32_t group_size() const { return a_; }
  std::int32_t global_per_router() const { return h_; }
  std::int32_t copies() const { return copies_; }  ///< global links a pair of groups
  std::int32_t group_of(std::int32_t router) const { return a_ > 0 ? router / a_ : 0; }
  std::int32_t first_global_link() const { return first_global_; }
  std::int32_t global_links() const { return links() - first_global_; }
  std::int32_t unused_global_ports() const;  ///< a group's ports the arrangement leaves over
  /// Local link from router r1 to r2 of the same group.
  std::int32_t local_link(std::int32_t r1, std::int32_t r2) const;

  /// Minimal paths from router a to router b (a != b), and the i-th of them (0 <= i < count).
  std::int32_t minimal_paths(std::int32_t a, std::int32_t b) const;
  RouterPath minimal_path(std::int32_t a, std::int32_t b, std::int32_t i) const;

  /// "router 1.3.4" (Slim Fly: subgraph, x or m, y or c) or "router 5.2" (group, router).
  std::string router_name(std::int32_t router) const;

 private:
  void add_link(std::int32_t from, std::int32_t to);
  /// Slim Fly: the i-th common neighbour of a and b (-1: none); i < 0: how many they have.
  std::int32_t common_neighbour(std::int32_t a, std::int32_t b, std::int32_t i) const;
  std::int32_t sf_link(std::int32_t from, std::int32_t to) const;  // -1: not neighbours
  std::int32_t global_port_router(std::int32_t group, std::int32_t port) const;

  DirectTopology topology_ = DirectTopology::kSlimFly;
  std::int32_t routers_ = 0, network_radix_ = 0;
  std::int32_t q_ = 0, delta_ = 0;
  std::int32_t groups_ = 0, a_ = 0, h_ = 0, copies_ = 0, first_global_ = 0;
  std::vector<std::int32_t> adjacency_;  // Slim Fly: routers x degree, sorted per router
  std::vector<std::int32_t> link_from_, link_to_;
};

}  // namespace cobench::topo
