// SPDX-License-Identifier: Apache-2.0
#include "topologies/serving_targets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "topologies/economics.h"
#include "topologies/perf_model.h"

namespace cobench::topo {
namespace {

constexpr double kMaxBatch = 8192;  // query tokens a device

bool meets(const ServingPrediction& p, const ServingTargets& t) {
  return p.feasible && p.tokens_per_s_per_user >= t.tokens_per_s_per_user;
}

// Time to the first token of one prompt on one device of the prefill EP group: its new tokens
// as one sequence, one micro-batch.
ServingPrediction ttft(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& base,
                       double ep, const PerfModel& perf) {
  DecodeSetting s = base;
  const double prompt = s.prompt_tokens > 0 ? s.prompt_tokens : s.context_tokens;
  s.prefill_tokens_per_device = std::max(1.0, prompt * (1 - s.cache_hit));
  s.micro_batches = 1;
  s.prefill_ep = base.prefill_ep > 0 ? base.prefill_ep : ep;
  return predict_prefill(m, c, s, perf);
}

}  // namespace

BestConfig best_config(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& base,
                       const ServingTargets& t) {
  if (c.node.gpus_per_node == 0 || !c.node.gpu) throw_no_gpus(c, "a serving target");
  BestConfig best;
  best.cluster = c.name;
  const PerfModel perf(c, find_published_perf(c));
  const std::int64_t step =
      std::max<std::int64_t>(1, std::min(c.node.gpus_per_node, c.scale_up.domain_gpus));
  double fastest = 0, fastest_ep = 0;
  // A given EP degree (--ep) is the only one tried.
  // A dense model has no experts to spread: one degree stands for all.
  const std::vector<std::int64_t> degrees =
      base.ep_degree > 0 || !m.moe
          ? std::vector<std::int64_t>{base.ep_degree > 0 ? static_cast<std::int64_t>(base.ep_degree)
                                                         : 1}
          : ep_sweep(c, step);
  // A given degree that cannot run here says why (it exceeds the cluster, the slots do not
  // split), not that no degree of whole nodes does.
  if (base.ep_degree > 0 && m.moe) expert_slots(m, c, base.ep_degree, base.redundant_experts);
  for (const std::int64_t ep : degrees) {
    const double e = static_cast<double>(ep);
    if (!expert_slots_fit(m, e, base.redundant_experts)) continue;
    DecodeSetting s = base;
    s.ep_degree = e;
    auto at = [&](double tokens) {
      s.tokens_per_device = tokens;
      ++best.evaluated;
      return predict_decode(m, c, s, perf);
    };
    // Batches in whole sequences: `unit` query tokens a device at least.
    const double unit = decode_token_unit(s);
    const ServingPrediction one = at(unit);  // one sequence a micro-batch
    if (one.feasible && one.tokens_per_s_per_user > fastest)
      fastest = one.tokens_per_s_per_user, fastest_ep = e;
    if (!meets(one, t)) continue;
    // The largest batch that still meets the targets, in units.
    double lo = 1, hi = std::floor(kMaxBatch / unit);
    if (meets(at(hi * unit), t)) {
      lo = hi;
    } else {
      while (hi - lo > 1) {
        const double mid = std::floor((lo + hi) / 2);
        (meets(at(mid * unit), t) ? lo : hi) = mid;
      }
    }
    lo *= unit;
    const ServingPrediction p = at(lo);
    if (!best.found || p.tokens_per_s_per_device > best.decode.tokens_per_s_per_device) {
      best.found = true;
      best.ep = e;
      best.tokens_per_device = lo;
      best.decode = p;
    }
  }
  if (!best.found) {
    best.why_none =
        fastest > 0 ? fmt::format(
                          "no configuration reaches {:.4g} tok/s a user: the fastest is {:.4g} at "
                          "one token a micro-batch on EP {:.0f}",
                          t.tokens_per_s_per_user, fastest, fastest_ep)
        : base.ep_degree > 0
            ? fmt::format(
                  "EP {:.0f}: the weights and the KV of one sequence a micro-batch do not "
                  "fit in HBM",
                  base.ep_degree)
            : "no EP degree of whole nodes splits the experts evenly and fits in HBM";
    return best;
  }
  const ServingPrediction first = ttft(m, c, base, best.ep, perf);
  if (!first.feasible) {
    best.found = false;
    best.why_none = fmt::format(
        "a prompt's prefill does not fit: weights + its KV take {:.4g} GB of {:.4g} GB of HBM",
        first.device_bytes / 1e9, first.hbm_bytes / 1e9);
    return best;
  }
  best.ttft_s = first.step_s;
  if (t.ttft_s && best.ttft_s > *t.ttft_s) {
    best.found = false;
    best.why_none = fmt::format("time to first token {:.4g} s exceeds the target {:.4g} s",
                                best.ttft_s, *t.ttft_s);
    return best;
  }
  if (c.gpu_hour_usd)
    best.usd_per_million_output =
        usd_per_million_tokens(*c.gpu_hour_usd, best.decode.tokens_per_s_per_device);
  return best;
}

ClusterComparison compare_clusters(const ModelArch& m, const std::vector<ClusterSpec>& clusters,
                                   const DecodeSetting& base, const ServingTargets& t) {
  ClusterComparison out;
  Report& r = out.report;
  r.title = fmt::format("{}: the best decode configuration on each cluster", m.name);
  const std::string target =
      fmt::format("{}{}; context {:.0f}, MTP {:.0f}, {} redundant experts",
                  t.tokens_per_s_per_user > 0
                      ? fmt::format("target {:.4g} tok/s a user", t.tokens_per_s_per_user)
                      : std::string("no speed target: the most tokens a GPU"),
                  t.ttft_s ? fmt::format(", time to first token <= {:.4g} s", *t.ttft_s) : "",
                  base.context_tokens, base.mtp_depth, base.redundant_experts);
  out.json = {{"model", m.name},
              {"target_tokens_per_s_per_user", t.tokens_per_s_per_user},
              {"clusters", nlohmann::json::array()}};
  if (t.ttft_s) out.json["target_ttft_s"] = *t.ttft_s;
  auto row = [&r](const std::string& section, std::string key, std::string what, double v,
                  std::string unit, std::string note = "") {
    r.rows.push_back({section, std::move(key), std::move(what), std::nullopt, v, std::move(unit), 0,
                      std::move(note), false});
  };
  // A setting one cluster cannot take (an EP degree beyond its GPUs) answers for that one; one
  // that no cluster takes is an error.
  std::vector<std::string> refusals;
  for (const ClusterSpec& c : clusters) {
    BestConfig b;
    try {
      b = best_config(m, c, base, t);
    } catch (const Error& e) {
      b.cluster = c.name;
      b.why_none = e.what();
      refusals.push_back(clusters.size() == 1 ? b.why_none
                                              : fmt::format("{}: {}", c.name, b.why_none));
    }
    const std::string sec = fmt::format("{} ({} x {}; {})", c.name, c.gpus(),
                                        c.node.gpu ? c.node.gpu->name : "no GPU", target);
    nlohmann::json j = {{"cluster", c.name},
                        {"gpus", c.gpus()},
                        {"found", b.found},
                        {"configurations", b.evaluated}};
    if (!b.found) {
      j["why_none"] = b.why_none;
      row(sec, "best.none",
          fmt::format("configurations that meet the targets, of {} predicted", b.evaluated), 0,
          "configurations", b.why_none);
      out.json["clusters"].push_back(j);
      continue;
    }
    const ServingPrediction& p = b.decode;
    j.update({{"ep_degree", b.ep},
              {"tp_degree", base.tp},
              {"tokens_per_device", b.tokens_per_device},
              {"sequences_per_device", p.sequences_per_device},
              {"tokens_per_s_per_user", p.tokens_per_s_per_user},
              {"tpot_s", p.tpot_s},
              {"tokens_per_s_per_device", p.tokens_per_s_per_device},
              {"binding", p.binding},
              {"device_bytes", p.device_bytes},
              {"ttft_s", b.ttft_s}});
    if (m.moe)
      row(sec, "best.ep_degree", "EP degree", b.ep, "GPUs",
          fmt::format("{:.0f} expert slots, {:.4g} a GPU", p.expert_slots, p.expert_slots / b.ep));
    row(sec, "best.tp_degree", "TP degree (attention, dense FFN, head)", base.tp, "GPUs");
    row(sec, "best.sequences_per_device", "sequences a GPU", p.sequences_per_device, "seqs",
        fmt::format("{:.0f} query tokens a step; {:.4g} GB of {:.4g} GB HBM", b.tokens_per_device,
                    p.device_bytes / 1e9, p.hbm_bytes / 1e9));
    row(sec, "best.tokens_per_s_per_user", "tokens/s a user", p.tokens_per_s_per_user, "tok/s",
        fmt::format("TPOT {:.4g} ms; {} binds", p.tpot_s * 1e3, p.binding));
    row(sec, "best.tokens_per_s_per_device", "output tokens/s a GPU", p.tokens_per_s_per_device,
        "tok/s");
    // Whole deployments only: floor(GPUs / group) EP groups (TP groups for a dense model); the
    // GPUs left over serve nothing.
    const double group = m.moe ? b.ep : std::max(1.0, base.tp);
    const double serving = std::floor(static_cast<double>(c.gpus()) / group) * group;
    j["serving_gpus"] = serving;
    row(sec, "best.tokens_per_s_per_cluster", "output tokens/s, whole cluster",
        p.tokens_per_s_per_device * serving, "tok/s",
        group == 1 ? fmt::format("all {} GPUs serve", c.gpus())
                   : fmt::format("{:.0f} {} group{} of {:.0f} GPUs: {:.0f} of the {} GPUs serve",
                                 serving / group, m.moe ? "EP" : "TP", serving == group ? "" : "s",
                                 group, serving, c.gpus()));
    row(sec, "best.ttft_s", "time to first token (one prompt, prefill alone)", b.ttft_s * 1e3,
        "ms");
    if (b.usd_per_million_output) {
      j["usd_per_million_output"] = *b.usd_per_million_output;
      row(sec, "best.usd_per_million_output", "$ per million output tokens",
          *b.usd_per_million_output, "$");
    }
    out.json["clusters"].push_back(j);
  }
  if (!clusters.empty() && refusals.size() == clusters.size()) {
    std::string all;
    for (const std::string& x : refusals) all += (all.empty() ? "" : "; ") + x;
    throw Error(clusters.size() == 1 ? all : "no cluster takes the setting: " + all);
  }
  return out;
}

}  // namespace cobench::topo
