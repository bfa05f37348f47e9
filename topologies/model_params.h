// SPDX-License-Identifier: Apache-2.0
// Parameter counts, KV-cache bytes and training FLOPs derived from a ModelArch.
//
// Parameters count every weight and bias of the decoder (SwiGLU FFNs: gate, up, down). Activated
// parameters are those one token uses: everything but the routed experts it is not sent to.
// Multi-token-prediction modules are left out, as DeepSeek's "671B" does.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/units.h"
#include "topologies/model_arch.h"

namespace cobench::topo {

struct ParamBreakdown {
  double embedding = 0;       ///< token embedding, V x d
  double lm_head = 0;         ///< output projection, V x d (0 when tied to the embedding)
  double attention = 0;       ///< all layers: projections, biases, q/k norms, sinks
  double norms = 0;           ///< per-layer RMSNorms and the final one
  double dense_ffn = 0;       ///< all dense FFN layers
  double shared_experts = 0;  ///< all MoE layers
  double routed_experts = 0;  ///< all MoE layers, every expert
  double routed_active = 0;   ///< all MoE layers, top_k experts
  double router = 0;          ///< gates (and their biases)

  double total() const;
  double active() const;                ///< parameters one token touches
  double active_non_embedding() const;  ///< active() less embedding and LM head
};

ParamBreakdown count_params(const ModelArch& m);

/// Bytes of KV cache one token adds across all layers: MLA caches the latent plus the RoPE key
/// ((kv_lora_rank + qk_rope_head_dim) elements a layer); MHA/GQA/MQA cache K and V
/// (2 x kv_heads x head_dim). `element_bytes` is 2 for BF16.
Bytes kv_bytes_per_token(const ModelArch& m, double element_bytes = 2.0);

/// Attention-score FLOPs of one token's forward pass over all layers at context `seq_len`:
/// 2 x heads x (d_qk + d_v) x context, with context seq_len / 2 when causal (the mean over
/// positions, FlashAttention's count) and seq_len when not (Megatron's).
double attention_flops_forward(const ModelArch& m, double seq_len, bool causal);

/// Training FLOPs per token, by named convention (the paper does not state its own):
enum class FlopConvention {
  kExactCausal,     ///< 6 x (active non-embedding + LM head) + 3 x causal attention (default)
  kExactNonCausal,  ///< the same with the full attention matrix
  kDenseApprox,     ///< 72 L d^2 + 6 V d: 6 x (12 L d^2 layer approximation + LM head)
};
std::string_view to_string(FlopConvention c);
double train_flops_per_token(const ModelArch& m, double seq_len, FlopConvention c);

}  // namespace cobench::topo
