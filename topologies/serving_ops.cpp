// SPDX-License-Identifier: Apache-2.0
#include "topologies/serving_ops.h"

#include <algorithm>
#include <cmath>

#include "core/ep_payload.h"
#include "core/error.h"
#include "topologies/model_params.h"

namespace cobench::topo {
namespace {

double f(std::int64_t v) { return static_cast<double>(v); }

// A GEMM of `groups` independent (m x k) * (k x n) products: FP8 (or BF16) operands, BF16
// output; weights `weight_bytes` an element.
Op gemm(const char* name, OpPrecision p, double m, double n, double k, double weight_bytes,
        double groups = 1, OpKind kind = OpKind::kGemm) {
  Op op;
  op.name = name;
  op.kind = kind;
  op.precision = p;
  op.m = m, op.n = n, op.k = k, op.groups = groups;
  const double in_bytes = p == OpPrecision::kFp8 ? 1 : 2;
  op.flops = 2 * m * n * k * groups;
  op.bytes = groups * (n * k * weight_bytes + m * k * in_bytes + m * n * 2);
  return op;
}

Op memory(const char* name, double bytes, const char* form) {
  Op op;
  op.name = name;
  op.kind = OpKind::kMemory;
  op.precision = OpPrecision::kBf16;
  op.bytes = bytes;
  op.form = form;
  return op;
}

// The quantization of a BF16 activation of `elements` values for an FP8 GEMM, as its own kernel
// before the GEMM (DeepSeek-V3's reference inference, inference/model.py: every FP8 Linear runs
// act_quant on its input first): read 2 B, write 1 B and an FP32 scale a 1 x 128 tile.
Op quant(const char* name, double elements) {
  return memory(name, elements * (2 + 1 + 4.0 / 128), "BF16 -> FP8 + a scale a 1x128 tile");
}

// quant() where the shape's GEMMs run in FP8; BF16 GEMMs read their BF16 input as it is.
void add_quant(LayerOps& l, const ServingShape& s, const char* name, double elements) {
  if (s.gemm_precision == OpPrecision::kFp8) l.add(quant(name, elements));
}

// The all-reduce of a tensor-parallel group after a row-parallel GEMM: a ring moves
// 2 (tp - 1) / tp of the t x d BF16 activations a device, inside the scale-up domain.
Op all_reduce(const char* name, double t, double d, double tp) {
  Op op;
  op.name = name;
  op.kind = OpKind::kAllReduce;
  op.comm_up_bytes = 2 * (tp - 1) / tp * t * d * 2;
  op.form = "ring, BF16";
  return op;
}

void attention(const ModelArch& m, const ServingShape& s, LayerOps& l) {
  const AttentionSpec& a = m.attention;
  // Tensor parallelism splits the heads (and GQA's KV heads, at least one a device); the down
  // projections of MLA are replicated.
  const double tp = s.tp;
  const double d = f(m.hidden_size), h = f(a.num_heads) / tp, t = s.tokens, seqs = s.sequences;
  const double w = s.weight_bytes;
  // Each new token of a prefill attends to the cached prefix and, causally, to half of its own
  // sequence's new tokens on average; a decode token to the whole context.
  const double new_per_seq = seqs > 0 ? t / seqs : 0;
  const double ctx = s.prefill ? s.context + new_per_seq / 2 : s.context;
  const double cached = seqs * s.context + (s.prefill ? t : 0);  // tokens whose KV is read
  // The layer's normed input, quantized once for the projections that read it.
  add_quant(l, s, "attn.in_quant", t * d);
  if (a.mla) {
    const MlaDims& x = *a.mla;
    const double r_q = f(x.q_lora_rank), r_kv = f(x.kv_lora_rank), nope = f(x.qk_nope_head_dim);
    const double rope = f(x.qk_rope_head_dim), v = f(x.v_head_dim);
    if (x.q_lora_rank > 0) {
      l.add(gemm("attn.q_down", s.gemm_precision, t, r_q, d, w));
      l.add(gemm("attn.kv_down", s.gemm_precision, t, r_kv + rope, d, w));
      // RMSNorms of the query and KV latents (q_a_layernorm, kv_a_layernorm), BF16 in and out.
      l.add(memory("attn.latent_norms", t * (r_q + r_kv) * 2 * 2, "2 RMSNorms of the latents"));
      add_quant(l, s, "attn.q_up_quant", t * r_q);
      l.add(gemm("attn.q_up", s.gemm_precision, t, h * (nope + rope), r_q, w));
    } else {
      l.add(gemm("attn.q", s.gemm_precision, t, h * (nope + rope), d, w));
      l.add(gemm("attn.kv_down", s.gemm_precision, t, r_kv + rope, d, w));
      l.add(memory("attn.latent_norms", t * r_kv * 2 * 2, "RMSNorm of the KV latent"));
    }
    // RoPE on the queries' and the shared key's rope parts, BF16 read and written.
    l.add(memory("attn.rope", t * (h + 1) * rope * 2 * 2, "RoPE on q and k, BF16"));
    // The new tokens' latent and rope key appended to the cache (read BF16, written as cached).
    l.add(memory("attn.kv_append", t * (r_kv + rope) * (2 + s.kv_bytes),
                 "latent + rope key into the cache"));
    Op core;
    core.name = "attn.core";
    core.kind = OpKind::kAttention;
    core.precision = OpPrecision::kBf16;
    core.sequences = seqs;
    core.context = ctx;
    core.heads = h;
    core.cache_bytes = s.kv_bytes;
    if (s.prefill) {
      // Naive form: the latent of every token read is up-projected to per-head K and V, then
      // attention as MHA with d_qk = nope + rope and d_v.
      add_quant(l, s, "attn.kv_up_quant", cached * r_kv);
      l.add(gemm("attn.kv_up", s.gemm_precision, cached, h * (nope + v), r_kv, w));
      core.flops = 2 * t * h * (nope + rope + v) * ctx;
      core.bytes = cached * h * (nope + rope + v) * 2;
      core.form = "MLA naive (K/V up-projected, causal)";
      core.mla_naive = true;
      core.seq_len = s.context + new_per_seq;
      l.add(core);
    } else {
      // Absorbed form, as FlashMLA and cobench's MLA decode run it: queries moved into the
      // latent space, scores over r_kv + d_rope, values over r_kv, per head.
      l.add(gemm("attn.absorb_q", OpPrecision::kBf16, t, r_kv, nope, 2, h, OpKind::kGroupedGemm));
      core.flops = 2 * t * h * (r_kv + rope + r_kv) * ctx;
      core.bytes = cached * (r_kv + rope) * s.kv_bytes;
      core.form = "MLA absorbed: 2h(r_kv + d_rope + r_kv) a cached token";
      core.mla_absorbed = true;
      l.add(core);
      l.add(gemm("attn.absorb_out", OpPrecision::kBf16, t, v, r_kv, 2, h, OpKind::kGroupedGemm));
    }
    add_quant(l, s, "attn.out_quant", t * h * v);
    l.add(gemm("attn.out", s.gemm_precision, t, d, h * v, w));
  } else {
    const double hd = f(a.head_dim), kv = std::max(1.0, f(a.num_kv_heads) / tp);
    l.add(gemm("attn.qkv", s.gemm_precision, t, (h + 2 * kv) * hd, d, w));
    l.add(memory("attn.rope", t * (h + kv) * hd * 2 * 2, "RoPE on q and k, BF16"));
    l.add(memory("attn.kv_append", t * 2 * kv * hd * (2 + s.kv_bytes), "K and V into the cache"));
    Op core;
    core.name = "attn.core";
    core.kind = OpKind::kAttention;
    core.precision = OpPrecision::kBf16;
    core.sequences = seqs;
    core.context = ctx;
    core.heads = h;
    core.cache_bytes = s.kv_bytes;
    core.flops = 2 * t * h * (hd + hd) * ctx;
    core.bytes = cached * 2 * kv * hd * s.kv_bytes;
    core.form = s.prefill ? "GQA/MHA, causal" : "GQA/MHA over the KV cache";
    l.add(core);
    add_quant(l, s, "attn.out_quant", t * h * hd);
    l.add(gemm("attn.out", s.gemm_precision, t, d, h * hd, w));
  }
  // Two RMSNorms and two residual adds, each reading and writing a BF16 hidden state.
  l.add(memory("norms_residual", 8 * t * d * 2, "2 RMSNorms + 2 residual adds, BF16"));
}

void dense_ffn(const ModelArch& m, const ServingShape& s, LayerOps& l) {
  const double d = f(m.hidden_size), i = f(m.dense_intermediate) / s.tp, t = s.tokens;
  if (s.tp > 1) l.add(all_reduce("attn.all_reduce", t, d, s.tp));
  add_quant(l, s, "ffn.in_quant", t * d);
  l.add(gemm("ffn.gate_up", s.gemm_precision, t, 2 * i, d, s.weight_bytes));
  l.add(memory("ffn.swiglu", 3 * t * i * 2, "SwiGLU: read 2I, write I, BF16"));
  add_quant(l, s, "ffn.down_quant", t * i);
  l.add(gemm("ffn.down", s.gemm_precision, t, d, i, s.weight_bytes));
  if (s.tp > 1) l.add(all_reduce("ffn.all_reduce", t, d, s.tp));
}

void moe_ffn(const ModelArch& m, const ServingShape& s, LayerOps& l) {
  const MoeSpec& e = *m.moe;
  // With tensor-parallel attention each device of a TP group routes its 1/tp share of the
  // group's tokens (sequence parallel); the experts stay expert-parallel.
  const double d = f(m.hidden_size), t = s.tokens / s.tp, w = s.weight_bytes;
  const double slots = s.expert_slots > 0 ? s.expert_slots : f(e.routed_experts);
  l.add(gemm("moe.router", OpPrecision::kBf16, t, f(e.routed_experts), d, 2));
  // The gate's top-k over the scores (grouped and node-limited in DeepSeek-V3): the BF16 scores
  // read, k weights and k expert ids (4 B each) written.
  l.add(memory("moe.topk", t * (f(e.routed_experts) * 2 + f(e.top_k) * 8),
               "scores read, top-k weights and ids written"));
  if (s.tp > 1) l.add(all_reduce("attn.all_reduce", s.tokens, d, s.tp));
  const RouteCopies copies = route_copies(m, s);
  // FP8 GEMMs take the dispatch's FP8 copies (with their scales) as they are; BF16 ones BF16.
  const bool fp8 = s.gemm_precision == OpPrecision::kFp8;
  const double dispatch_copy = fp8 ? ep_dispatch_payload_bytes(d) : 2 * d;
  Op dispatch;
  dispatch.name = "moe.dispatch";
  dispatch.kind = OpKind::kDispatch;
  // The all-to-all ends when the busiest receiver has its copies: `expert_load` x the mean.
  dispatch.comm_up_bytes = t * copies.scale_up * dispatch_copy * s.expert_load;
  dispatch.comm_out_bytes = t * copies.scale_out * dispatch_copy * s.expert_load;
  dispatch.form =
      fp8 ? (s.node_dedup ? "FP8 + scales, one copy a node" : "FP8 + scales, a copy an expert")
          : (s.node_dedup ? "BF16, one copy a node" : "BF16, a copy an expert");
  l.add(dispatch);
  if (e.shared_experts > 0) {
    const double si = f(e.shared_experts * e.shared_intermediate);
    add_quant(l, s, "moe.shared_in_quant", t * d);
    l.add(gemm("moe.shared_gate_up", s.gemm_precision, t, 2 * si, d, w));
    l.add(memory("moe.shared_swiglu", 3 * t * si * 2, "SwiGLU, BF16"));
    add_quant(l, s, "moe.shared_down_quant", t * si);
    l.add(gemm("moe.shared_down", s.gemm_precision, t, d, si, w));
  }
  // Balanced routing: redundant copies of hot experts even the load (DeepSeek's EPLB), so every
  // slot gets the same share of the EP group's token-expert pairs; the busiest slot's share is
  // `expert_load` x that (1 unless the setting routes at random).
  const double per_device = slots / s.ep;
  const double per_slot = t * s.ep * f(e.top_k) / slots * s.expert_load;
  const double i = f(e.expert_intermediate);
  l.add(gemm("moe.experts_gate_up", s.gemm_precision, per_slot, 2 * i, d, w, per_device,
             OpKind::kGroupedGemm));
  // The routed experts' input arrives as the dispatch sent it (FP8 + scales, or BF16); their
  // SwiGLU output is quantized for an FP8 down projection.
  l.add(memory("moe.experts_swiglu", per_device * 3 * per_slot * i * 2, "SwiGLU, BF16"));
  add_quant(l, s, "moe.experts_down_quant", per_device * per_slot * i);
  l.add(gemm("moe.experts_down", s.gemm_precision, per_slot, d, i, w, per_device,
             OpKind::kGroupedGemm));
  Op combine;
  combine.name = "moe.combine";
  combine.kind = OpKind::kCombine;
  const EpWireFormat& format = s.combine ? *s.combine : kEpWireFormats[0];
  const double combine_copy = ep_payload_bytes(format, d);
  combine.comm_up_bytes = t * copies.scale_up * combine_copy * s.expert_load;
  combine.comm_out_bytes = t * copies.scale_out * combine_copy * s.expert_load;
  combine.comm_values = t * (copies.scale_up + copies.scale_out) * d;
  combine.form = format.form;
  l.add(combine);
}

}  // namespace

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::kGemm:
      return "gemm";
    case OpKind::kGroupedGemm:
      return "grouped_gemm";
    case OpKind::kAttention:
      return "attention";
    case OpKind::kMemory:
      return "memory";
    case OpKind::kDispatch:
      return "dispatch";
    case OpKind::kCombine:
      return "combine";
    case OpKind::kAllReduce:
      return "all_reduce";
  }
  return "?";
}

