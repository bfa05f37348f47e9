// SPDX-License-Identifier: Apache-2.0
#include "topologies/hf_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string>

namespace cobench::topo {
namespace {

constexpr std::array<std::string_view, 9> kSupported{
    "DeepseekV3ForCausalLM", "DeepseekV2ForCausalLM", "LlamaForCausalLM",
    "MistralForCausalLM",    "Qwen2ForCausalLM",      "Qwen3ForCausalLM",
    "Qwen3MoeForCausalLM",   "MixtralForCausalLM",    "GptOssForCausalLM"};

std::int64_t get_int(const config::MapReader& m, std::string_view key) {
  const config::Node n = m.required(key);
  const std::int64_t v = n.as_int();
  if (v < 0) n.fail("expected an integer >= 0");
  return v;
}

std::int64_t get_int_or(const config::MapReader& m, std::string_view key, std::int64_t fallback) {
  if (auto n = m.optional(key); n && !n->is_null()) return get_int(m, key);
  return fallback;
}

bool get_bool_or(const config::MapReader& m, std::string_view key, bool fallback) {
  if (auto n = m.optional(key); n && !n->is_null()) return n->as_bool();
  return fallback;
}

// Llama-style attention: MHA, GQA or MQA by the number of KV heads.
AttentionSpec standard_attention(const config::MapReader& m, std::int64_t hidden) {
  AttentionSpec a;
  a.num_heads = get_int(m, "num_attention_heads");
  a.num_kv_heads = get_int_or(m, "num_key_value_heads", a.num_heads);
  a.head_dim = get_int_or(m, "head_dim", hidden / a.num_heads);
  a.kind = a.num_kv_heads == a.num_heads ? AttentionKind::kMha
           : a.num_kv_heads == 1         ? AttentionKind::kMqa
                                         : AttentionKind::kGqa;
  a.qkv_bias = get_bool_or(m, "attention_bias", false);
  return a;
}

void read_deepseek(const config::MapReader& m, ModelArch& a) {
  a.attention.kind = AttentionKind::kMla;
  a.attention.num_heads = get_int(m, "num_attention_heads");
  MlaDims d;
  d.q_lora_rank = get_int_or(m, "q_lora_rank", 0);  // null in DeepSeek-V2-Lite
  d.kv_lora_rank = get_int(m, "kv_lora_rank");
  d.qk_nope_head_dim = get_int(m, "qk_nope_head_dim");
  d.qk_rope_head_dim = get_int(m, "qk_rope_head_dim");
  d.v_head_dim = get_int(m, "v_head_dim");
  a.attention.mla = d;
  a.dense_layers = get_int_or(m, "first_k_dense_replace", 0);
  a.dense_intermediate = get_int(m, "intermediate_size");
  if (auto freq = get_int_or(m, "moe_layer_freq", 1); freq != 1)
    m.required("moe_layer_freq").fail("only moe_layer_freq 1 is supported");
  MoeSpec e;
  e.routed_experts = get_int(m, "n_routed_experts");
  e.shared_experts = get_int_or(m, "n_shared_experts", 0);
  e.top_k = get_int(m, "num_experts_per_tok");
  e.expert_intermediate = get_int(m, "moe_intermediate_size");
  e.shared_intermediate = e.expert_intermediate;
  e.groups = get_int_or(m, "n_group", 1);
  e.groups_per_token = get_int_or(m, "topk_group", e.groups);
  if (auto method = m.optional("topk_method"); method && !method->is_null())
    e.router_bias = method->as_string() == "noaux_tc";
  a.moe = e;
  a.mtp_modules = get_int_or(m, "num_nextn_predict_layers", 0);
}

void read_qwen3_moe(const config::MapReader& m, ModelArch& a) {
  MoeSpec e;
  e.routed_experts = get_int(m, "num_experts");
  e.top_k = get_int(m, "num_experts_per_tok");
  e.expert_intermediate = get_int(m, "moe_intermediate_size");
  e.shared_intermediate = e.expert_intermediate;
  a.moe = e;
  if (auto step = get_int_or(m, "decoder_sparse_step", 1); step != 1)
    m.required("decoder_sparse_step").fail("only decoder_sparse_step 1 is supported");
  a.dense_layers = 0;
  if (auto only = m.optional("mlp_only_layers"); only && !only->is_null())
    a.dense_layers = static_cast<std::int64_t>(only->elements().size());
  a.dense_intermediate = get_int_or(m, "intermediate_size", 0);
}

void read_mixtral(const config::MapReader& m, ModelArch& a) {
  MoeSpec e;
  e.routed_experts = get_int(m, "num_local_experts");
  e.top_k = get_int(m, "num_experts_per_tok");
  e.expert_intermediate = get_int(m, "intermediate_size");
  e.shared_intermediate = e.expert_intermediate;
  a.moe = e;
  a.dense_layers = 0;
}

void read_gpt_oss(const config::MapReader& m, ModelArch& a) {
  read_mixtral(m, a);  // same expert keys
  a.moe->router_bias = true;
  a.moe->expert_bias = true;
  a.attention.o_bias = a.attention.qkv_bias;  // attention_bias covers all four projections
  a.attention.sink_heads = a.attention.num_heads;
}

}  // namespace

ModelArch load_hf_config(const config::Node& root) {
  const config::MapReader m = root.foreign_map();
  const config::Node arch_list = m.required("architectures");
  const auto archs = arch_list.elements();
  if (archs.empty()) arch_list.fail("expected at least one architecture");
  const std::string arch = archs[0].as_string();
  if (std::find(kSupported.begin(), kSupported.end(), arch) == kSupported.end()) {
    std::string list;
    for (auto s : kSupported) list += (list.empty() ? "" : ", ") + std::string(s);
    archs[0].fail(fmt::format("unsupported architecture '{}'; supported: {}", arch, list));
  }
  ModelArch a;
  a.name = arch;
  if (auto n = m.optional("_name_or_path"); n && n->is_scalar() && !n->as_string().empty())
    a.name = n->as_string();
  a.vocab_size = get_int(m, "vocab_size");
  a.hidden_size = get_int(m, "hidden_size");
  a.num_layers = get_int(m, "num_hidden_layers");
  a.tie_embeddings = get_bool_or(m, "tie_word_embeddings", false);

  if (arch == "DeepseekV3ForCausalLM" || arch == "DeepseekV2ForCausalLM") {
    read_deepseek(m, a);
  } else {
    a.attention = standard_attention(m, a.hidden_size);
    if (arch == "Qwen2ForCausalLM") a.attention.qkv_bias = true;  // Qwen2 always has q/k/v bias
    if (arch == "Qwen3ForCausalLM" || arch == "Qwen3MoeForCausalLM") a.attention.qk_norm = true;
    if (arch == "Qwen3MoeForCausalLM") {
      read_qwen3_moe(m, a);
    } else if (arch == "MixtralForCausalLM") {
      read_mixtral(m, a);
    } else if (arch == "GptOssForCausalLM") {
      read_gpt_oss(m, a);
    } else {
      a.dense_layers = a.num_layers;
      a.dense_intermediate = get_int(m, "intermediate_size");
    }
  }
  validate(a, root);
  return a;
}

}  // namespace cobench::topo
