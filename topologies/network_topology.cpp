// SPDX-License-Identifier: Apache-2.0
#include "topologies/network_topology.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace cobench::topo {
namespace {

void require_even_radix(std::int64_t radix, std::int64_t min, const char* what) {
  if (radix < min || radix % 2 != 0)
    throw Error(
        fmt::format("switch radix {} is too small or odd for a {} (needs an even radix "
                    ">= {})",
                    radix, what, min));
}

}  // namespace

double cost_usd(const TopologySize& t, const NetworkPrices& p) {
  return static_cast<double>(t.switches) * p.switch_usd + static_cast<double>(t.links) * p.link_usd;
}

TopologySize fat_tree_2(std::int64_t k) {
  require_even_radix(k, 4, "two-level fat tree");
  // k leaves with k/2 down- and k/2 up-links; k/2 spines with one link to every leaf.
  return {"FT2", k * k / 2, k + k / 2, k * k / 2, k, 3, fmt::format("radix {}", k)};
}

TopologySize multi_plane_fat_tree(std::int64_t k, std::int64_t planes) {
  if (planes < 1)
    throw Error(fmt::format("a multi-plane fat tree needs >= 1 plane, got {}", planes));
  TopologySize t = fat_tree_2(k);
  t.name = "MPFT";
  t.endpoints *= planes;
  t.switches *= planes;
  t.links *= planes;
  t.note = fmt::format("{} planes of FT2 radix {}", planes, k);
  return t;
}

TopologySize fat_tree_3(std::int64_t k) {
  require_even_radix(k, 4, "three-level fat tree");
  // k pods of k/2 edge and k/2 aggregation switches, (k/2)^2 core switches.
  const std::int64_t endpoints = k * k * k / 4;
  return {"FT3", endpoints, 5 * k * k / 4, 2 * endpoints, k, 5, fmt::format("radix {}", k)};
}

TopologySize slim_fly(std::int64_t radix) {
  // Largest q = 4w + delta (delta in {-1, 0, 1}) whose network radix plus endpoints fit.
  std::int64_t best_q = 0, best_delta = 0, best_net = 0, best_p = 0;
  for (std::int64_t q = 3; q < 4 * radix; ++q) {
    const std::int64_t r = q % 4;
    if (r == 2) continue;  // q = 4w + 2 has no delta
    const std::int64_t delta = r == 0 ? 0 : (r == 1 ? 1 : -1);
    const std::int64_t net = (3 * q - delta) / 2;
    const std::int64_t p = (net + 1) / 2;
    if (net + p > radix) break;
    best_q = q, best_delta = delta, best_net = net, best_p = p;
  }
  if (best_q == 0) throw Error(fmt::format("switch radix {} is too small for a Slim Fly", radix));
  const std::int64_t switches = 2 * best_q * best_q;
  TopologySize t{"SF",
                 switches * best_p,
                 switches,
                 switches * best_net / 2,
                 best_net + best_p,
                 3,
                 fmt::format("MMS q={} (delta {}), network radix {}, {} endpoints a switch", best_q,
                             best_delta, best_net, best_p)};
  bool prime_power = false;
  for (std::int64_t base = 2; base <= best_q && !prime_power; ++base) {
    bool is_prime = true;
    for (std::int64_t f = 2; f * f <= base; ++f) is_prime = is_prime && base % f != 0;
    if (!is_prime) continue;
    for (std::int64_t v = base; v <= best_q; v *= base) prime_power = prime_power || v == best_q;
  }
  if (!prime_power)
    t.note += fmt::format(
        "; q={} is not a prime power, so no MMS graph of this size exists: the "
        "count is the formula's, as in the paper",
        best_q);
  return t;
}

TopologySize dragonfly(std::int64_t radix, std::int64_t groups) {
  // Balanced: radix = p + (a - 1) + h with a = 2p = 2h, so p = (radix + 1) / 4.
  const std::int64_t p = (radix + 1) / 4;
  if (p < 1) throw Error(fmt::format("switch radix {} is too small for a dragonfly", radix));
  const std::int64_t a = 2 * p, h = p;
  const std::int64_t max_groups = a * h + 1;
  if (groups == 0) groups = max_groups;
  if (groups < 2 || groups > max_groups)
    throw Error(fmt::format("a dragonfly of radix {} has 2 to {} groups, not {}", radix, max_groups,
                            groups));
  const std::int64_t intra = groups * a * (a - 1) / 2;
  const std::int64_t global = groups * a * h / 2;
  return {"DF",
          p * a * groups,
          a * groups,
          intra + global,
          p + (a - 1) + h,
          4,
          fmt::format("p={} a={} h={} g={} (at most {})", p, a, h, groups, max_groups)};
}

std::vector<TopologySize> paper_table3(std::int64_t radix) {
  // The paper's dragonfly has 511 groups where 513 fit; it does not say why.
  return {fat_tree_2(radix), multi_plane_fat_tree(radix, 8), fat_tree_3(radix), slim_fly(radix),
          dragonfly(radix, radix == 64 ? 511 : 0)};
}

TopologySize cheapest_fit(std::int64_t endpoints, std::int64_t radix, const NetworkPrices& prices,
                          std::int64_t max_planes) {
  std::vector<TopologySize> fits;
  auto consider = [&](auto make) {
    try {
      TopologySize t = make();
      if (t.endpoints >= endpoints) fits.push_back(std::move(t));
    } catch (const Error&) {
      // this topology cannot be built from switches of this radix
    }
  };
  consider([&] { return fat_tree_2(radix); });
  consider([&] {
    const std::int64_t per_plane = fat_tree_2(radix).endpoints;
    const std::int64_t planes = std::max<std::int64_t>(2, (endpoints + per_plane - 1) / per_plane);
    if (planes > max_planes) throw Error("too many planes");
    return multi_plane_fat_tree(radix, planes);
  });
  consider([&] { return fat_tree_3(radix); });
  consider([&] { return slim_fly(radix); });
  consider([&] {
    const TopologySize one = dragonfly(radix, 2);
    const std::int64_t per_group = one.endpoints / 2;
    return dragonfly(radix, std::max<std::int64_t>(2, (endpoints + per_group - 1) / per_group));
  });
  if (fits.empty())
    throw Error(
        fmt::format("no topology of radix {} switches reaches {} endpoints", radix, endpoints));
  return *std::min_element(fits.begin(), fits.end(),
                           [&](const TopologySize& a, const TopologySize& b) {
                             return cost_usd(a, prices) < cost_usd(b, prices);
                           });
}

}  // namespace cobench::topo
