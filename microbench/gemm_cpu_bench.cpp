// SPDX-License-Identifier: Apache-2.0
// CPU GEMMs: OpenBLAS SGEMM (the vendor baseline) and cobench's block-scaled FP8 GEMM, on square
// sizes and on DeepSeek-V3's shapes (topologies/models/deepseek-v3.yaml) at M tokens. Each is
// verified on 64 sampled outputs against FP64 before it is timed.
//   cobench_bench_gemm_cpu --benchmark_filter=2048 --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/nvtx.h"
#include "core/random.h"
#include "kernels/gemm/fp8_gemm.h"
#include "microbench/gemm_shapes.h"
#include "topologies/data_files.h"
#if COBENCH_HAVE_OPENBLAS
#include "kernels/gemm/sgemm_openblas.h"
#endif

namespace {

using namespace cobench;

// Largest relative error (against sum |a b|) of 64 sampled outputs: `got(m, n)` vs FP64.
template <class Got, class Ref>
double sampled_error(std::int64_t M, std::int64_t N, Got got, Ref ref) {
  std::mt19937 rng(7);
  double worst = 0;
  for (int i = 0; i < 64; ++i) {
    const std::int64_t m = static_cast<std::int64_t>(rng() % static_cast<unsigned>(M));
    const std::int64_t n = static_cast<std::int64_t>(rng() % static_cast<unsigned>(N));
    const auto [exact, magnitude] = ref(m, n);
    worst = std::max(worst, std::fabs(got(m, n) - exact) / magnitude);
  }
  return worst;
}

void set_counters(benchmark::State& state, double m, double n, double k, double bytes,
                  double error) {
  state.counters["gemm_flop_per_s"] =
      benchmark::Counter(2 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["operand_bytes_per_s"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["max_rel_err"] = error;
}

void BM_Fp8Gemm_Cpu(benchmark::State& state) {
  const std::int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const auto x = random_normal_matrix(M, K, 1), w = random_normal_matrix(N, K, 2);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const auto b =
      quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  std::vector<float> d(static_cast<size_t>(M * N));
  gemm::fp8_gemm_cpu(a, b, d.data());
  const double error = sampled_error(
      M, N, [&](std::int64_t m, std::int64_t n) { return static_cast<double>(d[m * N + n]); },
      [&](std::int64_t m, std::int64_t n) {
        double mag = 0;
        for (std::int64_t k = 0; k < K; ++k)
          mag += std::fabs(static_cast<double>(num::decode_fp8(a.codes[m * K + k], a.format)) *
                           a.scale_at(m, k) * num::decode_fp8(b.codes[n * K + k], b.format) *
                           b.scale_at(n, k));
        return std::pair{gemm::fp8_gemm_ref_at(a, b, m, n), mag};
      });
  if (error > static_cast<double>(K) * std::ldexp(1.0, -22)) {
    state.SkipWithError(fmt::format("verification failed: error {:.3g}", error).c_str());
    return;
  }
  NvtxRange range("BM_Fp8Gemm_Cpu");
  for (auto _ : state) {
    gemm::fp8_gemm_cpu(a, b, d.data());
    benchmark::DoNotOptimize(d.data());
  }
  set_counters(state, double(M), double(N), double(K), double(M * K + N * K) + 4.0 * double(M * N),
               error);
  state.SetLabel(
      fmt::format("verified: {} kernel, error {:.2g}", gemm::fp8_gemm_cpu_kernel(), error));
}

// Tokens per expert under Zipf(1) routing popularity: expert e gets a share 1/(e+1) of them.
std::vector<std::int64_t> zipf_counts(std::int64_t experts, std::int64_t tokens) {
  double total = 0;
  for (std::int64_t e = 0; e < experts; ++e) total += 1.0 / static_cast<double>(e + 1);
  std::vector<std::int64_t> counts(static_cast<size_t>(experts));
  std::int64_t given = 0;
  for (std::int64_t e = 0; e < experts; ++e) {
    counts[static_cast<size_t>(e)] =
        static_cast<std::int64_t>(static_cast<double>(tokens) / static_cast<double>(e + 1) / total);
    given += counts[static_cast<size_t>(e)];
  }
  counts[0] += tokens - given;
  return counts;
}

// The MoE grouped GEMM: DeepSeek-V3's expert down-projection (N = hidden 7168, K = expert
// intermediate 2048) over `experts` experts with Zipf-uneven token counts.
void BM_GroupedFp8Gemm_Cpu(benchmark::State& state) {
  const std::int64_t experts = state.range(0), tokens = state.range(1);
  const topo::ModelArch v3 = topo::load_model("deepseek-v3");
  const std::int64_t N = v3.hidden_size, K = v3.moe->expert_intermediate;
  const std::vector<std::int64_t> counts = zipf_counts(experts, tokens);
  const auto x = random_normal_matrix(tokens, K, 1);
  const auto a = quant::quantize_per_token(x.data(), tokens, K, num::Fp8Format::kE4M3,
                                           quant::ScaleKind::kFp32);
  std::vector<quant::QuantizedMatrix> b;
  for (std::int64_t e = 0; e < experts; ++e) {
    const auto w = random_normal_matrix(N, K, 100 + static_cast<unsigned>(e));
    b.push_back(
        quant::quantize_per_block(w.data(), N, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32));
  }
  std::vector<std::int64_t> expert_of(static_cast<size_t>(tokens));
  for (std::int64_t e = 0, m = 0; e < experts; ++e)
    for (std::int64_t i = 0; i < counts[static_cast<size_t>(e)]; ++i)
      expert_of[static_cast<size_t>(m++)] = e;
  std::vector<float> d(static_cast<size_t>(tokens * N));
  gemm::grouped_fp8_gemm_cpu(a, b, counts, d.data());
  const double error = sampled_error(
      tokens, N, [&](std::int64_t m, std::int64_t n) { return static_cast<double>(d[m * N + n]); },
      [&](std::int64_t m, std::int64_t n) {
        const auto& w = b[static_cast<size_t>(expert_of[static_cast<size_t>(m)])];
        double mag = 0;
        for (std::int64_t k = 0; k < K; ++k)
          mag += std::fabs(static_cast<double>(num::decode_fp8(a.codes[m * K + k], a.format)) *
                           a.scale_at(m, k) * num::decode_fp8(w.codes[n * K + k], w.format) *
                           w.scale_at(n, k));
        return std::pair{gemm::fp8_gemm_ref_at(a, w, m, n), mag};
      });
  if (error > static_cast<double>(K) * std::ldexp(1.0, -22)) {
    state.SkipWithError(fmt::format("verification failed: error {:.3g}", error).c_str());
    return;
  }
  NvtxRange range("BM_GroupedFp8Gemm_Cpu");
  for (auto _ : state) {
    gemm::grouped_fp8_gemm_cpu(a, b, counts, d.data());
    benchmark::DoNotOptimize(d.data());
  }
  set_counters(state, double(tokens), double(N), double(K),
               double(tokens * K + experts * N * K) + 4.0 * double(tokens * N), error);
  state.SetLabel(fmt::format("verified: error {:.2g}; tokens per expert {} .. {}", error,
                             counts.back(), counts.front()));
}
BENCHMARK(BM_GroupedFp8Gemm_Cpu)
    ->ArgNames({"experts", "tokens"})
    ->Args({8, 512})
    ->Args({8, 2048})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

#if COBENCH_HAVE_OPENBLAS
void BM_Sgemm_OpenBlas(benchmark::State& state) {
  const std::int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const auto a = random_normal_matrix(M, K, 1), b = random_normal_matrix(N, K, 2);
  std::vector<float> c(static_cast<size_t>(M * N));
  gemm::sgemm_openblas(a.data(), b.data(), c.data(), M, N, K);
  const double error = sampled_error(
      M, N, [&](std::int64_t m, std::int64_t n) { return static_cast<double>(c[m * N + n]); },
      [&](std::int64_t m, std::int64_t n) {
        double s = 0, mag = 0;
        for (std::int64_t k = 0; k < K; ++k) {
          s += static_cast<double>(a[m * K + k]) * b[n * K + k];
          mag += std::fabs(static_cast<double>(a[m * K + k]) * b[n * K + k]);
        }
        return std::pair{s, mag};
      });
  if (error > static_cast<double>(K) * std::ldexp(1.0, -22)) {
    state.SkipWithError(fmt::format("verification failed: error {:.3g}", error).c_str());
    return;
  }
  NvtxRange range("BM_Sgemm_OpenBlas");
  for (auto _ : state) {
    gemm::sgemm_openblas(a.data(), b.data(), c.data(), M, N, K);
    benchmark::DoNotOptimize(c.data());
  }
  set_counters(state, double(M), double(N), double(K), 4.0 * double(M * K + N * K + M * N), error);
  state.SetLabel(
      fmt::format("verified: error {:.2g}, {} threads", error, gemm::openblas_threads()));
}
#endif

// Square 2048 (the comparison) and DeepSeek-V3's shapes at 128 tokens.
void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k"});
  b->Args({2048, 2048, 2048});
  for (const auto& s : bench::model_gemm_shapes(topo::load_model("deepseek-v3")))
    if (s.name != "lm_head") b->Args({128, s.n, s.k});
}

BENCHMARK(BM_Fp8Gemm_Cpu)->Apply(shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
#if COBENCH_HAVE_OPENBLAS
BENCHMARK(BM_Sgemm_OpenBlas)->Apply(shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

}  // namespace

BENCHMARK_MAIN();
