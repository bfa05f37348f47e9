// SPDX-License-Identifier: Apache-2.0
#include "topologies/hf_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cobench::topo {
namespace {

constexpr std::array<std::string_view, 9> kSupported{
    "DeepseekV3ForCausalLM", "DeepseekV2ForCausalLM", "LlamaForCausalLM",
    "MistralForCausalLM",    "Qwen2ForCausalLM",      "Qwen3ForCausalLM",
    "Qwen3MoeForCausalLM",   "MixtralForCausalLM",    "GptOssForCausalLM"};

// Reads the integers of a config.json and remembers which key gave each ModelArch field (named
// as in the YAML format), so that validate() names the file's own key, or says which key was
// absent and what took its place.
class HfReader {
 public:
  explicit HfReader(const config::Node& root) : root_(root), map_(root.foreign_map()) {}

  const config::MapReader& map() const { return map_; }

  // `key` must be present; null is an error ("expected an integer, got null").
  std::int64_t get(std::string_view field, std::string_view key) {
    record(field, key, "");
    return map_.required(key).as_int();
  }

  // `key`, or `fallback` when it is absent or null; `note` says what the fallback is.
  std::int64_t get_or(std::string_view field, std::string_view key, std::int64_t fallback,
                      std::string note) {
    record(field, key, std::move(note));
    if (present(key)) return map_.required(key).as_int();
    return fallback;
  }

  // `field` comes from `key`; `note` says what takes its place when the file lacks it.
  void record(std::string_view field, std::string_view key, std::string note) {
    sources_[std::string(field)] = {std::string(key), std::move(note)};
  }

  // `field` was set from the same key as `other`.
  void same_as(std::string_view field, std::string_view other) {
    sources_[std::string(field)] = sources_.at(std::string(other));
  }

  bool present(std::string_view key) const {
    const auto n = map_.optional(key);
    return n && !n->is_null();
  }

  FieldOrigin origin(std::string_view field) const {
    const auto it = sources_.find(std::string(field));
    if (it == sources_.end()) return {root_, ""};
    const auto& [key, note] = it->second;
    if (present(key)) return {*map_.optional(key), ""};
    return {root_, note.empty() ? fmt::format("'{}' not given", key)
                                : fmt::format("'{}' not given ({})", key, note)};
  }

