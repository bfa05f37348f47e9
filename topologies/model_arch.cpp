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
  a.num_heads = m.required("num_heads").as_int();
  if (auto b = m.optional("qkv_bias")) a.qkv_bias = b->as_bool();
  if (auto b = m.optional("o_bias")) a.o_bias = b->as_bool();
  if (auto b = m.optional("qk_norm")) a.qk_norm = b->as_bool();
  if (auto s = m.optional("sink_heads")) a.sink_heads = s->as_int();
  if (a.kind == AttentionKind::kMla) {
    MlaDims d;
    d.q_lora_rank = m.has("q_lora_rank") ? m.required("q_lora_rank").as_int() : 0;
    d.kv_lora_rank = m.required("kv_lora_rank").as_int();
    d.qk_nope_head_dim = m.required("qk_nope_head_dim").as_int();
    d.qk_rope_head_dim = m.required("qk_rope_head_dim").as_int();
    d.v_head_dim = m.required("v_head_dim").as_int();
    a.mla = d;
    for (auto key : {"num_kv_heads", "head_dim"})
      if (auto n = m.optional(key)) n->fail("not used by mla attention (remove it)");
    return a;
  }
  for (auto key :
       {"q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"})
    if (auto n = m.optional(key)) n->fail("only mla attention has this key");
  a.head_dim = m.required("head_dim").as_int();
  if (a.kind == AttentionKind::kMha) {
    a.num_kv_heads = a.num_heads;
    if (auto n = m.optional("num_kv_heads"); n && n->as_int() != a.num_heads)
      n->fail("mha has as many kv heads as heads");
  } else if (a.kind == AttentionKind::kMqa) {
    a.num_kv_heads = 1;
    if (auto n = m.optional("num_kv_heads"); n && n->as_int() != 1) n->fail("mqa has 1 kv head");
  } else {
    a.num_kv_heads = m.required("num_kv_heads").as_int();  // checked by validate()
  }
  return a;
}

MoeSpec load_moe(const config::Node& node) {
  auto m =
      node.map({"routed_experts", "shared_experts", "top_k", "expert_intermediate",
                "shared_intermediate", "groups", "groups_per_token", "router_bias", "expert_bias"});
  MoeSpec e;
  e.routed_experts = m.required("routed_experts").as_int();
  e.shared_experts = m.has("shared_experts") ? m.required("shared_experts").as_int() : 0;
  e.top_k = m.required("top_k").as_int();
  e.expert_intermediate = m.required("expert_intermediate").as_int();
  e.shared_intermediate = m.has("shared_intermediate") ? m.required("shared_intermediate").as_int()
                                                       : e.expert_intermediate;
  e.groups = m.has("groups") ? m.required("groups").as_int() : 1;
  e.groups_per_token =
      m.has("groups_per_token") ? m.required("groups_per_token").as_int() : e.groups;
  if (auto b = m.optional("router_bias")) e.router_bias = b->as_bool();
  if (auto b = m.optional("expert_bias")) e.expert_bias = b->as_bool();
  return e;
}

[[noreturn]] void fail_field(const FieldLocator& locate, std::string_view field,
                             std::string_view message) {
  const FieldOrigin origin = locate(field);
  origin.node.fail(origin.note.empty() ? std::string(message)
                                       : fmt::format("{}: {}", origin.note, message));
}

