// SPDX-License-Identifier: Apache-2.0
// The two-sided Mann-Whitney U test, as scipy.stats.mannwhitneyu computes it with its defaults
// (method="auto", use_continuity=True), which Google Benchmark's tools/gbench/report.py uses:
// the exact distribution of U when either sample has at most 8 values and there are no ties,
// else the normal approximation with the tie correction and the continuity correction.
#pragma once

#include <span>

namespace cobench::track {

/// Samples up to this size (the smaller one) get the exact distribution when there are no ties.
inline constexpr std::size_t kExactMaxSize = 8;

struct MannWhitney {
  double u = 0;        ///< U of the first sample: its rank sum minus n1 (n1 + 1) / 2
  double p_value = 1;  ///< two-sided
  bool exact = false;  ///< true when the exact distribution was used
};

/// Two-sided test of `x` against `y`. Throws cobench::Error when either sample is empty or holds
/// a NaN.
MannWhitney mann_whitney_u(std::span<const double> x, std::span<const double> y);

}  // namespace cobench::track
