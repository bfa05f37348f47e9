// SPDX-License-Identifier: Apache-2.0
// CPU GEMMs: OpenBLAS SGEMM (the vendor baseline) and cobench's block-scaled FP8 GEMM, on the
// 2048 square and on a model's shapes (COBENCH_GEMM_MODEL, a name under topologies/models or a
// YAML path; default deepseek-v3) at M tokens. Each is verified on 64 sampled outputs against
// FP64 before it is timed. Counters: gemm_flop_per_s, operand_bytes_per_s, peak_fraction (of the
// FP32 FMA peak BM_FmaPeak measures first in the same run), dot_fraction where the FP8 GEMM runs
// the AVX512_BF16 kernel (of the VDPBF16PS peak BM_Bf16DotPeak measures first), max_rel_err
// (against FP64 of the operands the GEMM was given) and, for FP8, quant_rel_err (against FP64 of
// the unquantized inputs: what FP8 with 1x128 / 128x128 scales costs) with the operands' own
// quantization errors in the label. The default grid is M = 64, 128, 512 on the model's shapes
// without the LM head (minutes on 2 cores); COBENCH_GEMM_GRID=full registers M = 64, 512, 4096,
// 16384 on every shape (any other value is an error), where a GEMM whose buffers need more than
// half of physical memory reports that as its error. Names:
// BM_Fp8Gemm_Cpu/shape:q_b/m:128/n:24576/k:1536 (with model:<name>/ before shape: for a model other
// than DeepSeek-V3).
//   cobench_bench_gemm_cpu --benchmark_filter='FmaPeak|m:2048/' --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/nvtx.h"
#include "core/random.h"
#include "kernels/gemm/fp8_gemm.h"
#include "microbench/bench_main.h"
#include "microbench/bench_metadata.h"
#include "microbench/bf16_dot_peak_bench.h"
#include "microbench/fma_peak_bench.h"
#include "microbench/gemm_bench_util.h"
#include "microbench/gemm_shapes.h"
#include "microbench/memory_guard.h"
#include "topologies/data_files.h"
#if COBENCH_HAVE_OPENBLAS
#include "kernels/gemm/sgemm_openblas.h"
#endif

