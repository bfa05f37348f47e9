// SPDX-License-Identifier: Apache-2.0
#include "topologies/model_params.h"

namespace cobench::topo {
namespace {

// Weights and biases of one attention block.
double attention_params(const ModelArch& m) {
  const AttentionSpec& a = m.attention;
  const double d = static_cast<double>(m.hidden_size);
  const double h = static_cast<double>(a.num_heads);
  double p = 0;
  if (a.mla) {
    const MlaDims& x = *a.mla;
    const double qk = static_cast<double>(x.qk_nope_head_dim + x.qk_rope_head_dim);
    const double q_lora = static_cast<double>(x.q_lora_rank);
    const double kv_lora = static_cast<double>(x.kv_lora_rank);
    // q: down-projection, its norm and up-projection; or one projection without a q LoRA.
    p += x.q_lora_rank > 0 ? d * q_lora + q_lora + q_lora * h * qk : d * h * qk;
    // kv: joint down-projection with the decoupled RoPE key, its norm, up-projection to K and V.
    p += d * (kv_lora + static_cast<double>(x.qk_rope_head_dim)) + kv_lora +
         kv_lora * h * static_cast<double>(x.qk_nope_head_dim + x.v_head_dim);
    p += h * static_cast<double>(x.v_head_dim) * d;  // output projection
  } else {
    const double hd = static_cast<double>(a.head_dim);
    const double kv = static_cast<double>(a.num_kv_heads);
    p += d * (h + 2 * kv) * hd;  // q, k, v
    p += h * hd * d;             // o
    if (a.qkv_bias) p += (h + 2 * kv) * hd;
    if (a.o_bias) p += d;
    if (a.qk_norm) p += 2 * hd;
  }
  p += static_cast<double>(a.sink_heads);
  return p;
}

double swiglu(double d, double inter) { return 3 * d * inter; }

}  // namespace

double ParamBreakdown::total() const {
  return embedding + lm_head + attention + norms + dense_ffn + shared_experts + routed_experts +
         router;
}

double ParamBreakdown::active() const {
  return embedding + lm_head + attention + norms + dense_ffn + shared_experts + routed_active +
         router;
}

double ParamBreakdown::active_non_embedding() const { return active() - embedding - lm_head; }

ParamBreakdown count_params(const ModelArch& m) {
  ParamBreakdown p;
  const double d = static_cast<double>(m.hidden_size);
  const double layers = static_cast<double>(m.num_layers);
  const double dense = static_cast<double>(m.dense_layers);
  const double moe_layers = layers - dense;
  p.embedding = static_cast<double>(m.vocab_size) * d;
  p.lm_head = m.tie_embeddings ? 0 : p.embedding;
  p.attention = layers * attention_params(m);
  p.norms = layers * 2 * d + d;
  p.dense_ffn = dense * swiglu(d, static_cast<double>(m.dense_intermediate));
  if (m.moe) {
    const MoeSpec& e = *m.moe;
    const double experts = static_cast<double>(e.routed_experts);
    const double inter = static_cast<double>(e.expert_intermediate);
    // An expert's biases (gpt-oss): gate and up (2 x inter) and down (d).
    const double expert = swiglu(d, inter) + (e.expert_bias ? 2 * inter + d : 0);
    p.routed_experts = moe_layers * experts * expert;
    p.routed_active = moe_layers * static_cast<double>(e.top_k) * expert;
    p.shared_experts = moe_layers * static_cast<double>(e.shared_experts) *
                       swiglu(d, static_cast<double>(e.shared_intermediate));
    p.router = moe_layers * (d * experts + (e.router_bias ? experts : 0));
  }
  return p;
}

Bytes kv_bytes_per_token(const ModelArch& m, double element_bytes) {
  const AttentionSpec& a = m.attention;
  const double per_layer = a.mla
                               ? static_cast<double>(a.mla->kv_lora_rank + a.mla->qk_rope_head_dim)
                               : 2.0 * static_cast<double>(a.num_kv_heads * a.head_dim);
  return Bytes(per_layer * static_cast<double>(m.num_layers) * element_bytes);
}

double attention_flops_forward(const ModelArch& m, double seq_len, bool causal) {
  const AttentionSpec& a = m.attention;
  const double d_qk = a.mla ? static_cast<double>(a.mla->qk_nope_head_dim + a.mla->qk_rope_head_dim)
                            : static_cast<double>(a.head_dim);
  const double d_v =
      a.mla ? static_cast<double>(a.mla->v_head_dim) : static_cast<double>(a.head_dim);
  const double context = causal ? seq_len / 2 : seq_len;
  return 2.0 * static_cast<double>(a.num_heads) * (d_qk + d_v) * context *
         static_cast<double>(m.num_layers);
}

std::string_view to_string(FlopConvention c) {
  switch (c) {
    case FlopConvention::kExactCausal:
      return "exact-causal";
    case FlopConvention::kExactNonCausal:
      return "exact-noncausal";
    case FlopConvention::kDenseApprox:
      return "dense-approx-72Ld2";
  }
  return "?";
}

double train_flops_per_token(const ModelArch& m, double seq_len, FlopConvention c) {
  const ParamBreakdown p = count_params(m);
  const double d = static_cast<double>(m.hidden_size);
  switch (c) {
    case FlopConvention::kExactCausal:
    case FlopConvention::kExactNonCausal: {
      // Forward 2 FLOPs per weight, backward 4; the LM head counts, the embedding lookup not.
      const double weights = p.active_non_embedding() + static_cast<double>(m.vocab_size) * d;
      return 6 * weights +
             3 * attention_flops_forward(m, seq_len, c == FlopConvention::kExactCausal);
    }
    case FlopConvention::kDenseApprox:
      return 72 * static_cast<double>(m.num_layers) * d * d +
             6 * static_cast<double>(m.vocab_size) * d;
  }
  return 0;
}

}  // namespace cobench::topo
