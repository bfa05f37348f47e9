// SPDX-License-Identifier: Apache-2.0
// A model architecture: the dimensions the analyses need, read from topologies/models/*.yaml
// or from a Hugging Face config.json (hf_config.h). Parameter counts and KV-cache sizes are
// derived from it (model_params.h), never typed in.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"

namespace cobench::topo {

/// The largest value of every integer of a model (dimensions, counts): far above any real model
/// and small enough that the products the analyses and benchmarks form stay inside 64 bits.
inline constexpr std::int64_t kMaxModelInteger = std::int64_t{1} << 24;

enum class AttentionKind { kMha, kGqa, kMqa, kMla };
std::string_view to_string(AttentionKind k);

/// Multi-head latent attention (DeepSeek-V2/V3) dimensions.
struct MlaDims {
  std::int64_t q_lora_rank = 0;  ///< 0: queries projected directly from the hidden state
  std::int64_t kv_lora_rank = 0;
  std::int64_t qk_nope_head_dim = 0;
  std::int64_t qk_rope_head_dim = 0;
  std::int64_t v_head_dim = 0;
};

struct AttentionSpec {
  AttentionKind kind = AttentionKind::kMha;
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;  ///< == num_heads for MHA, 1 for MQA; unused for MLA
  std::int64_t head_dim = 0;      ///< unused for MLA
  bool qkv_bias = false;          ///< biases on the q, k, v projections (Qwen2)
  bool o_bias = false;            ///< bias on the output projection (gpt-oss)
  bool qk_norm = false;           ///< per-head RMSNorm of q and k (Qwen3)
  std::int64_t sink_heads = 0;    ///< learned attention-sink logits, one per head (gpt-oss)
  std::optional<MlaDims> mla;
};

struct MoeSpec {
  std::int64_t routed_experts = 0;
  std::int64_t shared_experts = 0;
  std::int64_t top_k = 0;
  std::int64_t expert_intermediate = 0;
  std::int64_t shared_intermediate = 0;  ///< per shared expert
  std::int64_t groups = 1;               ///< expert groups (one per node in DeepSeek's routing)
  std::int64_t groups_per_token = 1;     ///< groups a token may be routed to
  bool router_bias = false;              ///< a per-expert bias (DeepSeek-V3's noaux_tc, gpt-oss)
  bool expert_bias = false;              ///< biases inside experts (gpt-oss)
};

struct ModelArch {
  std::string name;
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_layers = 0;
  bool tie_embeddings = false;
  AttentionSpec attention;
  std::int64_t dense_layers = 0;  ///< layers with a dense FFN (the rest are MoE)
  std::int64_t dense_intermediate = 0;
  std::optional<MoeSpec> moe;
  std::int64_t mtp_modules = 0;  ///< multi-token-prediction modules, not counted in the totals
};

/// Reads a `model:` document (topologies/models/*.yaml). Errors name file:line:column and key.
ModelArch load_model_yaml(const config::Node& root);

/// Where a field of a ModelArch came from, for validate()'s errors: the node that holds its
/// value, and a note put before the message when the file does not (a default, or a value
/// derived from other keys).
struct FieldOrigin {
  config::Node node;
  std::string note;
};

/// The origin of a field named as in the YAML format ("hidden_size", "attention.num_kv_heads",
/// "moe.groups"); "" is the model as a whole.
using FieldLocator = std::function<FieldOrigin(std::string_view field)>;

/// The one check of an architecture, whichever file it came from (both readers call it, so they
/// accept the same models): every integer in its range (1 or 0 to kMaxModelInteger), kv heads
/// dividing the heads, top-k within the experts a token may reach, groups dividing the experts,
/// dense layers within the layers. Errors name the file, line:column and the key that `locate`
/// gives for the field.
void validate(const ModelArch& m, const FieldLocator& locate);

}  // namespace cobench::topo
