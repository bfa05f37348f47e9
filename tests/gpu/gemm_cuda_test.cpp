// SPDX-License-Identifier: Apache-2.0
// Every CUDA GEMM path against the FP64 reference on ragged shapes (M = 1, 127, 129, 300;
// N = 129; K = 128, 200, 4096), cobench's kernel in both tile codes (mma.sync; WGMMA on sm_90)
// at promotion intervals 128, 32, 96, 256 and 0, the grouped GEMM against grouped_fp8_gemm_ref,
// and the accumulator probe. Skips with the runtime's reason where there is no CUDA device (the
// argument checks, which come before any CUDA call, run everywhere).
//
// Bound: |D - D_ref| <= 2^-9 sum_k |a_k b_k| for every output (FP32 accumulation with promotion
// keeps well inside it; without promotion only the error is recorded, bounded at 2^-5).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/cuda/device_check.h"
#include "core/error.h"
#include "core/random.h"
#include "kernels/gemm/accumulator_model.h"
#include "kernels/gemm/cuda/accumulator_probe.h"
#include "kernels/gemm/cuda/cublaslt_gemm.h"
#include "kernels/gemm/cuda/device_fp8.h"
#include "kernels/gemm/cuda/fp8_block_gemm.h"
#include "kernels/gemm/cuda/scale_layout.h"
#include "kernels/gemm/fp8_gemm.h"

namespace {

using namespace cobench;
namespace gc = gemm::cuda;

// A device this build compiled kernels for (CMAKE_CUDA_ARCHITECTURES), and one the kernels were
// written for: sm_90a and sm_100a (arch-specific code does not JIT to others).
#define SKIP_WITHOUT_DEVICE()                                                     \
  do {                                                                            \
    const std::string why = ::cobench::cuda_device_unsupported();                 \
    if (!why.empty()) GTEST_SKIP() << why;                                        \
    const int cc = gc::cuda_compute_capability();                                 \
    if (cc != 90 && cc != 100)                                                    \
      GTEST_SKIP() << "written for sm_90a and sm_100a; this device is sm_" << cc; \
  } while (0)

constexpr double kBound = 1.0 / 512;
// When cuBLASLt can only write D in BF16, its rounding (half an ulp: at most 2^-8 |D|, and
// |D| <= sum |ab|) adds to the accumulation bound.
double lt_bound(const gc::LtMatmul& lt) {
  return lt.description().find("BF16 output") != std::string::npos ? kBound + 1.0 / 256 : kBound;
}

struct Problem {
  std::int64_t m, n, k;
  quant::QuantizedMatrix a, b;
  std::vector<double> ref, mag;  // [M, N]: FP64 result and sum |a b|
};

// sum_k |a b| of the dequantized operands, [M, N].
std::vector<double> magnitudes(const std::vector<float>& a, const std::vector<float>& b,
                               std::int64_t m, std::int64_t n, std::int64_t k) {
  std::vector<double> mag(static_cast<size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::int64_t p = 0; p < k; ++p) s += std::fabs(double(a[i * k + p]) * b[j * k + p]);
      mag[i * n + j] = s;
    }
  return mag;
}

