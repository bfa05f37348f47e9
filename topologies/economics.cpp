// SPDX-License-Identifier: Apache-2.0
#include "topologies/economics.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "topologies/serving_model.h"

namespace cobench::topo {

double prefill_tokens_per_s_per_gpu(const ModelArch& m, const ParamBreakdown& p, const GpuSpec& g,
                                    double prompt_tokens) {
  const double fp8 = g.peak_fp8 ? g.peak_fp8->value : (g.peak_bf16 ? 2 * g.peak_bf16->value : 0);
  const double bf16 = g.peak_bf16 ? g.peak_bf16->value : fp8 / 2;
  if (fp8 <= 0) return 0;
  const double seconds = 2 * p.active_non_embedding() / fp8 +
                         attention_flops_forward(m, prompt_tokens, /*causal=*/true) / bf16;
  return 1 / seconds;
}

std::vector<std::int64_t> geometric_subset(const std::vector<std::int64_t>& sorted) {
  std::vector<std::int64_t> out;
  for (const std::int64_t v : sorted)
    if (out.size() < 8 || static_cast<double>(v) >= 1.25 * static_cast<double>(out.back()))
      out.push_back(v);
  if (!sorted.empty() && out.back() != sorted.back()) out.push_back(sorted.back());
  return out;
}

double usd_per_million_tokens(double gpu_hour_usd, double tokens_per_s) {
  return tokens_per_s > 0 ? gpu_hour_usd / 3600.0 / tokens_per_s * 1e6 : 0;
}

Frontier cost_frontier(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& base,
                       std::int64_t max_batch, const PerfModel* given, bool coarse) {
  if (!c.gpu_hour_usd) throw Error(fmt::format("cluster '{}' needs gpu_hour_usd", c.name));
  if (c.node.gpus_per_node == 0) throw_no_gpus(c, "the cost frontier");
  const PerfModel own = given ? *given : PerfModel(c, find_published_perf(c));
  const PerfModel& perf = given ? *given : own;
  const double unit = decode_token_unit(base);
  Frontier f;
  std::vector<FrontierPoint> all;
  // The EP degrees of whole nodes over which the expert slots (routed + redundant) split evenly
  // (more GPUs than experts hold copies, EP320), and the setting's own: thinned only after that
  // filter, so that a coarse sweep keeps every kind of degree that can run (with 288 slots: 8,
  // 16, 24, 32, 48, 72, 96, 144, 288).
  std::vector<std::int64_t> degrees;
  for (const std::int64_t ep : ep_sweep(c, c.node.gpus_per_node))
    if (expert_slots_fit(m, static_cast<double>(ep), base.redundant_experts)) degrees.push_back(ep);
  std::vector<std::int64_t> batches;
  for (std::int64_t b = 1; b <= max_batch; ++b) batches.push_back(b);
  if (coarse) {
    degrees = geometric_subset(degrees);
    batches = geometric_subset(batches);
  }
  const auto own_ep = static_cast<std::int64_t>(base.ep_degree);
  if (own_ep >= 1 && static_cast<double>(own_ep) == base.ep_degree && own_ep <= c.gpus() &&
      expert_slots_fit(m, base.ep_degree, base.redundant_experts) &&
      !std::binary_search(degrees.begin(), degrees.end(), own_ep))
    degrees.insert(std::upper_bound(degrees.begin(), degrees.end(), own_ep), own_ep);
  all.reserve(degrees.size() * static_cast<size_t>(max_batch));
  for (const std::int64_t ep : degrees) {
    DecodeSetting s = base;
    s.ep_degree = static_cast<double>(ep);
    for (const std::int64_t batch : batches) {
      s.tokens_per_device = static_cast<double>(batch) * unit;  // whole sequences
      const ServingPrediction d = predict_decode(m, c, s, perf);
      ++f.evaluated;
      if (!d.feasible) continue;  // weights and KV do not fit in HBM
      all.push_back({d.tokens_per_s_per_user,
                     usd_per_million_tokens(*c.gpu_hour_usd, d.tokens_per_s_per_device),
                     s.tokens_per_device, s.ep_degree, d.binding});
    }
  }
  // Keep a point only if it is cheaper than every faster one.
  // Pareto: fastest first (then cheapest, then the smallest EP degree, so ties keep the
  // configuration with the fewest GPUs).
  std::sort(all.begin(), all.end(), [](const FrontierPoint& a, const FrontierPoint& b) {
    if (a.tokens_per_s_per_user != b.tokens_per_s_per_user)
      return a.tokens_per_s_per_user > b.tokens_per_s_per_user;
    if (a.usd_per_million_output != b.usd_per_million_output)
      return a.usd_per_million_output < b.usd_per_million_output;
    return a.ep_degree < b.ep_degree;
  });
  double cheapest = std::numeric_limits<double>::infinity();
  for (const FrontierPoint& pt : all) {
    if (pt.usd_per_million_output < cheapest) {
      f.points.push_back(pt);
      cheapest = pt.usd_per_million_output;
    }
  }
  return f;
}

}  // namespace cobench::topo