void LayerOps::add(const Op& op) {
  if (size == ops.size()) throw Error("serving_ops: more operations in a layer than kMaxLayerOps");
  ops[size++] = op;
}

double LayerOps::flops(OpPrecision p) const {
  double sum = 0;
  for (std::size_t i = 0; i < size; ++i)
    if (ops[i].precision == p) sum += ops[i].flops;
  return sum;
}

double LayerOps::bytes() const {
  double sum = 0;
  for (std::size_t i = 0; i < size; ++i) sum += ops[i].bytes;
  return sum;
}

double LayerOps::comm_up_bytes() const {
  double sum = 0;
  for (std::size_t i = 0; i < size; ++i) sum += ops[i].comm_up_bytes;
  return sum;
}

double LayerOps::comm_out_bytes() const {
  double sum = 0;
  for (std::size_t i = 0; i < size; ++i) sum += ops[i].comm_out_bytes;
  return sum;
}

RouteCopies route_copies(const ModelArch& m, const ServingShape& s) {
  RouteCopies c;
  if (!m.moe || s.ep <= 1) return c;
  const double k = f(m.moe->top_k);
  const double domain = std::clamp(s.domain_gpus, 1.0, s.ep);
  if (!s.node_dedup) {
    // Every routed expert gets its own copy; destinations uniform over the EP group.
    c.scale_up = k * (domain - 1) / s.ep;
    c.scale_out = k * (s.ep - domain) / s.ep;
    return c;
  }
  // One copy a destination domain over the NIC, then forwarded inside it over NVLink. A token's
  // k experts are uniform over the domains its node-limited routing can reach: M of G expert
  // groups, each spread over domains / G domains (or, with fewer domains than groups, at most M
  // domains); of n such domains it reaches n (1 - (1 - 1/n)^k).
  const double domains = s.ep / domain;
  const double groups = f(m.moe->groups), limit = f(m.moe->groups_per_token);
  const double reachable = limit >= groups     ? domains
                           : domains >= groups ? limit * domains / groups
                                               : std::min(domains, limit);
  const double reached = reachable * (1 - std::pow(1 - 1 / reachable, k));
  c.scale_out = reached * (domains - 1) / domains;
  c.scale_up = k * (domain - 1) / domain;
  return c;
}