void check_range(const FieldLocator& locate, std::string_view field, std::int64_t value,
                 std::int64_t min) {
  if (value < min || value > kMaxModelInteger)
    fail_field(
        locate, field,
        fmt::format("expected an integer from {} to {}, got {}", min, kMaxModelInteger, value));
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

void validate(const ModelArch& m, const FieldLocator& locate) {
  check_range(locate, "vocab_size", m.vocab_size, 1);
  check_range(locate, "hidden_size", m.hidden_size, 1);
  check_range(locate, "num_layers", m.num_layers, 1);
  const AttentionSpec& a = m.attention;
  check_range(locate, "attention.num_heads", a.num_heads, 1);
  check_range(locate, "attention.sink_heads", a.sink_heads, 0);
  if (a.mla) {
    check_range(locate, "attention.q_lora_rank", a.mla->q_lora_rank, 0);
    check_range(locate, "attention.kv_lora_rank", a.mla->kv_lora_rank, 1);
    check_range(locate, "attention.qk_nope_head_dim", a.mla->qk_nope_head_dim, 1);
    check_range(locate, "attention.qk_rope_head_dim", a.mla->qk_rope_head_dim, 1);
    check_range(locate, "attention.v_head_dim", a.mla->v_head_dim, 1);
  } else {
    check_range(locate, "attention.num_kv_heads", a.num_kv_heads, 1);
    if (a.num_heads % a.num_kv_heads != 0)
      fail_field(locate, "attention.num_kv_heads",
                 fmt::format("{} heads cannot be shared evenly by {} kv heads", a.num_heads,
                             a.num_kv_heads));
    check_range(locate, "attention.head_dim", a.head_dim, 1);
  }
  check_range(locate, "dense_layers", m.dense_layers, 0);
  if (m.dense_layers > m.num_layers)
    fail_field(locate, "dense_layers",
               fmt::format("{} dense layers exceed the {} layers", m.dense_layers, m.num_layers));
  if (m.dense_layers > 0 && m.dense_intermediate == 0)
    fail_field(locate, "dense_intermediate",
               fmt::format("{} dense layers need a dense intermediate size", m.dense_layers));
  check_range(locate, "dense_intermediate", m.dense_intermediate, m.dense_layers > 0 ? 1 : 0);
  check_range(locate, "mtp_modules", m.mtp_modules, 0);
  if (m.dense_layers < m.num_layers && !m.moe)
    fail_field(locate, "",
               fmt::format("{} layers are not dense but there is no moe section",
                           m.num_layers - m.dense_layers));
  if (!m.moe) return;
  if (m.dense_layers == m.num_layers)
    fail_field(locate, "dense_layers",
               fmt::format("all {} layers are dense, so the moe section is never used: give fewer "
                           "dense layers or no moe section",
                           m.num_layers));
  const MoeSpec& e = *m.moe;
  check_range(locate, "moe.routed_experts", e.routed_experts, 1);
  check_range(locate, "moe.shared_experts", e.shared_experts, 0);
  check_range(locate, "moe.top_k", e.top_k, 1);
  check_range(locate, "moe.expert_intermediate", e.expert_intermediate, 1);
  check_range(locate, "moe.shared_intermediate", e.shared_intermediate, 1);
  check_range(locate, "moe.groups", e.groups, 1);
  check_range(locate, "moe.groups_per_token", e.groups_per_token, 1);
  if (e.top_k > e.routed_experts)
    fail_field(locate, "moe.top_k",
               fmt::format("top-k {} exceeds the {} routed experts", e.top_k, e.routed_experts));
  if (e.routed_experts % e.groups != 0)
    fail_field(
        locate, "moe.groups",
        fmt::format("{} routed experts do not divide into {} groups", e.routed_experts, e.groups));
  if (e.groups_per_token > e.groups)
    fail_field(
        locate, "moe.groups_per_token",
        fmt::format("{} groups per token exceed the {} groups", e.groups_per_token, e.groups));
  // A token picks its top-k among the experts of the groups it may reach.
  const std::int64_t reachable = e.groups_per_token * (e.routed_experts / e.groups);
  if (e.top_k > reachable)
    fail_field(locate, "moe.top_k",
               fmt::format("top-k {} exceeds the {} experts of {} groups per token", e.top_k,
                           reachable, e.groups_per_token));
}

ModelArch load_model_yaml(const config::Node& root) {
  const config::Node node = root.map({"model"}).required("model");
  auto m = node.map({"name", "vocab_size", "hidden_size", "num_layers", "tie_embeddings",
                     "attention", "dense_layers", "dense_intermediate", "moe", "mtp_modules"});
  ModelArch a;
  a.name = m.required("name").as_name();
  a.vocab_size = m.required("vocab_size").as_int();
  a.hidden_size = m.required("hidden_size").as_int();
  a.num_layers = m.required("num_layers").as_int();
  if (auto t = m.optional("tie_embeddings")) a.tie_embeddings = t->as_bool();
  a.attention = load_attention(m.required("attention"));
  if (auto moe = m.optional("moe")) a.moe = load_moe(*moe);
  a.dense_layers =
      m.has("dense_layers") ? m.required("dense_layers").as_int() : (a.moe ? 0 : a.num_layers);
  if (auto d = m.optional("dense_intermediate")) a.dense_intermediate = d->as_int();
  if (auto t = m.optional("mtp_modules")) a.mtp_modules = t->as_int();
  // Every value is checked here, located at its key (or at the map that lacks it).
  validate(a, [&node](std::string_view field) -> FieldOrigin {
    config::Node at = node;
    for (std::string_view rest = field; !rest.empty();) {
      const size_t dot = rest.find('.');
      const std::string_view key = rest.substr(0, dot);
      const auto child = at.is_map() ? at.foreign_map().optional(key) : std::nullopt;
      if (!child) return {at, fmt::format("'{}' not given", key)};
      at = *child;
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    return {at, ""};
  });
  return a;
}

}  // namespace cobench::topo
