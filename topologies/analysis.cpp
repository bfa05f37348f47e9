// SPDX-License-Identifier: Apache-2.0
#include "topologies/analysis.h"

#include <fmt/format.h>

#include "core/error.h"

#include <algorithm>
#include <array>

#include "topologies/decode_bounds.h"
#include "topologies/economics.h"
#include "topologies/model_params.h"

namespace cobench::topo {
namespace {

struct Bound {
  const char* name;
  double seconds_per_layer_step;  // one layer, one micro-batch
};

TopologySize fabric_size(const ClusterSpec& c) {
  const std::int64_t k = c.fabric.switch_radix;
  switch (c.fabric.kind) {
    case FabricKind::kFatTree2:
    case FabricKind::kMultiRail:
      return fat_tree_2(k);
    case FabricKind::kMultiPlaneFatTree:
      return multi_plane_fat_tree(k, c.fabric.planes);
    case FabricKind::kFatTree3:
      return fat_tree_3(k);
    case FabricKind::kSlimFly:
      return slim_fly(k);
    case FabricKind::kDragonfly:
      return dragonfly(k);
    case FabricKind::kNone:
      break;
  }
  return {"none", 0, 0, 0, 0, 0, "no scale-out fabric"};
}

}  // namespace

Analysis analyze(const ModelArch& m, const ClusterSpec& datasheet, const DecodeSetting& s,
                 const MeasuredInputs* measured) {
  Analysis a;
  Report& r = a.report;
  r.title = fmt::format("{} on {}", m.name, datasheet.name);
  auto row = [&r](std::string section, std::string key, std::string quantity, double value,
                  std::string unit, std::string note = "") {
    r.rows.push_back({std::move(section), std::move(key), std::move(quantity), std::nullopt, value,
                      std::move(unit), 0, std::move(note), false});
  };

  // Inputs: measured values replace the datasheet's; both are reported.
  ClusterSpec c = datasheet;
  const std::vector<InputComparison> changed =
      measured ? apply_measured(c, *measured) : std::vector<InputComparison>{};
  a.json["inputs"] = nlohmann::json::array();
  for (const InputComparison& in : changed) {
    a.json["inputs"].push_back({{"input", in.input},
                                {"datasheet", in.datasheet},
                                {"measured", in.measured},
                                {"source", in.source},
                                {"used", "measured"}});
    row("inputs (measured values replace the datasheet's)", "inputs." + in.input,
        fmt::format("{}: datasheet {:.4g}, measured", in.input, in.datasheet), in.measured,
        in.input.starts_with("latency")
            ? "s"
            : (in.input.find("flops") != std::string::npos ? "FLOP/s" : "B/s"),
        in.source);
  }
  auto driven_by = [&changed](const std::string& bound) {
    std::string which;
    for (const std::string& in : inputs_of_bound(bound))
      for (const InputComparison& c2 : changed)
        if (c2.input == in) which += (which.empty() ? "" : ", ") + in;
    return which.empty() ? std::string("datasheet values") : "measured " + which;
  };
  const ParamBreakdown p = count_params(m);
  const double kv_token = kv_bytes_per_token(m, s.kv_bytes).value;

  // Memory: weights and KV cache in the cluster's HBM (or the CPU node's memory).
  const bool gpu = c.node.gpus_per_node > 0 && c.node.gpu;
  const double memory_per_device =
      gpu ? c.node.gpu->hbm_capacity.value : (c.node.cpu ? c.node.cpu->memory_capacity.value : 0);
  const double devices = gpu ? static_cast<double>(c.gpus()) : static_cast<double>(c.nodes);
  const double weights = p.total() * s.weight_bytes;
  const double free_bytes = std::max(0.0, memory_per_device * devices - weights);
  const double kv_tokens = free_bytes / kv_token;
  const double kv_sequences = s.context_tokens > 0 ? kv_tokens / s.context_tokens : 0;
  a.json["memory"] = {{"params_total", p.total()},
                      {"params_active", p.active()},
                      {"params_active_non_embedding", p.active_non_embedding()},
                      {"weight_bytes", weights},
                      {"kv_bytes_per_token", kv_token},
                      {"kv_capacity_tokens", kv_tokens},
                      {"kv_capacity_sequences", kv_sequences}};
  const std::pair<const char*, double> parts[] = {{"embedding", p.embedding},
                                                  {"lm_head", p.lm_head},
                                                  {"attention", p.attention},
                                                  {"norms", p.norms},
                                                  {"dense_ffn", p.dense_ffn},
                                                  {"shared_experts", p.shared_experts},
                                                  {"routed_experts", p.routed_experts},
                                                  {"routed_experts_active", p.routed_active},
                                                  {"router", p.router}};
  for (const auto& [name, value] : parts) a.json["memory"]["params"][name] = value;
  a.json["model_shape"] = {{"attention", std::string(to_string(m.attention.kind))},
                           {"layers", m.num_layers},
                           {"hidden_size", m.hidden_size},
                           {"dense_layers", m.dense_layers}};
  if (m.moe)
    a.json["model_shape"]["moe"] = {{"routed_experts", m.moe->routed_experts},
                                    {"shared_experts", m.moe->shared_experts},
                                    {"top_k", m.moe->top_k},
                                    {"groups", m.moe->groups},
                                    {"groups_per_token", m.moe->groups_per_token}};
  row("memory", "memory.params_total", "parameters, total", p.total() / 1e9, "B");
  row("memory", "memory.params_active", "parameters, activated per token", p.active() / 1e9, "B");
  for (const auto& [name, value] : parts)
    if (value > 0)
      row("memory", fmt::format("memory.params.{}", name), fmt::format("  of which {}", name),
          value / 1e9, "B");
  row("memory", "memory.kv_bytes_per_token",
      fmt::format("KV cache per token ({}, {} B elements)", to_string(m.attention.kind),
                  s.kv_bytes),
      kv_token / 1e3, "KB");
  row("memory", "memory.kv_capacity_tokens",
      fmt::format("KV tokens that fit next to {:.1f} B weights at {} B/param", p.total() / 1e9,
                  s.weight_bytes),
      kv_tokens, "tokens", weights > memory_per_device * devices ? "the weights do not fit" : "");
  row("memory", "memory.kv_capacity_sequences",
      fmt::format("concurrent sequences of {:.0f} tokens", s.context_tokens), kv_sequences, "seqs");

  // Compute: training FLOPs per token.
  const double train = train_flops_per_token(m, s.seq_len_train, FlopConvention::kExactCausal);
  a.json["compute"] = {{"train_flops_per_token", train},
                       {"convention", "exact-causal"},
                       {"seq_len", s.seq_len_train}};
  row("compute", "compute.train_flops_per_token",
      fmt::format("training FLOPs per token at {:.0f} (exact-causal)", s.seq_len_train),
      train / 1e9, "GFLOP");
  if (gpu && c.node.gpu->peak_bf16) {
    // Training throughput at an assumed MFU against the BF16 peak (default: the paper's 38.94%).
    const double tokens_per_s =
        static_cast<double>(c.gpus()) * c.node.gpu->peak_bf16->value * s.train_mfu / train;
    const double gpu_hours_per_t = 1e12 / tokens_per_s * static_cast<double>(c.gpus()) / 3600.0;
    a.json["compute"]["train_mfu"] = s.train_mfu;
    a.json["compute"]["train_tokens_per_day"] = tokens_per_s * 86400;
    a.json["compute"]["train_gpu_hours_per_trillion_tokens"] = gpu_hours_per_t;
    row("compute", "compute.train_tokens_per_day",
        fmt::format("training tokens per day on {} GPUs at {:.2f}% MFU", c.gpus(),
                    100 * s.train_mfu),
        tokens_per_s * 86400 / 1e9, "B tokens");
    row("compute", "compute.train_gpu_hours_per_trillion_tokens", "GPU-hours per trillion tokens",
        gpu_hours_per_t / 1e3, "K GPU-h");
    if (c.gpu_hour_usd) {
      a.json["compute"]["train_usd_per_trillion_tokens"] = gpu_hours_per_t * *c.gpu_hour_usd;
      row("compute", "compute.train_usd_per_trillion_tokens", "training cost per trillion tokens",
          gpu_hours_per_t * *c.gpu_hour_usd / 1e6, "M$");
    }
  }

  // Inference: bounds per layer and micro-batch on one device.
  if (m.moe && s.ep_degree > 0) {
    const auto e = m.moe->routed_experts, ep = static_cast<std::int64_t>(s.ep_degree);
    // Fewer GPUs than experts must split them evenly; more GPUs hold redundant experts.
    if (static_cast<double>(ep) != s.ep_degree || (ep < e && e % ep != 0))
      throw Error(
          fmt::format("{} routed experts do not divide evenly among {} GPUs", e, s.ep_degree));
    if (s.ep_degree > static_cast<double>(c.gpus()))
      throw Error(fmt::format("EP degree {} exceeds the cluster's {} GPUs", s.ep_degree, c.gpus()));
  }
  const DecodeBounds d = decode_bounds(m, p, c, s);
  nlohmann::json inference = {{"tpot_s", d.tpot_s},
                              {"tokens_per_s", d.tokens_per_s_per_user},
                              {"tokens_per_s_per_device", d.tokens_per_s_per_device},
                              {"binding_bound", d.binding},
                              {"binding_bound_driven_by", driven_by(d.binding)},
                              {"tokens_per_device", s.tokens_per_device},
                              {"context_tokens", s.context_tokens}};
  if (!gpu) {
    inference["binding_bound"] = "memory";
    inference["binding_bound_driven_by"] = driven_by("memory");
    row("inference", "inference.tpot_s",
        "decode time per token: activated weights + KV over memory bandwidth", d.tpot_s * 1e3, "ms",
        d.tpot_s > 0 ? "" : "node.cpu.memory_bandwidth is not given");
    row("inference", "inference.tokens_per_s", "tokens per second (batch 1)",
        d.tokens_per_s_per_user, "tok/s");
  } else {
    const std::array<Bound, 3> bounds{
        {{"ep_all_to_all", d.comm_s}, {"memory_bandwidth", d.memory_s}, {"compute", d.compute_s}}};
    for (const Bound& b : bounds) {
      inference["bounds_s_per_layer_step"][b.name] = b.seconds_per_layer_step;
      row("inference", fmt::format("inference.bounds.{}", b.name),
          fmt::format("{} bound per layer and micro-batch", b.name), b.seconds_per_layer_step * 1e6,
          "us");
    }
    row("inference", "inference.tpot_s", fmt::format("time per output token ({} binds)", d.binding),
        d.tpot_s * 1e3, "ms",
        fmt::format("{:.0f} tokens a device, context {:.0f}, {:.0f} micro-batches over {} at {}; "
                    "driven by {}",
                    s.tokens_per_device, s.context_tokens, s.micro_batches,
                    d.over_nics ? "the NICs" : "the scale-up links", format_bandwidth(d.link, 4),
                    driven_by(d.binding)));
    row("inference", "inference.tokens_per_s", "tokens per second per sequence",
        d.tokens_per_s_per_user, "tok/s");
  }
  a.json["inference"] = inference;

  // Economics: $ per million tokens and the speed-versus-cost frontier (GPU clusters with a price).
  if (gpu && c.gpu_hour_usd) {
    const double price = *c.gpu_hour_usd;
    const double prefill = prefill_tokens_per_s_per_gpu(m, p, *c.node.gpu, s.context_tokens);
    const Frontier f = cost_frontier(m, c, s, 256);
    nlohmann::json points = nlohmann::json::array();
    for (const FrontierPoint& pt : f.points)
      points.push_back({{"tokens_per_s_per_user", pt.tokens_per_s_per_user},
                        {"usd_per_million_output", pt.usd_per_million_output},
                        {"tokens_per_device", pt.tokens_per_device},
                        {"ep_degree", pt.ep_degree},
                        {"binding_bound", pt.binding}});
    a.json["economics"] = {
        {"gpu_hour_usd", price},
        {"decode_usd_per_million_output", usd_per_million_tokens(price, d.tokens_per_s_per_device)},
        {"prefill_tokens_per_s_per_gpu", prefill},
        {"prefill_usd_per_million_input", usd_per_million_tokens(price, prefill)},
        {"frontier", points},
        {"frontier_configurations", f.evaluated}};
    const std::string e = "economics";
    row(e, "economics.decode_usd_per_million_output",
        fmt::format("decode: $ per million output tokens ({:.0f} tokens a device)",
                    s.tokens_per_device),
        usd_per_million_tokens(price, d.tokens_per_s_per_device), "$");
    row(e, "economics.prefill_tokens_per_s_per_gpu",
        fmt::format("prefill bound: input tokens/s per GPU (prompt {:.0f})", s.context_tokens),
        prefill, "tok/s", "compute-bound at the datasheet peaks");
    row(e, "economics.prefill_usd_per_million_input", "prefill: $ per million input tokens",
        usd_per_million_tokens(price, prefill), "$");
    row(e, "economics.frontier_configurations",
        "frontier: configurations swept (batch 1-256 x EP of whole nodes)",
        static_cast<double>(f.evaluated), "");
    const size_t step = std::max<size_t>(1, f.points.size() / 6);
    for (size_t i = 0; i < f.points.size(); i += step) {
      const FrontierPoint& pt = f.points[i];
      row(e, "economics.frontier",
          fmt::format("frontier: {:.1f} tok/s per user (batch {:.0f}, EP {:.0f}, {})",
                      pt.tokens_per_s_per_user, pt.tokens_per_device, pt.ep_degree, pt.binding),
          pt.usd_per_million_output, "$/M out");
    }
  }

  // Network: the cluster's fabric.
  const TopologySize t = fabric_size(c);
  const double cost = cost_usd(t, c.fabric.prices);
  a.json["network"] = {{"topology", std::string(to_string(c.fabric.kind))},
                       {"endpoints", t.endpoints},
                       {"switches", t.switches},
                       {"links", t.links},
                       {"cost_usd", cost},
                       {"note", t.note}};
  row("network", "network.endpoints", fmt::format("{} endpoints", to_string(c.fabric.kind)),
      static_cast<double>(t.endpoints), "", t.note);
  row("network", "network.switches", "switches", static_cast<double>(t.switches), "");
  row("network", "network.links", "links", static_cast<double>(t.links), "");
  row("network", "network.cost_usd", "cost", cost / 1e6, "M$");
  const std::int64_t nics = c.nodes * c.node.nics_per_node;
  if (c.fabric.switch_radix > 0 && nics > 0) {
    const TopologySize best = cheapest_fit(nics, c.fabric.switch_radix, c.fabric.prices);
    a.json["network"]["cheapest_fit"] = {{"topology", best.name},
                                         {"endpoints", best.endpoints},
                                         {"cost_usd", cost_usd(best, c.fabric.prices)},
                                         {"note", best.note}};
    row("network", "network.cheapest_fit",
        fmt::format("cheapest topology for {} NICs at radix {}: {}", nics, c.fabric.switch_radix,
                    best.name),
        cost_usd(best, c.fabric.prices) / 1e6, "M$", best.note);
  }
  a.json["model"] = m.name;
  a.json["cluster"] = c.name;
  return a;
}

}  // namespace cobench::topo
