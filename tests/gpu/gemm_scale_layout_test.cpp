// SPDX-License-Identifier: Apache-2.0
// cuBLASLt's block-scaling layouts built from QuantizedMatrix scales (no GPU needed; whether
// cuBLASLt reads them so is checked by gemm_cuda_test.cpp on a GPU).
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "kernels/gemm/cuda/scale_layout.h"

namespace {

using namespace cobench;

TEST(CublasLtScaleLayout, Vec128IsOuterDimensionMajor) {
  const std::int64_t M = 3, K = 300;  // 3 K blocks, the last partial
  const auto x = random_normal_matrix(M, K, 1);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto s = gemm::cuda::cublaslt_vec128_scales(a);
  ASSERT_EQ(s.size(), 9u);
  for (std::int64_t m = 0; m < M; ++m)
    for (std::int64_t kb = 0; kb < 3; ++kb) EXPECT_EQ(s[kb * M + m], a.scale_at(m, kb * 128));
}

TEST(CublasLtScaleLayout, Blk128RowsArePaddedToFourAndExtraBlocksAreOne) {
  const std::int64_t N = 200, K = 600;  // 2 x 5 blocks; rows of 8 after padding
  const auto w = random_normal_matrix(N, K, 2);
  const auto b =
      quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  EXPECT_EQ(gemm::cuda::cublaslt_blk128_ld(K), 8);
  const auto s = gemm::cuda::cublaslt_blk128_scales(b, 384);  // one padding block row
  ASSERT_EQ(s.size(), 3u * 8u);
  for (std::int64_t nb = 0; nb < 2; ++nb)
    for (std::int64_t kb = 0; kb < 5; ++kb)
      EXPECT_EQ(s[nb * 8 + kb], b.scale_at(nb * 128, kb * 128));
  for (std::int64_t kb = 0; kb < 5; ++kb) EXPECT_EQ(s[2 * 8 + kb], 1.0f);
  EXPECT_THROW(gemm::cuda::cublaslt_vec128_scales(b), Error);
}

}  // namespace
