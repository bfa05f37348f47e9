// SPDX-License-Identifier: Apache-2.0
#include "topologies/model_arch.h"

#include <fmt/format.h>

namespace cobench::topo {
namespace {

AttentionKind attention_kind(const config::Node& n) {
  const std::string s = n.as_string();
  if (s == "mha") return AttentionKind::kMha;
  if (s == "gqa") return AttentionKind::kGqa;
  if (s == "mqa") return AttentionKind::kMqa;
  if (s == "mla") return AttentionKind::kMla;
  n.fail(fmt::format("unknown attention kind '{}': expected mha, gqa, mqa or mla", s));
}

AttentionSpec load_attention(const config::Node& node) {
  auto m = node.map({"kind", "num_heads", "num_kv_heads", "head_dim", "qkv_bias", "o_bias",
                     "qk_norm", "sink_heads", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim",
                     "qk_rope_head_dim", "v_head_dim"});
  AttentionSpec a;
  a.kind = attention_kind(m.required("kind"));
  a.num_heads = m.required("num_heads").as_int_at_least(1);
  if (auto b = m.optional("qkv_bias")) a.qkv_bias = b->as_bool();
  if (auto b = m.optional("o_bias")) a.o_bias = b->as_bool();
  if (auto b = m.optional("qk_norm")) a.qk_norm = b->as_bool();
  if (auto s = m.optional("sink_heads")) a.sink_heads = s->as_int_at_least(0);
  if (a.kind == AttentionKind::kMla) {
    MlaDims d;
    d.q_lora_rank = m.has("q_lora_rank") ? m.required("q_lora_rank").as_int_at_least(0) : 0;
    d.kv_lora_rank = m.required("kv_lora_rank").as_int_at_least(1);
    d.qk_nope_head_dim = m.required("qk_nope_head_dim").as_int_at_least(1);
    d.qk_rope_head_dim = m.required("qk_rope_head_dim").as_int_at_least(1);
    d.v_head_dim = m.required("v_head_dim").as_int_at_least(1);
    a.mla = d;
    for (auto key : {"num_kv_heads", "head_dim"})
      if (auto n = m.optional(key)) n->fail("not used by mla attention (remove it)");
    return a;
  }
  for (auto key :
       {"q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"})
    if (auto n = m.optional(key)) n->fail("only mla attention has this key");
  a.head_dim = m.required("head_dim").as_int_at_least(1);
  if (a.kind == AttentionKind::kMha) {
    a.num_kv_heads = a.num_heads;
    if (auto n = m.optional("num_kv_heads"); n && n->as_int() != a.num_heads)
      n->fail("mha has as many kv heads as heads");
  } else if (a.kind == AttentionKind::kMqa) {
    a.num_kv_heads = 1;
    if (auto n = m.optional("num_kv_heads"); n && n->as_int() != 1) n->fail("mqa has 1 kv head");
  } else {
    auto n = m.required("num_kv_heads");
    a.num_kv_heads = n.as_int_at_least(1);
    if (a.num_heads % a.num_kv_heads != 0)
      n.fail(fmt::format("{} heads cannot be shared evenly by {} kv heads", a.num_heads,
                         a.num_kv_heads));
  }
  return a;
}

MoeSpec load_moe(const config::Node& node) {
  auto m =
      node.map({"routed_experts", "shared_experts", "top_k", "expert_intermediate",
                "shared_intermediate", "groups", "groups_per_token", "router_bias", "expert_bias"});
  MoeSpec e;
  e.routed_experts = m.required("routed_experts").as_int_at_least(1);
  e.shared_experts = m.has("shared_experts") ? m.required("shared_experts").as_int_at_least(0) : 0;
  e.top_k = m.required("top_k").as_int_at_least(1);
  e.expert_intermediate = m.required("expert_intermediate").as_int_at_least(1);
  e.shared_intermediate = m.has("shared_intermediate")
                              ? m.required("shared_intermediate").as_int_at_least(1)
                              : e.expert_intermediate;
  e.groups = m.has("groups") ? m.required("groups").as_int_at_least(1) : 1;
  e.groups_per_token =
      m.has("groups_per_token") ? m.required("groups_per_token").as_int_at_least(1) : e.groups;
  if (auto b = m.optional("router_bias")) e.router_bias = b->as_bool();
  if (auto b = m.optional("expert_bias")) e.expert_bias = b->as_bool();
  return e;
}

}  // namespace

std::string_view to_string(AttentionKind k) {
  switch (k) {
    case AttentionKind::kMha:
      return "MHA";
    case AttentionKind::kGqa:
      return "GQA";
    case AttentionKind::kMqa:
      return "MQA";
    case AttentionKind::kMla:
      return "MLA";
  }
  return "?";
}

void validate(const ModelArch& m, const config::Node& where) {
  if (m.dense_layers > m.num_layers)
    where.fail(
        fmt::format("dense_layers ({}) exceeds num_layers ({})", m.dense_layers, m.num_layers));
  if (m.dense_layers > 0 && m.dense_intermediate <= 0)
    where.fail("dense layers need a dense intermediate size");
  if (m.dense_layers < m.num_layers && !m.moe)
    where.fail(fmt::format("{} layers are not dense but there is no moe section",
                           m.num_layers - m.dense_layers));
  if (m.moe) {
    const MoeSpec& e = *m.moe;
    if (e.top_k > e.routed_experts)
      where.fail(fmt::format("top_k ({}) exceeds routed_experts ({})", e.top_k, e.routed_experts));
    if (e.routed_experts % e.groups != 0)
      where.fail(fmt::format("{} routed experts do not divide into {} groups", e.routed_experts,
                             e.groups));
    if (e.groups_per_token > e.groups)
      where.fail(
          fmt::format("groups_per_token ({}) exceeds groups ({})", e.groups_per_token, e.groups));
  }
}

ModelArch load_model_yaml(const config::Node& root) {
  const config::Node node = root.map({"model"}).required("model");
  auto m = node.map({"name", "vocab_size", "hidden_size", "num_layers", "tie_embeddings",
                     "attention", "dense_layers", "dense_intermediate", "moe", "mtp_modules"});
  ModelArch a;
  a.name = m.required("name").as_string();
  a.vocab_size = m.required("vocab_size").as_int_at_least(1);
  a.hidden_size = m.required("hidden_size").as_int_at_least(1);
  a.num_layers = m.required("num_layers").as_int_at_least(1);
  if (auto t = m.optional("tie_embeddings")) a.tie_embeddings = t->as_bool();
  a.attention = load_attention(m.required("attention"));
  if (auto moe = m.optional("moe")) a.moe = load_moe(*moe);
  a.dense_layers = m.has("dense_layers") ? m.required("dense_layers").as_int_at_least(0)
                                         : (a.moe ? 0 : a.num_layers);
  if (auto d = m.optional("dense_intermediate")) a.dense_intermediate = d->as_int_at_least(1);
  if (auto t = m.optional("mtp_modules")) a.mtp_modules = t->as_int_at_least(0);
  validate(a, node);
  return a;
}

}  // namespace cobench::topo
