// SPDX-License-Identifier: Apache-2.0
// Slim Fly (MMS) and canonical dragonfly router graphs and their minimal paths
// (direct_network.h).
#include "topologies/direct_network.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "topologies/galois_field.h"

namespace cobench::topo {

void DirectNetwork::add_link(std::int32_t from, std::int32_t to) {
  link_from_.push_back(from);
  link_to_.push_back(to);
}

DirectNetwork DirectNetwork::slim_fly(std::int32_t q) {
  if (q < 3 || q % 4 == 2 || prime_power_base(q) == 0 || q > kMaxGaloisOrder)
    throw Error(
        fmt::format("Slim Fly q = {}: expected a prime power from 3 to {} that is not 2 modulo 4",
                    q, kMaxGaloisOrder));
  const GaloisField f(q);
  DirectNetwork n;
  n.topology_ = DirectTopology::kSlimFly;
  n.q_ = q;
  n.delta_ = q % 4 == 0 ? 0 : (q % 4 == 1 ? 1 : -1);
  const std::int32_t w = (q - n.delta_) / 4;
  // The generator sets as exponents of the primitive element.
  std::vector<std::int32_t> ex, exp;
  if (n.delta_ == 1) {
    for (std::int32_t e = 0; e <= q - 3; e += 2) ex.push_back(e), exp.push_back(e + 1);
  } else if (n.delta_ == 0) {
    for (std::int32_t e = 0; e <= q - 2; e += 2) ex.push_back(e), exp.push_back(e + 1);
  } else {
    for (std::int32_t e = 0; e <= 2 * w - 2; e += 2) ex.push_back(e);
    for (std::int32_t e = 2 * w - 1; e <= 4 * w - 3; e += 2) ex.push_back(e);
    for (std::int32_t e = 1; e <= 2 * w - 1; e += 2) exp.push_back(e);
    for (std::int32_t e = 2 * w; e <= 4 * w - 2; e += 2) exp.push_back(e);
  }
  std::vector<std::uint8_t> in_x(static_cast<size_t>(q)), in_xp(static_cast<size_t>(q));
  for (std::int32_t e : ex) in_x[static_cast<size_t>(f.power_of_primitive(e))] = 1;
  for (std::int32_t e : exp) in_xp[static_cast<size_t>(f.power_of_primitive(e))] = 1;
  const std::int32_t degree = (3 * q - n.delta_) / 2;
  n.network_radix_ = degree;
  n.routers_ = 2 * q * q;
  const auto id = [q](std::int32_t s, std::int32_t a, std::int32_t b) {
    return s * q * q + a * q + b;
  };
  n.adjacency_.reserve(static_cast<size_t>(n.routers_) * static_cast<size_t>(degree));
  std::vector<std::int32_t> nb;
  for (std::int32_t r = 0; r < n.routers_; ++r) {
    const std::int32_t s = r / (q * q), a = (r / q) % q, b = r % q;
    nb.clear();
    for (std::int32_t b2 = 0; b2 < q; ++b2)
      if ((s == 0 ? in_x : in_xp)[static_cast<size_t>(f.sub(b, b2))]) nb.push_back(id(s, a, b2));
    for (std::int32_t k = 0; k < q; ++k)
      nb.push_back(s == 0 ? id(1, k, f.sub(b, f.mul(k, a)))    // (0,x,y) ~ (1,m,y - m x)
                          : id(0, k, f.add(f.mul(a, k), b)));  // (1,m,c) ~ (0,x,m x + c)
    std::sort(nb.begin(), nb.end());
    if (static_cast<std::int32_t>(nb.size()) != degree ||
        std::adjacent_find(nb.begin(), nb.end()) != nb.end())
      throw Error(fmt::format("Slim Fly q = {}: router {} has {} neighbours, expected {}", q, r,
                              nb.size(), degree));
    n.adjacency_.insert(n.adjacency_.end(), nb.begin(), nb.end());
  }
  for (std::int32_t r = 0; r < n.routers_; ++r)
    for (std::int32_t to : n.neighbours(r)) n.add_link(r, to);
  return n;
}

DirectNetwork DirectNetwork::dragonfly(std::int32_t a, std::int32_t h, std::int32_t groups) {
  if (a < 1 || h < 0 || groups < 1 || std::int64_t{groups} > std::int64_t{a} * h + 1)
    throw Error(fmt::format(
        "dragonfly of {} groups of {} routers with {} global links each: expected a >= 1, "
        "h >= 0 and 1 to a h + 1 = {} groups",
        groups, a, h, std::int64_t{a} * h + 1));
  DirectNetwork n;
  n.topology_ = DirectTopology::kDragonfly;
  n.a_ = a, n.h_ = h, n.groups_ = groups;
  n.routers_ = a * groups;
  n.network_radix_ = a - 1 + h;
  n.copies_ = groups > 1 ? a * h / (groups - 1) : 0;
  for (std::int32_t r1 = 0; r1 < n.routers_; ++r1)
    for (std::int32_t k = 0; k < a; ++k)
      if (k != r1 % a) n.add_link(r1, (r1 / a) * a + k);
  n.first_global_ = n.links();
  const std::int32_t used = n.copies_ * (groups - 1);
  for (std::int32_t gi = 0; gi < groups; ++gi)
    for (std::int32_t j = 0; j < used; ++j) {
      const std::int32_t c = j / (groups - 1), d = j % (groups - 1) + 1;
      const std::int32_t t = (gi + d) % groups;
      n.add_link(n.global_port_router(gi, j),
                 n.global_port_router(t, c * (groups - 1) + (groups - d) - 1));
    }
  return n;
}

std::span<const std::int32_t> DirectNetwork::neighbours(std::int32_t router) const {
  return {adjacency_.data() + static_cast<size_t>(router) * static_cast<size_t>(network_radix_),
          static_cast<size_t>(network_radix_)};
}

std::int32_t DirectNetwork::unused_global_ports() const {
  return groups_ > 1 ? a_ * h_ - copies_ * (groups_ - 1) : a_ * h_;
}

std::int32_t DirectNetwork::global_port_router(std::int32_t group, std::int32_t port) const {
  return group * a_ + port / h_;
}

std::int32_t DirectNetwork::local_link(std::int32_t r1, std::int32_t r2) const {
  const std::int32_t k1 = r1 % a_, k2 = r2 % a_;
  return r1 * (a_ - 1) + (k2 < k1 ? k2 : k2 - 1);
}

std::int32_t DirectNetwork::sf_link(std::int32_t from, std::int32_t to) const {
  const auto nb = neighbours(from);
  const auto it = std::lower_bound(nb.begin(), nb.end(), to);
  if (it == nb.end() || *it != to) return -1;
  return from * network_radix_ + static_cast<std::int32_t>(it - nb.begin());
}

std::int32_t DirectNetwork::common_neighbour(std::int32_t a, std::int32_t b, std::int32_t i) const {
  // The i-th element of the two sorted neighbour lists' intersection; i < 0 counts them all.
  const auto na = neighbours(a), nb = neighbours(b);
  size_t x = 0, y = 0;
  std::int32_t found = 0;
  while (x < na.size() && y < nb.size()) {
    if (na[x] < nb[y]) {
      ++x;
    } else if (nb[y] < na[x]) {
      ++y;
    } else {
      if (found++ == i) return na[x];
      ++x, ++y;
    }
  }
  return i < 0 ? found : -1;
}

std::int32_t DirectNetwork::minimal_paths(std::int32_t a, std::int32_t b) const {
  if (topology_ == DirectTopology::kDragonfly) return group_of(a) == group_of(b) ? 1 : copies_;
  return sf_link(a, b) >= 0 ? 1 : common_neighbour(a, b, -1);
}

RouterPath DirectNetwork::minimal_path(std::int32_t a, std::int32_t b, std::int32_t i) const {
  RouterPath p;
  const auto push = [&p](std::int32_t link) { p.links[static_cast<size_t>(p.hops++)] = link; };
  if (topology_ == DirectTopology::kSlimFly) {
    const std::int32_t direct = sf_link(a, b);
    if (direct >= 0) {
      push(direct);
    } else {
      const std::int32_t via = common_neighbour(a, b, i);
      push(sf_link(a, via));
      push(sf_link(via, b));
    }
    return p;
  }
  const std::int32_t ga = group_of(a), gb = group_of(b);
  if (ga == gb) {
    push(local_link(a, b));
    return p;
  }
  const std::int32_t g = groups_, d = (gb - ga + g) % g;
  const std::int32_t port = i * (g - 1) + d - 1, far_port = i * (g - 1) + (g - d) - 1;
  const std::int32_t u = global_port_router(ga, port), v = global_port_router(gb, far_port);
  if (u != a) push(local_link(a, u));
  push(first_global_ + ga * copies_ * (g - 1) + port);
  if (v != b) push(local_link(v, b));
  return p;
}

std::string DirectNetwork::router_name(std::int32_t r) const {
  if (topology_ == DirectTopology::kSlimFly)
    return fmt::format("router {}.{}.{}", r / (q_ * q_), (r / q_) % q_, r % q_);
  return fmt::format("router {}.{}", r / a_, r % a_);
}

}  // namespace cobench::topo
