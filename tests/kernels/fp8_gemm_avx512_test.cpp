// SPDX-License-Identifier: Apache-2.0
// The CPU FP8 GEMM's AVX-512 register kernels on every CPU: fp8_gemm_avx512.inc (AVX-512F) and
// fp8_gemm_avx512bf16.inc (AVX512_BF16) compiled here without -mavx512* run SIMDe's portable code
// for the same source, checked against FP64 sums, and the BF16 kernel drives the whole GEMM on
// ragged shapes; where the CPU has the extension, the native builds (the ones fp8_gemm_cpu
// dispatches to) are checked the same way. Also B's x86 SIMD packing (fp8_gemm_cpu_pack_x86.h,
// AVX-512F and AVX2, where the CPU has them) against the table path's product, bit for bit.
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
#include "kernels/gemm/fp8_gemm_cpu_pack_bf16_x86.h"
#include "kernels/gemm/fp8_gemm_cpu_pack_x86.h"
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

// The tail kernel on `rows` (1 .. 12) rows gives the whole kernel's bits on those rows (the same
// chains of FMAs) and leaves the rows below untouched.
void check_tail(Fp32Kernel kernel, Fp32TailKernel tail) {
  constexpr std::int64_t kK = 300;
  const auto a = random_normal_matrix(kK, kAvx512Rows, 13);
  const auto b_data = random_normal_matrix(kK, kAvx512Cols, 14);
  std::vector<float> b_store(static_cast<size_t>(kK * kAvx512Cols + 16));
  float* b = b_store.data();
  while (reinterpret_cast<std::uintptr_t>(b) % 64 != 0) ++b;
  std::copy(b_data.begin(), b_data.end(), b);
  const auto c0 = random_normal_matrix(kAvx512Rows, kAvx512Cols, 15);
  std::vector<float> whole = c0;
  kernel(kK, a.data(), b, whole.data(), kAvx512Cols);
  for (std::int64_t rows = 1; rows <= kAvx512Rows; ++rows) {
    std::vector<float> part = c0;
    tail(kK, rows, a.data(), b, part.data(), kAvx512Cols);
    for (size_t i = 0; i < part.size(); ++i)
      ASSERT_EQ(part[i], static_cast<std::int64_t>(i) < rows * kAvx512Cols ? whole[i] : c0[i])
          << rows << " rows, output " << i;
  }
}

TEST(Fp8GemmAvx512, KernelThroughSimdePortableMeetsFp64) {
  for (std::int64_t kc : {1, 128, 300})
    for (std::int64_t col : {0, 48}) check_kernel(fp8_kernel_avx512f_simde, kc, col);
  check_split_is_exact(fp8_kernel_avx512f_simde, false);
  check_tail(fp8_kernel_avx512f_simde, fp8_kernel_avx512f_tail_simde);
}

TEST(Fp8GemmAvx512, NativeKernelMeetsFp64WhereTheCpuHasAvx512f) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU has no AVX-512F";
  for (std::int64_t kc : {1, 128, 300})
    for (std::int64_t col : {0, 48}) check_kernel(kernel_avx512f, kc, col);
  check_split_is_exact(kernel_avx512f, true);
  check_tail(kernel_avx512f, kernel_avx512f_tail);
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

// The BF16 tail on `rows` (1 .. kRows) rows gives the whole kernel's bits on those rows (the same
// chains) and leaves the rows below untouched.
void check_bf16_tail(Bf16Kernel kernel, Bf16TailKernel tail) {
  std::vector<std::uint16_t> a16(static_cast<size_t>(kRows * kBlockK)),
      b16(static_cast<size_t>(kBlockK * kTileN));
  std::uint64_t state = 77;
  auto code = [&state] {  // finite E4M3 values
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const auto c = static_cast<std::uint8_t>(state >> 56);
    return num::encode_bf16(num::decode_fp8(
        (c & 0x7f) == 0x7f ? static_cast<std::uint8_t>(c - 1) : c, num::Fp8Format::kE4M3));
  };
  for (auto& v : a16) v = code();
  for (auto& v : b16) v = code();
  const float row_scale[kRows] = {0.5f, 1.0f / 3, 2.0f, 1e-3f, 7.0f, 0.25f};
  const auto acc0 = random_normal_matrix(kRows, kTileN, 16);
  std::vector<float> whole = acc0;
  kernel(a16.data(), b16.data(), row_scale, 0.125f, whole.data());
  for (int rows = 1; rows <= kRows; ++rows) {
    std::vector<float> part = acc0;
    tail(rows, a16.data(), b16.data(), row_scale, 0.125f, part.data());
    for (std::int64_t r = 0; r < kRows; ++r)
      for (std::int64_t j = 0; j < kTileN; ++j) {
        const size_t i = static_cast<size_t>(r * kTileN + j);
        ASSERT_EQ(part[i], r < rows && j < kAvx512Cols ? whole[i] : acc0[i])
            << rows << " rows, row " << r << ", column " << j;
      }
  }
}

