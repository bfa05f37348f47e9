// SPDX-License-Identifier: Apache-2.0
// The GPU GQA (Qwen2.5-72B: 64 query heads, 8 KV heads, head dim 128) and MHA decode baselines
// against the FP64 paged reference, on ragged lengths 1, 63, 64, 65, 4097 (the unwritten slots
// of every last page are NaN) with 1, 4 and 70 splits (more splits than a short sequence has
// pages: empty splits), and bad shapes rejected. Skips, with the runtime's reason, where there is
// no CUDA device.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/cuda/device_check.h"
#include "core/error.h"
#include "kernels/mla/cuda/gqa_decode_cuda.h"
#include "kernels/mla/gqa_decode.h"

namespace {

using namespace cobench::mla;

// FP32 arithmetic with fast exponentials vs FP64 over the same BF16 cache: out relative to the
// largest |out| of its sequence, lse absolute (as the MLA SIMT kernel).
constexpr double kOutBound = 1e-4, kLseBound = 1e-4;

class GqaCuda : public ::testing::TestWithParam<bool> {};

TEST_P(GqaCuda, SplitKvMeetsTheReference) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  const GqaShape s = GetParam() ? qwen25_72b_gqa() : qwen25_72b_mha();
  const std::vector<std::int64_t> lengths{1, 63, 64, 65, 4097};
  GqaCache cache = make_gqa_cache(s, lengths, 3);
  fill_random(cache, 9);
  const std::int64_t batch = static_cast<std::int64_t>(lengths.size());
  const std::int64_t per_seq = s.q_heads * s.head_dim;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(batch * per_seq));
  for (float& x : q) x = normal(rng);
  std::vector<double> ref_out(q.size()), ref_lse(static_cast<size_t>(batch * s.q_heads));
  std::vector<double> largest(static_cast<size_t>(batch), 0.0);
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::vector<double> qb(q.begin() + b * per_seq, q.begin() + (b + 1) * per_seq);
    gqa_decode_ref_seq(cache, b, qb.data(), s.scale(), ref_out.data() + b * per_seq,
                       ref_lse.data() + b * s.q_heads);
    for (std::int64_t i = 0; i < per_seq; ++i)
      largest[static_cast<size_t>(b)] =
          std::max(largest[static_cast<size_t>(b)], std::fabs(ref_out[b * per_seq + i]));
  }
  for (int splits : {1, 4, 70}) {
    std::vector<float> out, lse;
    cuda::gqa_decode_cuda_host(cache, q, static_cast<float>(s.scale()), splits, out, lse);
    ASSERT_EQ(out.size(), ref_out.size());
    ASSERT_EQ(lse.size(), ref_lse.size());
    double dout = 0, dlse = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      const double diff =
          std::fabs(out[i] - ref_out[i]) / largest[i / static_cast<size_t>(per_seq)];
      dout = std::isnan(diff) ? INFINITY : std::max(dout, diff);
    }
    for (size_t i = 0; i < lse.size(); ++i) {
      const double diff = std::fabs(lse[i] - ref_lse[i]);
      dlse = std::isnan(diff) ? INFINITY : std::max(dlse, diff);
    }
    const std::string what =
        std::string(GetParam() ? "gqa" : "mha") + " splits " + std::to_string(splits);
    EXPECT_LT(dout, kOutBound) << what;
    EXPECT_LT(dlse, kLseBound) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, GqaCuda, ::testing::Bool(), [](const auto& param_info) {
  return std::string(param_info.param ? "gqa" : "mha");
});

TEST(GqaCuda, BadShapesAreErrors) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  GqaShape s = qwen25_72b_gqa();
  s.head_dim = 64;  // the kernel takes 128
  GqaCache cache = make_gqa_cache(s, {8}, 1);
  fill_random(cache, 1);
  std::vector<float> q(static_cast<size_t>(s.q_heads * s.head_dim), 1.0f), out, lse;
  EXPECT_THROW(cuda::gqa_decode_cuda_host(cache, q, 0.1f, 1, out, lse), cobench::Error);
}

}  // namespace
