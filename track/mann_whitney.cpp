// SPDX-License-Identifier: Apache-2.0
#include "track/mann_whitney.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace cobench::track {
namespace {

// P(U >= u) for samples of sizes m and n without ties. The counts of U are the coefficients of
// the Gaussian binomial [m + n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), built one
// factor at a time: after step i they are [n + i choose i]_q, non-negative integers.
double exact_sf(double u, std::size_t m, std::size_t n) {
  if (m > n) std::swap(m, n);
  std::vector<double> c(m * n + 1, 0.0);
  c[0] = 1;
  for (std::size_t i = 1; i <= m; ++i) {
    const std::size_t top = i * n;  // degree after this step
    for (std::size_t k = top; k >= n + i && k <= top; --k) c[k] -= c[k - (n + i)];
    for (std::size_t k = i; k <= top; ++k) c[k] += c[k - i];
  }
  const double total = std::accumulate(c.begin(), c.end(), 0.0);
  const auto from = static_cast<std::size_t>(std::max(0.0, std::ceil(u - 1e-9)));
  double tail = 0;
  for (std::size_t k = from; k < c.size(); ++k) tail += c[k];
  return tail / total;
}

}  // namespace

MannWhitney mann_whitney_u(std::span<const double> x, std::span<const double> y) {
  if (x.empty() || y.empty())
    throw Error("Mann-Whitney U test: both samples need at least one value");
  const std::size_t n1 = x.size(), n2 = y.size(), n = n1 + n2;
  std::vector<std::pair<double, int>> all;  // value, sample (0 = x)
  all.reserve(n);
  for (double v : x) all.emplace_back(v, 0);
  for (double v : y) all.emplace_back(v, 1);
  for (const auto& [v, s] : all)
    if (std::isnan(v)) throw Error("Mann-Whitney U test: a sample holds NaN");
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  // Mid-ranks of tied groups; the tie term sum(t^3 - t) over the group sizes t.
  double rank_sum_x = 0, tie_term = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].first == all[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k)
      if (all[k].second == 0) rank_sum_x += mid_rank;
    tie_term += t * t * t - t;
    i = j;
  }
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  MannWhitney r;
  r.u = rank_sum_x - d1 * (d1 + 1) / 2;
  const double u_max = std::max(r.u, d1 * d2 - r.u);  // two-sided: the larger U

  double p = 1;
  if (std::min(n1, n2) <= kExactMaxSize && tie_term == 0) {
    r.exact = true;
    p = 2 * exact_sf(u_max, n1, n2);
  } else {
    const double dn = static_cast<double>(n);
    const double s = std::sqrt(d1 * d2 / 12 * ((dn + 1) - tie_term / (dn * (dn - 1))));
    const double z = (u_max - d1 * d2 / 2 - 0.5) / s;  // continuity correction
    // As scipy: a zero spread (every value equal) gives z = -inf and p = 1.
    p = 2 * 0.5 * std::erfc(z / std::sqrt(2.0));
  }
  r.p_value = std::clamp(p, 0.0, 1.0);
  return r;
}

}  // namespace cobench::track
