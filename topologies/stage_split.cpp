// SPDX-License-Identifier: Apache-2.0
#include "topologies/stage_split.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace cobench::topo {
namespace {

// Layers not yet placed: the dense ones at the front of the model, the MoE ones behind them.
struct Pools {
  double dense = 0, moe = 0;
};

// Up to `available` layers of `each` seconds within `budget` (which it spends).
double take(double available, double each, double& budget) {
  if (available <= 0) return 0;
  // A relative tolerance: a bound found by bisection lies a rounding error from the sums it ends.
  const double k =
      each > 0 ? std::min(available, std::floor(budget / each * (1 + 1e-12))) : available;
  if (k <= 0) return 0;
  budget -= k * each;
  return k;
}

// Whether every layer is placed with no rank above `bound`; `worst` gets the heaviest rank.
bool fits(const SplitCosts& c, int positions, bool mirrored, double bound, RankLoad& worst) {
  Pools left{c.dense_layers, c.moe_layers};
  worst = RankLoad{};
  const int ranks = mirrored ? positions / 2 : positions;
  for (int r = 0; r < ranks; ++r) {
    RankLoad load;
    load.positions = mirrored ? 2 : 1;
    load.heads = r == 0;  // the outermost rank holds the last position
    double budget = bound - (load.heads ? c.heads_s : 0);
    if (budget < 0) return false;
    if (mirrored && c.dense_s <= c.moe_s) {
      // Its front position takes dense layers from the front, the cheaper kind, first.
      load.dense_layers = take(left.dense, c.dense_s, budget);
      left.dense -= load.dense_layers;
    }
    // A position from the back takes MoE layers, then dense ones once no MoE layer is left.
    load.moe_layers = take(left.moe, c.moe_s, budget);
    left.moe -= load.moe_layers;
    if (left.moe == 0) {
      const double more = take(left.dense, c.dense_s, budget);
      load.dense_layers += more;
      left.dense -= more;
    }
    load.cost_s =
        load.dense_layers * c.dense_s + load.moe_layers * c.moe_s + (load.heads ? c.heads_s : 0);
    if (r == 0 || load.cost_s > worst.cost_s) worst = load;
  }
  return left.dense == 0 && left.moe == 0;
}

bool whole_count(double v) { return std::isfinite(v) && v >= 0 && std::floor(v) == v; }
bool seconds(double v) { return std::isfinite(v) && v >= 0; }

}  // namespace

RankLoad heaviest_rank(const SplitCosts& c, int positions, bool mirrored) {
  if (positions < 1 || (mirrored && positions % 2 != 0))
    throw Error(fmt::format("a stage split needs {}, got {}",
                            mirrored ? "an even number of positions" : "at least one position",
                            positions));
  if (!whole_count(c.dense_layers) || !whole_count(c.moe_layers))
    throw Error(fmt::format("a stage split places whole layers, got {} dense and {} MoE",
                            c.dense_layers, c.moe_layers));
  if (!seconds(c.dense_s) || !seconds(c.moe_s) || !seconds(c.heads_s))
    throw Error(fmt::format("a stage split needs costs >= 0, got {} s, {} s and {} s", c.dense_s,
                            c.moe_s, c.heads_s));
  // The least bound lies between the even share of every rank (and the heads' rank's least) and
  // that plus the dearest layer, within which each rank, taking as many layers as fit, leaves at
  // most one layer's cost unused; everything on the first rank fits in any case.
  const int ranks = mirrored ? positions / 2 : positions;
  const double all = c.dense_layers * c.dense_s + c.moe_layers * c.moe_s + c.heads_s;
  const double dearest =
      std::max(c.dense_layers > 0 ? c.dense_s : 0, c.moe_layers > 0 ? c.moe_s : 0);
  double lo = std::max(all / ranks, c.heads_s), hi = std::min(all, lo + dearest);
  RankLoad worst;
  if (!fits(c, positions, mirrored, hi, worst)) hi = all;
  for (int i = 0; i < 200 && hi - lo > 1e-9 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (fits(c, positions, mirrored, mid, worst) ? hi : lo) = mid;
  }
  fits(c, positions, mirrored, hi, worst);
  return worst;
}

}  // namespace cobench::topo
