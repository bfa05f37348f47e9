// SPDX-License-Identifier: Apache-2.0
// The parts collectives share, for their descriptors in collectives/ops/<name>.cpp: the busbw
// factors, the ways a requested count splits over the buffers, and the expected results built
// from the verification pattern (collectives/pattern.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "collectives/bandwidth.h"

namespace cobench::coll::op_parts {

/// busbw / algbw of 1 (broadcast, reduce, send_recv).
double factor_one(int ranks);
/// (n - 1) / n (all_gather, reduce_scatter, all_to_all).
double factor_ring(int ranks);
/// 2 (n - 1) / n (all_reduce).
double factor_all_reduce(int ranks);

/// `count` elements in both buffers, S = count * type_size.
CollectiveCounts counts_whole(std::size_t count, std::size_t type_size, int ranks);
/// count / n per rank; the receive buffer holds n blocks, S = it (all_gather).
CollectiveCounts counts_gathered(std::size_t count, std::size_t type_size, int ranks);
/// count / n per rank; the send buffer holds n blocks, S = it (reduce_scatter).
CollectiveCounts counts_scattered(std::size_t count, std::size_t type_size, int ranks);
/// count / n per peer; both buffers hold n blocks, S = the send buffer (all_to_all).
CollectiveCounts counts_exchanged(std::size_t count, std::size_t type_size, int ranks);

/// out[i] = sum over ranks r < `ranks` of pattern_value(seed, r, offset + i), i < count.
std::vector<double> summed(std::size_t count, std::uint64_t seed, int ranks, std::size_t offset);
/// out[i] = pattern_value(seed, from, i), i < count.
std::vector<double> copied(std::size_t count, std::uint64_t seed, int from);
/// out[r * count + i] = pattern_value(seed, r, offset + i), r < ranks, i < count.
std::vector<double> gathered(std::size_t count, std::uint64_t seed, int ranks, std::size_t offset);

}  // namespace cobench::coll::op_parts