Problem make_problem(std::int64_t m, std::int64_t n, std::int64_t k) {
  Problem p{m, n, k, {}, {}, {}, {}};
  const auto x = random_normal_matrix(m, k, 11), w = random_normal_matrix(n, k, 12);
  p.a = quant::quantize_per_token(x.data(), m, k, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  p.b = quant::quantize_per_block(w.data(), n, k, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  p.ref.resize(static_cast<size_t>(m * n));
  gemm::fp8_gemm_ref(p.a, p.b, p.ref.data());
  p.mag = magnitudes(quant::dequantize(p.a), quant::dequantize(p.b), m, n, k);
  return p;
}

// Largest |got - ref| / mag over [M, N]; `got` has row length `ldd` >= N.
double worst_error(const std::vector<float>& got, std::int64_t ldd, const std::vector<double>& ref,
                   const std::vector<double>& mag, std::int64_t m, std::int64_t n) {
  double worst = 0;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      const double e = std::fabs(double(got[i * ldd + j]) - ref[i * n + j]);
      worst = std::max(worst, e / std::max(mag[i * n + j], 1e-30));
    }
  return worst;
}

// cobench's tile codes this device runs: mma.sync everywhere, WGMMA on sm_90.
std::vector<gc::Fp8GemmKernel> our_kernels() {
  std::vector<gc::Fp8GemmKernel> k = {gc::Fp8GemmKernel::kMmaSync};
  if (gc::cuda_compute_capability() == 90) k.push_back(gc::Fp8GemmKernel::kWgmma);
  return k;
}

std::int64_t round_up(std::int64_t x, std::int64_t to) { return (x + to - 1) / to * to; }

class GemmCuda : public testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(GemmCuda, BlockScaledKernelMeetsFp64) {
  SKIP_WITHOUT_DEVICE();
  const auto [m, k] = GetParam();
  const Problem p = make_problem(m, 129, k);
  const auto a = gc::upload_fp8(p.a), b = gc::upload_fp8(p.b);
  for (gc::Fp8GemmKernel kernel : our_kernels())
    for (int promote : {128, 32, 96, 256, 0}) {
      gc::DeviceBuffer<float> d(static_cast<size_t>(p.m * p.n));
      gc::fp8_gemm_cuda(a, b, d.get(), {promote, kernel});
      const double e = worst_error(d.download(), p.n, p.ref, p.mag, p.m, p.n);
      const std::string name = kernel == gc::Fp8GemmKernel::kWgmma ? "wgmma" : "mma_sync";
      RecordProperty(name + "_promote_" + std::to_string(promote) + "_error", std::to_string(e));
      EXPECT_LE(e, promote == 0 ? 1.0 / 32 : kBound)
          << gc::fp8_gemm_kernel_name(kernel) << ", promote_interval " << promote;
    }
}

// cuBLASLt block-scaled, a test of its own: its scale layouts (scale_layout.h) are an assumption
// this test confirms, and a refusal or another layout must not hide cobench's kernels' verdict.
TEST_P(GemmCuda, CublasLtBlockScaledMeetsFp64) {
  SKIP_WITHOUT_DEVICE();
  const auto [m, k] = GetParam();
  const Problem p = make_problem(m, 129, k);
  const auto a = gc::upload_fp8(p.a);
  // N padded to 16 (zero rows), D [M, padded N]. VEC128_32F and BLK128x128_32F exist on sm_90
  // only (Blackwell scales blocks of 32 with UE8M0 instead).
  if (gc::cuda_compute_capability() != 90) {
    GTEST_SKIP() << "cuBLASLt's VEC128/BLK128x128 scaling is sm_90 only";
  }
  const std::int64_t np = round_up(p.n, 16);
  const auto bp = gc::upload_fp8(p.b, 16);
  gc::DeviceBuffer<float> sa(gc::cublaslt_vec128_scales(p.a)),
      sb(gc::cublaslt_blk128_scales(p.b, np)), d(static_cast<size_t>(p.m * np));
  auto lt = gc::LtMatmul::fp8_block_scaled(a.codes.get(), sa.get(), bp.codes.get(), sb.get(),
                                           d.get(), p.m, np, a.ld);
  lt.run();
  const double e = worst_error(d.download(), np, p.ref, p.mag, p.m, p.n);
  RecordProperty("cublaslt_block_error", std::to_string(e));
  RecordProperty("cublaslt_block", lt.description());
  EXPECT_LE(e, lt_bound(lt)) << lt.description();
}

INSTANTIATE_TEST_SUITE_P(Ragged, GemmCuda,
                         testing::Combine(testing::Values(1, 127, 129, 300),
                                          testing::Values(128, 200, 4096)));

TEST(GemmCudaLt, Fp8TensorScaledMeetsFp64) {
  SKIP_WITHOUT_DEVICE();
  const std::int64_t m = 129, n = 129, k = 200, kp = 208, np = 144;
  const auto x = random_normal_matrix(m, k, 21), w = random_normal_matrix(n, k, 22);
  const auto a =
      quant::quantize(x.data(), m, k, m, k, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto b =
      quant::quantize(w.data(), n, k, n, k, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto da = quant::dequantize(a), db = quant::dequantize(b);
  std::vector<double> ref(static_cast<size_t>(m * n));
  gemm::gemm_fp64(da.data(), db.data(), ref.data(), m, n, k);
  gc::DeviceBuffer<std::uint8_t> ca(gc::padded_codes(a, kp, m)), cb(gc::padded_codes(b, kp, np));
  gc::DeviceBuffer<float> sa(a.scales), sb(b.scales), d(static_cast<size_t>(m * np));
  auto lt =
      gc::LtMatmul::fp8_tensor_scaled(ca.get(), sa.get(), cb.get(), sb.get(), d.get(), m, np, kp);
  lt.run();
  const double e = worst_error(d.download(), np, ref, magnitudes(da, db, m, n, k), m, n);
  RecordProperty("error", std::to_string(e));
  EXPECT_LE(e, lt_bound(lt)) << lt.description();
}

TEST(GemmCudaLt, Bf16MeetsFp64) {
  SKIP_WITHOUT_DEVICE();
  const std::int64_t m = 127, n = 129, k = 200, kp = 208, np = 144;
  const auto x = random_normal_matrix(m, k, 31), w = random_normal_matrix(n, k, 32);
  std::vector<std::uint16_t> ca(static_cast<size_t>(m * kp), 0),
      cb(static_cast<size_t>(np * kp), 0);
  std::vector<float> da(static_cast<size_t>(m * k)), db(static_cast<size_t>(n * k));
  for (std::int64_t i = 0; i < m * k; ++i) {
    ca[(i / k) * kp + i % k] = num::encode_bf16(x[i]);
    da[i] = num::decode_bf16(ca[(i / k) * kp + i % k]);
  }
  for (std::int64_t i = 0; i < n * k; ++i) {
    cb[(i / k) * kp + i % k] = num::encode_bf16(w[i]);
    db[i] = num::decode_bf16(cb[(i / k) * kp + i % k]);
  }
  std::vector<double> ref(static_cast<size_t>(m * n));
  gemm::gemm_fp64(da.data(), db.data(), ref.data(), m, n, k);
  gc::DeviceBuffer<std::uint16_t> a(ca), b(cb);
  gc::DeviceBuffer<float> d(static_cast<size_t>(m * np));
  auto lt = gc::LtMatmul::bf16(a.get(), b.get(), d.get(), m, np, kp);
  lt.run();
  const double e = worst_error(d.download(), np, ref, magnitudes(da, db, m, n, k), m, n);
  RecordProperty("error", std::to_string(e));
  EXPECT_LE(e, lt_bound(lt)) << lt.description();
}

TEST(GemmCudaGrouped, UnevenExpertsMeetFp64) {
  SKIP_WITHOUT_DEVICE();
  const std::vector<std::int64_t> counts = {0, 1, 7, 130, 200, 0};
  const std::int64_t tokens = 338, n = 129, k = 1000;  // 8 K blocks: more than the stages
  const auto x = random_normal_matrix(tokens, k, 41);
  const auto a = quant::quantize_per_token(x.data(), tokens, k, num::Fp8Format::kE4M3,
                                           quant::ScaleKind::kFp32);
  std::vector<quant::QuantizedMatrix> b;
  for (size_t e = 0; e < counts.size(); ++e) {
    const auto w = random_normal_matrix(n, k, 50 + static_cast<std::uint32_t>(e));
    b.push_back(
        quant::quantize_per_block(w.data(), n, k, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32));
  }
  std::vector<double> ref(static_cast<size_t>(tokens * n));
  gemm::grouped_fp8_gemm_ref(a, b, counts, ref.data());
  std::vector<double> mag;
  const auto dqa = quant::dequantize(a);
  for (size_t e = 0, row = 0; e < counts.size(); row += static_cast<size_t>(counts[e]), ++e) {
    if (counts[e] == 0) continue;
    const std::vector<float> rows(dqa.begin() + static_cast<std::ptrdiff_t>(row * k),
                                  dqa.begin() + static_cast<std::ptrdiff_t>((row + counts[e]) * k));
    const auto m = magnitudes(rows, quant::dequantize(b[e]), counts[e], n, k);
    mag.insert(mag.end(), m.begin(), m.end());
  }
  const auto da = gc::upload_fp8(a);
  const auto db = gc::upload_fp8_experts(b);
  const auto tiles = gc::grouped_tiles(counts);
  for (gc::Fp8GemmKernel kernel : our_kernels()) {
    gc::DeviceBuffer<float> d(static_cast<size_t>(tokens * n));
    gc::grouped_fp8_gemm_cuda(da, db, tiles, d.get(), {128, kernel});
    const double e = worst_error(d.download(), n, ref, mag, tokens, n);
    RecordProperty(std::string(gc::fp8_gemm_kernel_name(kernel)) + " error", std::to_string(e));
    EXPECT_LE(e, kBound) << gc::fp8_gemm_kernel_name(kernel);
  }
}

// kAuto picks WGMMA on sm_90 only; asking for WGMMA elsewhere is an error, not a trap.
TEST(GemmCudaKernel, AutoPicksWgmmaOnSm90Only) {
  SKIP_WITHOUT_DEVICE();
  const bool hopper = gc::cuda_compute_capability() == 90;
  EXPECT_EQ(gc::resolve_fp8_gemm_kernel(gc::Fp8GemmKernel::kAuto),
            hopper ? gc::Fp8GemmKernel::kWgmma : gc::Fp8GemmKernel::kMmaSync);
  EXPECT_EQ(gc::resolve_fp8_gemm_kernel(gc::Fp8GemmKernel::kMmaSync), gc::Fp8GemmKernel::kMmaSync);
  if (hopper)
    EXPECT_EQ(gc::resolve_fp8_gemm_kernel(gc::Fp8GemmKernel::kWgmma), gc::Fp8GemmKernel::kWgmma);
  else
    EXPECT_THROW(gc::resolve_fp8_gemm_kernel(gc::Fp8GemmKernel::kWgmma), Error);
}

// Argument checks come before any CUDA call: these run without a device.
TEST(GemmCudaArguments, RejectedBeforeTouchingTheDevice) {
  const gc::DeviceFp8Matrix a, b;
  EXPECT_THROW(gc::fp8_gemm_cuda(a, b, nullptr, {48}), Error);   // not a multiple of 32
  EXPECT_THROW(gc::fp8_gemm_cuda(a, b, nullptr, {-32}), Error);  // negative
  EXPECT_THROW(
      gc::LtMatmul::fp8_block_scaled(nullptr, nullptr, nullptr, nullptr, nullptr, 4, 16, 200),
      Error);  // K not a multiple of 16
  EXPECT_THROW(gc::LtMatmul::bf16(nullptr, nullptr, nullptr, 4, 129, 128), Error);  // N
}

void check_probe(gc::ProbeInstruction instruction, const char* name) {
  const gc::ProbeReading r = gc::probe_tensor_core_accumulator(instruction);
  testing::Test::RecordProperty("reading", r.summary);
  std::printf("%s accumulator: %s\n", name, r.summary.c_str());
  EXPECT_GE(r.fraction_bits, 10) << r.summary;
  EXPECT_LE(r.fraction_bits, 23) << r.summary;
}

// The probe runs on any FP8 device it was built for (sm_89, sm_90a, sm_100a, sm_120), not only
// on the GEMM kernels' architectures.
TEST(AccumulatorProbeGpu, ReadsTheWgmmaAccumulator) {
  if (const std::string why = gc::accumulator_probe_unsupported(gc::ProbeInstruction::kWgmma);
      !why.empty())
    GTEST_SKIP() << why;
  check_probe(gc::ProbeInstruction::kWgmma, "wgmma m64n8k32 e4m3");
}

TEST(AccumulatorProbeGpu, ReadsTheMmaSyncAccumulator) {
  if (const std::string why = gc::accumulator_probe_unsupported(gc::ProbeInstruction::kMmaSync);
      !why.empty())
    GTEST_SKIP() << why;
  check_probe(gc::ProbeInstruction::kMmaSync, "mma.sync m16n8k32 e4m3");
}

// Without a device the probe says so (and refuses to run) instead of failing in a launch.
TEST(AccumulatorProbeGpu, SaysWhyItCannotRun) {
  const std::string none = ::cobench::cuda_device_unavailable();
  if (none.empty()) GTEST_SKIP() << "a CUDA device is present";
  for (auto instruction : {gc::ProbeInstruction::kWgmma, gc::ProbeInstruction::kMmaSync}) {
    EXPECT_EQ(gc::accumulator_probe_unsupported(instruction), "accumulator probe: " + none);
    EXPECT_THROW(gc::probe_tensor_core_accumulator(instruction), Error);
  }
}

}  // namespace
