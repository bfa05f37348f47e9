// SPDX-License-Identifier: Apache-2.0
// The operations one device runs in a serving step (docs/model.md, "Operation model"): per layer
// kind (dense FFN or MoE), for one micro-batch, the GEMMs with their shapes and precisions, the
// attention kernel in the form that runs it (MLA absorbed in decode, naive in prefill; GQA/MHA),
// element-wise work as bytes (norms and residuals, SwiGLU, RoPE, the gate's top-k, KV-cache
// appends, and the FP8 quantization of each FP8 GEMM's input as its own kernel), and the
// expert-parallel dispatch and combine as bytes split by the link they cross. FLOPs and bytes only:
// how long each takes is the performance model's (perf_model.h). Plain arithmetic on doubles; the
// frontier sweep builds these for every point.
#pragma once

#include <array>
#include <cstddef>

#include "core/ep_payload.h"
#include "topologies/model_arch.h"

namespace cobench::topo {

enum class OpKind { kGemm, kGroupedGemm, kAttention, kMemory, kDispatch, kCombine, kAllReduce };
/// Communication: EP dispatch and combine, a tensor-parallel all-reduce.
inline bool is_comm(OpKind k) {
  return k == OpKind::kDispatch || k == OpKind::kCombine || k == OpKind::kAllReduce;
}
enum class OpPrecision { kFp8, kBf16 };
const char* to_string(OpKind k);

struct Op {
  const char* name = "";
  OpKind kind = OpKind::kGemm;
  OpPrecision precision = OpPrecision::kFp8;
  double m = 0, n = 0, k = 0;       ///< GEMM shape of one group (kGemm, kGroupedGemm)
  double groups = 1;                ///< grouped GEMM: experts on the device; batched: heads
  double flops = 0;                 ///< all groups
  double bytes = 0;                 ///< HBM bytes read and written
  double comm_up_bytes = 0;         ///< bytes this device sends inside its domain (EP, TP)
  double comm_out_bytes = 0;        ///< ... and over its NIC to other domains
  double sequences = 0;             ///< attention: sequences whose KV is read
  double context = 0;               ///< attention: KV tokens each query attends to (mean)
  double heads = 0;                 ///< attention: query heads on the device
  double cache_bytes = 0;           ///< attention: bytes of a cached KV element
  bool mla_absorbed = false;        ///< attention: MLA in its absorbed form (FlashMLA's)
  bool attention_backward = false;  ///< attention: the training backward (its own rate)
  bool mla_naive = false;           ///< attention: MLA prefill, K and V up-projected
  double seq_len = 0;               ///< attention, prefill: cached prefix + new tokens
  double comm_values = 0;           ///< EP dispatch and combine: values sent (copies x hidden)
  const char* form = "";            ///< how it is priced, e.g. "MLA absorbed (576 + 512)"
  /// A training weight gradient dW = dY^T X (m the layer's outputs, n its inputs, k the tokens):
  /// priced from the perf file's weight-gradient table where it has one.
  bool weight_grad = false;
};

/// Up to this many operations a layer.
inline constexpr std::size_t kMaxLayerOps = 32;

struct LayerOps {
  const char* name = "";  ///< "dense layer", "MoE layer", "LM head", "MTP draft"
  double count = 0;       ///< how many such layers a step runs
  std::array<Op, kMaxLayerOps> ops{};
  std::size_t size = 0;
  void add(const Op& op);
  double flops(OpPrecision p) const;
  double bytes() const;
  double comm_up_bytes() const;
  double comm_out_bytes() const;
};

/// What a device serves in one micro-batch. With tensor parallelism (tp > 1) the tp devices of a
/// group hold the same `tokens` and `sequences`.
struct ServingShape {
  double tokens = 0;        ///< query tokens of this micro-batch on the device
  double sequences = 0;     ///< the sequences they belong to (tokens / query tokens a sequence)
  double context = 0;       ///< decode: KV length each attends to; prefill: cached prefix
  bool prefill = false;     ///< prefill: `tokens` new tokens a sequence, causal over them
  double weight_bytes = 1;  ///< GEMM weights (FP8)
  /// The weight GEMMs' inputs: FP8 (DeepSeek-V3's recipe: each input quantized by a kernel of
  /// its own, the dispatch sends FP8 + scales) or BF16 (no quantization, BF16 dispatch).
  OpPrecision gemm_precision = OpPrecision::kFp8;
  double kv_bytes = 2;      ///< KV cache element (BF16)
  double ep = 1;            ///< devices the experts spread over
  double expert_slots = 0;  ///< routed + redundant experts (0: routed)
  double domain_gpus = 1;   ///< GPUs of one scale-up domain
  double tp = 1;            ///< tensor-parallel degree of attention, dense FFN and the head
  double mtp_modules = 0;   ///< MTP modules the device holds (weights and a layer of KV)
  /// Dispatch sends one copy per destination node (DeepEP's normal kernels, prefill) instead of
  /// one per routed expert (its low-latency kernels, decode).
  bool node_dedup = false;
  /// The combine's format (core/ep_payload.h); nullptr: BF16.
  const EpWireFormat* combine = nullptr;
  /// The busiest device's routed token copies over the mean (expert_load_factor): its experts'
  /// GEMMs and the traffic it receives set the pace of an EP layer. 1: every device the mean.
  double expert_load = 1;
};

/// The operations of one dense-FFN layer, one MoE layer, the LM head (with sampling) for one
/// micro-batch; layer counts from the architecture (DeepSeek-V3: 3 dense, 58 MoE).
struct StepOps {
  LayerOps dense;
  LayerOps moe;
  LayerOps lm_head;
};
StepOps step_ops(const ModelArch& m, const ServingShape& s);

/// The LM head (BF16, vocabulary split over TP) on `rows` tokens, and its FP32 logits written and
/// read: step_ops' head, and training's on every token.
LayerOps lm_head_ops(const ModelArch& m, const ServingShape& s, double rows);

/// The MTP module's projection of [hidden; embedding] (2d) back to d, before its block.
LayerOps mtp_projection_ops(const ModelArch& m, const ServingShape& s);

/// Destinations of one token's routed experts split by link: the expected number of copies
/// sent inside the scale-up domain and across it (a token's own device sends nothing).
struct RouteCopies {
  double scale_up = 0;
  double scale_out = 0;
};
RouteCopies route_copies(const ModelArch& m, const ServingShape& s);

/// Weight bytes one device holds: the non-expert ones (split by TP, else replicated), its expert
/// slots, an MTP module where used; embedding and head in BF16.
double device_weight_bytes(const ModelArch& m, const ServingShape& s);

/// Attention FLOPs of one query token at `context` cached tokens over all layers, in the form
/// a decode kernel runs: MLA absorbed, 2 h (r_kv + d_rope + r_kv) a cached token (FlashMLA's
/// count); MHA/GQA 2 h (d_h + d_h).
double decode_attention_flops(const ModelArch& m, double context);

}  // namespace cobench::topo
