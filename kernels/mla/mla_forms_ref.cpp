// SPDX-License-Identifier: Apache-2.0
#include "kernels/mla/mla_forms_ref.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace cobench::mla {
namespace {

void check(const MlaShape& s, const MlaWeights& w, const std::vector<double>& q_nope,
           const std::vector<double>& q_rope, const std::vector<double>& latent,
           const std::vector<double>& k_rope, std::int64_t tokens) {
  auto expect = [](const std::vector<double>& v, std::int64_t n, const char* what) {
    COBENCH_CHECK(static_cast<std::int64_t>(v.size()) == n,
                  fmt::format("{} has {} values, expected {}", what, v.size(), n));
  };
  COBENCH_CHECK(tokens >= 1, "attention needs at least one cached token");
  expect(w.w_uk, s.heads * s.nope * s.kv_lora, "w_uk");
  expect(w.w_uv, s.heads * s.v * s.kv_lora, "w_uv");
  expect(q_nope, s.heads * s.nope, "q_nope");
  expect(q_rope, s.heads * s.rope, "q_rope");
  expect(latent, tokens * s.kv_lora, "latent");
  expect(k_rope, tokens * s.rope, "k_rope");
}

// Softmax of scores in place; returns the log-sum-exp.
double softmax(std::vector<double>& scores) {
  const double top = *std::max_element(scores.begin(), scores.end());
  double sum = 0;
  for (double& x : scores) sum += (x = std::exp(x - top));
  for (double& x : scores) x /= sum;
  return top + std::log(sum);
}

// Checks the shapes and returns a zeroed output: out [H, d_v], lse [H].
MlaOutput checked_output(const MlaShape& s, const MlaWeights& w, const std::vector<double>& q_nope,
                         const std::vector<double>& q_rope, const std::vector<double>& latent,
                         const std::vector<double>& k_rope, std::int64_t tokens) {
  check(s, w, q_nope, q_rope, latent, k_rope, tokens);
  return {std::vector<double>(static_cast<size_t>(s.heads * s.v)),
          std::vector<double>(static_cast<size_t>(s.heads))};
}

}  // namespace

double MlaShape::scale() const {
  return softmax_scale > 0 ? softmax_scale : 1.0 / std::sqrt(static_cast<double>(nope + rope));
}

MlaOutput mla_naive_ref(const MlaShape& s, const MlaWeights& w, const std::vector<double>& q_nope,
                        const std::vector<double>& q_rope, const std::vector<double>& latent,
                        const std::vector<double>& k_rope, std::int64_t tokens) {
  MlaOutput o = checked_output(s, w, q_nope, q_rope, latent, k_rope, tokens);
  std::vector<double> scores(static_cast<size_t>(tokens));
  std::vector<double> values(static_cast<size_t>(tokens * s.v));
  for (std::int64_t h = 0; h < s.heads; ++h) {
    const double* uk = w.w_uk.data() + h * s.nope * s.kv_lora;
    const double* uv = w.w_uv.data() + h * s.v * s.kv_lora;
    for (std::int64_t t = 0; t < tokens; ++t) {
      const double* c = latent.data() + t * s.kv_lora;
      // Decompress: k_nope = W_UK,h c_t, v = W_UV,h c_t.
      double score = 0;
      for (std::int64_t i = 0; i < s.nope; ++i) {
        double k = 0;
        for (std::int64_t j = 0; j < s.kv_lora; ++j) k += uk[i * s.kv_lora + j] * c[j];
        score += q_nope[static_cast<size_t>(h * s.nope + i)] * k;
      }
      for (std::int64_t i = 0; i < s.rope; ++i)
        score += q_rope[static_cast<size_t>(h * s.rope + i)] *
                 k_rope[static_cast<size_t>(t * s.rope + i)];
      scores[static_cast<size_t>(t)] = score * s.scale();
      for (std::int64_t i = 0; i < s.v; ++i) {
        double v = 0;
        for (std::int64_t j = 0; j < s.kv_lora; ++j) v += uv[i * s.kv_lora + j] * c[j];
        values[static_cast<size_t>(t * s.v + i)] = v;
      }
    }
    o.lse[static_cast<size_t>(h)] = softmax(scores);
    for (std::int64_t t = 0; t < tokens; ++t)
      for (std::int64_t i = 0; i < s.v; ++i)
        o.out[static_cast<size_t>(h * s.v + i)] +=
            scores[static_cast<size_t>(t)] * values[static_cast<size_t>(t * s.v + i)];
  }
  return o;
}

MlaOutput mla_absorbed_ref(const MlaShape& s, const MlaWeights& w,
                           const std::vector<double>& q_nope, const std::vector<double>& q_rope,
                           const std::vector<double>& latent, const std::vector<double>& k_rope,
                           std::int64_t tokens) {
  MlaOutput o = checked_output(s, w, q_nope, q_rope, latent, k_rope, tokens);
  std::vector<double> q_lat(static_cast<size_t>(s.kv_lora)), scores(static_cast<size_t>(tokens));
  std::vector<double> o_lat(static_cast<size_t>(s.kv_lora));
  for (std::int64_t h = 0; h < s.heads; ++h) {
    const double* uk = w.w_uk.data() + h * s.nope * s.kv_lora;
    const double* uv = w.w_uv.data() + h * s.v * s.kv_lora;
    // q_lat = W_UK,h^T q_nope,h: the query in latent space [r_kv].
    std::fill(q_lat.begin(), q_lat.end(), 0.0);
    for (std::int64_t i = 0; i < s.nope; ++i)
      for (std::int64_t j = 0; j < s.kv_lora; ++j)
        q_lat[static_cast<size_t>(j)] +=
            uk[i * s.kv_lora + j] * q_nope[static_cast<size_t>(h * s.nope + i)];
    // Attention over the cached [latent; k_rope] (576 dims for DeepSeek-V3).
    for (std::int64_t t = 0; t < tokens; ++t) {
      double score = 0;
      for (std::int64_t j = 0; j < s.kv_lora; ++j)
        score += q_lat[static_cast<size_t>(j)] * latent[static_cast<size_t>(t * s.kv_lora + j)];
      for (std::int64_t i = 0; i < s.rope; ++i)
        score += q_rope[static_cast<size_t>(h * s.rope + i)] *
                 k_rope[static_cast<size_t>(t * s.rope + i)];
      scores[static_cast<size_t>(t)] = score * s.scale();
    }
    o.lse[static_cast<size_t>(h)] = softmax(scores);
    std::fill(o_lat.begin(), o_lat.end(), 0.0);
    for (std::int64_t t = 0; t < tokens; ++t)
      for (std::int64_t j = 0; j < s.kv_lora; ++j)
        o_lat[static_cast<size_t>(j)] +=
            scores[static_cast<size_t>(t)] * latent[static_cast<size_t>(t * s.kv_lora + j)];
    // o_h = W_UV,h o_lat.
    for (std::int64_t i = 0; i < s.v; ++i) {
      double v = 0;
      for (std::int64_t j = 0; j < s.kv_lora; ++j)
        v += uv[i * s.kv_lora + j] * o_lat[static_cast<size_t>(j)];
      o.out[static_cast<size_t>(h * s.v + i)] = v;
    }
  }
  return o;
}

}  // namespace cobench::mla
