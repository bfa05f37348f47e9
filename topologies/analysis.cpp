// SPDX-License-Identifier: Apache-2.0
#include "topologies/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "topologies/ep_decode.h"
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

Analysis analyze(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& s) {
  Analysis a;
  Report& r = a.report;
  r.title = fmt::format("{} on {}", m.name, c.name);
  auto row = [&r](std::string section, std::string key, std::string quantity, double value,
                  std::string unit, std::string note = "") {
    r.rows.push_back({std::move(section), std::move(key), std::move(quantity), std::nullopt, value,
                      std::move(unit), 0, std::move(note), false});
  };
  const ParamBreakdown p = count_params(m);
  const double layers = static_cast<double>(m.num_layers);
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
  row("memory", "memory.params_total", "parameters, total", p.total() / 1e9, "B");
  row("memory", "memory.params_active", "parameters, activated per token", p.active() / 1e9, "B");
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

  // Inference: bounds per layer and micro-batch on one device.
  nlohmann::json inference;
  if (!gpu) {
    const double bw =
        c.node.cpu && c.node.cpu->memory_bandwidth ? c.node.cpu->memory_bandwidth->value : 0;
    const double bytes = p.active() * s.weight_bytes + kv_token * s.context_tokens;
    const double tpot = bw > 0 ? bytes / bw : 0;
    inference = {{"tpot_s", tpot},
                 {"tokens_per_s", tpot > 0 ? 1 / tpot : 0},
                 {"binding_bound", "memory"},
                 {"bytes_per_token", bytes}};
    row("inference", "inference.tpot_s",
        "decode time per token: activated weights + KV over memory bandwidth", tpot * 1e3, "ms",
        bw > 0 ? "" : "node.cpu.memory_bandwidth is not given");
    row("inference", "inference.tokens_per_s", "tokens per second (batch 1)",
        tpot > 0 ? 1 / tpot : 0, "tok/s");
  } else {
    const GpuSpec& g = *c.node.gpu;
    const bool multi_node = c.nodes > 1 && c.node.nic_speed;
    const Bandwidth link = multi_node ? *c.node.nic_speed : c.scale_up.bandwidth_nominal;
    EpDecodeInputs in = ep_decode_inputs(m, link);
    in.tokens_per_device = s.tokens_per_device;
    in.micro_batches = s.micro_batches;
    in.latency_per_all_to_all = multi_node ? c.scale_out.latency_cross_leaf : c.scale_up.latency;
    const EpDecodeBound comm = ep_decode_bound(in);
    // Experts on one device when they spread over the whole cluster (at least one).
    const double experts = m.moe ? static_cast<double>(m.moe->routed_experts) : 0;
    const double experts_per_device = m.moe ? std::max(1.0, experts / devices) : 0;
    const double expert_params =
        m.moe ? 3.0 * static_cast<double>(m.hidden_size * m.moe->expert_intermediate) : 0;
    const double attention_params = p.attention / layers;
    const double ffn_params_layer =
        m.moe ? experts_per_device * expert_params
              : (p.dense_ffn / std::max(1.0, static_cast<double>(m.dense_layers)));
    const double kv_layer = kv_token / layers;
    const double memory_s = ((attention_params + ffn_params_layer) * s.weight_bytes +
                             s.tokens_per_device * s.context_tokens * kv_layer) /
                            g.hbm_bandwidth.value;
    const double experts_per_token =
        m.moe ? static_cast<double>(m.moe->top_k + m.moe->shared_experts) : 0;
    const double ffn_flops = m.moe ? 2 * s.tokens_per_device * experts_per_token * expert_params
                                   : 2 * s.tokens_per_device * ffn_params_layer;
    const double attn_flops =
        2 * s.tokens_per_device * attention_params +
        s.tokens_per_device * attention_flops_forward(m, s.context_tokens, false) / layers;
    const double fp8 = g.peak_fp8 ? g.peak_fp8->value : (g.peak_bf16 ? g.peak_bf16->value * 2 : 0);
    const double bf16 = g.peak_bf16 ? g.peak_bf16->value : fp8 / 2;
    const double compute_s = fp8 > 0 ? ffn_flops / fp8 + attn_flops / bf16 : 0;
    const std::array<Bound, 3> bounds{{{"ep_all_to_all", comm.comm_per_step.value},
                                       {"memory_bandwidth", memory_s},
                                       {"compute", compute_s}}};
    const Bound binding =
        *std::max_element(bounds.begin(), bounds.end(), [](const Bound& x, const Bound& y) {
          return x.seconds_per_layer_step < y.seconds_per_layer_step;
        });
    const double tpot = binding.seconds_per_layer_step * s.micro_batches * layers;
    inference = {{"tpot_s", tpot},
                 {"tokens_per_s", 1 / tpot},
                 {"binding_bound", binding.name},
                 {"tokens_per_device", s.tokens_per_device},
                 {"context_tokens", s.context_tokens}};
    for (const Bound& b : bounds) {
      inference["bounds_s_per_layer_step"][b.name] = b.seconds_per_layer_step;
      row("inference", fmt::format("inference.bounds.{}", b.name),
          fmt::format("{} bound per layer and micro-batch", b.name), b.seconds_per_layer_step * 1e6,
          "us");
    }
    row("inference", "inference.tpot_s",
        fmt::format("time per output token ({} binds)", binding.name), tpot * 1e3, "ms",
        fmt::format("{:.0f} tokens a device, context {:.0f}, {:.0f} micro-batches over {} at {}",
                    s.tokens_per_device, s.context_tokens, s.micro_batches,
                    multi_node ? "the NICs" : "the scale-up links", format_bandwidth(link, 4)));
    row("inference", "inference.tokens_per_s", "tokens per second per sequence", 1 / tpot, "tok/s");
  }
  a.json["inference"] = inference;

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
  a.json["model"] = m.name;
  a.json["cluster"] = c.name;
  return a;
}

}  // namespace cobench::topo
