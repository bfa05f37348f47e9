// SPDX-License-Identifier: Apache-2.0
// Scale-out network topologies built from switches of one radix (paper section 5, Table 3):
// endpoints, switches and switch-to-switch links (endpoint cables are not counted, as in the
// paper), and cost from a per-switch and per-link price.
//
//   FT2   two-level fat tree: k leaves and k/2 spines; k^2/2 endpoints and links
//   MPFT  multi-plane fat tree: P independent FT2 planes, one NIC of every node in each
//   FT3   three-level fat tree: k^3/4 endpoints, 5k^2/4 switches, k^3/2 links
//   SF    Slim Fly (MMS graph, parameter q = 4w + delta): 2q^2 switches of network radix
//         (3q - delta)/2 and ceil(radix/2) endpoints each
//   DF    canonical dragonfly: p endpoints, a switches a group, h global links a switch,
//         a = 2p = 2h; g groups, at most a*h + 1
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cobench::topo {

struct TopologySize {
  std::string name;
  std::int64_t endpoints = 0;
  std::int64_t switches = 0;
  std::int64_t links = 0;
  std::int64_t ports_per_switch_used = 0;
  std::int64_t max_switches_on_path =
      0;             ///< switches a packet crosses between the farthest endpoints
  std::string note;  ///< construction parameters and caveats
};

/// Prices of the cost model (docs/model.md): a switch (all its ports) and a link.
struct NetworkPrices {
  double switch_usd = 81920;  ///< 64-port 400G switch at $1,280 a port
  double link_usd = 550;      ///< switch-to-switch cable with its transceivers
};

double cost_usd(const TopologySize& t, const NetworkPrices& p);

TopologySize fat_tree_2(std::int64_t radix);
TopologySize multi_plane_fat_tree(std::int64_t radix, std::int64_t planes);
TopologySize fat_tree_3(std::int64_t radix);
/// The largest Slim Fly whose switches fit `radix` ports.
TopologySize slim_fly(std::int64_t radix);
/// A canonical dragonfly for `radix` with `groups` groups (0: the maximum a*h + 1).
TopologySize dragonfly(std::int64_t radix, std::int64_t groups = 0);

/// The paper's Table 3 set at `radix` (8 planes for MPFT; the paper's 511 dragonfly groups).
std::vector<TopologySize> paper_table3(std::int64_t radix);

/// The cheapest topology of switches of `radix` ports that reaches `endpoints`: FT2, MPFT with
/// the fewest planes that fit (up to `max_planes`), FT3, Slim Fly, or a dragonfly with the
/// fewest groups that fit. Throws when none does.
TopologySize cheapest_fit(std::int64_t endpoints, std::int64_t radix, const NetworkPrices& prices,
                          std::int64_t max_planes = 16);

}  // namespace cobench::topo
