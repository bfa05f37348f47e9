// SPDX-License-Identifier: Apache-2.0
#include "track/changepoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/stats.h"

namespace cobench::track {
namespace {

// splitmix64: a small generator whose sequence is the same with every standard library (the
// standard distributions and std::shuffle are not), so a seed gives the same answer everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), without modulo bias (rejection).
  std::size_t below(std::size_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t v;
    do v = next();
    while (v >= limit);
    return static_cast<std::size_t>(v % n);
  }

 private:
  std::uint64_t state_;
};

void shuffle(std::span<double> x, SplitMix64& rng) {
  for (std::size_t i = x.size(); i > 1; --i) std::swap(x[i - 1], x[rng.below(i)]);
}

struct Split {
  std::size_t at = 0;  // absolute index
  double q = 0;
};

// The best split over every segment [bounds[k], bounds[k+1]) of `x`.
Split best_over_segments(std::span<const double> x, const std::vector<std::size_t>& bounds,
                         std::size_t min_segment) {
  Split best;
  for (std::size_t k = 0; k + 1 < bounds.size(); ++k) {
    const auto [at, q] = best_split(x.subspan(bounds[k], bounds[k + 1] - bounds[k]), min_segment);
    if (at != 0 && q > best.q) best = {bounds[k] + at, q};
  }
  return best;
}

double median_of(std::span<const double> x) { return summarize(x).median; }

}  // namespace

std::vector<double> split_statistics(std::span<const double> x) {
  const std::size_t n = x.size();
  // Running sums over the rows of the distance matrix |x_i - x_j|: the within-left sums
  // W_L(t) = sum_{i<k<t}, the within-right sums W_R(t) = sum_{t<=j<l<n}; the cross sum is the
  // total minus both.
  std::vector<double> within_left(n + 1, 0.0), within_right(n + 1, 0.0);
  for (std::size_t t = 1; t <= n; ++t) {
    double row = 0;
    for (std::size_t i = 0; i + 1 < t; ++i) row += std::abs(x[i] - x[t - 1]);
    within_left[t] = within_left[t - 1] + row;
  }
  for (std::size_t t = n; t-- > 0;) {
    double row = 0;
    for (std::size_t j = t + 1; j < n; ++j) row += std::abs(x[t] - x[j]);
    within_right[t] = within_right[t + 1] + row;
  }
  const double total = within_left[n];
  std::vector<double> q(n, 0.0);
  for (std::size_t t = 1; t < n; ++t) {
    const double m = static_cast<double>(t), k = static_cast<double>(n - t);
    const double cross = total - within_left[t] - within_right[t];
    // V-statistic averages (the n^2 pairs, diagonal included), as signal-processing-algorithms.
    q[t] = m * k / (m + k) *
           (2 * cross / (m * k) - 2 * within_left[t] / (m * m) - 2 * within_right[t] / (k * k));
  }
  return q;
}

std::pair<std::size_t, double> best_split(std::span<const double> x, std::size_t min_segment) {
  const std::size_t n = x.size(), lo = std::max<std::size_t>(min_segment, 1);
  if (n < 2 * lo) return {0, 0};
  const std::vector<double> q = split_statistics(x);
  std::pair<std::size_t, double> best{lo, q[lo]};
  for (std::size_t t = lo + 1; t + lo <= n; ++t)
    if (q[t] > best.second) best = {t, q[t]};
  return best;
}

std::vector<ChangePoint> detect_change_points(std::span<const double> x,
                                              const ChangePointOptions& o) {
  if (o.permutations < 1)
    throw Error(
        fmt::format("change points: permutations must be at least 1, got {}", o.permutations));
  if (!(o.significance > 0 && o.significance <= 1))
    throw Error(
        fmt::format("change points: significance must be in (0, 1], got {}", o.significance));
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]))
      throw Error(fmt::format("change points: value {} is not finite ({})", i, x[i]));
  SplitMix64 rng(o.seed);
  std::vector<std::size_t> bounds = {0, x.size()};
  std::vector<ChangePoint> found;
  std::vector<double> permuted(x.begin(), x.end());
  while (true) {
    const Split best = best_over_segments(x, bounds, o.min_segment);
    if (best.at == 0) break;
    // Permute within each current segment, keeping earlier change points, as in the paper.
    int as_large = 0;
    for (int r = 0; r < o.permutations; ++r) {
      std::copy(x.begin(), x.end(), permuted.begin());
      for (std::size_t k = 0; k + 1 < bounds.size(); ++k)
        shuffle(std::span(permuted).subspan(bounds[k], bounds[k + 1] - bounds[k]), rng);
      if (best_over_segments(permuted, bounds, o.min_segment).q >= best.q) ++as_large;
    }
    const double p = (as_large + 1.0) / (o.permutations + 1.0);
    if (!(p < o.significance)) break;
    ChangePoint cp;
    cp.index = best.at;
    cp.q = best.q;
    cp.p_value = p;
    found.push_back(cp);
    bounds.insert(std::upper_bound(bounds.begin(), bounds.end(), best.at), best.at);
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  for (std::size_t k = 0; k < found.size(); ++k) {
    const std::size_t from = k == 0 ? 0 : found[k - 1].index;
    const std::size_t to = k + 1 < found.size() ? found[k + 1].index : x.size();
    ChangePoint& cp = found[k];
    cp.before_median = median_of(x.subspan(from, cp.index - from));
    cp.after_median = median_of(x.subspan(cp.index, to - cp.index));
    cp.relative_change = cp.before_median != 0
                             ? (cp.after_median - cp.before_median) / std::abs(cp.before_median)
                             : 0;
  }
  return found;
}

}  // namespace cobench::track
