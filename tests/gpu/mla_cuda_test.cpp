// SPDX-License-Identifier: Apache-2.0
// The CUDA split-KV MLA decode and its combine step against the FP64 paged reference, on BF16
// and FP8 caches with ragged lengths (1, 63, 64, 65, 4097) and 1, 4 and 70 splits (more splits
// than a short sequence has tokens: empty splits). Skips, with the runtime's reason, where there
// is no CUDA device.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/cuda/device_check.h"
#include "kernels/mla/cuda/mla_decode_cuda.h"
#include "kernels/mla/mla_decode.h"

namespace {

using namespace cobench::mla;

// FP32 arithmetic with fast exponentials vs FP64 over the same cache: out relative to the largest
// |out| of its sequence, lse absolute.
constexpr double kOutBound = 1e-4, kLseBound = 1e-4;

// Precision x query heads: 128 (DeepSeek-V3), 16 (128 over TP8) and 20 (a warp's last heads
// partly empty).
class MlaCuda : public ::testing::TestWithParam<std::tuple<KvPrecision, int>> {};

TEST_P(MlaCuda, SplitKvMeetsTheReference) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  const KvPrecision p = std::get<0>(GetParam());
  const std::int64_t heads = std::get<1>(GetParam());
  const std::vector<std::int64_t> lengths{1, 63, 64, 65, 4097};
  std::vector<std::int64_t> capacity;
  for (std::int64_t n : lengths) capacity.push_back(n + 5);  // NaN slots after every sequence
  MlaCache cache = make_mla_cache(p, capacity, 3);
  std::mt19937_64 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (size_t s = 0; s < lengths.size(); ++s) {
    std::vector<float> kv(static_cast<size_t>(lengths[s] * kQkDims));
    for (float& x : kv) x = normal(rng);
    append_tokens(cache, static_cast<std::int64_t>(s), kv.data(), lengths[s]);
  }
  std::vector<float> q(lengths.size() * heads * kQkDims);
  for (float& x : q) x = normal(rng);
  const double scale = deepseek_v3_softmax_scale();
  const DecodeRef ref = mla_decode_ref(cache, {q.begin(), q.end()}, heads, scale);
  const size_t per_seq = static_cast<size_t>(heads * kVDims);
  std::vector<double> largest(lengths.size(), 0.0);  // per sequence
  for (size_t i = 0; i < ref.out.size(); ++i)
    largest[i / per_seq] = std::max(largest[i / per_seq], std::fabs(ref.out[i]));
  for (int splits : {1, 4, 70}) {
    std::vector<float> out, lse;
    cuda::mla_decode_cuda_host(cache, q, heads, static_cast<float>(scale), splits, out, lse);
    ASSERT_EQ(out.size(), ref.out.size());
    double dout = 0, dlse = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      const double diff = std::fabs(out[i] - ref.out[i]) / largest[i / per_seq];
      dout = std::isnan(diff) ? INFINITY : std::max(dout, diff);
    }
    for (size_t i = 0; i < lse.size(); ++i) {
      const double diff = std::fabs(lse[i] - ref.lse[i]);
      dlse = std::isnan(diff) ? INFINITY : std::max(dlse, diff);
    }
    EXPECT_LT(dout, kOutBound) << precision_name(p) << " heads " << heads << " splits " << splits;
    EXPECT_LT(dlse, kLseBound) << precision_name(p) << " heads " << heads << " splits " << splits;
  }
}

INSTANTIATE_TEST_SUITE_P(PrecisionsAndHeads, MlaCuda,
                         ::testing::Combine(::testing::Values(KvPrecision::kBf16,
                                                              KvPrecision::kFp8),
                                            ::testing::Values(128, 16, 20)),
                         [](const auto& param_info) {
                           return std::string(precision_name(std::get<0>(param_info.param))) +
                                  "_heads" + std::to_string(std::get<1>(param_info.param));
                         });

}  // namespace
