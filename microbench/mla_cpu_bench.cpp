// SPDX-License-Identifier: Apache-2.0
// MLA decode on the CPU against its baselines at equal context: DeepSeek-V3's MLA (128 heads
// sharing one 576/512-dim latent KV head; BF16 and FP8 paged caches, kernels/mla/mla_decode.h)
// and Qwen2.5-72B's GQA (64 query heads, 8 KV heads of 128) and MHA (64 KV heads), one layer, one
// decode step per sequence. Every sequence's cache is followed by kNanSlots unwritten (NaN) slots,
// so a read past its length makes the output NaN. Each configuration is verified before it is
// timed (every output finite; 8 of MLA's heads, every GQA/MHA head, of the first and last sequences
// against the FP64 reference) and after (one more pass into NaN-cleared outputs must reproduce
// them). Counters:
//   kv_bytes_per_s      bytes that must move: the cache read once, plus q, out and lse (FP32)
//   attention_flop_per_s  2 x heads x context x (d_qk + d_v) per sequence
//   read_bw_fraction    kv_bytes_per_s over the host read bandwidth measured first in the same
//                       run (the best BM_HostRead pass, over repetitions too; it carries
//                       model_input: cpu.memory_bandwidth)
//   compute_fraction    attention_flop_per_s over the FP32 FMA peak measured first in the same
//                       run (BM_FmaPeak): with 128 heads MLA is compute-bound on a CPU
//                       (docs/mla.md, "Why CPU MLA decode is compute-bound"); above 1 where the
//                       AMX kernel runs, which does not use the FMA units for its products
//   tile_fraction       MLA on the AMX kernel only: the tile work over the AMX-BF16 peak measured
//                       first in the same run (BM_AmxPeak); the kernel issues 2 x the attention
//                       FLOP (each FP32 query and softmax weight as two BF16 halves,
//                       kernels/mla/mla_decode_amx.h)
// Bandwidths are decimal (1 GB/s = 1e9 B/s).
// The default grid keeps each cache under 2 GiB and batch x context <= 128K tokens, so that it
// runs in minutes on 2 cores; COBENCH_MLA_GRID=full registers batch 1 .. 128 x context 1K .. 32K
// (any other value is an error), and a configuration whose cache would take more than half of
// physical memory reports an error instead of running. COBENCH_MLA_KERNEL forces the kernel (auto,
// portable, avx2-fma, avx512f or amx-bf16; GQA and MHA have no AMX kernel and run avx512f under
// amx-bf16); one this CPU lacks, or another name, is an error. Pick configurations with a filter:
//   cobench_bench_mla_cpu --benchmark_filter='HostRead|Mla.*batch:1/context:32768'
//   cobench_bench_mla_cpu --benchmark_filter='context:4096' --benchmark_min_time=0.5
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/nvtx.h"
#include "core/random.h"
#include "kernels/memory/host_stream.h"
#include "kernels/mla/gqa_decode.h"
#include "kernels/mla/mla_decode.h"
#include "microbench/amx_peak_bench.h"
#include "microbench/bench_main.h"
#include "microbench/bench_metadata.h"
#include "microbench/fma_peak_bench.h"
#include "microbench/memory_guard.h"

