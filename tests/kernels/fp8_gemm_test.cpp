// SPDX-License-Identifier: Apache-2.0
// The CPU block-scaled FP8 GEMM (both kernels, any thread count) and the OpenBLAS baseline
// against the FP64 reference on ragged shapes (M, N, K not multiples of 128).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "kernels/gemm/fp8_gemm.h"
#if COBENCH_HAVE_OPENBLAS
#include "kernels/gemm/sgemm_openblas.h"
#endif

namespace {

using namespace cobench;

// |D - ref| <= K x 2^-22 x sum_k |a_k b_k|: FP32 accumulation of exact products.
void expect_close(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b,
                  const std::vector<float>& d) {
  const std::vector<float> da = quant::dequantize(a), db = quant::dequantize(b);
  const std::int64_t M = a.rows, N = b.rows, K = a.cols;
  for (std::int64_t m = 0; m < M; ++m) {
    for (std::int64_t n = 0; n < N; ++n) {
      double ref = 0, magnitude = 0;
      for (std::int64_t k = 0; k < K; ++k) {
        const double p = static_cast<double>(da[m * K + k]) * db[n * K + k];
        ref += p;
        magnitude += std::fabs(p);
      }
      ASSERT_NEAR(d[m * N + n], ref,
                  static_cast<double>(K) * std::ldexp(1.0, -22) * magnitude + 1e-30)
          << "at " << m << "," << n;
      // dequantize() rounds decode x scale to float; the reference keeps it exact in double.
      EXPECT_NEAR(ref, gemm::fp8_gemm_ref_at(a, b, m, n), std::ldexp(1.0, -22) * magnitude);
    }
  }
}

class Fp8GemmCpu : public ::testing::TestWithParam<std::tuple<int, int, int>> {};

TEST_P(Fp8GemmCpu, MatchesTheFp64Reference) {
  const auto [M, N, K] = GetParam();
  const auto x = random_normal_matrix(M, K, 1), w = random_normal_matrix(N, K, 2);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto b = quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE4M3,
                                           quant::ScaleKind::kPowerOfTwo);
  std::vector<float> fast(static_cast<size_t>(M * N)), portable(fast.size()), one(fast.size());
  gemm::fp8_gemm_cpu(a, b, fast.data());
  gemm::fp8_gemm_cpu(a, b, portable.data(), 2, gemm::CpuKernel::kPortable);
  gemm::fp8_gemm_cpu(a, b, one.data(), 1);
  expect_close(a, b, fast);
  expect_close(a, b, portable);
  EXPECT_EQ(fast, one);  // each output tile is computed by one thread, in one order
}

INSTANTIATE_TEST_SUITE_P(RaggedShapes, Fp8GemmCpu,
                         ::testing::Values(std::tuple{1, 1, 1}, std::tuple{67, 131, 300},
                                           std::tuple{130, 64, 257}, std::tuple{64, 200, 128},
                                           std::tuple{129, 65, 384}));

TEST(Fp8GemmCpu, RejectsMismatchedOperands) {
  const auto x = random_normal_matrix(4, 256, 1), w = random_normal_matrix(4, 128, 2);
  const auto a =
      quant::quantize_per_token(x.data(), 4, 256, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto b =
      quant::quantize_per_block(w.data(), 4, 128, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  std::vector<float> d(16);
  EXPECT_THROW(gemm::fp8_gemm_cpu(a, b, d.data()), cobench::Error);
}

TEST(GroupedFp8Gemm, UnevenAndEmptyExpertsMatchTheReference) {
  const std::vector<std::int64_t> counts{0, 1, 130, 7, 0, 200};  // 338 tokens, 6 experts
  const std::int64_t M = 338, N = 96, K = 200;
  const auto x = random_normal_matrix(M, K, 5);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  std::vector<quant::QuantizedMatrix> b;
  for (size_t e = 0; e < counts.size(); ++e) {
    const auto w = random_normal_matrix(N, K, 10 + static_cast<unsigned>(e));
    b.push_back(quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE4M3,
                                          quant::ScaleKind::kPowerOfTwo));
  }
  std::vector<float> d(static_cast<size_t>(M * N));
  std::vector<double> ref(d.size());
  gemm::grouped_fp8_gemm_cpu(a, b, counts, d.data());
  gemm::grouped_fp8_gemm_ref(a, b, counts, ref.data());
  // |D - ref| <= K x 2^-22 x sum_k |a_k b_k|, as for the plain GEMM.
  const std::vector<float> da = quant::dequantize(a);
  std::int64_t m = 0;
  for (size_t e = 0; e < counts.size(); ++e) {
    const std::vector<float> db = quant::dequantize(b[e]);
    for (std::int64_t end = m + counts[e]; m < end; ++m) {
      for (std::int64_t n = 0; n < N; ++n) {
        double magnitude = 0;
        for (std::int64_t k = 0; k < K; ++k)
          magnitude += std::fabs(static_cast<double>(da[m * K + k]) * db[n * K + k]);
        ASSERT_NEAR(d[m * N + n], ref[m * N + n], K * std::ldexp(1.0, -22) * magnitude + 1e-30)
            << "expert " << e << " token " << m << " column " << n;
      }
    }
  }
  // The wrong number of tokens is an error.
  EXPECT_THROW(gemm::grouped_fp8_gemm_cpu(a, b, {1, 2, 3, 4, 5, 6}, d.data()), cobench::Error);
}

#if COBENCH_HAVE_OPENBLAS
TEST(SgemmOpenBlas, MatchesTheFp64Reference) {
  const int M = 67, N = 131, K = 300;
  const auto a = random_normal_matrix(M, K, 3), b = random_normal_matrix(N, K, 4);
  std::vector<float> c(static_cast<size_t>(M * N));
  gemm::sgemm_openblas(a.data(), b.data(), c.data(), M, N, K);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double ref = 0, magnitude = 0;
      for (int k = 0; k < K; ++k) {
        ref += static_cast<double>(a[m * K + k]) * b[n * K + k];
        magnitude += std::fabs(static_cast<double>(a[m * K + k]) * b[n * K + k]);
      }
      ASSERT_NEAR(c[m * N + n], ref, K * std::ldexp(1.0, -22) * magnitude) << m << "," << n;
    }
}
#endif

}  // namespace
