// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_hash.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "collectives/pattern.h"
#include "core/error.h"

#if defined(COBENCH_EP_HASH_X86)
#include "collectives/ep/ep_hash_x86.h"
#endif

namespace cobench::coll::ep {

namespace {

HashPath widest_supported() {
  if (hash_path_supported(HashPath::kAvx512)) return HashPath::kAvx512;
  if (hash_path_supported(HashPath::kAvx2)) return HashPath::kAvx2;
  return HashPath::kScalar;
}

std::atomic<int> forced_path{-1};

void piece_top2_scalar(std::uint64_t base, const PieceTable& t, std::uint64_t* a,
                       std::uint64_t* b) {
  for (std::size_t blk = 0; blk < t.blocks.size(); ++blk) {
    const PieceTable::Block& k = t.blocks[blk];
    for (int lane = 0; lane < PieceTable::kLanes; ++lane) {
      std::uint64_t x_a = 0, x_b = 0;  // branchless: a branch mispredicts on every new maximum
      for (std::uint64_t i = 0; i < k.len[lane]; ++i) {
        const std::uint64_t x = (mix(base, k.first[lane] + i, kKeySalt) >> 11) + 1;
        const std::uint64_t lo = std::min(x_a, x);
        x_a = std::max(x_a, x);
        x_b = std::max(x_b, lo);
      }
      a[blk * PieceTable::kLanes + static_cast<std::size_t>(lane)] = x_a;
      b[blk * PieceTable::kLanes + static_cast<std::size_t>(lane)] = x_b;
    }
  }
}

}  // namespace

const char* hash_path_name(HashPath p) {
  switch (p) {
    case HashPath::kAvx512:
      return "avx512";
    case HashPath::kAvx2:
      return "avx2";
    case HashPath::kScalar:
      break;
  }
  return "scalar";
}

bool hash_path_supported(HashPath p) {
  switch (p) {
    case HashPath::kScalar:
      return true;
#if defined(COBENCH_EP_HASH_X86)
    case HashPath::kAvx2:
      return __builtin_cpu_supports("avx2");
    case HashPath::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#endif
    default:
      return false;
  }
}

HashPath active_hash_path() {
  static const HashPath widest = widest_supported();
  const int forced = forced_path.load(std::memory_order_relaxed);
  return forced >= 0 ? static_cast<HashPath>(forced) : widest;
}

void force_hash_path(HashPath p) {
  if (!hash_path_supported(p))
    throw Error(
        fmt::format("the {} hash path is not supported by this binary or CPU", hash_path_name(p)));
  forced_path.store(static_cast<int>(p), std::memory_order_relaxed);
}

HashPath hash_path_from_name(const std::string& name, const std::string& what) {
  for (HashPath p : {HashPath::kScalar, HashPath::kAvx2, HashPath::kAvx512})
    if (name == hash_path_name(p)) return p;
  throw Error(fmt::format("{}: '{}' is no hash path; expected scalar, avx2 or avx512", what, name));
}

void mix_range(HashPath p, std::uint64_t seed, std::uint64_t a_first, std::uint64_t b, int count,
               std::uint64_t* out) {
  int i = 0;
#if defined(COBENCH_EP_HASH_X86)
  if (p == HashPath::kAvx512) i = detail::mix_range_avx512(seed, a_first, b, count, out);
  if (p == HashPath::kAvx2) i = detail::mix_range_avx2(seed, a_first, b, count, out);
#endif
  for (; i < count; ++i) out[i] = mix(seed, a_first + static_cast<std::uint64_t>(i), b);
}

PieceTable PieceTable::from_bounds(const std::vector<int>& bounds, int max_piece,
                                   std::vector<int>* piece_range) {
  PieceTable t;
  piece_range->clear();
  std::vector<std::pair<int, int>> pieces;  // first, len
  for (std::size_t r = 0; r + 1 < bounds.size(); ++r) {
    const int n = bounds[r + 1] - bounds[r], k = (n + max_piece - 1) / max_piece;
    for (int j = 0, first = bounds[r]; j < k; ++j) {
      const int len = n / k + (j < n % k ? 1 : 0);  // near-equal pieces, the longer first
      pieces.emplace_back(first, len);
      piece_range->push_back(static_cast<int>(r));
      first += len;
    }
  }
  t.pieces = static_cast<int>(pieces.size());
  t.blocks.resize((pieces.size() + kLanes - 1) / kLanes);
  for (std::size_t p = 0; p < t.blocks.size() * kLanes; ++p) {
    Block& k = t.blocks[p / kLanes];
    const std::size_t lane = p % kLanes;
    const auto [first, len] = p < pieces.size() ? pieces[p] : std::pair<int, int>{0, 0};
    k.first[lane] = static_cast<std::uint64_t>(first);
    k.first_times_c1[lane] = static_cast<std::uint64_t>(first) * 0x9e3779b97f4a7c15ULL;
    k.len[lane] = static_cast<std::uint64_t>(len);
    k.max_len = std::max(k.max_len, len);
  }
  for (Block& k : t.blocks)
    k.full = std::all_of(k.len, k.len + kLanes, [&](std::uint64_t len) {
      return len == static_cast<std::uint64_t>(k.max_len);
    });
  return t;
}

void range_top2(HashPath p, const std::uint64_t* a, const std::uint64_t* b, int count,
                std::uint64_t& out_a, std::uint64_t& out_b) {
#if defined(COBENCH_EP_HASH_X86)
  if (p == HashPath::kAvx512) return detail::range_top2_avx512(a, b, count, &out_a, &out_b);
#endif
  // Four independent chains of merges, then merged.
  std::uint64_t a4[4] = {}, b4[4] = {};
  int i = 0;
  for (; i + 4 <= count; i += 4)
    for (int j = 0; j < 4; ++j) merge_top2(a4[j], b4[j], a[i + j], b[i + j]);
  for (; i < count; ++i) merge_top2(a4[0], b4[0], a[i], b[i]);
  out_a = out_b = 0;
  for (int j = 0; j < 4; ++j) merge_top2(out_a, out_b, a4[j], b4[j]);
}

void piece_top2(HashPath p, std::uint64_t base, const PieceTable& t, std::uint64_t* a,
                std::uint64_t* b, double* score) {
#if defined(COBENCH_EP_HASH_X86)
  if (p == HashPath::kAvx512)
    return detail::piece_top2_avx512(base, t.blocks.data(), t.blocks.size(), a, b, score);
  if (p == HashPath::kAvx2)
    detail::piece_top2_avx2(base, t.blocks.data(), t.blocks.size(), a, b);
  else
#endif
    piece_top2_scalar(base, t, a, b);
  if (score)
    for (std::size_t i = 0; i < t.blocks.size() * PieceTable::kLanes; ++i)
      score[i] = key_pair_score(a[i], b[i]);
}

}  // namespace cobench::coll::ep
