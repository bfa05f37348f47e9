// SPDX-License-Identifier: Apache-2.0
// The model's sections of `cobench analyze`: memory (parameters, KV cache) and compute (training
// FLOPs per token).
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "topologies/analysis_out.h"
#include "topologies/analysis_sections.h"

namespace cobench::topo {

void memory_section(const SectionInputs& in, Analysis& a) {
  const ModelArch& m = in.m;
  const ClusterSpec& c = in.c;
  const DecodeSetting& s = in.s;
  const ParamBreakdown& p = in.p;
  SectionOut out(a, "memory", "memory");
  // Weights and KV cache in the cluster's HBM (or the CPU node's memory).
  const bool gpu = in.gpu();
  const double memory_per_device =
      gpu ? c.node.gpu->hbm_capacity.value : (c.node.cpu ? c.node.cpu->memory_capacity.value : 0);
  const double devices = gpu ? static_cast<double>(c.gpus()) : static_cast<double>(c.nodes);
  const double kv_token = kv_bytes_per_token(m, s.kv_bytes).value;
  const double weights = p.total() * s.weight_bytes;
  const double free_bytes = std::max(0.0, memory_per_device * devices - weights);
  const double kv_tokens = free_bytes / kv_token;
  const double kv_sequences = s.context_tokens > 0 ? kv_tokens / s.context_tokens : 0;

  out.quantity("params_total", "parameters, total", p.total(), shown_as_is("params"));
  out.quantity("params_active", "parameters, activated per token", p.active(),
               shown_as_is("params"));
  out.field("params_active_non_embedding", p.active_non_embedding());
  out.field("weight_bytes", weights);
  const std::pair<const char*, double> parts[] = {{"embedding", p.embedding},
                                                  {"lm_head", p.lm_head},
                                                  {"attention", p.attention},
                                                  {"norms", p.norms},
                                                  {"dense_ffn", p.dense_ffn},
                                                  {"shared_experts", p.shared_experts},
                                                  {"routed_experts", p.routed_experts},
                                                  {"routed_experts_active", p.routed_active},
                                                  {"router", p.router}};
  for (const auto& [name, value] : parts) {
    const std::string path = fmt::format("params.{}", name);
    if (value > 0)
      out.quantity(path, fmt::format("  of which {}", name), value, shown_as_is("params"));
    else
      out.field(path, value);
  }
  out.quantity("kv_bytes_per_token",
               fmt::format("KV cache per token ({}, {} B elements)", to_string(m.attention.kind),
                           s.kv_bytes),
               kv_token, kShownKb);
  out.quantity("kv_capacity_tokens",
               fmt::format("KV tokens that fit next to {:.1f} B weights at {} B/param",
                           p.total() / 1e9, s.weight_bytes),
               kv_tokens, shown_as_is("tokens"),
               weights > memory_per_device * devices ? "the weights do not fit" : "");
  out.quantity("kv_capacity_sequences",
               fmt::format("concurrent sequences of {:.0f} tokens", s.context_tokens), kv_sequences,
               shown_as_is("seqs"));

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
}

void compute_section(const SectionInputs& in, Analysis& a) {
  const ClusterSpec& c = in.c;
  const DecodeSetting& s = in.s;
  SectionOut out(a, "compute", "compute");
  const double train = train_flops_per_token(in.m, s.seq_len_train, FlopConvention::kExactCausal);
  out.quantity("train_flops_per_token",
               fmt::format("training FLOPs per token at {:.0f} (exact-causal)", s.seq_len_train),
               train, kShownGflop);
  out.field("convention", "exact-causal");
  out.field("seq_len", s.seq_len_train);
  if (!in.gpu() || !c.node.gpu->peak_bf16) return;
  // Training throughput at an assumed MFU against the BF16 peak (default: the paper's 38.94%).
  const double tokens_per_s =
      static_cast<double>(c.gpus()) * c.node.gpu->peak_bf16->value * s.train_mfu / train;
  const double gpu_hours_per_t = 1e12 / tokens_per_s * static_cast<double>(c.gpus()) / 3600.0;
  out.field("train_mfu", s.train_mfu);
  out.quantity(
      "train_tokens_per_day",
      fmt::format("training tokens per day on {} GPUs at {:.2f}% MFU", c.gpus(), 100 * s.train_mfu),
      tokens_per_s * 86400, shown_as_is("tokens"));
  out.quantity("train_gpu_hours_per_trillion_tokens", "GPU-hours per trillion tokens",
               gpu_hours_per_t, Shown{1, 1e3, "K GPU-h"});
  if (c.gpu_hour_usd)
    out.quantity("train_usd_per_trillion_tokens", "training cost per trillion tokens",
                 gpu_hours_per_t * *c.gpu_hour_usd, kShownMillionUsd);
}

}  // namespace cobench::topo
