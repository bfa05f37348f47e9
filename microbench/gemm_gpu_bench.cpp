// SPDX-License-Identifier: Apache-2.0
// GPU GEMMs: cuBLASLt BF16, cuBLASLt FP8 (per-tensor and DeepSeek-V3's block scaling), cobench's
// block-scaled FP8 kernel (WGMMA on sm_90, with its mma.sync tile timed beside it on the squares)
// and its grouped (MoE) form, on a model's shapes (COBENCH_GEMM_MODEL, a name under
// topologies/models or a YAML path; default deepseek-v3, whose names carry no model: part) at
// M = 64 .. 16384 tokens and on squares of 4096 and 8192, the block-scaled ones also on training's
// input-gradient shapes (dgrad_gemm_shapes: N and K swapped) at M = 4096, one 4K-token sequence;
// an NVTX range per benchmark and shape.
// Each is verified on 64 sampled outputs against FP64 before it is timed; timing uses CUDA events
// with the L2 cache flushed before every call (manual time). Counters: gemm_flop_per_s,
// operand_bytes_per_s, peak_fraction (of the device's dense FP8 or BF16 peak) and max_rel_err.
// The squares measure gpu.peak_flops.fp8 (or bf16), so `cobench analyze --measured` takes the best
// of them as the achievable tensor-core throughput; the block-scaled FP8 GEMMs of the model's
// shapes measure gpu.gemm_fp8. Each run reports that, its shape, the error against FP64 and the
// peak peak_fraction divides by as typed metadata (gpu_bench_metadata.h); the names keep their
// model_input: segments for tracked histories and filters. BM_AccumulatorProbe records the
// accumulator probe's reading (fraction bits kept, rounding) as counters. Without a device one
// entry reports the runtime's reason as an error and the binary exits 0.
//   cobench_bench_gemm_gpu --benchmark_filter=square
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/nvtx.h"
#include "kernels/gemm/cuda/accumulator_probe.h"
#include "kernels/gemm/cuda/cublaslt_gemm.h"
#include "kernels/gemm/cuda/device_fp8.h"
#include "kernels/gemm/cuda/fp8_block_gemm.h"
#include "kernels/gemm/cuda/scale_layout.h"
#include "kernels/numerics/fp8.h"
#include "microbench/gemm_bench_util.h"
#include "microbench/gemm_gpu_bench_util.h"
#include "microbench/gemm_shapes.h"
#include "microbench/gpu_bench_common.h"
#include "microbench/gpu_bench_metadata.h"
#include "topologies/data_files.h"

