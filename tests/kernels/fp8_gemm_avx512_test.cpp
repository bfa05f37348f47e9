// SPDX-License-Identifier: Apache-2.0
// The CPU FP8 GEMM's AVX-512 register kernels on every CPU: fp8_gemm_avx512.inc (AVX-512F) and
// fp8_gemm_avx512bf16.inc (AVX512_BF16) compiled here without -mavx512* run SIMDe's portable code
// for the same source, checked against FP64 sums, and the BF16 kernel drives the whole GEMM on
// ragged shapes; where the CPU has the extension, the native builds (the ones fp8_gemm_cpu
// dispatches to) are checked the same way.
#include <simde/x86/avx512.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

#include "core/random.h"
#include "kernels/gemm/fp8_gemm.h"
#include "kernels/gemm/fp8_gemm_cpu_tile.h"
#include "kernels/numerics/fp8.h"
#include "kernels/quant/fine_grained.h"

#include "kernels/gemm/fp8_gemm_avx512.inc"
#include "kernels/gemm/fp8_gemm_avx512bf16.inc"

namespace {

using namespace cobench;
using namespace cobench::gemm::cpu_tile;

// Runs `kernel` on one register block (12 rows x 32 at column offset `col` of 12 rows of 80,
// ldc 80) over kc products, from an A micro-panel (a[k][r]) and a B micro-panel (b[k][j], 64-byte
// aligned), and checks every output against c + sum_k a b in FP64 within FP32 accumulation's
// bound (kc + 1 roundings of at most 2^-24 relative each, on the magnitudes), and that the other
// columns are untouched.
void check_kernel(Fp32Kernel kernel, std::int64_t kc, std::int64_t col) {
  constexpr std::int64_t kLdc = 80;
  const auto a = random_normal_matrix(kc, kAvx512Rows, 7);
  const auto b_data = random_normal_matrix(kc, kAvx512Cols, 8);
  std::vector<float> b_store(static_cast<size_t>(kc * kAvx512Cols + 16));
  float* b = b_store.data();
  while (reinterpret_cast<std::uintptr_t>(b) % 64 != 0) ++b;
  std::copy(b_data.begin(), b_data.end(), b);
  const auto c0 = random_normal_matrix(kAvx512Rows, kLdc, 9);
  std::vector<float> c = c0;
  kernel(kc, a.data(), b, c.data() + col, kLdc);
  for (int r = 0; r < kAvx512Rows; ++r)
    for (std::int64_t j = 0; j < kLdc; ++j) {
      const float got = c[static_cast<size_t>(r * kLdc + j)];
      const double start = c0[static_cast<size_t>(r * kLdc + j)];
      if (j < col || j >= col + kAvx512Cols) {
        ASSERT_EQ(got, static_cast<float>(start)) << "column " << j << " outside the block";
        continue;
      }
      double want = start, magnitude = std::fabs(start);
      for (std::int64_t k = 0; k < kc; ++k) {
        const double p =
            double(a[static_cast<size_t>(k * kAvx512Rows + r)]) * b[k * kAvx512Cols + (j - col)];
        want += p;
        magnitude += std::fabs(p);
      }
      ASSERT_NEAR(got, want, double(kc + 1) * std::ldexp(1.0, -24) * magnitude)
          << "row " << r << ", column " << j << ", kc " << kc;
    }
}

// The same products summed in order of k give the same bits however the depth is split into calls
// (the driver runs the kernel a kc slice at a time); `fused`: and each output is the chain of FMAs
// in order of k, replayed in scalar std::fma (the native kernel; SIMDe's portable FMA may round
// twice).
void check_split_is_exact(Fp32Kernel kernel, bool fused) {
  constexpr std::int64_t kK = 300, kSplit = 128;
  const auto a = random_normal_matrix(kK, kAvx512Rows, 11);
  const auto b_data = random_normal_matrix(kK, kAvx512Cols, 12);
  std::vector<float> b_store(static_cast<size_t>(kK * kAvx512Cols + 16));
  float* b = b_store.data();
  while (reinterpret_cast<std::uintptr_t>(b) % 64 != 0) ++b;
  std::copy(b_data.begin(), b_data.end(), b);
  std::vector<float> whole(kAvx512Rows * kAvx512Cols, 0.0f), split = whole;
  kernel(kK, a.data(), b, whole.data(), kAvx512Cols);
  kernel(kSplit, a.data(), b, split.data(), kAvx512Cols);
  kernel(kK - kSplit, a.data() + kSplit * kAvx512Rows, b + kSplit * kAvx512Cols, split.data(),
         kAvx512Cols);
  for (size_t i = 0; i < whole.size(); ++i) {
    ASSERT_EQ(whole[i], split[i]) << "output " << i;
    if (!fused) continue;
    const std::int64_t r = static_cast<std::int64_t>(i) / kAvx512Cols,
                       j = static_cast<std::int64_t>(i) % kAvx512Cols;
    float s = 0.0f;
    for (std::int64_t k = 0; k < kK; ++k)
      s = std::fma(a[static_cast<size_t>(k * kAvx512Rows + r)], b[k * kAvx512Cols + j], s);
    ASSERT_EQ(whole[i], s) << "output " << i;
  }
}

TEST(Fp8GemmAvx512, KernelThroughSimdePortableMeetsFp64) {
  for (std::int64_t kc : {1, 128, 300})
    for (std::int64_t col : {0, 48}) check_kernel(fp8_kernel_avx512f_simde, kc, col);
  check_split_is_exact(fp8_kernel_avx512f_simde, false);
}

TEST(Fp8GemmAvx512, NativeKernelMeetsFp64WhereTheCpuHasAvx512f) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU has no AVX-512F";
  for (std::int64_t kc : {1, 128, 300})
    for (std::int64_t col : {0, 48}) check_kernel(kernel_avx512f, kc, col);
  check_split_is_exact(kernel_avx512f, true);
#else
  GTEST_SKIP() << "not an x86-64 CPU";
#endif
}

