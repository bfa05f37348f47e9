// SPDX-License-Identifier: Apache-2.0
// The node-limited routing sampled from the kept groups' order statistics (ep_group_sampler.h).
//
// The CDF of the sum of the two best of n i.i.d. U(0, 1) (n >= 2), from their joint density
// n (n - 1) x2^(n-2) on 0 < x2 < x1 < 1:
//   s <= 1: F(s) = int_0^(s/2) n (n - 1) x2^(n-2) (s - 2 x2) dx2 = 2 (s/2)^n;
//   1 < s <= 2: x1 <= 1 cuts the segment for x2 < s - 1 =: a, so
//     F(s) = int_0^a n (n - 1) x2^(n-2) (1 - x2) dx2 + int_a^(s/2) n (n - 1) x2^(n-2) (s - 2 x2)
//     dx2
//          = n a^(n-1) - (n - 1) a^n + 2 (s/2)^n - n s a^(n-1) + 2 (n - 1) a^n
//          = 2 (s/2)^n - a^n                                  (n a^(n-1) (1 - s) = -n a^n).
// Checks: F(2) = 2 - 1 = 1; n = 2 gives s^2 / 2 and 1 - (2 - s)^2 / 2, the sum of two uniforms.
#include "topologies/ep_group_sampler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace cobench::topo {
namespace {

// U(0, 1) with both ends open: 53 bits and a half step.
double uniform_open(SplitMix64& r) { return (static_cast<double>(r.next() >> 11) + 0.5) * 0x1p-53; }

// A uniform integer in [0, n): draws at or above the largest multiple of n below 2^64 are
// rejected, so every residue is equally likely.
std::int64_t uniform_below(SplitMix64& r, std::int64_t n) {
  const auto range = static_cast<std::uint64_t>(n);
  const std::uint64_t rejected_from = 0 - (0 - range) % range;  // 2^64 - (2^64 mod n), mod 2^64
  std::uint64_t x = r.next();
  while (rejected_from != 0 && x >= rejected_from) x = r.next();
  return static_cast<std::int64_t>(x % range);
}

bool sum_of_two(GroupScore rule, std::int64_t n) { return rule == GroupScore::kTop2Sum && n >= 2; }

}  // namespace

double group_score_cdf(GroupScore rule, std::int64_t n, double s) {
  const double nd = static_cast<double>(n);
  if (!sum_of_two(rule, n)) return s <= 0 ? 0.0 : s >= 1 ? 1.0 : std::pow(s, nd);
  if (s <= 0) return 0;
  if (s >= 2) return 1;
  return 2 * std::pow(s / 2, nd) - (s > 1 ? std::pow(s - 1, nd) : 0.0);
}

double group_score_from_log_cdf(GroupScore rule, std::int64_t n, double log_cdf) {
  if (!(log_cdf <= 0)) throw Error(fmt::format("log CDF {}: expected a value <= 0", log_cdf));
  const double nd = static_cast<double>(n);
  if (!sum_of_two(rule, n)) return std::exp(log_cdf / nd);  // F(s) = s^n
  // s <= 1 where F <= F(1) = 2^(1-n): s = 2 (F / 2)^(1/n).
  if (log_cdf <= (1 - nd) * std::numbers::ln2)
    return 2 * std::exp((log_cdf - std::numbers::ln2) / nd);
  // Above: solve F(s) = F on [1, 2], through the survival q = 1 - F where it is small (near
  // s = 2, where 1 - F(2 - t) ~ n (n - 1) t^2 / 4 and F itself rounds to 1).
  const double f_target = std::exp(log_cdf), q_target = -std::expm1(log_cdf);
  const bool by_survival = q_target < 0.5;
  auto excess = [&](double s) {  // increasing in s, 0 at the root
    const double f = 2 * std::pow(s / 2, nd), a = std::pow(s - 1, nd);
    return by_survival ? q_target - (1 - f + a) : f - a - f_target;
  };
  auto density = [&](double s) { return nd * (std::pow(s / 2, nd - 1) - std::pow(s - 1, nd - 1)); };
  double lo = 1, hi = 2;
  double s = by_survival ? 2 - std::sqrt(4 * q_target / (nd * (nd - 1))) : 1.5;
  if (!(s > lo && s < hi)) s = (lo + hi) / 2;
  for (int i = 0; i < 200; ++i) {
    const double h = excess(s);
    if (h == 0) return s;
    (h > 0 ? hi : lo) = s;
    const double d = density(s);
    double next = d > 0 ? s - h / d : (lo + hi) / 2;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (std::abs(next - s) <= 1e-15 * s || hi - lo <= 4e-16) return next;
    s = next;
  }
  return s;
}