namespace {

using namespace cobench;
namespace gc = gemm::cuda;
using Impl = bench::gpu::GemmImpl;

// The tensor-core accumulation probe (docs/gemm.md): its reading as counters and label, so every
// GPU run records how many fraction bits the FP8 accumulator kept. Not a timing.
void BM_AccumulatorProbe(benchmark::State& state, gc::ProbeInstruction instruction,
                         const std::string& instruction_name) try {
  gc::ProbeReading r;
  for (auto _ : state) r = gc::probe_tensor_core_accumulator(instruction);
  state.counters["fraction_bits"] = r.fraction_bits;
  state.counters["at_fp32_limit"] = r.at_fp32_limit;
  state.counters["rounds_to_nearest"] = r.rounds;
  state.counters["sum_units"] = r.sum_units;
  state.counters["carry_units"] = r.carry_units;
  state.counters["products_aligned_individually"] = r.products_aligned_individually;
  state.counters["products_summed_exactly"] = r.products_summed_exactly;
  state.counters["accumulator_aligned_with_products"] = r.accumulator_aligned_with_products;
  state.SetLabel("probe: " + r.summary);
  bench::report(state, bench::gpu::probe_metadata(instruction_name));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

double dec(std::uint8_t c) { return num::decode_fp8(c, num::Fp8Format::kE4M3); }

// {exact, sum |a b|} of output (m, n) as `impl` scales it (the `ref` of bench::sampled_error).
std::pair<double, double> exact_and_magnitude(const quant::QuantizedMatrix& a,
                                              const quant::QuantizedMatrix& b, std::int64_t m,
                                              std::int64_t n, Impl impl) {
  const std::int64_t K = a.cols;
  double exact = 0, mag = 0;
  for (std::int64_t k = 0; k < K; ++k) {
    double p = dec(a.codes[m * K + k]) * dec(b.codes[n * K + k]);
    if (impl == Impl::kFp8TensorLt) p *= double(a.scales[0]) * b.scales[0];
    if (impl != Impl::kBf16Lt && impl != Impl::kFp8TensorLt)
      p *= double(a.scale_at(m, k)) * b.scale_at(n, k);
    exact += p;
    mag += std::fabs(p);
  }
  return {exact, std::max(mag, 1e-30)};
}

std::vector<std::uint16_t> to_bf16(const quant::QuantizedMatrix& q) {  // exact: FP8 is in BF16
  std::vector<std::uint16_t> out(q.codes.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = num::encode_bf16(float(dec(q.codes[i])));
  return out;
}

// A registered GEMM: which implementation, on which shape, and its NVTX range's name.
struct GemmConfig {
  Impl impl = Impl::kBf16Lt;
  bool square = false;
  std::string model, shape;  // model: "" on the squares
  std::string name;
};

void BM_Gemm(benchmark::State& state, const GemmConfig& config, const bench::DevicePeak& peak) try {
  const Impl impl = config.impl;
  const std::string& name = config.name;
  const std::int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const auto& a = bench::cached_fp8(0, M, K, 1);
  const auto& b = bench::cached_fp8(1, N, K, 128);
  gc::DeviceBuffer<float> d(static_cast<size_t>(M * N));
  std::function<void()> call;
  std::string what;
  double bytes = double(M * K + N * K) + 4.0 * double(M * N);
  // Everything the call reads lives until the loop ends.
  gc::DeviceFp8Matrix da, db;
  gc::DeviceBuffer<std::uint16_t> a16, b16;
  gc::DeviceBuffer<float> sa, sb;
  std::unique_ptr<gc::LtMatmul> lt;
  if (impl == Impl::kBf16Lt) {
    a16 = gc::DeviceBuffer<std::uint16_t>(to_bf16(a));
    b16 = gc::DeviceBuffer<std::uint16_t>(to_bf16(b));
    lt = std::make_unique<gc::LtMatmul>(gc::LtMatmul::bf16(a16.get(), b16.get(), d.get(), M, N, K));
    bytes += double(M * K + N * K);
  } else {
    da = gc::upload_fp8(a);
    db = gc::upload_fp8(b);
    if (impl == Impl::kFp8TensorLt) {
      sa = gc::DeviceBuffer<float>(std::vector<float>{a.scales[0]});
      sb = gc::DeviceBuffer<float>(std::vector<float>{b.scales[0]});
      // K as the padded row length: upload_fp8 pads rows to a multiple of 128 (zero codes).
      lt = std::make_unique<gc::LtMatmul>(gc::LtMatmul::fp8_tensor_scaled(
          da.codes.get(), sa.get(), db.codes.get(), sb.get(), d.get(), M, N, da.ld));
    } else if (impl == Impl::kFp8BlockLt) {
      sa = gc::DeviceBuffer<float>(gc::cublaslt_vec128_scales(a));
      sb = gc::DeviceBuffer<float>(gc::cublaslt_blk128_scales(b, N));
      lt = std::make_unique<gc::LtMatmul>(gc::LtMatmul::fp8_block_scaled(
          da.codes.get(), sa.get(), db.codes.get(), sb.get(), d.get(), M, N, da.ld));
    }
  }
  // What the loop times: for cuBLASLt the matmul alone (a BF16 D's conversion to FP32 runs once,
  // for the verification, outside the timing).
  std::function<void()> timed;
  if (lt) {
    call = [&lt] { lt->run(); };
    timed = [&lt] { lt->matmul(); };
    what = lt->description();
  } else {
    const gc::Fp8GemmOptions options{128, impl == Impl::kFp8BlockCobenchMmaSync
                                              ? gc::Fp8GemmKernel::kMmaSync
                                              : gc::Fp8GemmKernel::kAuto};
    what = fmt::format("cobench fp8 block-scaled, {}, promotion every 128",
                       gc::fp8_gemm_kernel_name(gc::resolve_fp8_gemm_kernel(options.kernel)));
    call = [&da, &db, &d, options] { gc::fp8_gemm_cuda(da, db, d.get(), options); };
    timed = call;
  }
  call();
  const std::optional<double> verified = bench::verified_error(
      state, M, N, 1.0 / 256,
      [&](std::int64_t m, std::int64_t n) {
        return double(bench::read_device(d.get() + m * N + n));
      },
      [&](std::int64_t m, std::int64_t n) { return exact_and_magnitude(a, b, m, n, impl); }, what);
  if (!verified) return;
  const double error = *verified;
  bench::GpuTimer timer;
  const double flop = 2.0 * double(M) * double(N) * double(K);
  const double seconds =
      bench::timed_loop(state, timer, timed, fmt::format("{}/m:{}/n:{}/k:{}", name, M, N, K));
  const double iters = static_cast<double>(state.iterations());
  const double rate = flop * iters / seconds;
  const double named_peak = impl == Impl::kBf16Lt ? peak.bf16 : peak.fp8;
  state.counters["gemm_flop_per_s"] = rate;
  state.counters["operand_bytes_per_s"] = bytes * iters / seconds;
  state.counters["max_rel_err"] = error;
  if (named_peak > 0) state.counters["peak_fraction"] = rate / named_peak;
  const std::string of_peak =
      named_peak > 0 ? fmt::format(" = {:.0f}% of {:.0f} ({})", 100 * rate / named_peak,
                                   named_peak * 1e-12, peak.how)
                     : " (no peak known for this architecture)";
  state.SetLabel(fmt::format("verified: error {:.2g}; {}; {:.0f} TFLOPS{}", error, what,
                             rate * 1e-12, of_peak));
  bench::report(state, bench::gpu::gemm_metadata({impl, config.square, config.model, config.shape,
                                                  M, N, K, error, what, peak}));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

// The MoE grouped GEMM over `experts` experts with Zipf(1)-uneven token counts.
void BM_GroupedGemm(benchmark::State& state, std::int64_t N, std::int64_t K,
                    const bench::DevicePeak& peak) try {
  const std::int64_t experts = state.range(0), tokens = state.range(1);
  const std::vector<std::int64_t> counts = bench::zipf_counts(experts, tokens);
  const auto& a = bench::cached_fp8(0, tokens, K, 1);
  std::vector<quant::QuantizedMatrix> b;
  for (std::int64_t e = 0; e < experts; ++e)
    b.push_back(bench::random_fp8(N, K, 128, 100 + static_cast<std::uint64_t>(e)));
  const auto da = gc::upload_fp8(a);
  const auto db = gc::upload_fp8_experts(b);
  const auto tiles = gc::grouped_tiles(counts);
  gc::DeviceBuffer<float> d(static_cast<size_t>(tokens * N));
  const std::function<void()> call = [&] { gc::grouped_fp8_gemm_cuda(da, db, tiles, d.get()); };
  call();
  // Verify 64 outputs at random rows (any expert) and columns against FP64.
  const std::optional<double> verified = bench::verified_error(
      state, tokens, N, 1.0 / 256,
      [&](std::int64_t m, std::int64_t n) {
        return double(bench::read_device(d.get() + m * N + n));
      },
      [&](std::int64_t m, std::int64_t n) {
        std::int64_t e = 0, first = 0;
        while (m >= first + counts[size_t(e)]) first += counts[size_t(e++)];
        return bench::fp8_exact_and_magnitude(a, b[size_t(e)], m, n);
      },
      "", 9);
  if (!verified) return;
  const double error = *verified;
  bench::GpuTimer timer;
  const double seconds =
      bench::timed_loop(state, timer, call,
                        fmt::format("BM_GroupedFp8_Cobench/experts:{}/tokens:{}", experts, tokens));
  const double iters = static_cast<double>(state.iterations());
  state.counters["gemm_flop_per_s"] = 2.0 * double(tokens * N) * double(K) * iters / seconds;
  state.counters["operand_bytes_per_s"] =
      double(tokens * K + experts * N * K + 4 * tokens * N) * iters / seconds;
  state.counters["max_rel_err"] = error;
  state.SetLabel(fmt::format("verified: error {:.2g}; tokens per expert {} .. {}", error,
                             counts.back(), counts.front()));
  bench::report(state, bench::gpu::grouped_gemm_metadata(
                           {experts, tokens, N, K, counts.back(), counts.front(), error, peak}));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

// The probe readings the device can give (WGMMA on sm_90, mma.sync on any FP8 device the probe
// was built for, which includes GPUs the GEMM kernels are not built for).
void register_probes() {
  for (const auto& [name, instruction] :
       {std::pair{"wgmma_m64n8k32_e4m3", gc::ProbeInstruction::kWgmma},
        std::pair{"mma_sync_m16n8k32_e4m3", gc::ProbeInstruction::kMmaSync}})
    if (gc::accumulator_probe_unsupported(instruction).empty())
      benchmark::RegisterBenchmark(
          fmt::format("BM_AccumulatorProbe/instruction:{}", name).c_str(),
          [instruction = instruction, name = std::string(name)](benchmark::State& st) {
            BM_AccumulatorProbe(st, instruction, name);
          })
          ->Iterations(1);
}

void register_all() {
  static const bench::DevicePeak peak = bench::device_peak();
  const std::string model = bench::gemm_model_name();
  const topo::ModelArch arch = topo::load_model(model);
  const auto shapes = bench::model_gemm_shapes(arch);
  const auto dgrad_shapes = bench::dgrad_gemm_shapes(arch);
  const bool hopper = gc::cuda_compute_capability() == 90;
  for (Impl impl : {Impl::kBf16Lt, Impl::kFp8TensorLt, Impl::kFp8BlockLt, Impl::kFp8BlockCobench,
                    Impl::kFp8BlockCobenchMmaSync}) {
    if (impl == Impl::kFp8BlockCobenchMmaSync && !hopper) continue;  // the default tile there
    const std::string base = bench::gpu::gemm_benchmark(impl);
    const GemmConfig square{impl, true, "", "square", base + "/shape:square"};
    for (std::int64_t s : {4096, 8192})
      benchmark::RegisterBenchmark(
          (square.name + bench::gpu::model_input_segment(bench::gpu::gemm_model_input(impl, true)))
              .c_str(),
          [square](benchmark::State& st) { BM_Gemm(st, square, peak); })
          ->ArgNames({"m", "n", "k"})
          ->Args({s, s, s})
          ->UseManualTime()
          ->MinTime(0.1)
          ->Unit(benchmark::kMicrosecond);
    if (impl == Impl::kFp8BlockCobenchMmaSync) continue;  // squares only
    // The block-scaled FP8 GEMMs of the model's shapes are the model's measured GEMM table
    // (topologies/measured_tables.h). Each shape's training input gradient follows it (the
    // block-scaled two only: dY quantized 1 x 128, W's 128 x 128 blocks, at a 4096-token
    // micro-batch), so that a run cut short at a time cap loses whole shapes, the last (dense
    // layers, LM head) first.
    const bool dgrad = impl == Impl::kFp8BlockLt || impl == Impl::kFp8BlockCobench;
    for (const auto& sh : shapes) {
      auto add = [&](const bench::GemmShape& g, std::initializer_list<std::int64_t> ms) {
        const std::string name =
            bench::gemm_benchmark_name(base, model, g.name) +
            bench::gpu::model_input_segment(bench::gpu::gemm_model_input(impl, false));
        const GemmConfig config{impl, false, model, g.name, name};
        auto* b = benchmark::RegisterBenchmark(
            name.c_str(), [config](benchmark::State& st) { BM_Gemm(st, config, peak); });
        b->ArgNames({"m", "n", "k"})->UseManualTime()->MinTime(0.1)->Unit(benchmark::kMicrosecond);
        for (std::int64_t m : ms) b->Args({m, g.n, g.k});
      };
      add(sh, {64, 512, 4096, 16384});
      for (const auto& d : dgrad_shapes)
        if (dgrad && d.name == sh.name + "_dgrad") add(d, {4096});
    }
  }
  register_probes();
  // DeepSeek-V3's routed expert down-projection (N hidden 7168, K expert intermediate 2048).
  const topo::ModelArch v3 = topo::load_model("deepseek-v3");
  const std::int64_t n = v3.hidden_size, k = v3.moe->expert_intermediate;
  benchmark::RegisterBenchmark("BM_GroupedFp8_Cobench/shape:expert_down",
                               [n, k](benchmark::State& st) { BM_GroupedGemm(st, n, k, peak); })
      ->ArgNames({"experts", "tokens"})
      ->Args({8, 4096})
      ->Args({32, 16384})
      ->UseManualTime()
      ->MinTime(0.1)
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  return cobench::bench::gpu_bench_main(argc, argv, "BM_GemmGpu", register_all, register_probes);
}
