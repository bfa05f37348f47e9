// SPDX-License-Identifier: Apache-2.0
#include "topologies/decode_bounds.h"

#include <algorithm>

#include "topologies/ep_decode.h"

namespace cobench::topo {

DecodeBounds decode_bounds(const ModelArch& m, const ParamBreakdown& p, const ClusterSpec& c,
                           const DecodeSetting& s) {
  DecodeBounds b;
  const double layers = static_cast<double>(m.num_layers);
  const double kv_token = kv_bytes_per_token(m, s.kv_bytes).value;
  if (c.node.gpus_per_node == 0 || !c.node.gpu) {
    const double bw =
        c.node.cpu && c.node.cpu->memory_bandwidth ? c.node.cpu->memory_bandwidth->value : 0;
    b.memory_s = bw > 0 ? (p.active() * s.weight_bytes + kv_token * s.context_tokens) / bw : 0;
    b.tpot_s = b.memory_s;
    b.tokens_per_s_per_user = b.tpot_s > 0 ? 1 / b.tpot_s : 0;
    b.tokens_per_s_per_device = b.tokens_per_s_per_user;
    return b;
  }
  const GpuSpec& g = *c.node.gpu;
  const double devices = s.ep_degree > 0 ? s.ep_degree : static_cast<double>(c.gpus());
  b.over_nics = devices > static_cast<double>(c.node.gpus_per_node) && c.node.nic_speed;
  b.link = b.over_nics ? *c.node.nic_speed : c.scale_up.bandwidth_nominal;
  EpDecodeInputs in = ep_decode_inputs(m, b.link);
  in.tokens_per_device = s.tokens_per_device;
  in.micro_batches = s.micro_batches;
  in.latency_per_all_to_all = b.over_nics ? c.scale_out.latency_cross_leaf : c.scale_up.latency;
  b.comm_s = m.moe ? ep_decode_bound(in).comm_per_step.value : 0;

  // The experts spread evenly over the EP devices, at least one a device.
  const double experts = m.moe ? static_cast<double>(m.moe->routed_experts) : 0;
  const double experts_per_device = m.moe ? std::max(1.0, experts / devices) : 0;
  const double expert_params =
      m.moe ? 3.0 * static_cast<double>(m.hidden_size * m.moe->expert_intermediate) : 0;
  const double attention_params = p.attention / layers;
  const double dense_ffn_layer = p.dense_ffn / std::max(1.0, static_cast<double>(m.dense_layers));
  const double ffn_params = m.moe ? experts_per_device * expert_params : dense_ffn_layer;
  b.memory_s = ((attention_params + ffn_params) * s.weight_bytes +
                s.tokens_per_device * s.context_tokens * kv_token / layers) /
               g.hbm_bandwidth.value;

  const double experts_per_token =
      m.moe ? static_cast<double>(m.moe->top_k + m.moe->shared_experts) : 0;
  const double ffn_flops = m.moe ? 2 * s.tokens_per_device * experts_per_token * expert_params
                                 : 2 * s.tokens_per_device * dense_ffn_layer;
  const double attn_flops =
      2 * s.tokens_per_device * attention_params +
      s.tokens_per_device * attention_flops_forward(m, s.context_tokens, false) / layers;
  const double fp8 = g.peak_fp8 ? g.peak_fp8->value : (g.peak_bf16 ? 2 * g.peak_bf16->value : 0);
  const double bf16 = g.peak_bf16 ? g.peak_bf16->value : fp8 / 2;
  b.compute_s = fp8 > 0 ? ffn_flops / fp8 + attn_flops / bf16 : 0;

  double worst = b.memory_s;
  if (b.comm_s > worst) worst = b.comm_s, b.binding = "ep_all_to_all";
  if (b.compute_s > worst) worst = b.compute_s, b.binding = "compute";
  b.tpot_s = worst * s.micro_batches * layers;
  b.tokens_per_s_per_user = 1 / b.tpot_s;
  b.tokens_per_s_per_device = s.tokens_per_device / b.tpot_s;
  return b;
}

}  // namespace cobench::topo
