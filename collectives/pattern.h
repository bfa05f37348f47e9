// SPDX-License-Identifier: Apache-2.0
// Verification data every rank can recompute: element i of rank r's send buffer is
// value(seed, r, i), a small integer (-8 ... 8) held exactly in every data type, so sums over up
// to 2^20 ranks are exact whatever order a backend reduces in. A rank checks its received buffer
// against the values it computes for every peer; nothing but the seed crosses the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "collectives/bandwidth.h"
#include "collectives/communicator.h"

namespace cobench::coll {

/// A mixing hash (splitmix64 finalizer) of the three inputs. Inline: the EP routing hashes every
/// expert of every token with it.
inline std::uint64_t mix(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = seed ^ (a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xc2b2ae3d27d4eb4fULL);
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The value of element `index` of rank `rank`'s send buffer, in -8 ... 8.
inline int pattern_value(std::uint64_t seed, int rank, std::uint64_t index) {
  return static_cast<int>(mix(seed, static_cast<std::uint64_t>(rank), index) % 17) - 8;
}

/// Fills a host buffer of `count` elements of type `t` with rank `rank`'s values.
void fill_pattern(void* host, std::size_t count, DataType t, std::uint64_t seed, int rank);

/// The receive buffer collective `c` must leave on `rank` of `ranks` (count = the call's count),
/// as doubles, from its descriptor (collectives/ops/): empty where the rank's buffer is not
/// defined (reduce off the root). send_recv is a ring: each rank sends to rank + 1 and receives
/// from rank - 1; broadcast and reduce have root 0.
std::vector<double> expected_result(Collective c, std::size_t count, std::uint64_t seed, int rank,
                                    int ranks);

struct Mismatch {
  std::int64_t wrong = 0;    ///< elements that differ
  std::int64_t first = -1;   ///< index of the first, -1 when none
  double got = 0, want = 0;  ///< at `first`
  std::string describe() const;
};

/// Compares a host receive buffer of type `t` with the expected values (exactly).
Mismatch compare(const void* host, DataType t, const std::vector<double>& expected);

}  // namespace cobench::coll
