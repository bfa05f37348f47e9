// SPDX-License-Identifier: Apache-2.0
// E-divisive means (Matteson & James 2014, "A Nonparametric Approach for Multiple Change Point
// Analysis of Multivariate Data"), as MongoDB's signal-processing-algorithms and Hunter apply it
// to performance histories: recursive binary segmentation on the energy statistic with alpha = 1,
// each new change point kept only when a permutation test finds it significant.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cobench::track {

struct ChangePointOptions {
  int permutations = 100;       ///< permutations of the significance test
  double significance = 0.05;   ///< keep a change point when p < this
  std::size_t min_segment = 3;  ///< fewest points on either side of a change point (>= 1)
  std::uint64_t seed = 1;       ///< seed of the permutations: same seed, same answer
};

struct ChangePoint {
  std::size_t index = 0;  ///< first point after the change
  double q = 0;           ///< the energy statistic q-hat of the split
  double p_value = 1;     ///< (permuted q >= q, plus one) / (permutations + 1)
  /// Medians of the segments before and after, between the neighbouring change points.
  double before_median = 0, after_median = 0;
  double relative_change = 0;  ///< (after - before) / |before|
};

/// The energy statistic of every split of `x` (alpha = 1): q[t] for X = x[0, t), Y = x[t, n),
///   q = m k / (m + k) * (2/(m k) sum|X_i - Y_j| - 1/m^2 sum|X_i - X_k| - 1/k^2 sum|Y_j - Y_l|)
/// with m = t, k = n - t and the sums over all ordered pairs (the V-statistic, as MongoDB's
/// signal-processing-algorithms computes it); q[0] = 0.
std::vector<double> split_statistics(std::span<const double> x);

/// The best split of `x` by the energy statistic: its index (first point of the second part)
/// and q-hat, with both parts at least `min_segment` long; {0, 0} when `x` is too short.
std::pair<std::size_t, double> best_split(std::span<const double> x, std::size_t min_segment);

/// The significant change points of `x`, in index order. Deterministic for a given seed.
/// Throws cobench::Error on invalid options or non-finite values.
std::vector<ChangePoint> detect_change_points(std::span<const double> x,
                                              const ChangePointOptions& options = {});

}  // namespace cobench::track
