// SPDX-License-Identifier: Apache-2.0
// The CUDA split-KV MLA decode (tensor-core and SIMT split kernels) and its combine step against
// the FP64 paged reference, on BF16 and FP8 caches with ragged lengths (1, 31, 32, 33, 63, 64, 65,
// 4097: the tensor-core kernel's 32-token tiles and the 64-token pages) and 1, 4 and 70 splits
// (more splits than a short sequence has tokens: empty splits). Skips, with the runtime's reason,
// where there is no CUDA device.
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
#include "kernels/numerics/fp8.h"

namespace {

using namespace cobench::mla;

using cuda::GpuKernel;

// FP32 arithmetic with fast exponentials vs FP64 over the same cache: out relative to the largest
// |out| of its sequence, lse absolute.
constexpr double kOutBound = 1e-4, kLseBound = 1e-4;
// The tensor-core kernel rounds each P to BF16 (relative error <= 2^-8, after the FP8 scale is
// multiplied in) and the reference takes the same BF16 q: out_j moves by at most
// 2^-8 x sum_t softmax_t |v_tj| (the reference's magnitude); the bound allows twice that, plus
// kOutBound for the FP32 accumulation (the scores do not see P's rounding: lse keeps kLseBound).
constexpr double kPRounding = 0x1p-7;

// q as the tensor-core kernel reads it: each value rounded to BF16.
std::vector<float> bf16_rounded(const std::vector<float>& q) {
  std::vector<float> r(q.size());
  for (size_t i = 0; i < q.size(); ++i)
    r[i] = cobench::num::decode_bf16(cobench::num::encode_bf16(q[i]));
  return r;
}

// Kernel x precision x query heads: 128 (DeepSeek-V3), 16 (128 over TP8) and 20 (a warp's, and
// a tensor-core tile's, last heads partly empty).
class MlaCuda : public ::testing::TestWithParam<std::tuple<GpuKernel, KvPrecision, int>> {};

TEST_P(MlaCuda, SplitKvMeetsTheReference) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  const GpuKernel kernel = std::get<0>(GetParam());
  const KvPrecision p = std::get<1>(GetParam());
  const std::int64_t heads = std::get<2>(GetParam());
  const bool tc = kernel == GpuKernel::kTensorCore;
  const std::vector<std::int64_t> lengths{1, 31, 32, 33, 63, 64, 65, 4097};
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
  const std::vector<float> q_ref = tc ? bf16_rounded(q) : q;
  const DecodeRef ref = mla_decode_ref(cache, {q_ref.begin(), q_ref.end()}, heads, scale);
  const std::vector<double> mag = tc ? ref.magnitude : std::vector<double>(ref.out.size());
  const size_t per_seq = static_cast<size_t>(heads * kVDims);
  std::vector<double> largest(lengths.size(), 0.0);  // per sequence
  for (size_t i = 0; i < ref.out.size(); ++i)
    largest[i / per_seq] = std::max(largest[i / per_seq], std::fabs(ref.out[i]));
  for (int splits : {1, 4, 70}) {
    std::vector<float> out, lse;
    cuda::mla_decode_cuda_host(kernel, cache, q, heads, static_cast<float>(scale), splits, out,
                               lse);
    ASSERT_EQ(out.size(), ref.out.size());
    double dout = 0, dlse = 0;  // deviation over the bound: the test needs < 1
    for (size_t i = 0; i < out.size(); ++i) {
      const double allowed = kOutBound * largest[i / per_seq] + kPRounding * mag[i];
      const double diff = std::fabs(out[i] - ref.out[i]) / allowed;
      dout = std::isnan(diff) ? INFINITY : std::max(dout, diff);
    }
    for (size_t i = 0; i < lse.size(); ++i) {
      const double diff = std::fabs(lse[i] - ref.lse[i]);
      dlse = std::isnan(diff) ? INFINITY : std::max(dlse, diff);
    }
    const std::string what = std::string(cuda::gpu_kernel_name(kernel)) + " " + precision_name(p) +
                             " heads " + std::to_string(heads) + " splits " +
                             std::to_string(splits);
    EXPECT_LT(dout, 1.0) << what << ": out error over its bound";
    EXPECT_LT(dlse, kLseBound) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(
    KernelsPrecisionsAndHeads, MlaCuda,
    ::testing::Combine(::testing::Values(GpuKernel::kTensorCore, GpuKernel::kSimt),
                       ::testing::Values(KvPrecision::kBf16, KvPrecision::kFp8),
                       ::testing::Values(128, 16, 20)),
    [](const auto& param_info) {
      return std::string(cuda::gpu_kernel_name(std::get<0>(param_info.param))) + "_" +
             precision_name(std::get<1>(param_info.param)) + "_heads" +
             std::to_string(std::get<2>(param_info.param));
    });

}  // namespace
