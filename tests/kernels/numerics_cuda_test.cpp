// SPDX-License-Identifier: Apache-2.0
// Bit-exactness with the CUDA toolkit's own conversions (cuda_fp8.h and cuda_bf16.h run on the
// host too): every one of the 2^32 float inputs for each encoder, all 256 codes for decode.
// Built only with the CUDA toolkit; the sweep takes about a minute per encoder per core.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <sstream>
#include <thread>
#include <vector>

#include "kernels/numerics/fp8.h"

namespace {

using namespace cobench::num;

// Runs `same(bits)` over all 2^32 bit patterns on every core; reports the first mismatches.
// `same` is a template parameter (inlined into the loop), not a std::function.
template <class Same>
void sweep(const Same& same) {
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<std::uint64_t> mismatches{0};
  std::vector<std::string> first(threads);
  std::vector<std::thread> pool;
  const std::uint64_t total = 1ull << 32, chunk = total / threads;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const std::uint64_t lo = t * chunk, hi = t + 1 == threads ? total : lo + chunk;
      std::uint64_t bad = 0;
      std::string detail;
      for (std::uint64_t i = lo; i < hi; ++i) {
        if (!same(static_cast<std::uint32_t>(i), detail) && ++bad <= 3) first[t] += detail + "\n";
      }
      mismatches += bad;
    });
  }
  for (auto& th : pool) th.join();
  std::string report;
  for (const auto& f : first) report += f;
  EXPECT_EQ(mismatches.load(), 0u) << report;
}

std::string hex(std::uint32_t bits, unsigned ours, unsigned cuda) {
  std::ostringstream s;
  s << std::hex << "input 0x" << bits << ": ours 0x" << ours << ", CUDA 0x" << cuda;
  return s.str();
}

void fp8_sweep(Fp8Format format, Overflow overflow) {
  const auto kind = format == Fp8Format::kE4M3 ? __NV_E4M3 : __NV_E5M2;
  const auto sat = overflow == Overflow::kSaturate ? __NV_SATFINITE : __NV_NOSAT;
  sweep([&](std::uint32_t bits, std::string& detail) {
    const float x = bits_float(bits);
    const unsigned ours = encode_fp8(x, format, overflow);
    const unsigned cuda = __nv_cvt_float_to_fp8(x, sat, kind);
    if (ours == cuda) return true;
    detail = hex(bits, ours, cuda);
    return false;
  });
}

TEST(NumericsVsCuda, E4M3SaturatingAllFloats) { fp8_sweep(Fp8Format::kE4M3, Overflow::kSaturate); }
TEST(NumericsVsCuda, E4M3NonSaturatingAllFloats) {
  fp8_sweep(Fp8Format::kE4M3, Overflow::kNoSaturate);
}
TEST(NumericsVsCuda, E5M2SaturatingAllFloats) { fp8_sweep(Fp8Format::kE5M2, Overflow::kSaturate); }
TEST(NumericsVsCuda, E5M2NonSaturatingAllFloats) {
  fp8_sweep(Fp8Format::kE5M2, Overflow::kNoSaturate);
}

TEST(NumericsVsCuda, Bf16AllFloats) {
  sweep([](std::uint32_t bits, std::string& detail) {
    const __nv_bfloat16 b = __float2bfloat16_rn(bits_float(bits));
    std::uint16_t cuda;
    std::memcpy(&cuda, &b, sizeof cuda);
    const std::uint16_t ours = encode_bf16(bits_float(bits));
    if (ours == cuda) return true;
    detail = hex(bits, ours, cuda);
    return false;
  });
}

TEST(NumericsVsCuda, Ue8m0AllFloats) {
  sweep([](std::uint32_t bits, std::string& detail) {
    const float x = bits_float(bits);
    for (auto [ours_round, cuda_round] : {std::pair{ScaleRounding::kTowardZero, cudaRoundZero},
                                          std::pair{ScaleRounding::kUp, cudaRoundPosInf}}) {
      for (auto [ours_sat, cuda_sat] : {std::pair{Overflow::kSaturate, __NV_SATFINITE},
                                        std::pair{Overflow::kNoSaturate, __NV_NOSAT}}) {
        const unsigned ours = encode_ue8m0(x, ours_sat, ours_round);
        const unsigned cuda = __nv_cvt_float_to_e8m0(x, cuda_sat, cuda_round);
        if (ours != cuda) {
          detail = hex(bits, ours, cuda);
          return false;
        }
      }
    }
    return true;
  });
}

TEST(NumericsVsCuda, DecodeAll256Codes) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<__nv_fp8_storage_t>(c);
    for (auto [format, kind] :
         {std::pair{Fp8Format::kE4M3, __NV_E4M3}, std::pair{Fp8Format::kE5M2, __NV_E5M2}}) {
      const __half_raw h = __nv_cvt_fp8_to_halfraw(code, kind);
      const float cuda = __half2float(__half(h));
      const float ours = decode_fp8(code, format);
      if (std::isnan(cuda)) {
        EXPECT_TRUE(std::isnan(ours)) << "code " << c;
      } else {
        EXPECT_EQ(float_bits(ours), float_bits(cuda)) << "code " << c;
      }
    }
    const __nv_bfloat16_raw b = __nv_cvt_e8m0_to_bf16raw(code);
    const float cuda_scale = decode_bf16(b.x);
    if (std::isnan(cuda_scale)) {
      EXPECT_TRUE(std::isnan(decode_ue8m0(code))) << "code " << c;
    } else {
      EXPECT_EQ(decode_ue8m0(code), cuda_scale) << "code " << c;
    }
  }
}

}  // namespace