bool cpu_has_avx512bf16() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

// The BF16 kernel on one register block of unscaled E4M3 codes (random, finite) with per-row
// and block scales, against (row scale x block scale) x the FP64 sum plus the starting acc.
void check_bf16_kernel(Bf16Kernel kernel, std::int64_t col) {
  std::uint64_t state = 12345;
  auto next_code = [&state] {  // E4M3 codes without NaN (0x7f, 0xff)
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const auto c = static_cast<std::uint8_t>(state >> 56);
    return (c & 0x7f) == 0x7f ? static_cast<std::uint8_t>(c - 1) : c;
  };
  auto value = [](std::uint8_t c) { return num::decode_fp8(c, num::Fp8Format::kE4M3); };
  std::vector<std::uint8_t> ac(static_cast<size_t>(kRows * kBlockK)),
      bc(static_cast<size_t>(kBlockK * kTileN));  // bc[k][j] = B^T
  for (auto& c : ac) c = next_code();
  for (auto& c : bc) c = next_code();
  std::vector<std::uint16_t> a16(ac.size()), b16(bc.size());
  for (size_t i = 0; i < ac.size(); ++i) a16[i] = num::encode_bf16(value(ac[i]));
  for (std::int64_t k = 0; k < kBlockK; ++k)
    for (std::int64_t j = 0; j < kTileN; ++j)
      b16[static_cast<size_t>((k / 2) * kTileN * 2 + j * 2 + k % 2)] =
          num::encode_bf16(value(bc[static_cast<size_t>(k * kTileN + j)]));
  const float row_scale[kRows] = {0.5f, 1.0f / 3, 2.0f, 1e-3f, 7.0f, 0.0f};
  const float block_scale = 0.0625f;
  const auto acc0 = random_normal_matrix(kRows, kTileN, 10);
  std::vector<float> acc = acc0;
  kernel(a16.data(), b16.data() + col * 2, row_scale, block_scale, acc.data() + col);
  for (int r = 0; r < kRows; ++r)
    for (std::int64_t j = 0; j < kTileN; ++j) {
      const float got = acc[static_cast<size_t>(r * kTileN + j)];
      const double start = acc0[static_cast<size_t>(r * kTileN + j)];
      if (j < col || j >= col + kAvx512Cols) {
        ASSERT_EQ(got, static_cast<float>(start)) << "column " << j << " outside the block";
        continue;
      }
      double sum = 0, magnitude = 0;  // products of FP8 values: exact in FP32 and in double
      for (std::int64_t k = 0; k < kBlockK; ++k) {
        const double p = double(value(ac[static_cast<size_t>(r * kBlockK + k)])) *
                         value(bc[static_cast<size_t>(k * kTileN + j)]);
        sum += p;
        magnitude += std::fabs(p);
      }
      const double s = double(row_scale[r] * block_scale);
      const double want = start + s * sum;
      // kBlockK FP32 additions in the partial sum, the scale product, the final FMA.
      const double bound = double(kBlockK + 2) * std::ldexp(1.0, -24) * (s * magnitude) +
                           std::ldexp(1.0, -24) * std::fabs(want);
      ASSERT_NEAR(got, want, bound) << "row " << r << ", column " << j;
    }
}

