// SPDX-License-Identifier: Apache-2.0
#include "collectives/ops/op_parts.h"

#include <utility>

#include "collectives/pattern.h"

namespace cobench::coll::op_parts {

double factor_one(int /*ranks*/) { return 1; }
double factor_ring(int ranks) { return static_cast<double>(ranks - 1) / ranks; }
double factor_all_reduce(int ranks) { return 2.0 * (ranks - 1) / ranks; }

CollectiveCounts counts_whole(std::size_t count, std::size_t type_size, int /*ranks*/) {
  CollectiveCounts k;
  k.send = k.recv = k.param = count;
  k.bytes = count * type_size;
  return k;
}

CollectiveCounts counts_gathered(std::size_t count, std::size_t type_size, int ranks) {
  CollectiveCounts k;
  k.param = k.send = count / static_cast<std::size_t>(ranks);
  k.recv = k.param * static_cast<std::size_t>(ranks);
  k.bytes = k.recv * type_size;
  return k;
}

CollectiveCounts counts_scattered(std::size_t count, std::size_t type_size, int ranks) {
  CollectiveCounts k = counts_gathered(count, type_size, ranks);
  std::swap(k.send, k.recv);
  return k;
}

CollectiveCounts counts_exchanged(std::size_t count, std::size_t type_size, int ranks) {
  CollectiveCounts k = counts_gathered(count, type_size, ranks);
  k.send = k.recv;
  return k;
}

std::vector<double> summed(std::size_t count, std::uint64_t seed, int ranks, std::size_t offset) {
  std::vector<double> out(count, 0);
  for (int r = 0; r < ranks; ++r)
    for (std::size_t i = 0; i < count; ++i) out[i] += pattern_value(seed, r, offset + i);
  return out;
}

std::vector<double> copied(std::size_t count, std::uint64_t seed, int from) {
  std::vector<double> out(count);
  for (std::size_t i = 0; i < count; ++i) out[i] = pattern_value(seed, from, i);
  return out;
}

std::vector<double> gathered(std::size_t count, std::uint64_t seed, int ranks, std::size_t offset) {
  std::vector<double> out(count * static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r)
    for (std::size_t i = 0; i < count; ++i)
      out[static_cast<std::size_t>(r) * count + i] = pattern_value(seed, r, offset + i);
  return out;
}

}  // namespace cobench::coll::op_parts
