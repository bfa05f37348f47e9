// SPDX-License-Identifier: Apache-2.0
// The node-limited routing of one token (routing.h) sampled without drawing all E scores, exact in
// distribution for i.i.d. U(0, 1) scores: the work a token is about M x (E / G), not E.
//
// G groups of n = E / G scores; a group's statistic S is the sum of its two best scores (V3's
// rule; with n = 1 its only score) or its best (V2's). The groups are independent and
// exchangeable, so the M kept groups are a uniformly drawn ordered M-tuple of distinct groups, the
// i-th holding the i-th largest of G i.i.d. draws of S, and given its S = s a group's scores are
// independent of the others'. The M largest of G i.i.d. draws come by sequential order statistics:
//   F(S_1) = U_1^(1/G),  F(S_j) = F(S_(j-1)) x U_j^(1/(G - j + 1)),
// (kept as log F), with F the CDF of S for n scores (worked out in ep_group_sampler.cpp):
//   best of n:         F(s) = s^n,                               0 <= s <= 1;
//   sum of the best 2: F(s) = 2 (s/2)^n - max(0, s - 1)^n,       0 <= s <= 2 (n >= 2).
// Given S = s: best of n: the best is s, the other n - 1 i.i.d. U(0, s); sum of two: the second
// x2 has density proportional to x2^(n-2) on [max(0, s - 1), s/2] (the two best have joint density
// n (n - 1) x2^(n-2) on x2 < x1, here on the line x1 + x2 = s), x1 = s - x2, the other n - 2
// i.i.d. U(0, x2). The best and second sit at uniformly drawn distinct positions of the group;
// the rest, i.i.d., fill the others in order. The token's experts are the top-k of the M x n
// scores (ties, of probability 0, to the lower id).
//
// Its draws differ from the all-scores sampler's (fabric_ep.cpp), so the two agree in
// distribution, not token by token (FabricEpSampler.* test that).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "topologies/routing.h"

namespace cobench::topo {

/// splitmix64: a fast seeded stream (the EP samplers' one a GPU).
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

/// The CDF of a group's statistic S for `n` i.i.d. U(0, 1) scores under `rule` (n = 1: the
/// score itself under either rule).
double group_score_cdf(GroupScore rule, std::int64_t n, double s);
/// The s with log F(s) = log_cdf (<= 0): closed form, or safeguarded Newton on [1, 2] for the
/// sum of two above s = 1 (to about 1e-15).
double group_score_from_log_cdf(GroupScore rule, std::int64_t n, double log_cdf);

class GroupOrderSampler {
 public:
  /// E experts in `groups` groups of E / groups; M = groups_per_token <= groups; top-k <= M x n.
  GroupOrderSampler(std::int64_t experts, std::int64_t groups, std::int64_t groups_per_token,
                    std::int64_t top_k, GroupScore rule);

  /// One token's experts into `out` (k of them, best first).
  void route(SplitMix64& rng, std::vector<std::int32_t>& out);

 private:
  std::int64_t groups_, per_group_, m_, k_;
  GroupScore rule_;
  std::vector<std::int64_t> chosen_;                    ///< the M groups, best first
  std::vector<std::pair<double, std::int32_t>> cands_;  ///< (score, expert) of the M groups
};

}  // namespace cobench::topo