TEST(Fp8GemmAvx512Bf16, KernelThroughSimdePortableMeetsFp64) {
  for (std::int64_t col : {0, 32}) check_bf16_kernel(fp8_kernel_avx512bf16_simde, col);
}

TEST(Fp8GemmAvx512Bf16, NativeKernelMeetsFp64WhereTheCpuHasAvx512Bf16) {
  if (!cpu_has_avx512bf16()) GTEST_SKIP() << "this CPU has no AVX512_BF16";
  for (std::int64_t col : {0, 32}) check_bf16_kernel(kernel_avx512bf16, col);
}

// The whole GEMM through the BF16 driver (codes and scales packed per K block) on ragged shapes:
// |D - ref| <= K x 2^-22 x sum_k |a_k b_k|, the bound of the FP32 kernels (fp8_gemm_test.cpp).
class Fp8GemmBf16Driver : public ::testing::TestWithParam<std::tuple<int, int, int>> {};

TEST_P(Fp8GemmBf16Driver, MatchesTheFp64Reference) {
  const auto [M, N, K] = GetParam();
  const auto x = random_normal_matrix(M, K, 3), w = random_normal_matrix(N, K, 4);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto b =
      quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  std::vector<double> ref(static_cast<size_t>(M * N));
  gemm::fp8_gemm_ref(a, b, ref.data());
  const std::vector<float> da = quant::dequantize(a), db = quant::dequantize(b);
  std::vector<Bf16Kernel> kernels = {fp8_kernel_avx512bf16_simde};
  if (cpu_has_avx512bf16()) kernels.push_back(kernel_avx512bf16);
  for (Bf16Kernel kernel : kernels) {
    std::vector<float> d(static_cast<size_t>(M * N), -1.0f);
    gemm::fp8_gemm_cpu_bf16(a, b, d.data(), 2, kernel);
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t n = 0; n < N; ++n) {
        double magnitude = 0;
        for (std::int64_t k = 0; k < K; ++k)
          magnitude += std::fabs(double(da[static_cast<size_t>(m * K + k)]) *
                                 db[static_cast<size_t>(n * K + k)]);
        ASSERT_NEAR(d[static_cast<size_t>(m * N + n)], ref[static_cast<size_t>(m * N + n)],
                    double(K) * std::ldexp(1.0, -22) * magnitude + 1e-30)
            << "at " << m << "," << n << (kernel == kernel_avx512bf16 ? " (native)" : "");
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Ragged, Fp8GemmBf16Driver,
                         ::testing::Values(std::make_tuple(1, 1, 1), std::make_tuple(7, 65, 129),
                                           std::make_tuple(193, 130, 300),
                                           std::make_tuple(64, 200, 256)));

TEST(Fp8GemmAvx512, DispatchNamesTheKernelThisCpuRuns) {
#if defined(__x86_64__)
  // AVX-512F first: the BF16 kernel is slower where measured (fp8_gemm_cpu.cpp), forced only.
  const char* want = __builtin_cpu_supports("avx512f")                                 ? "avx512f"
                     : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "avx2-fma"
                                                                                       : "portable";
  EXPECT_STREQ(gemm::fp8_gemm_cpu_kernel(), want);
#else
  EXPECT_STREQ(gemm::fp8_gemm_cpu_kernel(), "portable");
#endif
}

}  // namespace
