// SPDX-License-Identifier: Apache-2.0
#include "collectives/bandwidth.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace cobench::coll {

std::string_view to_string(Collective c) {
  switch (c) {
    case Collective::kAllReduce:
      return "all_reduce";
    case Collective::kAllGather:
      return "all_gather";
    case Collective::kReduceScatter:
      return "reduce_scatter";
    case Collective::kAllToAll:
      return "all_to_all";
    case Collective::kSendRecv:
      return "send_recv";
  }
  return "?";
}

Collective parse_collective(std::string_view name) {
  for (Collective c : kAllCollectives)
    if (name == to_string(c)) return c;
  throw Error(fmt::format(
      "unknown collective '{}': expected all_reduce, all_gather, reduce_scatter, all_to_all or "
      "send_recv",
      name));
}

double bus_factor(Collective c, int ranks) {
  COBENCH_CHECK(ranks >= 1, "a collective needs at least one rank");
  const double n = ranks;
  switch (c) {
    case Collective::kAllReduce:
      return 2 * (n - 1) / n;
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kAllToAll:
      return (n - 1) / n;
    case Collective::kSendRecv:
      return 1;
  }
  return 1;
}

CollectiveCounts collective_counts(Collective c, std::size_t bytes, std::size_t type_size,
                                   int ranks) {
  COBENCH_CHECK(type_size > 0 && ranks >= 1, "type size and rank count must be positive");
  const auto n = static_cast<std::size_t>(ranks);
  const std::size_t count = bytes / type_size;
  CollectiveCounts k;
  switch (c) {
    case Collective::kAllReduce:
    case Collective::kSendRecv:
      k.send = k.recv = k.param = count;
      k.bytes = count * type_size;
      break;
    case Collective::kAllGather:
      k.param = k.send = count / n;
      k.recv = k.param * n;
      k.bytes = k.recv * type_size;
      break;
    case Collective::kReduceScatter:
      k.param = k.recv = count / n;
      k.send = k.param * n;
      k.bytes = k.send * type_size;
      break;
    case Collective::kAllToAll:
      k.param = count / n;
      k.send = k.recv = k.param * n;
      k.bytes = k.send * type_size;
      break;
  }
  return k;
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
