// SPDX-License-Identifier: Apache-2.0
#include "microbench/gemm_shapes.h"

#include <fmt/format.h>

#include <cstdlib>

namespace cobench::bench {

std::string gemm_model_name() {
  const char* name = std::getenv("COBENCH_GEMM_MODEL");
  return name && *name ? name : "deepseek-v3";
}

std::string gemm_benchmark_name(const std::string& base, const std::string& model,
                                const std::string& shape) {
  return model == "deepseek-v3" ? fmt::format("{}/shape:{}", base, shape)
                                : fmt::format("{}/model:{}/shape:{}", base, model, shape);
}

std::vector<GemmShape> model_gemm_shapes(const topo::ModelArch& m) {
  std::vector<GemmShape> s;
  const std::int64_t d = m.hidden_size, h = m.attention.num_heads;
  if (m.attention.mla) {
    const topo::MlaDims& x = *m.attention.mla;
    if (x.q_lora_rank > 0) {
      s.push_back({"q_a", x.q_lora_rank, d});
      s.push_back({"q_b", h * (x.qk_nope_head_dim + x.qk_rope_head_dim), x.q_lora_rank});
    }
    s.push_back({"kv_a", x.kv_lora_rank + x.qk_rope_head_dim, d});
    s.push_back({"kv_b", h * (x.qk_nope_head_dim + x.v_head_dim), x.kv_lora_rank});
    s.push_back({"o", d, h * x.v_head_dim});
  } else {
    const std::int64_t hd = m.attention.head_dim, kv = m.attention.num_kv_heads;
    s.push_back({"qkv", (h + 2 * kv) * hd, d});
    s.push_back({"o", d, h * hd});
  }
  if (m.moe) {
    s.push_back({"expert_gate_up", 2 * m.moe->expert_intermediate, d});
    s.push_back({"expert_down", d, m.moe->expert_intermediate});
    if (m.moe->shared_experts > 0 && m.moe->shared_intermediate != m.moe->expert_intermediate) {
      s.push_back({"shared_gate_up", 2 * m.moe->shared_intermediate, d});
      s.push_back({"shared_down", d, m.moe->shared_intermediate});
    }
  }
  if (m.dense_layers > 0) {
    s.push_back({"dense_gate_up", 2 * m.dense_intermediate, d});
    s.push_back({"dense_down", d, m.dense_intermediate});
  }
  s.push_back({"lm_head", m.vocab_size, d});
  return s;
}

std::vector<GemmShape> dgrad_gemm_shapes(const topo::ModelArch& m) {
  std::vector<GemmShape> s;
  for (const GemmShape& f : model_gemm_shapes(m))
    if (f.name != "lm_head") s.push_back({f.name + "_dgrad", f.k, f.n});
  return s;
}

}  // namespace cobench::bench
