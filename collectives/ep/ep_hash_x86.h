// SPDX-License-Identifier: Apache-2.0
// The x86 paths of ep_hash.h, each in its own translation unit compiled for its instruction set
// (collectives/CMakeLists.txt); ep_hash.cpp calls them only where the CPU has that set. They take
// plain pointers and include no header with inline code they would use: an inline function
// compiled there could be the copy the linker keeps for the whole program.
#pragma once

#include <cstddef>
#include <cstdint>

#include "collectives/ep/ep_hash.h"

namespace cobench::coll::ep::detail {

/// mix_range for the first count rounded down to the vector width; returns how many it did.
int mix_range_avx2(std::uint64_t seed, std::uint64_t a_first, std::uint64_t b, int count,
                   std::uint64_t* out);
int mix_range_avx512(std::uint64_t seed, std::uint64_t a_first, std::uint64_t b, int count,
                     std::uint64_t* out);
void piece_top2_avx2(std::uint64_t base, const PieceTable::Block* blocks, std::size_t n_blocks,
                     std::uint64_t* a, std::uint64_t* b);
/// With `score` also each piece's key_pair_score (vcvtuqq2pd, exact below 2^53).
void piece_top2_avx512(std::uint64_t base, const PieceTable::Block* blocks, std::size_t n_blocks,
                       std::uint64_t* a, std::uint64_t* b, double* score);

/// range_top2 (ep_hash.h).
void range_top2_avx512(const std::uint64_t* a, const std::uint64_t* b, int count,
                       std::uint64_t* out_a, std::uint64_t* out_b);

/// mix()'s constants (collectives/pattern.h).
constexpr std::uint64_t kMixA = 0x9e3779b97f4a7c15ULL;  // a's multiplier and the added constant
constexpr std::uint64_t kMixB = 0xc2b2ae3d27d4eb4fULL;  // b's multiplier
constexpr std::uint64_t kMix1 = 0xbf58476d1ce4e5b9ULL;
constexpr std::uint64_t kMix2 = 0x94d049bb133111ebULL;

}  // namespace cobench::coll::ep::detail
