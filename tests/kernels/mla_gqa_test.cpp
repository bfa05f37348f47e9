// SPDX-License-Identifier: Apache-2.0
// The GQA (Qwen2.5-72B: 64 query heads, 8 KV heads, head dim 128) and MHA decode baselines: the
// CPU kernel on every ISA here against the FP64 reference on ragged lengths 1, 63, 64, 65, 4097.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "kernels/mla/gqa_decode.h"

namespace {

using namespace cobench::mla;

// FP32 kernel vs FP64 reference over the same BF16 cache: out relative to the largest |out|,
// lse absolute.
constexpr double kOutBound = 1e-5, kLseBound = 1e-5;

class GqaDecode : public ::testing::TestWithParam<bool> {};

TEST_P(GqaDecode, KernelMeetsTheReference) {
  const GqaShape s = GetParam() ? qwen25_72b_gqa() : qwen25_72b_mha();
  const std::vector<std::int64_t> lengths{1, 63, 64, 65, 4097};
  GqaCache cache = make_gqa_cache(s, lengths, 3);
  fill_random(cache, 9);
  const std::int64_t batch = static_cast<std::int64_t>(lengths.size());
  std::mt19937_64 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(batch * s.q_heads * s.head_dim));
  for (float& x : q) x = normal(rng);
  std::vector<double> ref_out(q.size()), ref_lse(static_cast<size_t>(batch * s.q_heads));
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::vector<double> qb(q.begin() + b * s.q_heads * s.head_dim,
                                 q.begin() + (b + 1) * s.q_heads * s.head_dim);
    gqa_decode_ref_seq(cache, b, qb.data(), s.scale(), ref_out.data() + b * s.q_heads * s.head_dim,
                       ref_lse.data() + b * s.q_heads);
  }
  double largest = 0;
  for (double x : ref_out) largest = std::max(largest, std::fabs(x));
  std::vector<float> out(q.size()), lse(ref_lse.size());
  for (CpuIsa isa : {CpuIsa::kPortable, CpuIsa::kAvx2, CpuIsa::kAvx512}) {
    if (!cpu_isa_supported(isa)) continue;
    // Every split on the kernel kAuto runs (AVX-512 where it picks AMX: GQA has no AMX kernel).
    const CpuIsa runs = best_cpu_isa() == CpuIsa::kAmx ? CpuIsa::kAvx512 : best_cpu_isa();
    const std::vector<std::int64_t> splits =
        isa == runs ? std::vector<std::int64_t>{0, 1, 5} : std::vector<std::int64_t>{0};
    for (std::int64_t split : splits) {
      std::fill(out.begin(), out.end(), NAN);
      gqa_decode_cpu(cache, q.data(), static_cast<float>(s.scale()), out.data(), lse.data(),
                     {2, isa, split});
      double dout = 0, dlse = 0;
      for (size_t i = 0; i < out.size(); ++i) {
        const double diff = std::fabs(out[i] - ref_out[i]) / largest;
        dout = std::isnan(diff) ? INFINITY : std::max(dout, diff);
      }
      for (size_t i = 0; i < lse.size(); ++i) {
        const double diff = std::fabs(lse[i] - ref_lse[i]);
        dlse = std::isnan(diff) ? INFINITY : std::max(dlse, diff);
      }
      EXPECT_LT(dout, kOutBound) << cpu_isa_name(isa) << " split " << split;
      EXPECT_LT(dlse, kLseBound) << cpu_isa_name(isa) << " split " << split;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Qwen25_72B, GqaDecode, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return std::string(param_info.param ? "gqa" : "mha");
                         });

TEST(GqaDecodeCpu, ShapesAndErrors) {
  EXPECT_EQ(qwen25_72b_gqa().token_bytes(), 4096);
  EXPECT_EQ(qwen25_72b_mha().token_bytes(), 32768);
  GqaCache cache = make_gqa_cache({6, 4, 128}, {4});
  std::vector<float> q(6 * 128), out(6 * 128), lse(6);
  EXPECT_THROW(gqa_decode_cpu(cache, q.data(), 0.1f, out.data(), lse.data()), cobench::Error);
  GqaCache empty = make_gqa_cache(qwen25_72b_gqa(), {4});
  EXPECT_THROW(gqa_decode_cpu(empty, q.data(), 0.1f, out.data(), lse.data()), cobench::Error);
}

}  // namespace
