// SPDX-License-Identifier: Apache-2.0
#include "kernels/ceilings/bf16_dot_peak.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "core/error.h"
#include "kernels/ceilings/fma_peak.h"
#include "kernels/ceilings/timed_pass.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace cobench::ceilings {
namespace {

// 12 independent chains a thread, as the FMA peak: VDPBF16PS's latency (6 cycles on Zen 4) at one
// a cycle needs 6 in flight.
constexpr int kChains = 12, kLanes = 16;
// x0 + steps / 8 stays below 2^19 + 2^8, where a float's ulp is 1/16: each product (1/16) is a
// whole ulp or more there, and VDPBF16PS adds the two products one at a time, each sum rounded
// (seen: with products of 1/32 the chains lose steps past 2^19).
constexpr std::int64_t kMaxSteps = std::int64_t{1} << 22;
constexpr double kStep = 0.125;  // 2 x 1 x 1/16
// BF16 words: 1 and 1/16, read through volatiles so that the compiler cannot fold the chains.
volatile std::uint16_t g_one = 0x3F80, g_b = 0x3D80;

float start_value(int c, int lane) { return 1.0f + static_cast<float>(c * kLanes + lane); }

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bf16"))) void run_avx512bf16(std::int64_t steps, float* out) {
  __m512 x[kChains];
  for (int c = 0; c < kChains; ++c) {
    alignas(64) float init[kLanes];
    for (int l = 0; l < kLanes; ++l) init[l] = start_value(c, l);
    x[c] = _mm512_load_ps(init);
  }
  const __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi16(static_cast<short>(g_one)));
  const __m512bh b = reinterpret_cast<__m512bh>(_mm512_set1_epi16(static_cast<short>(g_b)));
  for (std::int64_t i = 0; i < steps; ++i)
    for (__m512& v : x) v = _mm512_dpbf16_ps(v, a, b);
  for (int c = 0; c < kChains; ++c) _mm512_storeu_ps(out + c * kLanes, x[c]);
}
#endif

}  // namespace

bool bf16_dot_supported() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

Bf16DotPeak measure_bf16_dot_peak(std::int64_t steps, int threads) {
  COBENCH_CHECK(steps > 0 && steps <= kMaxSteps,
                fmt::format("BF16 dot steps must be in 1 .. {} (exact arithmetic), got {}",
                            kMaxSteps, steps));
  COBENCH_CHECK(bf16_dot_supported(), "this CPU has no AVX512_BF16 (VDPBF16PS)");
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::vector<float>> out(static_cast<size_t>(threads),
                                      std::vector<float>(static_cast<size_t>(kChains * kLanes)));
  const double seconds = detail::timed_pass(threads, [&](int t) {
#if defined(__x86_64__)
    run_avx512bf16(steps, out[static_cast<size_t>(t)].data());
#else
    (void)t;
#endif
  });

  Bf16DotPeak p;
  p.threads = threads, p.seconds = seconds;
  p.flop_per_s = 4.0 * static_cast<double>(steps) * kChains * kLanes * threads / p.seconds;
  for (int t = 0; t < threads && p.error.empty(); ++t)
    for (int c = 0; c < kChains && p.error.empty(); ++c)
      for (int l = 0; l < kLanes; ++l) {
        const double want = start_value(c, l) + static_cast<double>(steps) * kStep;  // exact
        const float got = out[static_cast<size_t>(t)][static_cast<size_t>(c * kLanes + l)];
        if (static_cast<double>(got) != want) {
          p.error = fmt::format("thread {} chain {} lane {}: {} where {} was expected", t, c, l,
                                got, want);
          break;
        }
      }
  return p;
}

double bf16_dot_speedup() {
  static const double speedup = [] {
    if (!bf16_dot_supported()) return 0.0;
    constexpr std::int64_t kProbeSteps = std::int64_t{1} << 15;
    double fma = 0, dot = 0;
    for (int pass = 0; pass < 3; ++pass) {
      const FmaPeak f = measure_fma_peak(kProbeSteps, 1, FmaIsa::kAvx512);
      const Bf16DotPeak d = measure_bf16_dot_peak(kProbeSteps, 1);
      if (!f.error.empty() || !d.error.empty()) return 0.0;
      fma = std::max(fma, f.flop_per_s);
      dot = std::max(dot, d.flop_per_s);
    }
    return fma > 0 ? dot / fma : 0.0;
  }();
  return speedup;
}

}  // namespace cobench::ceilings
