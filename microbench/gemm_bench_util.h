// SPDX-License-Identifier: Apache-2.0
// What the CPU and GPU GEMM benchmarks share (no CUDA): the check of sampled outputs against FP64
// that runs before timing, and the Zipf token counts of the grouped (MoE) GEMMs.
#pragma once

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/quant/fine_grained.h"
#include "microbench/bench_metadata.h"

namespace cobench::bench {

/// Largest |got(m, n) - exact| / magnitude over 64 outputs of an M x N result drawn by
/// std::mt19937(seed), where ref(m, n) returns {exact, magnitude} in FP64 (magnitude: sum |a b|).
template <class Got, class Ref>
double sampled_error(std::int64_t M, std::int64_t N, Got got, Ref ref, unsigned seed = 7) {
  std::mt19937 rng(seed);
  double worst = 0;
  for (int i = 0; i < 64; ++i) {
    const std::int64_t m = static_cast<std::int64_t>(rng() % static_cast<unsigned>(M));
    const std::int64_t n = static_cast<std::int64_t>(rng() % static_cast<unsigned>(N));
    const auto [exact, magnitude] = ref(m, n);
    worst = std::max(worst, std::fabs(got(m, n) - exact) / magnitude);
  }
  return worst;
}

/// What FP32 accumulation of K products may cost, relative to sum |a b|: K x 2^-22.
inline double fp32_error_bound(std::int64_t K) {
  return static_cast<double>(K) * std::ldexp(1.0, -22);
}

/// sampled_error checked before timing: past `bound` the benchmark fails its verification
/// (bench_metadata.h) with "verification failed: error E" (and " (what)" unless `what` is empty)
/// and nullopt is returned.
template <class Got, class Ref>
std::optional<double> verified_error(benchmark::State& state, std::int64_t M, std::int64_t N,
                                     double bound, Got got, Ref ref, const std::string& what = "",
                                     unsigned seed = 7) {
  const double error = sampled_error(M, N, got, ref, seed);
  if (error <= bound) return error;
  fail_verification(state, fmt::format("verification failed: error {:.3g}", error) +
                               (what.empty() ? "" : " (" + what + ")"));
  return std::nullopt;
}

/// {FP64 output (m, n) of the block-scaled FP8 GEMM A B^T (gemm::fp8_gemm_ref_at), sum over k of
/// |a_mk b_nk|}: the `ref` of sampled_error for the FP8 GEMMs.
std::pair<double, double> fp8_exact_and_magnitude(const quant::QuantizedMatrix& a,
                                                  const quant::QuantizedMatrix& b, std::int64_t m,
                                                  std::int64_t n);

/// Tokens per expert under Zipf(1) routing popularity: expert e gets a share 1/(e+1) of them,
/// tokens / (e + 1) / H rounded down (H = sum of 1/(e+1)), and expert 0 also what the rounding
/// left, so the counts sum to `tokens`.
std::vector<std::int64_t> zipf_counts(std::int64_t experts, std::int64_t tokens);

}  // namespace cobench::bench
