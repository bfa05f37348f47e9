// SPDX-License-Identifier: Apache-2.0
// The CPU block-scaled FP8 GEMM (each register kernel the CPU has, one or two threads), its
// grouped form and the OpenBLAS baseline against the FP64 reference on ragged shapes (M, N, K not
// multiples of 128); the grouped GEMM's argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
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

constexpr gemm::CpuKernel kKernels[] = {gemm::CpuKernel::kAuto, gemm::CpuKernel::kPortable,
                                        gemm::CpuKernel::kAvx2Fma, gemm::CpuKernel::kAvx512f,
                                        gemm::CpuKernel::kAvx512Bf16};

// Each register kernel, forced, through the whole GEMM: kAuto alone runs only the best one the
// CPU has. Kernels the CPU lacks skip (the development VM has no AVX-512).
class Fp8GemmCpu
    : public ::testing::TestWithParam<std::tuple<std::tuple<int, int, int>, gemm::CpuKernel>> {};

TEST_P(Fp8GemmCpu, MatchesTheFp64Reference) {
  const auto [shape, kernel] = GetParam();
  const auto [M, N, K] = shape;
  if (!gemm::fp8_gemm_cpu_supports(kernel))
    GTEST_SKIP() << "this CPU cannot run the " << gemm::fp8_gemm_cpu_kernel_name(kernel)
                 << " kernel";
  const auto x = random_normal_matrix(M, K, 1), w = random_normal_matrix(N, K, 2);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto b = quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE4M3,
                                           quant::ScaleKind::kPowerOfTwo);
  std::vector<float> two(static_cast<size_t>(M * N), -1.0f), one(two.size(), -2.0f);
  gemm::fp8_gemm_cpu(a, b, two.data(), 2, kernel);
  gemm::fp8_gemm_cpu(a, b, one.data(), 1, kernel);
  expect_close(a, b, two);
  EXPECT_EQ(two, one);  // each output tile is computed by one thread, in one order
}

// "67x131x300_avx2_fma": the shape and the kernel.
std::string shape_and_kernel(
    const ::testing::TestParamInfo<std::tuple<std::tuple<int, int, int>, gemm::CpuKernel>>& p) {
  const auto& [shape, kernel] = p.param;
  std::string name = std::to_string(std::get<0>(shape)) + "x" + std::to_string(std::get<1>(shape)) +
                     "x" + std::to_string(std::get<2>(shape)) + "_";
  for (const char* c = gemm::fp8_gemm_cpu_kernel_name(kernel); *c != 0; ++c)
    name += *c == '-' ? '_' : *c;
  return name;
}

INSTANTIATE_TEST_SUITE_P(
    RaggedShapes, Fp8GemmCpu,
    ::testing::Combine(::testing::Values(std::tuple{1, 1, 1}, std::tuple{67, 131, 300},
                                         std::tuple{130, 64, 257}, std::tuple{64, 200, 128},
                                         std::tuple{129, 65, 384},
                                         // 256-wide N panels (M >= 768) over several row tiles
                                         std::tuple{781, 329, 260}),
                       ::testing::ValuesIn(kKernels)),
    shape_and_kernel);

// E5M2 operands through every kernel the CPU has: the FP32 kernels' SIMD B packing decodes codes
// arithmetically per format (fp8_gemm_cpu_pack_x86.h), here on full 64-column panels and full
// 128-deep K blocks as well as the ragged ends.
TEST(Fp8GemmCpu, E5m2OperandsMatchTheFp64Reference) {
  const std::int64_t M = 37, N = 150, K = 290;
  const auto x = random_normal_matrix(M, K, 11), w = random_normal_matrix(N, K, 12);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE5M2, quant::ScaleKind::kFp32);
  const auto b =
      quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE5M2, quant::ScaleKind::kFp32);
  for (gemm::CpuKernel kernel : kKernels) {
    if (!gemm::fp8_gemm_cpu_supports(kernel)) continue;
    SCOPED_TRACE(gemm::fp8_gemm_cpu_kernel_name(kernel));
    std::vector<float> d(static_cast<size_t>(M * N), -1.0f);
    gemm::fp8_gemm_cpu(a, b, d.data(), 2, kernel);
    expect_close(a, b, d);
  }
}

