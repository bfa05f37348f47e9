// SPDX-License-Identifier: Apache-2.0
#include "kernels/ceilings/fma_peak.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "core/error.h"
#include "kernels/ceilings/timed_pass.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace cobench::ceilings {
namespace {

// 12 independent chains a thread: FMA latency 4 cycles x 2 pipes needs 8 in flight; 12 leaves
// margin (and fits 16 AVX2 registers with a and b).
constexpr int kChains = 12;
// x <- x 1 + 1/16 from small integers: every step is exact below 2^20 (where a float's ulp is
// 1/16), so the final value is x0 + steps / 16 exactly, and distinct start values keep the lanes
// apart. The 1 is read through a volatile so the compiler cannot turn the FMA into an add.
constexpr float kB = 0.0625f;
constexpr std::int64_t kMaxSteps = std::int64_t{1} << 23;
volatile float g_one = 1.0f;

// Start value of lane `lane` of chain `c`: distinct, so a lane mix-up changes the result.
float start_value(int c, int lane) { return 1.0f + static_cast<float>(c * 16 + lane); }

// Each kernel writes chains x lanes final values into `out`.
void run_portable(std::int64_t steps, float kA, float* out) {
  float x[kChains];
  for (int c = 0; c < kChains; ++c) x[c] = start_value(c, 0);
  for (std::int64_t i = 0; i < steps; ++i)
    for (float& v : x) v = v * kA + kB;  // a multiply and an add (or their contraction)
  std::copy(x, x + kChains, out);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void run_avx2(std::int64_t steps, float kA, float* out) {
  __m256 x[kChains];
  for (int c = 0; c < kChains; ++c)
    x[c] =
        _mm256_setr_ps(start_value(c, 0), start_value(c, 1), start_value(c, 2), start_value(c, 3),
                       start_value(c, 4), start_value(c, 5), start_value(c, 6), start_value(c, 7));
  const __m256 a = _mm256_set1_ps(kA), b = _mm256_set1_ps(kB);
  for (std::int64_t i = 0; i < steps; ++i)
    for (__m256& v : x) v = _mm256_fmadd_ps(v, a, b);
  for (int c = 0; c < kChains; ++c) _mm256_storeu_ps(out + c * 8, x[c]);
}

__attribute__((target("avx512f"))) void run_avx512(std::int64_t steps, float kA, float* out) {
  __m512 x[kChains];
  for (int c = 0; c < kChains; ++c) {
    alignas(64) float init[16];
    for (int l = 0; l < 16; ++l) init[l] = start_value(c, l);
    x[c] = _mm512_load_ps(init);
  }
  const __m512 a = _mm512_set1_ps(kA), b = _mm512_set1_ps(kB);
  for (std::int64_t i = 0; i < steps; ++i)
    for (__m512& v : x) v = _mm512_fmadd_ps(v, a, b);
  for (int c = 0; c < kChains; ++c) _mm512_storeu_ps(out + c * 16, x[c]);
}
#endif

int lanes(FmaIsa isa) { return isa == FmaIsa::kAvx512 ? 16 : isa == FmaIsa::kAvx2 ? 8 : 1; }

bool cpu_has(FmaIsa isa) {
#if defined(__x86_64__)
  if (isa == FmaIsa::kAvx512) return __builtin_cpu_supports("avx512f");
  if (isa == FmaIsa::kAvx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return isa == FmaIsa::kPortable;
}

void run(FmaIsa isa, std::int64_t steps, float* out) {
  const float a = g_one;
#if defined(__x86_64__)
  if (isa == FmaIsa::kAvx512) return run_avx512(steps, a, out);
  if (isa == FmaIsa::kAvx2) return run_avx2(steps, a, out);
#endif
  run_portable(steps, a, out);
}

}  // namespace

const char* fma_isa_name(FmaIsa isa) {
  switch (isa) {
    case FmaIsa::kAuto:
      return "auto";
    case FmaIsa::kPortable:
      return "portable";
    case FmaIsa::kAvx2:
      return "avx2+fma";
    case FmaIsa::kAvx512:
      return "avx512f";
  }
  return "?";
}

FmaIsa best_fma_isa() {
  for (FmaIsa isa : {FmaIsa::kAvx512, FmaIsa::kAvx2})
    if (cpu_has(isa)) return isa;
  return FmaIsa::kPortable;
}

FmaPeak measure_fma_peak(std::int64_t steps, int threads, FmaIsa isa) {
  COBENCH_CHECK(
      steps > 0 && steps <= kMaxSteps,
      fmt::format("FMA steps must be in 1 .. {} (exact arithmetic), got {}", kMaxSteps, steps));
  if (isa == FmaIsa::kAuto) isa = best_fma_isa();
  COBENCH_CHECK(cpu_has(isa),
                fmt::format("this CPU cannot run the {} FMA path", fma_isa_name(isa)));
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int width = lanes(isa);
  std::vector<std::vector<float>> out(static_cast<size_t>(threads),
                                      std::vector<float>(static_cast<size_t>(kChains * width)));
  // Each thread times its own chains (core/pass_clock.h).
  const double seconds = detail::timed_pass(
      threads, [&](int t) { run(isa, steps, out[static_cast<size_t>(t)].data()); });

  FmaPeak p;
  p.threads = threads, p.isa = isa, p.seconds = seconds;
  p.flop_per_s = 2.0 * static_cast<double>(steps) * kChains * width * threads / seconds;
  for (int t = 0; t < threads && p.error.empty(); ++t)
    for (int c = 0; c < kChains && p.error.empty(); ++c)
      for (int l = 0; l < width; ++l) {
        const double want = start_value(c, l) + static_cast<double>(steps) * kB;  // exact
        const float got = out[static_cast<size_t>(t)][static_cast<size_t>(c * width + l)];
        if (static_cast<double>(got) != want) {
          p.error = fmt::format("thread {} chain {} lane {}: {} where {} was expected", t, c, l,
                                got, want);
          break;
        }
      }
  return p;
}

}  // namespace cobench::ceilings