StepOps step_ops(const ModelArch& m, const ServingShape& s) {
  StepOps st;
  st.dense.name = "dense layer";
  st.moe.name = "MoE layer";
  const double layers = f(m.num_layers);
  st.dense.count = m.moe ? f(m.dense_layers) : layers;
  st.moe.count = m.moe ? layers - f(m.dense_layers) : 0;
  if (st.dense.count > 0) {
    attention(m, s, st.dense);
    dense_ffn(m, s, st.dense);
  }
  if (st.moe.count > 0) {
    attention(m, s, st.moe);
    moe_ffn(m, s, st.moe);
  }
  // The head runs on the last position of each prefilled sequence, on every decoded token.
  st.lm_head = lm_head_ops(m, s, s.prefill ? s.sequences : s.tokens);
  return st;
}

LayerOps lm_head_ops(const ModelArch& m, const ServingShape& s, double rows) {
  LayerOps l;
  l.name = "LM head";
  l.count = 1;
  const double v = f(m.vocab_size) / s.tp, d = f(m.hidden_size);
  l.add(gemm("lm_head", OpPrecision::kBf16, rows, v, d, 2));
  l.add(memory("sampling", rows * v * 4 * 2, "FP32 logits written and read"));
  return l;
}

LayerOps mtp_projection_ops(const ModelArch& m, const ServingShape& s) {
  LayerOps l;
  l.name = "MTP draft";
  l.count = 1;
  const double d = f(m.hidden_size);
  add_quant(l, s, "mtp.in_quant", s.tokens * 2 * d);
  l.add(gemm("mtp.proj", s.gemm_precision, s.tokens, d, 2 * d, s.weight_bytes));
  return l;
}