GroupOrderSampler::GroupOrderSampler(std::int64_t experts, std::int64_t groups,
                                     std::int64_t groups_per_token, std::int64_t top_k,
                                     GroupScore rule)
    : groups_(groups),
      per_group_(groups > 0 ? experts / groups : 0),
      m_(groups_per_token),
      k_(top_k),
      rule_(rule) {
  if (groups < 1 || experts < groups || experts % groups != 0 || groups_per_token < 1 ||
      groups_per_token > groups || top_k < 1 || top_k > groups_per_token * per_group_)
    throw Error(fmt::format(
        "group order sampler: {} experts in {} groups, {} a token, top-{}: expected whole groups, "
        "1 to {} groups a token and a top-k of at most their experts",
        experts, groups, groups_per_token, top_k, groups));
  chosen_.resize(static_cast<size_t>(m_));
  cands_.reserve(static_cast<size_t>(m_ * per_group_));
}

void GroupOrderSampler::route(SplitMix64& rng, std::vector<std::int32_t>& out) {
  const std::int64_t n = per_group_;
  // The kept groups: a uniform ordered M-tuple of distinct groups (rejection; M is small).
  for (std::int64_t j = 0; j < m_; ++j) {
    std::int64_t g = 0;
    do {
      g = uniform_below(rng, groups_);
    } while (std::find(chosen_.begin(), chosen_.begin() + j, g) != chosen_.begin() + j);
    chosen_[static_cast<size_t>(j)] = g;
  }
  cands_.clear();
  double log_f = 0;
  for (std::int64_t j = 0; j < m_; ++j) {
    // The (j + 1)-th largest of G: below the j-th, the largest of the G - j left.
    log_f += std::log(uniform_open(rng)) / static_cast<double>(groups_ - j);
    const double s = group_score_from_log_cdf(rule_, n, log_f);
    const auto base = static_cast<std::int32_t>(chosen_[static_cast<size_t>(j)] * n);
    if (n == 1) {
      cands_.emplace_back(s, base);
      continue;
    }
    double best = s, second = -1, below = s;  // `below`: the others' U(0, below)
    if (sum_of_two(rule_, n)) {
      // x2 by inversion of its density x2^(n-2) on [lo, hi], scaled by hi (no underflow).
      const double lo = std::max(0.0, s - 1), hi = s / 2, p = static_cast<double>(n - 1);
      const double r = std::pow(lo / hi, p);
      second = std::clamp(hi * std::pow(r + uniform_open(rng) * (1 - r), 1 / p), lo, hi);
      best = s - second;
      below = second;
    }
    const std::int64_t pos_best = uniform_below(rng, n);
    std::int64_t pos_second = -1;
    if (second >= 0) {
      pos_second = uniform_below(rng, n - 1);
      if (pos_second >= pos_best) ++pos_second;
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const double x = i == pos_best ? best : i == pos_second ? second : below * uniform_open(rng);
      cands_.emplace_back(x, base + static_cast<std::int32_t>(i));
    }
  }
  // The top-k, best first (higher score, then the lower id).
  std::partial_sort(cands_.begin(), cands_.begin() + k_, cands_.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  out.resize(static_cast<size_t>(k_));
  for (std::int64_t i = 0; i < k_; ++i)
    out[static_cast<size_t>(i)] = cands_[static_cast<size_t>(i)].second;
}

}  // namespace cobench::topo
