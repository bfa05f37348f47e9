// SPDX-License-Identifier: Apache-2.0
// The EP routing's hashing of every expert of a token, vectorized and bit-identical to the scalar
// mix() (collectives/pattern.h): the same splitmix64 finalizer over many experts at once, on the
// widest path the CPU has (AVX-512F with AVX512DQ's 64-bit multiply, AVX2 with the multiply
// built from 32-bit pieces, or plain C++), chosen at run time.
//
// A routing key's bits: key_bits(base, e) = (mix(base, e, 0x5) >> 11) + 1, the order of the
// uniform key u = ((mix >> 11) + 0.5) / 2^53 (0 stands for a masked key).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cobench::coll::ep {

enum class HashPath { kScalar, kAvx2, kAvx512 };

/// "scalar", "avx2", "avx512".
const char* hash_path_name(HashPath p);

/// Whether this binary and this CPU can run `p` (scalar always).
bool hash_path_supported(HashPath p);

/// The path the routing uses: the widest supported one, unless force_hash_path chose another.
HashPath active_hash_path();

/// Makes the routing use `p` (for tests and timings); throws cobench::Error when unsupported.
void force_hash_path(HashPath p);

/// The path of a hash_path_name; throws cobench::Error naming `what` and the names otherwise.
HashPath hash_path_from_name(const std::string& name, const std::string& what);

/// The salt the routing hashes an expert with: key_bits(base, e) = (mix(base, e, kKeySalt) >> 11)
/// + 1.
constexpr std::uint64_t kKeySalt = 0x5;

/// out[i] = mix(seed, a_first + i, b) for i < count, on path `p`.
void mix_range(HashPath p, std::uint64_t seed, std::uint64_t a_first, std::uint64_t b, int count,
               std::uint64_t* out);

/// Consecutive experts split into pieces (each a range first .. first + len - 1), laid out in
/// blocks of kLanes pieces that a vector hashes side by side, a piece a lane.
struct PieceTable {
  static constexpr int kLanes = 8;
  struct Block {
    std::uint64_t first_times_c1[kLanes];  ///< first * 0x9e3779b97f4a7c15 (mix's a term)
    std::uint64_t first[kLanes];
    std::uint64_t len[kLanes];  ///< 0 for the padding after the last piece
    int max_len = 0;
    bool full = false;  ///< every lane's len is max_len (no lane needs masking)
  };
  std::vector<Block> blocks;
  int pieces = 0;
  /// Pieces of at most `max_piece` experts cut from each range [bounds[i], bounds[i + 1]); the
  /// range of piece p is piece_range[p].
  static PieceTable from_bounds(const std::vector<int>& bounds, int max_piece,
                                std::vector<int>* piece_range);
};

/// The score the routing ranks a set by from its two best key bits a >= b: the product of their
/// u, u(a) alone where b is masked, 0 where a is (Top2::score in ep_routing.cpp).
inline double key_pair_score(std::uint64_t a, std::uint64_t b) {
  const auto u = [](std::uint64_t x) {  // x - 1 < 2^53: exact as a signed integer
    return (static_cast<double>(static_cast<std::int64_t>(x - 1)) + 0.5) / 9007199254740992.0;
  };
  return a == 0 ? 0.0 : b == 0 ? u(a) : u(a) * u(b);
}

/// Merges the two best (a2 >= b2) of one set of keys into those of another (a >= b), as a multiset,
/// without branches (which mispredict on every new maximum; masks, where compilers may branch on
/// std::max).
inline void merge_top2(std::uint64_t& a, std::uint64_t& b, std::uint64_t a2, std::uint64_t b2) {
  const auto max = [](std::uint64_t x, std::uint64_t y) {
    return x ^ ((x ^ y) & (0 - static_cast<std::uint64_t>(x < y)));
  };
  const auto min = [](std::uint64_t x, std::uint64_t y) {
    return y ^ ((x ^ y) & (0 - static_cast<std::uint64_t>(x < y)));
  };
  b = max(min(a, a2), max(b, b2));
  a = max(a, a2);
}

/// The two best of the pairs (a[i], b[i]), i < count (each a[i] >= b[i]), merged, into out_a and
/// out_b (0 where count is 0), on path `p`.
void range_top2(HashPath p, const std::uint64_t* a, const std::uint64_t* b, int count,
                std::uint64_t& out_a, std::uint64_t& out_b);

/// The two largest key_bits(base, e) of every piece's experts (as a multiset: a >= b; b = 0 for a
/// piece of one expert), into a[p] and b[p] for p < t.pieces, on path `p`, and with `score`
/// key_pair_score(a[p], b[p]) into score[p]. a, b and score hold t.blocks.size() *
/// PieceTable::kLanes entries (the padding's are 0).
void piece_top2(HashPath p, std::uint64_t base, const PieceTable& t, std::uint64_t* a,
                std::uint64_t* b, double* score = nullptr);

}  // namespace cobench::coll::ep