// A kernel the CPU lacks is an error, not an illegal instruction.
TEST(Fp8GemmCpu, RejectsAKernelTheCpuLacks) {
  const auto x = random_normal_matrix(4, 128, 1);
  const auto a =
      quant::quantize_per_token(x.data(), 4, 128, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto b =
      quant::quantize_per_block(x.data(), 4, 128, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  std::vector<float> d(16);
  int lacking = 0;
  for (gemm::CpuKernel kernel : kKernels) {
    if (gemm::fp8_gemm_cpu_supports(kernel)) continue;
    ++lacking;
    EXPECT_THROW(gemm::fp8_gemm_cpu(a, b, d.data(), 1, kernel), cobench::Error)
        << gemm::fp8_gemm_cpu_kernel_name(kernel);
    EXPECT_THROW(gemm::grouped_fp8_gemm_cpu(a, {b}, {4}, d.data(), 1, kernel), cobench::Error)
        << gemm::fp8_gemm_cpu_kernel_name(kernel);
  }
  if (lacking == 0) GTEST_SKIP() << "this CPU has every kernel";
}

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
  gemm::grouped_fp8_gemm_ref(a, b, counts, ref.data());
  const std::vector<float> da = quant::dequantize(a);
  for (gemm::CpuKernel kernel : kKernels) {  // every kernel this CPU has
    if (!gemm::fp8_gemm_cpu_supports(kernel)) continue;
    std::fill(d.begin(), d.end(), -1.0f);
    gemm::grouped_fp8_gemm_cpu(a, b, counts, d.data(), 2, kernel);
    // |D - ref| <= K x 2^-22 x sum_k |a_k b_k|, as for the plain GEMM.
    std::int64_t m = 0;
    for (size_t e = 0; e < counts.size(); ++e) {
      const std::vector<float> db = quant::dequantize(b[e]);
      for (std::int64_t end = m + counts[e]; m < end; ++m) {
        for (std::int64_t n = 0; n < N; ++n) {
          double magnitude = 0;
          for (std::int64_t k = 0; k < K; ++k)
            magnitude += std::fabs(static_cast<double>(da[m * K + k]) * db[n * K + k]);
          ASSERT_NEAR(d[m * N + n], ref[m * N + n], K * std::ldexp(1.0, -22) * magnitude + 1e-30)
              << gemm::fp8_gemm_cpu_kernel_name(kernel) << ": expert " << e << " token " << m
              << " column " << n;
        }
      }
    }
  }
  // The wrong number of tokens is an error.
  EXPECT_THROW(gemm::grouped_fp8_gemm_cpu(a, b, {1, 2, 3, 4, 5, 6}, d.data()), cobench::Error);
}

// Runs grouped_fp8_gemm_cpu and expects an Error whose message contains `what`.
void expect_grouped_rejected(const quant::QuantizedMatrix& a,
                             const std::vector<quant::QuantizedMatrix>& b,
                             const std::vector<std::int64_t>& counts, const std::string& what) {
  std::vector<float> d(static_cast<size_t>(a.rows * 64) + 1024);
  try {
    gemm::grouped_fp8_gemm_cpu(a, b, counts, d.data());
    ADD_FAILURE() << "accepted: " << what;
  } catch (const cobench::Error& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

// Experts of few tokens over many N panels: each task then runs several consecutive panels
// (prefetching the next one's codes, fp8_gemm_cpu_blocked.h), the last run and panel ragged. Each
// expert's rows equal its own plain GEMM bit for bit (the same FP32 chain per output) with one
// thread and with two (other task splits), and that GEMM meets the FP64 reference.
TEST(GroupedFp8Gemm, ExpertsOverManyPanelsEqualTheirOwnGemm) {
  const std::vector<std::int64_t> counts{13, 0, 40, 5};  // 58 tokens
  const std::int64_t M = 58, N = 64 * 33 + 17, K = 200;  // 34 panels of 64 columns
  const auto x = random_normal_matrix(M, K, 21);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  std::vector<quant::QuantizedMatrix> b;
  for (size_t e = 0; e < counts.size(); ++e) {
    const auto w = random_normal_matrix(N, K, 30 + static_cast<unsigned>(e));
    b.push_back(
        quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32));
  }
  for (gemm::CpuKernel kernel : kKernels) {  // every kernel this CPU has
    if (!gemm::fp8_gemm_cpu_supports(kernel)) continue;
    SCOPED_TRACE(gemm::fp8_gemm_cpu_kernel_name(kernel));
    std::vector<float> two(static_cast<size_t>(M * N), -1.0f), one(two.size(), -2.0f);
    gemm::grouped_fp8_gemm_cpu(a, b, counts, two.data(), 2, kernel);
    gemm::grouped_fp8_gemm_cpu(a, b, counts, one.data(), 1, kernel);
    EXPECT_EQ(two, one);
    std::int64_t m0 = 0;
    for (size_t e = 0; e < counts.size(); m0 += counts[e++]) {
      if (counts[e] == 0) continue;
      // The expert's tokens alone: per-token scales, so the same codes and scales as in `a`.
      const auto ae = quant::quantize_per_token(x.data() + m0 * K, counts[e], K,
                                                num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
      std::vector<float> own(static_cast<size_t>(counts[e] * N));
      gemm::fp8_gemm_cpu(ae, b[e], own.data(), 1, kernel);
      expect_close(ae, b[e], own);
      EXPECT_TRUE(std::equal(own.begin(), own.end(), two.begin() + m0 * N)) << "expert " << e;
    }
  }
}

TEST(GroupedFp8Gemm, RejectsBadCountsAndMixedFormats) {
  const std::int64_t M = 10, N = 64, K = 128;
  const auto x = random_normal_matrix(M, K, 5), w = random_normal_matrix(N, K, 6);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto e4m3 =
      quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto e5m2 =
      quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE5M2, quant::ScaleKind::kFp32);
  // Counts that cover fewer or more rows than A has; a negative count even when the sum fits.
  expect_grouped_rejected(a, {e4m3, e4m3}, {4, 4}, "token counts sum to 8, A has 10 rows");
  expect_grouped_rejected(a, {e4m3, e4m3}, {4, 7}, "token counts sum to 11, A has 10 rows");
  expect_grouped_rejected(a, {e4m3, e4m3}, {-2, 12}, "expert 0 has -2 tokens");
  // The CPU GEMM decodes every expert with one table: experts must share the FP8 format.
  expect_grouped_rejected(a, {e4m3, e4m3, e5m2}, {3, 3, 4},
                          "expert 2 is E5M2, expert 0 is E4M3: every expert must have the same "
                          "FP8 format");
  // ... and the scale layout (128 x 128 blocks).
  const auto per_token =
      quant::quantize_per_token(w.data(), N, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  expect_grouped_rejected(a, {e4m3, per_token}, {5, 5},
                          "B must be quantized per block (128 x 128)");
  // All E5M2 experts are fine (A's format may differ from theirs).
  std::vector<float> d(static_cast<size_t>(M * N));
  EXPECT_NO_THROW(gemm::grouped_fp8_gemm_cpu(a, {e5m2, e5m2}, {3, 7}, d.data()));
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