 private:
  struct Source {
    std::string key, note;
  };
  config::Node root_;
  config::MapReader map_;
  std::map<std::string, Source> sources_;
};

bool get_bool_or(const config::MapReader& m, std::string_view key, bool fallback) {
  if (auto n = m.optional(key); n && !n->is_null()) return n->as_bool();
  return fallback;
}

// Llama-style attention: MHA, GQA or MQA by the number of KV heads.
AttentionSpec standard_attention(HfReader& r, std::int64_t hidden) {
  AttentionSpec a;
  a.num_heads = r.get("attention.num_heads", "num_attention_heads");
  a.num_kv_heads = r.get_or("attention.num_kv_heads", "num_key_value_heads", a.num_heads,
                            "as many as num_attention_heads");
  // Without head_dim, Hugging Face divides hidden_size by the heads: a remainder would be
  // dropped silently (4097 / 32 -> 128).
  if (!r.present("head_dim") && a.num_heads > 0 && hidden % a.num_heads != 0)
    r.map()
        .required("hidden_size")
        .fail(
            fmt::format("{} is not a multiple of the {} attention heads (num_attention_heads), and "
                        "there is no head_dim to say the head size",
                        hidden, a.num_heads));
  // validate() refuses 0 heads before it looks at head_dim.
  a.head_dim =
      r.get_or("attention.head_dim", "head_dim", a.num_heads > 0 ? hidden / a.num_heads : 0,
               "hidden_size / num_attention_heads");
  a.kind = a.num_kv_heads == a.num_heads ? AttentionKind::kMha
           : a.num_kv_heads == 1         ? AttentionKind::kMqa
                                         : AttentionKind::kGqa;
  a.qkv_bias = get_bool_or(r.map(), "attention_bias", false);
  return a;
}

void read_deepseek(HfReader& r, ModelArch& a) {
  const config::MapReader& m = r.map();
  a.attention.kind = AttentionKind::kMla;
  a.attention.num_heads = r.get("attention.num_heads", "num_attention_heads");
  MlaDims d;
  d.q_lora_rank = r.get_or("attention.q_lora_rank", "q_lora_rank", 0,
                           "0: queries from the hidden state");  // null in DeepSeek-V2-Lite
  d.kv_lora_rank = r.get("attention.kv_lora_rank", "kv_lora_rank");
  d.qk_nope_head_dim = r.get("attention.qk_nope_head_dim", "qk_nope_head_dim");
  d.qk_rope_head_dim = r.get("attention.qk_rope_head_dim", "qk_rope_head_dim");
  d.v_head_dim = r.get("attention.v_head_dim", "v_head_dim");
  a.attention.mla = d;
  a.dense_layers = r.get_or("dense_layers", "first_k_dense_replace", 0, "0");
  a.dense_intermediate = r.get("dense_intermediate", "intermediate_size");
  if (r.present("moe_layer_freq") && m.required("moe_layer_freq").as_int() != 1)
    m.required("moe_layer_freq").fail("only moe_layer_freq 1 is supported");
  MoeSpec e;
  e.routed_experts = r.get("moe.routed_experts", "n_routed_experts");
  e.shared_experts = r.get_or("moe.shared_experts", "n_shared_experts", 0, "0");
  e.top_k = r.get("moe.top_k", "num_experts_per_tok");
  e.expert_intermediate = r.get("moe.expert_intermediate", "moe_intermediate_size");
  e.shared_intermediate = e.expert_intermediate;
  r.same_as("moe.shared_intermediate", "moe.expert_intermediate");
  e.groups = r.get_or("moe.groups", "n_group", 1, "1");
  e.groups_per_token = r.get_or("moe.groups_per_token", "topk_group", e.groups, "n_group");
  if (auto method = m.optional("topk_method"); method && !method->is_null())
    e.router_bias = method->as_string() == "noaux_tc";
  a.moe = e;
  a.mtp_modules = r.get_or("mtp_modules", "num_nextn_predict_layers", 0, "0");
}

// The routed experts of Qwen3-MoE, Mixtral and gpt-oss: their count and expert size under
// `experts_key` and `intermediate_key`, the shared size the same (no shared expert).
MoeSpec read_experts(HfReader& r, const char* experts_key, const char* intermediate_key) {
  MoeSpec e;
  e.routed_experts = r.get("moe.routed_experts", experts_key);
  e.top_k = r.get("moe.top_k", "num_experts_per_tok");
  e.expert_intermediate = r.get("moe.expert_intermediate", intermediate_key);
  e.shared_intermediate = e.expert_intermediate;
  r.same_as("moe.shared_intermediate", "moe.expert_intermediate");
  return e;
}

void read_qwen3_moe(HfReader& r, ModelArch& a) {
  const config::MapReader& m = r.map();
  a.moe = read_experts(r, "num_experts", "moe_intermediate_size");
  if (r.present("decoder_sparse_step") && m.required("decoder_sparse_step").as_int() != 1)
    m.required("decoder_sparse_step").fail("only decoder_sparse_step 1 is supported");
  a.dense_layers = 0;  // the layers listed in mlp_only_layers
  r.record("dense_layers", "mlp_only_layers", "none");
  if (auto only = m.optional("mlp_only_layers"); only && !only->is_null()) {
    // Each a layer index, once: their count is the dense layers.
    std::vector<bool> seen(static_cast<std::size_t>(a.num_layers), false);
    for (const config::Node& layer : only->elements()) {
      const auto i = static_cast<std::size_t>(layer.as_int_in(0, a.num_layers - 1));
      if (seen[i]) layer.fail(fmt::format("layer {} is listed twice", i));
      seen[i] = true;
    }
    a.dense_layers = static_cast<std::int64_t>(only->elements().size());
  }
  a.dense_intermediate = r.get_or("dense_intermediate", "intermediate_size", 0, "no dense layers");
}

void read_mixtral(HfReader& r, ModelArch& a) {
  a.moe = read_experts(r, "num_local_experts", "intermediate_size");
  a.dense_layers = 0;
}

void read_gpt_oss(HfReader& r, ModelArch& a) {
  read_mixtral(r, a);  // same expert keys
  a.moe->router_bias = true;
  a.moe->expert_bias = true;
  a.attention.o_bias = a.attention.qkv_bias;  // attention_bias covers all four projections
  a.attention.sink_heads = a.attention.num_heads;
  r.same_as("attention.sink_heads", "attention.num_heads");
}

}  // namespace

ModelArch load_hf_config(const config::Node& root) {
  HfReader r(root);
  const config::MapReader& m = r.map();
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
  a.vocab_size = r.get("vocab_size", "vocab_size");
  a.hidden_size = r.get("hidden_size", "hidden_size");
  a.num_layers = r.get("num_layers", "num_hidden_layers");
  a.tie_embeddings = get_bool_or(m, "tie_word_embeddings", false);

  if (arch == "DeepseekV3ForCausalLM" || arch == "DeepseekV2ForCausalLM") {
    read_deepseek(r, a);
  } else {
    a.attention = standard_attention(r, a.hidden_size);
    if (arch == "Qwen2ForCausalLM") a.attention.qkv_bias = true;  // Qwen2 always has q/k/v bias
    if (arch == "Qwen3ForCausalLM" || arch == "Qwen3MoeForCausalLM") a.attention.qk_norm = true;
    if (arch == "Qwen3MoeForCausalLM") {
      read_qwen3_moe(r, a);
    } else if (arch == "MixtralForCausalLM") {
      read_mixtral(r, a);
    } else if (arch == "GptOssForCausalLM") {
      read_gpt_oss(r, a);
    } else {
      a.dense_layers = a.num_layers;
      r.same_as("dense_layers", "num_layers");
      a.dense_intermediate = r.get("dense_intermediate", "intermediate_size");
    }
  }
  // The YAML reader's check, located at this file's keys.
  validate(a, [&r](std::string_view field) { return r.origin(field); });
  return a;
}

}  // namespace cobench::topo
