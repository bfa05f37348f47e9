// SPDX-License-Identifier: Apache-2.0
// Reference (FP64) of DeepSeek-V3's whole multi-head latent attention for one decode step, its
// up-projections W_UK and W_UV included, over a contiguous cache, in its two forms (paper section
// 2.1, V2/V3 technical reports); the tests check that the two agree:
//   mla_naive_ref     decompress each cached latent c_t into per-head keys k_t,h = W_UK,h c_t and
//                     values v_t,h = W_UV,h c_t, then ordinary attention per head
//   mla_absorbed_ref  fold W_UK into the query (q_lat,h = W_UK,h^T q_nope,h) and W_UV into the
//                     output: every head attends over the cached 576-dim vectors [c_t; k_rope,t]
//                     of one shared latent KV head, then o_h = W_UV,h (sum_t p_t c_t)
// Both return the per-head attention output (before W_O, which both share) and the per-head
// log-sum-exp of the scaled scores. Not the decode kernels' reference: that is mla_decode_ref
// (mla_decode.h), the absorbed form's latent attention alone (no weights) over the paged cache.
//
// Shapes (row-major):
//   q_nope [H, d_nope], q_rope [H, d_rope]   the new token's query, RoPE applied
//   latent [T, r_kv], k_rope [T, d_rope]     the cache: normalized latent and RoPE key per token
//   w_uk [H, d_nope, r_kv], w_uv [H, d_v, r_kv]
//   out [H, d_v], lse [H]
#pragma once

#include <cstdint>
#include <vector>

namespace cobench::mla {

struct MlaShape {
  std::int64_t heads = 128;
  std::int64_t nope = 128;  ///< qk_nope_head_dim
  std::int64_t rope = 64;   ///< qk_rope_head_dim
  std::int64_t v = 128;     ///< v_head_dim
  std::int64_t kv_lora = 512;
  double softmax_scale = 0;  ///< 0: 1 / sqrt(nope + rope)

  double scale() const;
};

struct MlaWeights {
  std::vector<double> w_uk;  ///< [H, nope, kv_lora]
  std::vector<double> w_uv;  ///< [H, v, kv_lora]
};

struct MlaOutput {
  std::vector<double> out;  ///< [H, v]
  std::vector<double> lse;  ///< [H]
};

MlaOutput mla_naive_ref(const MlaShape& s, const MlaWeights& w, const std::vector<double>& q_nope,
                        const std::vector<double>& q_rope, const std::vector<double>& latent,
                        const std::vector<double>& k_rope, std::int64_t tokens);

MlaOutput mla_absorbed_ref(const MlaShape& s, const MlaWeights& w,
                           const std::vector<double>& q_nope, const std::vector<double>& q_rope,
                           const std::vector<double>& latent, const std::vector<double>& k_rope,
                           std::int64_t tokens);

}  // namespace cobench::mla
