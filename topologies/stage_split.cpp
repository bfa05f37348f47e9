// SPDX-License-Identifier: Apache-2.0
#include "topologies/stage_split.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "core/error.h"

namespace cobench::topo {
namespace {

constexpr double kTolerance = 1 + 1e-12;  // a bisected bound lies a rounding error from its sums

// Layers not yet placed: the dense ones at the front of the model, the MoE ones behind them.
struct Pools {
  double dense = 0, moe = 0;
};

double all_cost(const SplitCosts& c) {
  return c.dense_layers * c.dense_s + c.moe_layers * c.moe_s + c.heads_s;
}

// The memory of a rank with `in_flight` micro-batches in flight: beside its layers (the
// vocabulary's state where it holds the first position or the heads, the heads' kept
// activations), and a dense or MoE layer's.
struct RankMemory {
  double fixed = 0, dense = 0, moe = 0;
};

RankMemory rank_memory(const SplitMemory& m, bool first, bool heads, double in_flight) {
  RankMemory r;
  r.fixed =
      first && heads ? m.both_bytes : (first ? m.first_bytes : 0) + (heads ? m.heads_bytes : 0);
  if (heads) r.fixed += m.heads_kept * in_flight;
  r.dense = m.dense_bytes + m.dense_kept * in_flight;
  r.moe = m.moe_bytes + m.moe_kept * in_flight;
  return r;
}

// How many more layers of `each` bytes fit beside `used` (unbounded where memory is not
// weighed); -1 where `used` is already above the capacity.
double memory_room(const SplitMemory& m, double used, double each) {
  if (m.capacity_bytes <= 0) return std::numeric_limits<double>::infinity();
  // A tie with the capacity, up to rounding, fits: the split must not turn on the last bit of a
  // sum, in memory as in time.
  const double free = m.capacity_bytes * kTolerance - used;
  if (free < 0) return -1;
  return each > 0 ? std::floor(free / each) : std::numeric_limits<double>::infinity();
}

// The micro-batches in flight on the rank holding `load` (a mirrored pair's: the mean of its two
// positions'); 0 where memory is not weighed.
double in_flight(const SplitCosts& c, const RankLoad& load) {
  const std::vector<double>& k = c.memory.in_flight;
  if (c.memory.capacity_bytes <= 0) return 0;
  const auto at = [&](int p) { return k[static_cast<std::size_t>(p)]; };
  return load.positions == 1
             ? at(load.position)
             : 0.5 * (at(load.position) + at(static_cast<int>(k.size()) - 1 - load.position));
}

// One position a rank, from the last: whether every layer is placed with no position above
// `bound`, each taking as many layers as fit (from the back: MoE layers, then dense ones once no
// MoE layer is left). Optimal for positions in a line (the linear partition's greedy). `layers`:
// the layers to place (default: all of them, the heads on the first position filled); `loads`,
// where given, gets each position's.
bool fits_line(const SplitCosts& c, int positions, double bound, const Pools* layers = nullptr,
               bool heads = true, std::vector<RankLoad>* loads = nullptr) {
  Pools left = layers ? *layers : Pools{c.dense_layers, c.moe_layers};
  if (loads) loads->clear();
  for (int r = 0; r < positions; ++r) {
    RankLoad load;
    load.position = positions - 1 - r;
    load.heads = r == 0 && heads;
    double budget = bound - (load.heads ? c.heads_s : 0);
    if (budget < 0) return false;
    const RankMemory mem =
        rank_memory(c.memory, load.position == 0, load.heads, in_flight(c, load));
    double used = mem.fixed;
    if (memory_room(c.memory, used, 0) < 0) return false;
    for (auto [pool, each, bytes, into] :
         {std::tuple{&left.moe, c.moe_s, mem.moe, &load.moe_layers},
          std::tuple{&left.dense, c.dense_s, mem.dense, &load.dense_layers}}) {
      if (pool == &left.dense && left.moe > 0) break;
      const double k = std::min({*pool, each > 0 ? std::floor(budget / each * kTolerance) : *pool,
                                 memory_room(c.memory, used, bytes)});
      if (k <= 0) continue;
      *pool -= k;
      *into += k;
      budget -= k * each;
      used += k * bytes;
    }
    load.cost_s =
        load.dense_layers * c.dense_s + load.moe_layers * c.moe_s + (load.heads ? c.heads_s : 0);
    load.memory_bytes = used;
    if (loads) loads->push_back(load);
  }
  return left.dense == 0 && left.moe == 0;
}

// The line's split at `bound` with each position near an even share of what is left rather
// than full (filled to the bound, the outer positions would leave the first the remainder, a
// stage idle most of the step): each takes the next layer while that keeps it within the bound
// and either brings it nearer the share or the layers left would not fit the positions left
// without it; the first takes the rest. That never fails where fits_line fits (a position stops
// early only where the rest fits, and else is filled as fits_line fills it); false otherwise.
bool balanced_line(const SplitCosts& c, int positions, double bound, std::vector<RankLoad>& ranks) {
  Pools left{c.dense_layers, c.moe_layers};
  ranks.clear();
  double remaining = all_cost(c);
  for (int r = 0; r < positions; ++r) {
    RankLoad load;
    load.position = positions - 1 - r;
    load.heads = r == 0;
    double cost = load.heads ? c.heads_s : 0;
    const double share = remaining / (positions - r);
    const bool last = r == positions - 1;
    const RankMemory mem =
        rank_memory(c.memory, load.position == 0, load.heads, in_flight(c, load));
    double used = mem.fixed;
    for (;;) {
      const bool dense_next = left.moe == 0 && left.dense > 0;
      if (!dense_next && left.moe == 0) break;
      const double x = dense_next ? c.dense_s : c.moe_s;
      const double bytes = dense_next ? mem.dense : mem.moe;
      if (!last && (cost + x > bound * kTolerance || memory_room(c.memory, used, bytes) < 1)) break;
      // (A tie, up to rounding, takes the layer: a split must not turn on the last bit of a sum.)
      if (!last && cost + x / 2 > share * kTolerance &&
          fits_line(c, positions - r - 1, bound, &left, /*heads=*/false))
        break;
      cost += x;
      used += bytes;
      (dense_next ? load.dense_layers : load.moe_layers) += 1;
      (dense_next ? left.dense : left.moe) -= 1;
    }
    load.cost_s = cost;
    load.memory_bytes = used;
    remaining -= cost;
    ranks.push_back(load);
    if (cost > bound * kTolerance || memory_room(c.memory, used, 0) < 0) return false;
  }
  return left.dense == 0 && left.moe == 0;
}

// Pair r of a mirrored split (positions r and positions - 1 - r; pair 0 holds the heads and the
// first position) with no layers yet.
RankLoad empty_pair(const SplitCosts& c, int r) {
  RankLoad load;
  load.positions = 2;
  load.position = r;
  load.heads = r == 0;
  load.cost_s = load.heads ? c.heads_s : 0;
  return load;
}

RankMemory pair_memory(const SplitCosts& c, const RankLoad& pair) {
  return rank_memory(c.memory, pair.heads, pair.heads, in_flight(c, pair));
}

// DualPipe's pairs: a pair holds a front position (layers from the front: the dense ones, then
// MoE) and a back one (MoE layers from the back), so any pair can take any number of MoE layers
// and the dense layers go to the front positions in order. For `bound`: the most MoE layers the
// pairs can hold (within the bound and, where weighed, the memory) with the dense ones placed
// best, by a dynamic program over the pairs and the dense layers placed so far; `dense_of` gets
// each pair's dense layers.
double moe_room(const SplitCosts& c, int pairs, double bound, std::vector<int>* dense_of) {
  constexpr double kNone = -1;
  const int dense = static_cast<int>(c.dense_layers);
  const double unbounded = std::numeric_limits<double>::infinity();
  std::vector<double> room(dense + 1, kNone), next(dense + 1);
  // Of the placements with the most room, the one with the fewest front positions left empty.
  std::vector<int> empty(dense + 1, 0), next_empty(dense + 1, 0);
  // Which choice made each state, kept only where the split is wanted (not while bisecting).
  std::vector<std::vector<int>> took(dense_of ? pairs : 0, std::vector<int>(dense + 1, 0));
  room[0] = 0;
  for (int r = 0; r < pairs; ++r) {
    const double free = bound * kTolerance - (r == 0 ? c.heads_s : 0);
    const RankMemory mem = pair_memory(c, empty_pair(c, r));
    std::fill(next.begin(), next.end(), kNone);
    for (int k = 0; k <= dense; ++k) {
      if (room[k] == kNone) continue;
      // A pair takes dense layers at its front position, in order after the previous pair's.
      // One that takes none while dense layers are left leaves its front position holding
      // nothing (the first: the embedding alone); of placements with the same room, the one
      // with the fewest such fronts (one with more room than the MoE layers need may keep one).
      for (int x = 0; x <= dense - k && x * c.dense_s <= free; ++x) {
        const double used = mem.fixed + x * mem.dense;
        const double memory_moe = memory_room(c.memory, used, mem.moe);
        if (memory_moe < 0) break;  // more dense layers fit no better
        const double left = free - x * c.dense_s;
        const double moe =
            std::min(c.moe_s > 0 ? std::floor(left / c.moe_s) : unbounded, memory_moe);
        const int empties = empty[k] + (x == 0 && k < dense ? 1 : 0);
        const double placed = room[k] + moe;
        if (placed > next[k + x] || (placed == next[k + x] && empties < next_empty[k + x])) {
          next[k + x] = placed;
          next_empty[k + x] = empties;
          if (dense_of) took[r][k + x] = x;
        }
      }
    }
    room.swap(next);
    empty.swap(next_empty);
  }
  if (room[dense] == kNone) return kNone;
  if (dense_of) {
    dense_of->assign(pairs, 0);
    for (int r = pairs - 1, k = dense; r >= 0; --r) {
      (*dense_of)[r] = took[r][k];
      k -= took[r][k];
    }
  }
  return room[dense];
}

// The pairs at the least bound: each pair's dense layers as moe_room places them, then the MoE
// layers one at a time to the pair that costs least with one more (within the bound and its
// memory), which keeps the pairs even.
std::vector<RankLoad> split_pairs(const SplitCosts& given, int positions) {
  // Layers of one kind (a dense model) go anywhere: as MoE layers, with no dense ones to place.
  const bool one_kind = given.moe_layers == 0;
  SplitCosts c = given;
  if (one_kind) {
    c.moe_layers = c.dense_layers, c.moe_s = c.dense_s;
    c.memory.moe_bytes = c.memory.dense_bytes, c.memory.moe_kept = c.memory.dense_kept;
    c.dense_layers = 0;
  }
  const int pairs = positions / 2;
  const double all = all_cost(c);
  // Where no split fits the memory, the one without it.
  if (moe_room(c, pairs, all, nullptr) < c.moe_layers) c.memory.capacity_bytes = 0;
  double lo = std::max(all / pairs, c.heads_s), hi = all;
  for (int i = 0; i < 200 && hi - lo > 1e-9 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (moe_room(c, pairs, mid, nullptr) >= c.moe_layers ? hi : lo) = mid;
  }
  std::vector<int> dense_of;
  moe_room(c, pairs, hi, &dense_of);
  std::vector<RankLoad> ranks;
  std::vector<double> memory_moe;  // MoE layers each pair's memory has room for
  for (int r = 0; r < pairs; ++r) {
    RankLoad load = empty_pair(c, r);
    const RankMemory mem = pair_memory(c, load);
    load.dense_layers = dense_of[static_cast<std::size_t>(r)];
    load.cost_s += load.dense_layers * c.dense_s;
    load.memory_bytes = mem.fixed + load.dense_layers * mem.dense;
    memory_moe.push_back(memory_room(c.memory, load.memory_bytes, mem.moe));
    ranks.push_back(load);
  }
  for (double m = 0; m < c.moe_layers; ++m) {
    RankLoad* best = nullptr;
    RankLoad* lightest_with_room = nullptr;
    for (std::size_t r = 0; r < ranks.size(); ++r) {
      RankLoad& load = ranks[r];
      if (load.moe_layers >= memory_moe[r]) continue;
      if (!lightest_with_room || load.cost_s < lightest_with_room->cost_s)
        lightest_with_room = &load;
      if (load.cost_s + c.moe_s <= hi * kTolerance && (!best || load.cost_s < best->cost_s))
        best = &load;
    }
    if (!best) best = lightest_with_room;
    if (!best)
      best = &*std::min_element(ranks.begin(), ranks.end(),
                                [](auto& x, auto& y) { return x.cost_s < y.cost_s; });
    best->moe_layers += 1;
    best->cost_s += c.moe_s;
    best->memory_bytes += pair_memory(c, *best).moe;
  }
  if (c.memory.capacity_bytes <= 0)
    for (RankLoad& load : ranks) load.memory_bytes = 0;
  if (one_kind)
    for (RankLoad& load : ranks) std::swap(load.dense_layers, load.moe_layers);
  return ranks;
}

bool whole_count(double v) { return std::isfinite(v) && v >= 0 && std::floor(v) == v; }
bool non_negative(double v) { return std::isfinite(v) && v >= 0; }

}  // namespace

std::vector<RankLoad> split_ranks(const SplitCosts& c, int positions, bool mirrored) {
  if (positions < 1 || (mirrored && positions % 2 != 0))
    throw Error(fmt::format("a stage split needs {}, got {}",
                            mirrored ? "an even number of positions" : "at least one position",
                            positions));
  if (!whole_count(c.dense_layers) || !whole_count(c.moe_layers))
    throw Error(fmt::format("a stage split places whole layers, got {} dense and {} MoE",
                            c.dense_layers, c.moe_layers));
  if (!non_negative(c.dense_s) || !non_negative(c.moe_s) || !non_negative(c.heads_s))
    throw Error(fmt::format("a stage split needs costs >= 0, got {} s, {} s and {} s", c.dense_s,
                            c.moe_s, c.heads_s));
  const SplitMemory& m = c.memory;
  const std::array bytes{m.capacity_bytes, m.dense_bytes, m.moe_bytes,   m.dense_kept, m.moe_kept,
                         m.heads_kept,     m.first_bytes, m.heads_bytes, m.both_bytes};
  if (!std::all_of(bytes.begin(), bytes.end(), non_negative) ||
      (m.capacity_bytes > 0 &&
       (m.in_flight.size() != static_cast<std::size_t>(positions) ||
        !std::all_of(m.in_flight.begin(), m.in_flight.end(), non_negative))))
    throw Error(
        fmt::format("a stage split weighing memory needs bytes >= 0 and the "
                    "micro-batches in flight of its {} positions, got {}",
                    positions, m.in_flight.size()));
  if (mirrored) return split_pairs(c, positions);
  // The least bound lies between the even share of every position (and the heads' least) and
  // that plus the dearest layer, within which each position, taking as many layers as fit,
  // leaves at most one layer's cost unused; everything on the last position fits in any case.
  // Where memory is weighed, the least bound may lie higher; where no split fits the memory, the
  // split is the one without it.
  const double all = all_cost(c);
  SplitCosts line = c;
  if (line.memory.capacity_bytes > 0 && !fits_line(line, positions, all))
    line.memory.capacity_bytes = 0;
  const double dearest =
      std::max(c.dense_layers > 0 ? c.dense_s : 0, c.moe_layers > 0 ? c.moe_s : 0);
  double lo = std::max(all / positions, c.heads_s), hi = std::min(all, lo + dearest);
  if (!fits_line(line, positions, hi)) hi = all;
  for (int i = 0; i < 200 && hi - lo > 1e-9 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (fits_line(line, positions, mid) ? hi : lo) = mid;
  }
  std::vector<RankLoad> ranks;
  if (!balanced_line(line, positions, hi, ranks))
    fits_line(line, positions, hi, nullptr, true, &ranks);  // filled to the bound instead
  if (line.memory.capacity_bytes <= 0)
    for (RankLoad& load : ranks) load.memory_bytes = 0;
  return ranks;
}

const RankLoad& heaviest_of(const std::vector<RankLoad>& ranks) {
  COBENCH_CHECK(!ranks.empty(), "a split has one rank at least");
  return *std::max_element(ranks.begin(), ranks.end(), [](const RankLoad& x, const RankLoad& y) {
    return x.cost_s < y.cost_s;
  });
}

RankLoad heaviest_rank(const SplitCosts& c, int positions, bool mirrored) {
  return heaviest_of(split_ranks(c, positions, mirrored));
}

}  // namespace cobench::topo