namespace {

using namespace cobench;

// Whether the FP8 benchmarks run the AVX512_BF16 kernel (whose ceiling is BM_Bf16DotPeak's).
bool runs_bf16_kernel();

// dot: a GEMM on VDPBF16PS, which also gets dot_fraction (of BM_Bf16DotPeak's peak).
void set_counters(benchmark::State& state, double m, double n, double k, double bytes, double error,
                  bool dot = false) {
  state.counters["gemm_flop_per_s"] =
      benchmark::Counter(2 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["operand_bytes_per_s"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  if (const double peak = bench::fma_peak_flop_per_s(); peak > 0)
    state.counters["peak_fraction"] =
        benchmark::Counter(2 * m * n * k / peak, benchmark::Counter::kIsIterationInvariantRate);
  if (const double peak = dot ? bench::bf16_dot_peak_flop_per_s() : 0; peak > 0)
    state.counters["dot_fraction"] =
        benchmark::Counter(2 * m * n * k / peak, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["max_rel_err"] = error;
}

// The verified label (human text) and the same facts as fields: verdict, the error against FP64,
// the shape, and the FMA peak gemm_flop_per_s is measured against.
void report_verified(benchmark::State& state, const std::string& what, double error,
                     nlohmann::json shape) {
  bench::Metadata md = bench::verified_run(state, what, error, std::move(shape));
  if (const double peak = bench::fma_peak_flop_per_s(); peak > 0)
    md.peaks.push_back(
        {"gemm_flop_per_s",
         fmt::format("FP32 FMA peak (BM_FmaPeak, {})", bench::fma_peak_description()), peak});
  bench::report(state, std::move(md));
}

// The weights of the last N x K shape (FP32, per-block E4M3, its quantization error): a shape's
// M values and repetitions run one after another, and the largest weights take seconds to draw
// and quantize.
struct Weights {
  std::int64_t n = 0, k = 0;
  std::vector<float> w;
  quant::QuantizedMatrix b;
  quant::QuantizationError error;
};

const Weights& weights(std::int64_t n, std::int64_t k) {
  static Weights cached;
  if (cached.n != n || cached.k != k) {
    cached = Weights{};  // frees the previous shape's first
    cached.w = random_normal_matrix(n, k, 2);
    cached.b = quant::quantize_per_block(cached.w.data(), n, k, num::Fp8Format::kE4M3,
                                         quant::ScaleKind::kFp32);
    cached.error = quant::compare(cached.w.data(), quant::dequantize(cached.b).data(), n * k);
    cached.n = n, cached.k = k;
  }
  return cached;
}

// The FP8 kernel every FP8 benchmark forces (COBENCH_GEMM_KERNEL; unset or auto: the one
// fp8_gemm_cpu picks), so the kernels can be compared on one machine.
gemm::CpuKernel g_kernel = gemm::CpuKernel::kAuto;

gemm::CpuKernel kernel_from_env() {
  const char* v = std::getenv("COBENCH_GEMM_KERNEL");
  if (v == nullptr) return gemm::CpuKernel::kAuto;
  for (gemm::CpuKernel k :
       {gemm::CpuKernel::kAuto, gemm::CpuKernel::kPortable, gemm::CpuKernel::kAvx2Fma,
        gemm::CpuKernel::kAvx512f, gemm::CpuKernel::kAvx512Bf16})
    if (std::string(v) == gemm::fp8_gemm_cpu_kernel_name(k)) {
      if (!gemm::fp8_gemm_cpu_supports(k))
        throw Error(
            fmt::format("COBENCH_GEMM_KERNEL is \"{}\": this CPU lacks its instructions", v));
      return k;
    }
  throw Error(fmt::format(
      "COBENCH_GEMM_KERNEL is \"{}\"; expected auto, portable, avx2-fma, avx512f or avx512-bf16",
      v));
}

const char* kernel_name() {
  return g_kernel == gemm::CpuKernel::kAuto ? gemm::fp8_gemm_cpu_kernel()
                                            : gemm::fp8_gemm_cpu_kernel_name(g_kernel);
}

bool runs_bf16_kernel() { return std::string(kernel_name()) == "avx512-bf16"; }

void BM_Fp8Gemm_Cpu(benchmark::State& state) try {
  const std::int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  // FP32 inputs, E4M3 codes, the FP32 output and a dequantized copy of the larger operand.
  if (const std::string e = bench::exceeds_half_of_memory(
          9.0 * double(M * K + N * K) + 4.0 * double(M * N), "this GEMM");
      !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  const auto x = random_normal_matrix(M, K, 1);
  const auto a =
      quant::quantize_per_token(x.data(), M, K, num::Fp8Format::kE4M3, quant::ScaleKind::kFp32);
  const Weights& wb = weights(N, K);
  const std::vector<float>& w = wb.w;
  const quant::QuantizedMatrix& b = wb.b;
  std::vector<float> d(static_cast<size_t>(M * N));
  gemm::fp8_gemm_cpu(a, b, d.data(), 0, g_kernel);
  auto got = [&](std::int64_t m, std::int64_t n) { return static_cast<double>(d[m * N + n]); };
  const std::optional<double> verified = bench::verified_error(
      state, M, N, bench::fp32_error_bound(K), got,
      [&](std::int64_t m, std::int64_t n) { return bench::fp8_exact_and_magnitude(a, b, m, n); });
  if (!verified) return;
  const double error = *verified;
  // What quantization costs: the same samples against FP64 of the unquantized inputs, and each
  // operand's own error (quant::compare).
  const double quant_error = bench::sampled_error(M, N, got, [&](std::int64_t m, std::int64_t n) {
    double s = 0, mag = 0;
    for (std::int64_t k = 0; k < K; ++k) {
      const double p = static_cast<double>(x[m * K + k]) * w[n * K + k];
      s += p, mag += std::fabs(p);
    }
    return std::pair{s, mag};
  });
  const quant::QuantizationError qa = quant::compare(x.data(), quant::dequantize(a).data(), M * K),
                                 qb = wb.error;
  {
    NvtxRange range(fmt::format("BM_Fp8Gemm_Cpu/m:{}/n:{}/k:{}", M, N, K).c_str());
    for (auto _ : state) {
      gemm::fp8_gemm_cpu(a, b, d.data(), 0, g_kernel);
      benchmark::DoNotOptimize(d.data());
    }
  }
  set_counters(state, double(M), double(N), double(K), double(M * K + N * K) + 4.0 * double(M * N),
               error, runs_bf16_kernel());
  state.counters["quant_rel_err"] = quant_error;
  report_verified(state,
                  fmt::format("{} kernel, error {:.2g}; against unquantized inputs {:.2g} (A 1x128 "
                              "rel_l2 {:.2g}, B 128x128 rel_l2 {:.2g}); peak: FP32 FMA {}",
                              kernel_name(), error, quant_error, qa.rel_l2, qb.rel_l2,
                              bench::fma_peak_description()),
                  error, {{"m", M}, {"n", N}, {"k", K}});
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

// The MoE grouped GEMM: DeepSeek-V3's expert down-projection (N = hidden 7168, K = expert
// intermediate 2048) over `experts` experts with Zipf-uneven token counts. Counters besides the
// common ones: plain_gemm_flop_per_s, the plain GEMM of the same M, N, K (every token through one
// expert) run after each grouped call (outside the timed region), and grouped_over_plain, the
// grouped GEMM's FLOP/s over it.
void BM_GroupedFp8Gemm_Cpu(benchmark::State& state) try {
  const std::int64_t experts = state.range(0), tokens = state.range(1);
  const topo::ModelArch v3 = topo::load_model("deepseek-v3");
  const std::int64_t N = v3.hidden_size, K = v3.moe->expert_intermediate;
  const std::vector<std::int64_t> counts = bench::zipf_counts(experts, tokens);
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
  gemm::grouped_fp8_gemm_cpu(a, b, counts, d.data(), 0, g_kernel);
  const std::optional<double> verified = bench::verified_error(
      state, tokens, N, bench::fp32_error_bound(K),
      [&](std::int64_t m, std::int64_t n) { return static_cast<double>(d[m * N + n]); },
      [&](std::int64_t m, std::int64_t n) {
        return bench::fp8_exact_and_magnitude(
            a, b[static_cast<size_t>(expert_of[static_cast<size_t>(m)])], m, n);
      });
  if (!verified) return;
  const double error = *verified;
  // The plain GEMM of the same FLOPs (all tokens through the first expert), verified the same way,
  // run after each timed call with the clock paused and timed apart: the ratio of the two comes
  // from one process, the load of the machine shared.
  std::vector<float> plain(d.size());
  gemm::fp8_gemm_cpu(a, b.front(), plain.data(), 0, g_kernel);
  if (!bench::verified_error(
          state, tokens, N, bench::fp32_error_bound(K),
          [&](std::int64_t m, std::int64_t n) { return static_cast<double>(plain[m * N + n]); },
          [&](std::int64_t m, std::int64_t n) {
            return bench::fp8_exact_and_magnitude(a, b.front(), m, n);
          },
          "the plain GEMM of the same FLOPs"))
    return;
  using Clock = std::chrono::steady_clock;
  double grouped_s = 0, plain_s = 0;
  {
    NvtxRange range(
        fmt::format("BM_GroupedFp8Gemm_Cpu/experts:{}/tokens:{}", experts, tokens).c_str());
    for (auto _ : state) {
      const auto t0 = Clock::now();
      gemm::grouped_fp8_gemm_cpu(a, b, counts, d.data(), 0, g_kernel);
      benchmark::DoNotOptimize(d.data());
      const auto t1 = Clock::now();
      state.PauseTiming();
      gemm::fp8_gemm_cpu(a, b.front(), plain.data(), 0, g_kernel);
      benchmark::DoNotOptimize(plain.data());
      plain_s += std::chrono::duration<double>(Clock::now() - t1).count();
      grouped_s += std::chrono::duration<double>(t1 - t0).count();
      state.ResumeTiming();
    }
  }
  set_counters(state, double(tokens), double(N), double(K),
               double(tokens * K + experts * N * K) + 4.0 * double(tokens * N), error,
               runs_bf16_kernel());
  const double flop = 2.0 * double(tokens) * double(N) * double(K);
  if (plain_s > 0 && grouped_s > 0) {
    state.counters["plain_gemm_flop_per_s"] = flop * double(state.iterations()) / plain_s;
    state.counters["grouped_over_plain"] = plain_s / grouped_s;
  }
  report_verified(state,
                  fmt::format("{} kernel, error {:.2g}; tokens per expert {} .. {}; "
                              "grouped_over_plain: its FLOP/s over the plain GEMM's of {} x {} "
                              "x {}, run alternately",
                              kernel_name(), error, counts.back(), counts.front(), tokens, N, K),
                  error, {{"experts", experts}, {"tokens", tokens}, {"n", N}, {"k", K}});
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

#if COBENCH_HAVE_OPENBLAS
void BM_Sgemm_OpenBlas(benchmark::State& state) try {
  const std::int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  if (const std::string e =
          bench::exceeds_half_of_memory(4.0 * double(M * K + N * K + M * N), "this GEMM");
      !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  const auto a = random_normal_matrix(M, K, 1), b = random_normal_matrix(N, K, 2);
  std::vector<float> c(static_cast<size_t>(M * N));
  gemm::sgemm_openblas(a.data(), b.data(), c.data(), M, N, K);
  const std::optional<double> verified = bench::verified_error(
      state, M, N, bench::fp32_error_bound(K),
      [&](std::int64_t m, std::int64_t n) { return static_cast<double>(c[m * N + n]); },
      [&](std::int64_t m, std::int64_t n) {
        double s = 0, mag = 0;
        for (std::int64_t k = 0; k < K; ++k) {
          s += static_cast<double>(a[m * K + k]) * b[n * K + k];
          mag += std::fabs(static_cast<double>(a[m * K + k]) * b[n * K + k]);
        }
        return std::pair{s, mag};
      });
  if (!verified) return;
  const double error = *verified;
  NvtxRange range(fmt::format("BM_Sgemm_OpenBlas/m:{}/n:{}/k:{}", M, N, K).c_str());
  for (auto _ : state) {
    gemm::sgemm_openblas(a.data(), b.data(), c.data(), M, N, K);
    benchmark::DoNotOptimize(c.data());
  }
  set_counters(state, double(M), double(N), double(K), 4.0 * double(M * K + N * K + M * N), error);
  report_verified(state,
                  fmt::format("error {:.2g}, {} threads; peak: FP32 FMA {}", error,
                              gemm::openblas_threads(), bench::fma_peak_description()),
                  error, {{"m", M}, {"n", N}, {"k", K}});
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}
#endif

// Square 2048 (the comparison) and the model's shapes at M tokens (see the top).
void register_all() {
  g_kernel = kernel_from_env();
  const char* grid = std::getenv("COBENCH_GEMM_GRID");
  if (grid && std::string(grid) != "full")
    throw Error(fmt::format("COBENCH_GEMM_GRID is \"{}\"; expected \"full\" or unset", grid));
  const bool full = grid != nullptr;
  const std::vector<std::int64_t> tokens = full ? std::vector<std::int64_t>{64, 512, 4096, 16384}
                                                : std::vector<std::int64_t>{64, 128, 512};
  const std::string model = bench::gemm_model_name();
  const auto shapes = bench::model_gemm_shapes(topo::load_model(model));
  bench::register_fma_peak_benchmark();
  bench::register_bf16_dot_peak_benchmark();
  using Body = void (*)(benchmark::State&);
  std::vector<std::pair<const char*, Body>> impls{{"BM_Fp8Gemm_Cpu", BM_Fp8Gemm_Cpu}};
#if COBENCH_HAVE_OPENBLAS
  impls.emplace_back("BM_Sgemm_OpenBlas", BM_Sgemm_OpenBlas);
#endif
  for (const auto& [name, body] : impls) {
    benchmark::RegisterBenchmark(name, body)  // the square keeps its name (tracked histories)
        ->ArgNames({"m", "n", "k"})
        ->Args({2048, 2048, 2048})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    for (const auto& sh : shapes) {
      if (!full && sh.name == "lm_head") continue;
      auto* b = benchmark::RegisterBenchmark(
          bench::gemm_benchmark_name(name, model, sh.name).c_str(), body);
      b->ArgNames({"m", "n", "k"})->Unit(benchmark::kMillisecond)->UseRealTime();
      for (std::int64_t m : tokens) b->Args({m, sh.n, sh.k});
    }
  }
  benchmark::RegisterBenchmark("BM_GroupedFp8Gemm_Cpu/shape:expert_down", BM_GroupedFp8Gemm_Cpu)
      ->ArgNames({"experts", "tokens"})
      ->Args({8, 512})
      ->Args({8, 2048})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  return cobench::bench::cpu_bench_main(argc, argv, "cobench_bench_gemm_cpu", register_all);
}
