// SPDX-License-Identifier: Apache-2.0
#include "topologies/decode_bounds.h"

#include <algorithm>

#include "topologies/perf_model.h"
#include "topologies/serving_model.h"
#include "topologies/serving_ops.h"

namespace cobench::topo {

DecodeBounds decode_bounds(const ModelArch& m, const ParamBreakdown& p, const ClusterSpec& c,
                           const DecodeSetting& s) {
  DecodeBounds b;
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
  // The roofline of the operation model: every operation at the datasheet peaks, nominal links,
  // compute, memory and communication of each layer fully overlapped.
  const PerfModel ideal = PerfModel::roofline(c);
  const ServingPrediction whole = predict_decode(m, c, s, ideal);
  b.tpot_s = whole.tpot_s;
  b.tokens_per_s_per_user = whole.tokens_per_s_per_user;
  b.tokens_per_s_per_device = whole.tokens_per_s_per_device;

  // The three bounds of one MoE layer (a dense one in a dense model) and micro-batch.
  ServingShape sh;
  sh.weight_bytes = s.weight_bytes;
  sh.gemm_precision = s.bf16_gemms ? OpPrecision::kBf16 : OpPrecision::kFp8;
  sh.kv_bytes = s.kv_bytes;
  sh.ep = whole.ep;
  sh.expert_slots = whole.expert_slots;
  sh.domain_gpus = static_cast<double>(c.scale_up.domain_gpus > 0 ? c.scale_up.domain_gpus
                                                                  : c.node.gpus_per_node);
  sh.tp = s.tp;
  sh.tokens = s.tokens_per_device / s.micro_batches;
  sh.sequences = sh.tokens / (1 + s.mtp_depth);
  sh.context = s.context_tokens;
  const StepOps ops = step_ops(m, sh);
  const LayerOps& layer = m.moe ? ops.moe : ops.dense;
  const GpuSpec& g = *c.node.gpu;
  // As the performance model: FP8 at the BF16 rate where the GPU has no FP8 peak.
  const double fp8 = g.peak_fp8 ? g.peak_fp8->value : (g.peak_bf16 ? g.peak_bf16->value : 0);
  const double bf16 = g.peak_bf16 ? g.peak_bf16->value : fp8 / 2;
  b.memory_s = layer.bytes() / g.hbm_bandwidth.value;
  b.compute_s =
      fp8 > 0 ? layer.flops(OpPrecision::kFp8) / fp8 + layer.flops(OpPrecision::kBf16) / bf16 : 0;
  for (std::size_t i = 0; i < layer.size; ++i)
    if (is_comm(layer.ops[i].kind)) b.comm_s += ideal.comm(layer.ops[i], sh.ep, false).seconds;
  const RouteCopies copies = route_copies(m, sh);
  b.over_nics = copies.scale_out > 0;
  b.link = b.over_nics && c.node.nic_speed ? *c.node.nic_speed : c.scale_up.bandwidth_nominal;
  double worst = b.memory_s;
  if (b.comm_s > worst) worst = b.comm_s, b.binding = "ep_all_to_all";
  if (b.compute_s > worst) worst = b.compute_s, b.binding = "compute";
  return b;
}

}  // namespace cobench::topo