double device_weight_bytes(const ModelArch& m, const ServingShape& s) {
  const ParamBreakdown p = count_params(m);
  // As the operations run them (moe_ffn): tensor parallelism splits the attention, the dense FFN
  // and the head (MLA's down projections are replicated: a small share, counted as split); the
  // router and the shared experts run whole on a device's 1/TP of the tokens, so each device of
  // a TP group holds them whole. The embedding and the head stay BF16 (the head runs in BF16,
  // serving_ops' lm_head).
  const double vocab = (p.embedding + p.lm_head) / s.tp;
  const double layers = f(m.num_layers);
  double params = (p.attention + p.norms + p.dense_ffn) / s.tp + p.shared_experts + p.router;
  double experts = 0;
  if (m.moe) {
    const double slots = s.expert_slots > 0 ? s.expert_slots : f(m.moe->routed_experts);
    const double moe_layers = f(m.num_layers - m.dense_layers);
    const double per_layer = slots / s.ep * 3 * f(m.hidden_size) * f(m.moe->expert_intermediate);
    experts = per_layer * moe_layers;
    if (s.mtp_modules > 0) {
      // An MTP module (DeepSeek-V3): one more MoE block (attention, norms, router, shared
      // experts and the device's expert slots) and its 2d x d projection; embedding and head are
      // the main model's.
      const double split = (p.attention + p.norms) / layers;
      const double whole = (p.shared_experts + p.router) / std::max(1.0, moe_layers);
      params += s.mtp_modules * (split / s.tp + whole + 2 * f(m.hidden_size) * f(m.hidden_size));
      experts += s.mtp_modules * per_layer;
    }
  }
  return (params + experts) * s.weight_bytes + vocab * 2;
}

double decode_attention_flops(const ModelArch& m, double context) {
  const AttentionSpec& a = m.attention;
  const double h = f(a.num_heads);
  const double per_cached = a.mla ? 2 * h * f(2 * a.mla->kv_lora_rank + a.mla->qk_rope_head_dim)
                                  : 2 * h * 2 * f(a.head_dim);
  return per_cached * context * f(m.num_layers);
}

}  // namespace cobench::topo
