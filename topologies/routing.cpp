// SPDX-License-Identifier: Apache-2.0
#include "topologies/routing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.h"

namespace cobench::topo {
namespace {

// C(n - m, k) / C(n, k): the probability that k uniform picks from n avoid m given items.
double miss_probability(std::int64_t n, std::int64_t m, std::int64_t k) {
  double p = 1.0;
  for (std::int64_t i = 0; i < k; ++i) {
    if (n - m - i <= 0) return 0.0;
    p *= static_cast<double>(n - m - i) / static_cast<double>(n - i);
  }
  return p;
}

void check(const RoutingShape& r) {
  if (r.groups <= 0 || r.experts % r.groups != 0)
    throw Error(fmt::format("{} experts do not split into {} groups", r.experts, r.groups));
  if (r.groups_per_token < 1 || r.groups_per_token > r.groups)
    throw Error(fmt::format("groups_per_token {} is not in [1, {}]", r.groups_per_token, r.groups));
  if (r.top_k < 1 || r.top_k > r.experts / r.groups * r.groups_per_token)
    throw Error(fmt::format("top_k {} exceeds the {} experts of the chosen groups", r.top_k,
                            r.experts / r.groups * r.groups_per_token));
  if (r.experts_per_gpu < 1 || (r.experts / r.groups) % r.experts_per_gpu != 0)
    throw Error(fmt::format("a group of {} experts does not hold whole GPUs of {} experts",
                            r.experts / r.groups, r.experts_per_gpu));
}

Estimate estimate(double sum, double sum_squares, double n) {
  const double mean = sum / n;
  const double variance = std::max(0.0, (sum_squares - n * mean * mean) / (n - 1));
  return {mean, std::sqrt(variance / n)};
}

}  // namespace

double expected_nodes_unlimited(const RoutingShape& r) {
  check(r);
  return static_cast<double>(r.groups) *
         (1.0 - miss_probability(r.experts, r.experts / r.groups, r.top_k));
}

double expected_gpus_unlimited(const RoutingShape& r) {
  check(r);
  const std::int64_t gpus = r.experts / r.experts_per_gpu;
  return static_cast<double>(gpus) *
         (1.0 - miss_probability(r.experts, r.experts_per_gpu, r.top_k));
}

RoutingEstimate simulate_routing(const RoutingShape& r, std::int64_t tokens, std::uint64_t seed) {
  check(r);
  if (tokens < 2) throw Error("the routing simulation needs at least 2 tokens");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const std::int64_t per_group = r.experts / r.groups;
  std::vector<double> score(static_cast<size_t>(r.experts));
  std::vector<double> group_score(static_cast<size_t>(r.groups));
  std::vector<std::int64_t> order(static_cast<size_t>(r.groups));
  std::vector<std::int64_t> pool;
  std::vector<char> node_hit(static_cast<size_t>(r.groups));
  std::vector<char> gpu_hit(static_cast<size_t>(r.experts / r.experts_per_gpu));
  double n_sum = 0, n_sq = 0, g_sum = 0, g_sq = 0;
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (double& s : score) s = uniform(rng);
    for (std::int64_t g = 0; g < r.groups; ++g) {
      auto first = score.begin() + g * per_group, last = first + per_group;
      if (r.group_score == GroupScore::kMax || per_group < 2) {
        group_score[static_cast<size_t>(g)] = *std::max_element(first, last);
      } else {
        std::vector<double> top(first, last);
        std::partial_sort(top.begin(), top.begin() + 2, top.end(), std::greater<>());
        group_score[static_cast<size_t>(g)] = top[0] + top[1];
      }
    }
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + r.groups_per_token, order.end(),
                      [&](std::int64_t a, std::int64_t b) {
                        return group_score[static_cast<size_t>(a)] >
                               group_score[static_cast<size_t>(b)];
                      });
    pool.clear();
    for (std::int64_t i = 0; i < r.groups_per_token; ++i)
      for (std::int64_t e = 0; e < per_group; ++e)
        pool.push_back(order[static_cast<size_t>(i)] * per_group + e);
    std::partial_sort(pool.begin(), pool.begin() + r.top_k, pool.end(),
                      [&](std::int64_t a, std::int64_t b) {
                        return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)];
                      });
    std::fill(node_hit.begin(), node_hit.end(), 0);
    std::fill(gpu_hit.begin(), gpu_hit.end(), 0);
    double nodes = 0, gpus = 0;
    for (std::int64_t i = 0; i < r.top_k; ++i) {
      const std::int64_t e = pool[static_cast<size_t>(i)];
      if (!node_hit[static_cast<size_t>(e / per_group)]++) ++nodes;
      if (!gpu_hit[static_cast<size_t>(e / r.experts_per_gpu)]++) ++gpus;
    }
    n_sum += nodes, n_sq += nodes * nodes, g_sum += gpus, g_sq += gpus * gpus;
  }
  const double n = static_cast<double>(tokens);
  return {estimate(n_sum, n_sq, n), estimate(g_sum, g_sq, n)};
}

}  // namespace cobench::topo