TEST(Fp8GemmAvx512Bf16, TailEqualsTheWholeKernelsRows) {
  check_bf16_tail(fp8_kernel_avx512bf16_simde, fp8_kernel_avx512bf16_tail_simde);
  if (cpu_has_avx512bf16()) check_bf16_tail(kernel_avx512bf16, kernel_avx512bf16_tail);
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
  // Each kernel without and with its tail (the last rows of 7, 193 and 64 are 1, 1 and 4).
  std::vector<std::pair<Bf16Kernel, Bf16TailKernel>> kernels = {
      {fp8_kernel_avx512bf16_simde, nullptr},
      {fp8_kernel_avx512bf16_simde, fp8_kernel_avx512bf16_tail_simde}};
  if (cpu_has_avx512bf16()) {
    kernels.emplace_back(kernel_avx512bf16, nullptr);
    kernels.emplace_back(kernel_avx512bf16, kernel_avx512bf16_tail);
  }
  for (const auto& [kernel, tail] : kernels) {
    std::vector<float> d(static_cast<size_t>(M * N), -1.0f);
    gemm::fp8_gemm_cpu_bf16(a, b, d.data(), 2, kernel, tail);
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t n = 0; n < N; ++n) {
        double magnitude = 0;
        for (std::int64_t k = 0; k < K; ++k)
          magnitude += std::fabs(double(da[static_cast<size_t>(m * K + k)]) *
                                 db[static_cast<size_t>(n * K + k)]);
        ASSERT_NEAR(d[static_cast<size_t>(m * N + n)], ref[static_cast<size_t>(m * N + n)],
                    double(K) * std::ldexp(1.0, -22) * magnitude + 1e-30)
            << "at " << m << "," << n << (kernel == kernel_avx512bf16 ? " (native)" : "")
            << (tail != nullptr ? " with the tail" : "");
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Ragged, Fp8GemmBf16Driver,
                         ::testing::Values(std::make_tuple(1, 1, 1), std::make_tuple(7, 65, 129),
                                           std::make_tuple(193, 130, 300),
                                           std::make_tuple(64, 200, 256),
                                           // Tasks of several panels (runs of 2 and of 9), the
                                           // next panel prefetched.
                                           std::make_tuple(5, 4497, 300),
                                           std::make_tuple(13, 19200, 128)));

#if defined(__x86_64__)
// One 128-deep block of a 64-row panel of B (codes at k 128 .. 255 of rows 384 codes long, every
// code of the format drawn, NaN and infinities included) packed by `pack` into micro-panels nr
// wide; each output must be the table path's float product decode_fp8(code) x scale, bit for bit
// (any NaN for a NaN).
using PackB = void (*)(const std::uint8_t*, std::int64_t, float, float*, std::int64_t,
                       std::int64_t);

void check_pack_b(PackB pack, num::Fp8Format format, std::int64_t nr, float scale) {
  constexpr std::int64_t kK = 384, kK0 = 128;
  std::vector<std::uint8_t> codes(static_cast<size_t>(kTileN * kK));
  std::uint64_t state = 99;
  for (auto& c : codes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<std::uint8_t>(state >> 56);
  }
  const std::int64_t stride = kBlockK * nr + 16;  // 64-byte multiple, not a power of two
  std::vector<float> store(static_cast<size_t>(kTileN / nr * stride + 16));
  float* bt = store.data();
  while (reinterpret_cast<std::uintptr_t>(bt) % 64 != 0) ++bt;
  pack(codes.data() + kK0, kK, scale, bt, nr, stride);
  for (std::int64_t j = 0; j < kTileN; ++j)
    for (std::int64_t k = 0; k < kBlockK; ++k) {
      const std::uint8_t c = codes[static_cast<size_t>(j * kK + kK0 + k)];
      const float want = num::decode_fp8(c, format) * scale;
      const float got = bt[(j / nr) * stride + k * nr + j % nr];
      if (std::isnan(want)) {
        ASSERT_TRUE(std::isnan(got)) << "code " << int(c) << ", scale " << scale;
        continue;
      }
      std::uint32_t gb, wb;
      std::memcpy(&gb, &got, 4);
      std::memcpy(&wb, &want, 4);
      ASSERT_EQ(gb, wb) << "code " << int(c) << " at row " << j << ", k " << k << ", scale "
                        << scale << ": " << got << " for " << want;
    }
}

using PackA = void (*)(const std::uint8_t*, std::int64_t, std::int64_t, const float*, float*,
                       std::int64_t, std::int64_t);

// 128 codes (k 128 .. 255 of rows 384 codes long, every code drawn) of each of `rows` rows packed
// by `pack` into an A micro-panel of mr rows: out[k x mr + r] must be decode_fp8(code) x scale[r],
// bit for bit (any NaN for a NaN), zero for r >= rows, and nothing written past the panel.
void check_pack_a(PackA pack, num::Fp8Format format, std::int64_t mr, std::int64_t rows) {
  constexpr std::int64_t kK = 384, kK0 = 128, kDepth = 128;
  std::vector<std::uint8_t> codes(static_cast<size_t>(rows * kK));
  std::uint64_t state = 7;
  for (auto& c : codes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<std::uint8_t>(state >> 56);
  }
  // Ordinary, subnormal, 0 and too large to fuse with 2^(127 - bias) (the two-multiply path).
  const float kScales[] = {0.37f, 1e-40f, 0.0f,  0x1p20f, 3.0f, 0.01f, 7.5f, 1e-3f,
                           0.5f,  2.0f,   1.25f, 0.1f,    4.0f, 8.0f,  0.2f, 0.3f};
  const float* scale = rows > 3 ? kScales : kScales + 4;  // few rows: all fuse
  std::vector<float> out(static_cast<size_t>(kDepth * mr + 16), -7.0f);
  pack(codes.data() + kK0, kK, rows, scale, out.data(), mr, kDepth);
  for (std::int64_t k = 0; k < kDepth; ++k)
    for (std::int64_t r = 0; r < mr; ++r) {
      const float got = out[static_cast<size_t>(k * mr + r)];
      if (r >= rows) {
        ASSERT_EQ(got, 0.0f) << "row " << r << " of " << rows;
        continue;
      }
      const std::uint8_t c = codes[static_cast<size_t>(r * kK + kK0 + k)];
      const float want = num::decode_fp8(c, format) * scale[r];
      if (std::isnan(want)) {
        ASSERT_TRUE(std::isnan(got)) << "code " << int(c);
        continue;
      }
      std::uint32_t gb, wb;
      std::memcpy(&gb, &got, 4);
      std::memcpy(&wb, &want, 4);
      ASSERT_EQ(gb, wb) << "code " << int(c) << " row " << r << ", k " << k << ", scale "
                        << scale[r];
    }
  for (size_t i = static_cast<size_t>(kDepth * mr); i < out.size(); ++i)
    ASSERT_EQ(out[i], -7.0f) << "written past the panel";
}

// Scales: ordinary, subnormal, 0, and so large that 2^(127 - bias) x scale overflows (E4M3 at
// 2^10, both formats at 2^20), which takes the two-multiply path.
constexpr float kPackScales[] = {0.37f, 1e-40f, 0.0f, 0x1p10f, 0x1p20f};

TEST(Fp8GemmPack, Avx512MatchesTheTableBitForBit) {
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU has no AVX-512F";
  using namespace cobench::gemm::cpu_pack;
  for (std::int64_t nr : {16, 32})
    for (float s : kPackScales) {
      check_pack_b(pack_b_avx512<false>, num::Fp8Format::kE4M3, nr, s);
      check_pack_b(pack_b_avx512<true>, num::Fp8Format::kE5M2, nr, s);
    }
  for (std::int64_t rows : {1, 3, 7, 12}) {
    check_pack_a(pack_a_avx512<false>, num::Fp8Format::kE4M3, 12, rows);
    check_pack_a(pack_a_avx512<true>, num::Fp8Format::kE5M2, 12, rows);
  }
}

// The BF16 driver's AVX-512BW packing (B also by VBMI byte permutes, where the CPU has them): every
// word the format's table entry (encode_bf16 of the decoded code, every code drawn), B in
// VDPBF16PS's pairs, zeros past the columns and the depth,
// nothing written past the block.
TEST(Fp8GemmPack, Bf16Avx512MatchesTheTableWordForWord) {
  using namespace cobench::gemm::cpu_pack;
  if (!bf16_pack_supported()) GTEST_SKIP() << "this CPU has no AVX-512BW";
  constexpr std::int64_t kK = 384, kK0 = 128, kGuard = 32, kPoison = 0xA5A5;
  std::vector<std::uint8_t> codes(static_cast<size_t>(kTileN * kK));
  std::uint64_t state = 5;
  for (auto& c : codes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<std::uint8_t>(state >> 56);
  }
  for (int c = 0; c < 256; ++c)
    codes[static_cast<size_t>(kK0 + c / 128 * kK + c % 128)] = static_cast<std::uint8_t>(c);
  for (auto format : {num::Fp8Format::kE4M3, num::Fp8Format::kE5M2}) {
    std::vector<std::uint16_t> table(256);
    for (int c = 0; c < 256; ++c)
      table[static_cast<size_t>(c)] =
          num::encode_bf16(num::decode_fp8(static_cast<std::uint8_t>(c), format));
    // The NaN codes' words carry no sign: E4M3 has one NaN magnitude, E5M2 three.
    const int odd = first_odd_magnitude(table.data());
    EXPECT_EQ(odd, format == num::Fp8Format::kE4M3 ? 0x7f : 0x7d);
    for (std::int64_t cols : {64, 17, 16, 1})
      for (std::int64_t depth : {128, 100, 32, 31, 1}) {
        for (auto pack : {pack_b_bf16_avx512, pack_b_bf16_vbmi}) {
          if (pack == pack_b_bf16_vbmi && !bf16_pack_vbmi_supported()) continue;
          std::vector<std::uint16_t> out(static_cast<size_t>(kBlockK * kTileN + kGuard), kPoison);
          pack(codes.data() + kK0, kK, cols, depth, table.data(), odd, out.data());
          for (std::int64_t j = 0; j < kTileN; ++j)
            for (std::int64_t k = 0; k < kBlockK; ++k) {
              const std::uint16_t want =
                  j < cols && k < depth ? table[codes[static_cast<size_t>(j * kK + kK0 + k)]] : 0;
              ASSERT_EQ(out[static_cast<size_t>((k / 2) * kTileN * 2 + j * 2 + k % 2)], want)
                  << "column " << j << " of " << cols << ", k " << k << " of " << depth
                  << (pack == pack_b_bf16_vbmi ? " (VBMI)" : "");
            }
          for (std::int64_t i = kBlockK * kTileN; i < kBlockK * kTileN + kGuard; ++i)
            ASSERT_EQ(out[static_cast<size_t>(i)], kPoison) << "written past the block";
        }
      }
    for (std::int64_t row = 0; row < 2; ++row)
      for (std::int64_t depth : {128, 100, 33, 1}) {
        std::vector<std::uint16_t> out(static_cast<size_t>(kBlockK + kGuard), kPoison);
        const std::uint8_t* c = codes.data() + row * kK + kK0;
        pack_a_bf16_avx512(c, depth, table.data(), odd, out.data());
        for (std::int64_t k = 0; k < kBlockK; ++k)
          ASSERT_EQ(out[static_cast<size_t>(k)], k < depth ? table[c[k]] : 0)
              << "row " << row << ", k " << k << " of " << depth;
        for (std::int64_t i = kBlockK; i < kBlockK + kGuard; ++i)
          ASSERT_EQ(out[static_cast<size_t>(i)], kPoison) << "written past the row";
      }
  }
}

TEST(Fp8GemmPack, Avx2MatchesTheTableBitForBit) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "this CPU has no AVX2+FMA";
  using namespace cobench::gemm::cpu_pack;
  for (std::int64_t nr : {8, 16})
    for (float s : kPackScales) {
      check_pack_b(pack_b_avx2<false>, num::Fp8Format::kE4M3, nr, s);
      check_pack_b(pack_b_avx2<true>, num::Fp8Format::kE5M2, nr, s);
    }
  for (std::int64_t rows : {1, 2, 6}) {
    check_pack_a(pack_a_avx2<false>, num::Fp8Format::kE4M3, 6, rows);
    check_pack_a(pack_a_avx2<true>, num::Fp8Format::kE5M2, 6, rows);
  }
}
#endif

TEST(Fp8GemmAvx512, DispatchNamesTheKernelThisCpuRuns) {
#if defined(__x86_64__)
  // AVX512_BF16 only where VDPBF16PS passes the speedup (Bf16DotPeak.Fp8GemmAutoFollowsTheSpeedup
  // checks that choice), else AVX-512F, else AVX2+FMA.
  const char* kernel = gemm::fp8_gemm_cpu_kernel();
  if (std::strcmp(kernel, "avx512-bf16") == 0) {
    EXPECT_TRUE(cpu_has_avx512bf16());
    return;
  }
  const char* want = __builtin_cpu_supports("avx512f")                                 ? "avx512f"
                     : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "avx2-fma"
                                                                                       : "portable";
  EXPECT_STREQ(kernel, want);
#else
  EXPECT_STREQ(gemm::fp8_gemm_cpu_kernel(), "portable");
#endif
}

}  // namespace
