// SPDX-License-Identifier: Apache-2.0
#include "core/stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace cobench {

Summary summarize(std::span<const double> values) {
  COBENCH_CHECK(!values.empty(), "cannot summarize zero values");
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  Summary s;
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  double sum = 0;
  for (double v : sorted) sum += v;
  s.mean = sum / static_cast<double>(n);
  if (n > 1) {
    double squares = 0;
    for (double v : sorted) squares += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(squares / static_cast<double>(n - 1));
  }
  return s;
}

}  // namespace cobench
