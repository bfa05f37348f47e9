// SPDX-License-Identifier: Apache-2.0
#include "collectives/bandwidth.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <string>

#include "collectives/ops/collective_op.h"
#include "core/error.h"

namespace cobench::coll {

std::vector<Collective> default_collectives() {
  std::vector<Collective> out;
  for (Collective c : kAllCollectives)
    if (collective_op(c).in_default_sweep) out.push_back(c);
  return out;
}

std::string_view to_string(Collective c) { return collective_op(c).name; }

Collective parse_collective(std::string_view name) {
  std::string accepted;
  for (Collective c : kAllCollectives) {
    if (name == to_string(c)) return c;
    const bool last = c == kAllCollectives[std::size(kAllCollectives) - 1];
    accepted += fmt::format("{}{}", accepted.empty() ? "" : last ? " or " : ", ", to_string(c));
  }
  throw Error(fmt::format("unknown collective '{}': expected {}", name, accepted));
}

double bus_factor(Collective c, int ranks) {
  COBENCH_CHECK(ranks >= 1, "a collective needs at least one rank");
  return collective_op(c).bus_factor(ranks);
}

CollectiveCounts collective_counts(Collective c, std::size_t bytes, std::size_t type_size,
                                   int ranks) {
  COBENCH_CHECK(type_size > 0 && ranks >= 1, "type size and rank count must be positive");
  return collective_op(c).counts(bytes / type_size, type_size, ranks);
}

BusBandwidth bus_bandwidth(Collective c, std::size_t bytes, double time_s, int ranks) {
  COBENCH_CHECK(time_s > 0, "a bandwidth needs a positive time");
  BusBandwidth b;
  b.alg_bytes_per_s = static_cast<double>(bytes) / time_s;
  b.bus_bytes_per_s = b.alg_bytes_per_s * bus_factor(c, ranks);
  return b;
}

std::vector<std::size_t> size_sweep(std::size_t min_bytes, std::size_t max_bytes, double factor,
                                    std::size_t step_bytes) {
  if (min_bytes > max_bytes)
    throw Error(fmt::format("minimum size {} B exceeds maximum {} B", min_bytes, max_bytes));
  if (!(factor > 1 || (factor == 0 && step_bytes > 0)) || !std::isfinite(factor))
    throw Error("a size sweep needs a finite factor > 1, or a factor of 0 and a positive step");
  std::vector<std::size_t> out;
  for (std::size_t s = min_bytes; s <= max_bytes;) {
    if (out.size() == kMaxSweepSizes)
      throw Error(fmt::format("the sweep has more than {} sizes; take a larger factor or step",
                              kMaxSweepSizes));
    out.push_back(s);
    const double grown = static_cast<double>(s) * factor;
    std::size_t next =
        factor > 1 ? (grown >= static_cast<double>(max_bytes) + 1 ? max_bytes + 1
                                                                  : static_cast<std::size_t>(grown))
                   : s + step_bytes;
    if (next <= s) next = s + 1;  // from 0 (or 1 with a small factor) the sweep still advances
    s = next;
  }
  return out;
}

}  // namespace cobench::coll