namespace {

using namespace cobench;
using namespace cobench::mla;

// FP32 kernel vs FP64 reference: out relative to the largest |out| of the checked heads, lse
// absolute (the unit tests hold 1e-5 at 4K tokens; FP32 sums over 32K tokens lose a bit more).
constexpr double kOutBound = 1e-4, kLseBound = 1e-4;
constexpr std::int64_t kCheckedHeads = 8;
constexpr std::int64_t kMlaHeads = 128;
constexpr double kDefaultCacheLimit = 2.0 * (1 << 30);
constexpr double kDefaultTokenLimit = 131072;  // batch x context
constexpr std::int64_t kNanSlots = 32;         // unwritten slots after every sequence

// "" when every output and lse is finite, else where the first one that is not sits.
std::string first_non_finite(const std::vector<float>& out, const std::vector<float>& lse) {
  for (const auto& [v, what] : {std::pair{&out, "out"}, std::pair{&lse, "lse"}})
    for (size_t i = 0; i < v->size(); ++i)
      if (!std::isfinite((*v)[i])) return fmt::format("{}[{}] is {}", what, i, (*v)[i]);
  return "";
}

// "" when the outputs are finite and within the bounds of the reference, else the message.
std::string verification_failure(const std::vector<float>& out, const std::vector<float>& lse,
                                 double error, double lse_error) {
  if (const std::string e = first_non_finite(out, lse); !e.empty())
    return "verification failed: " + e;
  if (!(error <= kOutBound && lse_error <= kLseBound))
    return fmt::format("verification failed: out error {:.3g}, lse error {:.3g}", error, lse_error);
  return "";
}

double g_read_bandwidth = 0;   // B/s, from BM_HostRead or measured on first use
CpuIsa g_isa = CpuIsa::kAuto;  // COBENCH_MLA_KERNEL

// The kernel COBENCH_MLA_KERNEL names (unset: kAuto); an unknown name or one this CPU lacks is an
// error.
CpuIsa kernel_from_env() {
  const char* v = std::getenv("COBENCH_MLA_KERNEL");
  if (v == nullptr) return CpuIsa::kAuto;
  for (CpuIsa isa :
       {CpuIsa::kAuto, CpuIsa::kPortable, CpuIsa::kAvx2, CpuIsa::kAvx512, CpuIsa::kAmx})
    if (std::string(v) == cpu_isa_name(isa)) {
      if (!cpu_isa_supported(isa))
        throw Error(fmt::format(
            "COBENCH_MLA_KERNEL is \"{}\": this CPU (or OS) lacks its instructions", v));
      return isa;
    }
  throw Error(fmt::format(
      "COBENCH_MLA_KERNEL is \"{}\"; expected auto, portable, avx2-fma, avx512f or amx-bf16", v));
}

// The kernel MLA runs: the forced one, else what kAuto picks.
CpuIsa mla_isa() { return g_isa == CpuIsa::kAuto ? best_cpu_isa() : g_isa; }

// The kernel GQA and MHA run: MLA's, with AVX-512 for AMX (they have no AMX kernel).
CpuIsa gqa_isa() { return mla_isa() == CpuIsa::kAmx ? CpuIsa::kAvx512 : mla_isa(); }

double read_bandwidth() {
  if (g_read_bandwidth <= 0) g_read_bandwidth = memory::measure_read_bandwidth();
  return g_read_bandwidth;
}

void BM_HostRead(benchmark::State& state) {
  memory::HostStream s(std::size_t{512} << 20);
  s.run(memory::StreamOp::kRead);
  double best = 0;
  {
    NvtxRange range("BM_HostRead");
    for (auto _ : state) {
      const double t = s.run(memory::StreamOp::kRead);
      best = std::max(best, static_cast<double>(s.bytes_per_pass(memory::StreamOp::kRead)) / t);
    }
  }
  if (const std::string e = s.verify(memory::StreamOp::kRead); !e.empty()) {
    bench::fail_verification(state, "verification failed: " + e);
    return;
  }
  g_read_bandwidth = std::max(g_read_bandwidth, best);  // the best pass of the whole run
  state.counters["memory_bytes_per_s"] =
      benchmark::Counter(static_cast<double>(s.bytes_per_pass(memory::StreamOp::kRead)),
                         benchmark::Counter::kIsIterationInvariantRate);
  const std::string what = fmt::format(
      "read, {} threads {}, {}; best pass {:.2f} GB/s is the denominator of "
      "read_bw_fraction",
      s.threads(), s.pinned(), s.placement(), best / 1e9);
  state.SetLabel("verified: " + what);
  bench::Metadata md = bench::verified(what);
  md.model_input = "cpu.memory_bandwidth";
  md.parameters = {{"mib", 512}, {"threads", s.threads()}};
  bench::report(state, std::move(md));
}

// Largest deviation of `got` from `want` over `heads` heads: {out relative, lse absolute}.
std::pair<double, double> deviation(const float* out, const float* lse, const double* ref_out,
                                    const double* ref_lse, std::int64_t heads, std::int64_t dv) {
  double largest = 0, dout = 0, dlse = 0;
  for (std::int64_t i = 0; i < heads * dv; ++i) largest = std::max(largest, std::fabs(ref_out[i]));
  for (std::int64_t i = 0; i < heads * dv; ++i) {
    const double d = std::fabs(out[i] - ref_out[i]) / largest;
    dout = std::isnan(d) ? INFINITY : std::max(dout, d);
  }
  for (std::int64_t h = 0; h < heads; ++h) {
    const double d = std::fabs(lse[h] - ref_lse[h]);
    dlse = std::isnan(d) ? INFINITY : std::max(dlse, d);
  }
  return {dout, dlse};
}

// One more pass into NaN-cleared outputs must reproduce the verified `out` and `lse` bit for bit
// (the CPU decode's splits and their combine do not depend on timing).
template <class Run>
bool same_after_timing(const std::vector<float>& out, const std::vector<float>& lse, Run run) {
  std::vector<float> o(out.size(), NAN), l(lse.size(), NAN);
  run(o.data(), l.data());
  return std::memcmp(o.data(), out.data(), out.size() * sizeof(float)) == 0 &&
         std::memcmp(l.data(), lse.data(), lse.size() * sizeof(float)) == 0;
}

// tile_flop: the tile work of an AMX kernel (0: none ran).
void set_counters(benchmark::State& state, double bytes, double flop, double error,
                  double tile_flop = 0) {
  state.counters["kv_bytes_per_s"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["attention_flop_per_s"] =
      benchmark::Counter(flop, benchmark::Counter::kIsIterationInvariantRate);
  // A rate over the read bandwidth: kIsRate divides by the time, the value scales it.
  state.counters["read_bw_fraction"] =
      benchmark::Counter(bytes / read_bandwidth(), benchmark::Counter::kIsIterationInvariantRate);
  if (const double peak = bench::fma_peak_flop_per_s(); peak > 0)
    state.counters["compute_fraction"] =
        benchmark::Counter(flop / peak, benchmark::Counter::kIsIterationInvariantRate);
  if (const double amx = tile_flop > 0 ? bench::amx_peak_flop_per_s() : 0; amx > 0)
    state.counters["tile_fraction"] =
        benchmark::Counter(tile_flop / amx, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["max_rel_err"] = error;
}

// The verified label (human text) and the same facts as fields: verdict, the error against FP64,
// the shape, and the peaks kv_bytes_per_s and attention_flop_per_s are measured against.
void report_verified(benchmark::State& state, const std::string& what, double error,
                     nlohmann::json shape, bool tiles = false) {
  bench::Metadata md = bench::verified_run(state, what, error, std::move(shape));
  md.peaks.push_back(
      {"kv_bytes_per_s", "host read bandwidth (best BM_HostRead pass)", read_bandwidth()});
  if (const double peak = bench::fma_peak_flop_per_s(); peak > 0)
    md.peaks.push_back(
        {"attention_flop_per_s",
         fmt::format("FP32 FMA peak (BM_FmaPeak, {})", bench::fma_peak_description()), peak});
  if (const double amx = tiles ? bench::amx_peak_flop_per_s() : 0; amx > 0)
    md.peaks.push_back({"tile_flop_per_s",
                        "AMX-BF16 tile peak (BM_AmxPeak); tile FLOP = 2 x attention FLOP", amx});
  bench::report(state, std::move(md));
}

void BM_MlaDecode_Cpu(benchmark::State& state, KvPrecision p, std::int64_t batch,
                      std::int64_t context) try {
  if (const std::string e = bench::exceeds_half_of_memory(
          static_cast<double>(batch * (context + kNanSlots)) * static_cast<double>(token_bytes(p)),
          "the cache");
      !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  const MlaCache cache = make_benchmark_cache(p, batch, context, kNanSlots);
  const std::vector<float> q = random_normal_matrix(1, batch * kMlaHeads * kQkDims, 5);
  std::vector<float> out(static_cast<size_t>(batch * kMlaHeads * kVDims)),
      lse(static_cast<size_t>(batch * kMlaHeads));
  const float scale = static_cast<float>(deepseek_v3_softmax_scale());
  mla_decode_cpu(cache, q.data(), kMlaHeads, scale, out.data(), lse.data(), {0, g_isa});
  double error = 0, lse_error = 0;
  for (std::int64_t s : {std::int64_t{0}, batch - 1}) {
    const std::vector<double> qs(q.begin() + s * kMlaHeads * kQkDims,
                                 q.begin() + (s * kMlaHeads + kCheckedHeads) * kQkDims);
    std::vector<double> ref_out(kCheckedHeads * kVDims), ref_lse(kCheckedHeads);
    mla_decode_ref_seq(cache, s, qs.data(), kCheckedHeads, scale, ref_out.data(), ref_lse.data());
    const auto [e, le] = deviation(out.data() + s * kMlaHeads * kVDims, lse.data() + s * kMlaHeads,
                                   ref_out.data(), ref_lse.data(), kCheckedHeads, kVDims);
    error = std::max(error, e), lse_error = std::max(lse_error, le);
  }
  if (const std::string e = verification_failure(out, lse, error, lse_error); !e.empty()) {
    bench::fail_verification(state, e);
    return;
  }
  {
    NvtxRange range(fmt::format("BM_MlaDecode_Cpu/cache:{}/batch:{}/context:{}", precision_name(p),
                                batch, context)
                        .c_str());
    for (auto _ : state) {
      mla_decode_cpu(cache, q.data(), kMlaHeads, scale, out.data(), lse.data(), {0, g_isa});
      benchmark::DoNotOptimize(out.data());
    }
  }
  if (!same_after_timing(out, lse, [&](float* o, float* l) {
        mla_decode_cpu(cache, q.data(), kMlaHeads, scale, o, l, {0, g_isa});
      })) {
    bench::fail_verification(state,
                             "verification failed after timing: the output changed between calls");
    return;
  }
  const double bytes = static_cast<double>(cache.paged.used_bytes()) +
                       4.0 * static_cast<double>(q.size() + out.size() + lse.size());
  const double flop = 2.0 * static_cast<double>(batch * context * kMlaHeads * (kQkDims + kVDims));
  const bool tiles = mla_isa() == CpuIsa::kAmx;
  set_counters(state, bytes, flop, error, tiles ? 2.0 * flop : 0.0);
  report_verified(
      state,
      fmt::format("{} kernel, {} B/token, error {:.2g}; FMA peak {}", cpu_isa_name(mla_isa()),
                  token_bytes(p), error, bench::fma_peak_description()),
      error,
      {{"cache", std::string(precision_name(p))},
       {"batch", batch},
       {"context", context},
       {"heads", kMlaHeads},
       {"token_bytes", token_bytes(p)},
       {"kernel", std::string(cpu_isa_name(mla_isa()))}},
      tiles);
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void BM_GqaDecode_Cpu(benchmark::State& state, GqaShape s, std::int64_t batch,
                      std::int64_t context) try {
  if (const std::string e = bench::exceeds_half_of_memory(
          static_cast<double>(batch * (context + kNanSlots)) * static_cast<double>(s.token_bytes()),
          "the cache");
      !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  const GqaCache cache = make_benchmark_cache(s, batch, context, kNanSlots);
  const std::vector<float> q = random_normal_matrix(1, batch * s.q_heads * s.head_dim, 5);
  std::vector<float> out(q.size()), lse(static_cast<size_t>(batch * s.q_heads));
  const float scale = static_cast<float>(s.scale());
  gqa_decode_cpu(cache, q.data(), scale, out.data(), lse.data(), {0, g_isa});
  double error = 0, lse_error = 0;
  for (std::int64_t b : {std::int64_t{0}, batch - 1}) {
    const std::vector<double> qs(q.begin() + b * s.q_heads * s.head_dim,
                                 q.begin() + (b + 1) * s.q_heads * s.head_dim);
    std::vector<double> ref_out(qs.size()), ref_lse(static_cast<size_t>(s.q_heads));
    gqa_decode_ref_seq(cache, b, qs.data(), scale, ref_out.data(), ref_lse.data());
    const auto [e, le] =
        deviation(out.data() + b * s.q_heads * s.head_dim, lse.data() + b * s.q_heads,
                  ref_out.data(), ref_lse.data(), s.q_heads, s.head_dim);
    error = std::max(error, e), lse_error = std::max(lse_error, le);
  }
  if (const std::string e = verification_failure(out, lse, error, lse_error); !e.empty()) {
    bench::fail_verification(state, e);
    return;
  }
  {
    NvtxRange range(fmt::format("BM_GqaDecode_Cpu/q_heads:{}/kv_heads:{}/batch:{}/context:{}",
                                s.q_heads, s.kv_heads, batch, context)
                        .c_str());
    for (auto _ : state) {
      gqa_decode_cpu(cache, q.data(), scale, out.data(), lse.data(), {0, g_isa});
      benchmark::DoNotOptimize(out.data());
    }
  }
  if (!same_after_timing(out, lse, [&](float* o, float* l) {
        gqa_decode_cpu(cache, q.data(), scale, o, l, {0, g_isa});
      })) {
    bench::fail_verification(state,
                             "verification failed after timing: the output changed between calls");
    return;
  }
  const double bytes = static_cast<double>(cache.paged.used_bytes()) +
                       4.0 * static_cast<double>(q.size() + out.size() + lse.size());
  set_counters(state, bytes, 4.0 * static_cast<double>(batch * context * s.q_heads * s.head_dim),
               error);
  report_verified(
      state,
      fmt::format("{} kernel, {} q / {} KV heads, {} B/token, error {:.2g}",
                  cpu_isa_name(gqa_isa()), s.q_heads, s.kv_heads, s.token_bytes(), error),
      error,
      {{"batch", batch},
       {"context", context},
       {"q_heads", s.q_heads},
       {"kv_heads", s.kv_heads},
       {"token_bytes", s.token_bytes()}});
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void register_all() {
  g_isa = kernel_from_env();
  bench::register_fma_peak_benchmark();
  bench::register_amx_peak_benchmark();
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  benchmark::RegisterBenchmark(
      fmt::format("BM_HostRead/model_input:cpu.memory_bandwidth/mib:512/threads:{}", threads)
          .c_str(),
      BM_HostRead)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  const char* grid = std::getenv("COBENCH_MLA_GRID");
  if (grid && std::string(grid) != "full")
    throw Error(fmt::format("COBENCH_MLA_GRID is \"{}\"; expected \"full\" or unset", grid));
  const bool full = grid != nullptr;
  std::vector<std::int64_t> batches{1, 16, 128}, contexts{1024, 4096, 32768};
  if (full)
    batches = {1, 2, 4, 8, 16, 32, 64, 128}, contexts = {1024, 2048, 4096, 8192, 16384, 32768};
  for (std::int64_t context : contexts)
    for (std::int64_t batch : batches) {
      const double tokens = static_cast<double>(batch * context);
      auto fits = [&](double token_bytes) {
        return full || (tokens * token_bytes <= kDefaultCacheLimit && tokens <= kDefaultTokenLimit);
      };
      for (KvPrecision p : {KvPrecision::kBf16, KvPrecision::kFp8})
        if (fits(static_cast<double>(token_bytes(p))))
          benchmark::RegisterBenchmark(fmt::format("BM_MlaDecode_Cpu/cache:{}/batch:{}/context:{}",
                                                   precision_name(p), batch, context)
                                           .c_str(),
                                       BM_MlaDecode_Cpu, p, batch, context)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
      for (const auto& [name, shape] :
           {std::pair{"gqa", qwen25_72b_gqa()}, std::pair{"mha", qwen25_72b_mha()}})
        if (fits(static_cast<double>(shape.token_bytes())))
          benchmark::RegisterBenchmark(
              fmt::format("BM_GqaDecode_Cpu/attn:{}/batch:{}/context:{}", name, batch, context)
                  .c_str(),
              BM_GqaDecode_Cpu, shape, batch, context)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
    }
}

}  // namespace

int main(int argc, char** argv) {
  return cobench::bench::cpu_bench_main(argc, argv, "cobench_bench_mla_cpu", register_all);
}
