// SPDX-License-Identifier: Apache-2.0
// MLA decode on the GPU: the split-KV kernels (kernels/mla/cuda/mla_decode_cuda.h; tensor-core
// "tc" and SIMT "simt") on FlashMLA's shapes, one 576/512-dim latent KV head shared by 128 query
// heads (DeepSeek-V3) or 16 (128 over TP8: memory-bound), BF16 and FP8 paged caches
// (kernels/mla/paged_cache.h), batch 1 .. 128 x context 1K .. 32K, one decode step.
//   BM_DeviceCopy      first: the device copy stream over 1 GiB arrays (kernels/memory/cuda/,
//                      STREAM counting, 16 B per element); its best pass is the measured device
//                      copy bandwidth, the denominator of copy_bw_fraction
//                      (decode_gpu_bench_common.h)
//   BM_MlaDecodeGpu    verified against the FP64 paged reference, then timed with CUDA events
//                      (L2 flushed before every call). Counters:
//     kv_bytes_per_s        bytes that must move: the cache read once, plus q, out, lse (FP32)
//     attention_flop_per_s  2 x heads x context x (576 + 512) per sequence
//     copy_bw_fraction      kv_bytes_per_s over the measured device copy bandwidth (target, in
//                           memory-bound configurations: >= 0.8)
//     roofline_fraction     the roofline time, max(bytes / measured copy bandwidth, FLOP / dense
//                           BF16 tensor peak), over the measured time; the label says which
//                           bound the configuration is (128 heads: 242 FLOP per BF16 cache byte,
//                           compute-bound on an H200; 16 heads: memory-bound; docs/mla.md)
//     max_rel_err           out error relative to the largest |out| of a checked sequence
//   BM_GqaDecodeGpu    the GQA / MHA baselines at equal context (gqa_gpu_bench.cpp)
// Every sequence is followed by unwritten (NaN) cache slots, so a read past its length makes the
// output NaN and fails the check. Bandwidths are decimal (1 GB/s = 1e9 B/s). Each run reports
// its verdict, error, model input (gpu.mla_decode: tensor cores, 128 heads, BF16 cache), shape and
// the peaks its fractions divide by as typed metadata (gpu_bench_metadata.h); the names keep their
// model_input: segments. Without a device one entry reports the runtime's reason as an error and
// the binary exits 0.
//   cobench_bench_mla_gpu --benchmark_filter='DeviceCopy|batch:1/context:32768'
//   cobench_bench_mla_gpu --benchmark_filter='DeviceCopy|kernel:tc/heads:16/cache:fp8/batch:64/'
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/cuda/cuda_check.h"
#include "core/cuda/device_buffer.h"
#include "core/random.h"
#include "kernels/mla/cuda/decode_common.h"
#include "kernels/mla/cuda/mla_decode_cuda.h"
#include "kernels/mla/mla_decode.h"
#include "kernels/numerics/fp8.h"
#include "microbench/decode_gpu_bench_common.h"
#include "microbench/gpu_bench_common.h"
#include "microbench/gpu_bench_metadata.h"

namespace {

using namespace cobench;
using namespace cobench::mla;
namespace decode = bench::decode;

// Error bounds, as tests/gpu/mla_cuda_test.cpp, for both cache precisions (the reference reads
// the same quantized values the kernel does, so the precision changes the inputs, not the
// arithmetic error). FP32 arithmetic with fast exponentials vs FP64: out within kOutBound of the
// largest |out| of its sequence, lse within kLseBound (the CPU benchmark holds 1e-4 at 32K). The
// tensor-core kernel reads q rounded to BF16 (so does its reference) and rounds each P to BF16
// (relative error <= 2^-8): out_j may move by 2^-8 x the reference's magnitude_j
// (sum_t softmax_t |v_tj|) more; the bound allows twice that.
constexpr double kOutBound = 1e-4, kLseBound = 1e-4, kPRounding = 0x1p-7;

// Splits per sequence for a kernel: decode::pick_splits over its block slots (the blocks an SM
// holds at once, from the occupancy API: the tensor-core kernel's shared memory and the SIMT
// kernel's 201 registers a thread each fit one; a block per 32 heads of a sequence and split).
int pick_splits(cuda::GpuKernel kernel, KvPrecision p, std::int64_t batch, std::int64_t heads,
                std::int64_t context) {
  const int per_sm = std::max(1, cuda::mla_decode_cuda_blocks_per_sm(kernel, p));
  return decode::pick_splits(batch * ((heads + 31) / 32), decode::sm_count() * per_sm, context);
}

// What a sequence's check compares with: the FP64 reference, all heads.
struct SeqRef {
  std::vector<double> out, lse, magnitude;
};

// FP64 reference of sequence `s` (q [batch, heads, 576]), its heads spread over the host's
// threads.
SeqRef reference(const MlaCache& cache, const std::vector<float>& q, std::int64_t heads,
                 std::int64_t s, double scale) {
  const int threads =
      static_cast<int>(std::min<unsigned>(32, std::max(1u, std::thread::hardware_concurrency())));
  const std::int64_t per = (heads + threads - 1) / threads;
  const std::vector<double> qs(q.begin() + s * heads * kQkDims,
                               q.begin() + (s + 1) * heads * kQkDims);
  SeqRef r{std::vector<double>(static_cast<size_t>(heads * kVDims)),
           std::vector<double>(static_cast<size_t>(heads)),
           std::vector<double>(static_cast<size_t>(heads * kVDims))};
  std::vector<std::thread> pool;
  std::vector<std::string> errors(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    const std::int64_t h0 = i * per, h1 = std::min(heads, h0 + per);
    if (h0 >= h1) break;
    pool.emplace_back([&, i, h0, h1] {
      try {
        mla_decode_ref_seq(cache, s, qs.data() + h0 * kQkDims, h1 - h0, scale,
                           r.out.data() + h0 * kVDims, r.lse.data() + h0,
                           r.magnitude.data() + h0 * kVDims);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(i)] = e.what();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (const std::string& e : errors) COBENCH_CHECK(e.empty(), e);
  return r;
}

struct Deviation {
  double out = 0;    // largest |diff| relative to the largest |ref out| of the sequence
  double lse = 0;    // largest |diff|
  double bound = 0;  // largest |diff| over its allowed deviation: the check needs <= 1
};

Deviation deviation(const float* out, const float* lse, const SeqRef& ref, double p_rounding) {
  double largest = 0;
  for (double x : ref.out) largest = std::max(largest, std::fabs(x));
  Deviation d;
  for (size_t i = 0; i < ref.out.size(); ++i) {
    const double diff = std::fabs(out[i] - ref.out[i]);
    const double allowed = kOutBound * largest + p_rounding * ref.magnitude[i];
    d.out = std::isnan(diff) ? INFINITY : std::max(d.out, diff / largest);
    d.bound = std::isnan(diff) ? INFINITY : std::max(d.bound, diff / allowed);
  }
  for (size_t h = 0; h < ref.lse.size(); ++h) {
    const double diff = std::fabs(lse[h] - ref.lse[h]);
    d.lse = std::isnan(diff) ? INFINITY : std::max(d.lse, diff);
  }
  d.bound = std::max(d.bound, d.lse / kLseBound);
  return d;
}

// The queries of one head count and the references of the checked sequences, for one kernel's
// view of q (FP32, or rounded to BF16 by the tensor-core kernel).
struct Queries {
  std::vector<float> q;  // what the kernel is given
  std::vector<std::int64_t> seqs;
  std::vector<SeqRef> refs;  // per checked sequence
};

// A configuration's host side: the cache, and per (heads, q rounding) the queries and FP64
// references. Kept for the next call with the same cache, so that repetitions and the other
// kernel rebuild neither (the GPU output is still checked on every call).
struct Prepared {
  KvPrecision precision = KvPrecision::kBf16;
  std::int64_t batch = 0, context = 0;
  MlaCache cache;
  std::map<std::pair<std::int64_t, bool>, Queries> queries;
};

const Queries& prepared_queries(Prepared& prep, std::int64_t heads, bool bf16_q) {
  auto it = prep.queries.find({heads, bf16_q});
  if (it != prep.queries.end()) return it->second;
  Queries qs;
  qs.q = random_normal_matrix(1, prep.batch * heads * kQkDims, 5);
  std::vector<float> q_ref = qs.q;
  if (bf16_q)
    for (float& x : q_ref) x = num::decode_bf16(num::encode_bf16(x));
  qs.seqs = decode::checked_sequences(prep.batch, prep.context);
  for (std::int64_t s : qs.seqs)
    qs.refs.push_back(reference(prep.cache, q_ref, heads, s, deepseek_v3_softmax_scale()));
  return prep.queries.emplace(std::make_pair(heads, bf16_q), std::move(qs)).first->second;
}

Prepared& prepared(KvPrecision p, std::int64_t batch, std::int64_t context) {
  static Prepared cached;
  if (cached.batch == batch && cached.context == context && cached.precision == p) return cached;
  cached = Prepared{};  // frees the previous configuration first
  cached.cache = make_benchmark_cache(p, batch, context, decode::kNanSlots);
  cached.precision = p, cached.batch = batch, cached.context = context;
  return cached;
}

void BM_MlaDecodeGpu(benchmark::State& state, cuda::GpuKernel kernel, std::int64_t heads,
                     KvPrecision p, std::int64_t batch, std::int64_t context) try {
  const bool tc = kernel == cuda::GpuKernel::kTensorCore;
  Prepared& prep = prepared(p, batch, context);
  const Queries& qs = prepared_queries(prep, heads, tc);
  const PagedCache& pc = prep.cache.paged;
  decode::require_device_room(pc.pool.size());
  const cuda::UploadedPagedCache dev(pc);
  const DeviceBuffer<float> dq(qs.q);
  DeviceBuffer<float> out(static_cast<size_t>(batch * heads * kVDims)),
      lse(static_cast<size_t>(batch * heads));
  const int splits = pick_splits(kernel, p, batch, heads, context);
  DeviceBuffer<std::uint8_t> work(cuda::mla_decode_cuda_workspace_bytes(batch, heads, splits));
  const cuda::DeviceMlaCache dc = cuda::device_view(prep.cache, dev);
  const float scale = static_cast<float>(deepseek_v3_softmax_scale());
  const auto call = [&] {
    cuda::mla_decode_cuda(kernel, dc, dq.get(), heads, scale, splits, out.get(), lse.get(),
                          work.get(), nullptr);
  };
  call();
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<float> hout = out.download(), hlse = lse.download();
  for (size_t i = 0; i < hout.size(); ++i)
    if (!std::isfinite(hout[i])) {
      bench::fail_verification(
          state, fmt::format("verification failed: out[{}] is {} (sequence {})", i, hout[i],
                             static_cast<std::int64_t>(i) / (heads * kVDims)));
      return;
    }
  Deviation worst;
  for (size_t k = 0; k < qs.seqs.size(); ++k) {
    const std::int64_t s = qs.seqs[k];
    const Deviation d = deviation(hout.data() + s * heads * kVDims, hlse.data() + s * heads,
                                  qs.refs[k], tc ? kPRounding : 0.0);
    worst.out = std::max(worst.out, d.out), worst.lse = std::max(worst.lse, d.lse);
    worst.bound = std::max(worst.bound, d.bound);
  }
  if (!(worst.bound <= 1.0)) {
    bench::fail_verification(
        state,
        fmt::format("verification failed: out error {:.3g} of the largest |out|, lse error {:.3g} "
                    "(bound {:.0e}); {:.3g} x the allowed deviation; {} kernel, {} cache",
                    worst.out, worst.lse, kLseBound, worst.bound, cuda::gpu_kernel_name(kernel),
                    precision_name(p)));
    return;
  }
  bench::GpuTimer timer;
  const double seconds = bench::timed_loop(state, timer, call, "BM_MlaDecodeGpu");
  // The kernels are deterministic: the last timed call must have written what was verified.
  if (out.download() != hout || lse.download() != hlse) {
    bench::fail_verification(state,
                             "verification failed after timing: the output changed between calls");
    return;
  }
  const double iters = static_cast<double>(state.iterations());
  const double bytes = static_cast<double>(pc.used_bytes()) +
                       4.0 * static_cast<double>(qs.q.size() + hout.size() + hlse.size());
  const double flop = 2.0 * static_cast<double>(batch * context * heads * (kQkDims + kVDims));
  const double rate = bytes * iters / seconds, flops = flop * iters / seconds;
  const double copy = decode::copy_bandwidth();
  static const bench::DevicePeak peak = bench::device_peak();
  const double memory_s = bytes / copy, compute_s = peak.bf16 > 0 ? flop / peak.bf16 : 0.0;
  state.counters["kv_bytes_per_s"] = rate;
  state.counters["attention_flop_per_s"] = flops;
  state.counters["copy_bw_fraction"] = rate / copy;
  state.counters["roofline_fraction"] = std::max(memory_s, compute_s) * iters / seconds;
  state.counters["max_rel_err"] = worst.out;
  const std::string checked = qs.seqs.size() == static_cast<size_t>(batch)
                                  ? "every sequence"
                                  : fmt::format("sequences {}", fmt::join(qs.seqs, ", "));
  state.SetLabel(fmt::format(
      "verified: {} x {} heads, out error {:.2g}, lse error {:.2g}; {} kernel, {} splits, {} "
      "B/token; {:.1f} TFLOPS, {:.0f} GB/s = {:.0f}% of the measured copy {:.0f} GB/s; "
      "{}-bound ({:.0f} FLOP/B; BF16 peak {:.0f} TFLOPS: {})",
      checked, heads, worst.out, worst.lse, cuda::gpu_kernel_name(kernel), splits, pc.token_bytes,
      flops * 1e-12, rate / 1e9, 100 * rate / copy, copy / 1e9,
      compute_s > memory_s ? "compute" : "memory", flop / bytes, peak.bf16 * 1e-12, peak.how));
  bench::report(state, bench::gpu::mla_decode_metadata(
                           {cuda::gpu_kernel_name(kernel), heads, precision_name(p), batch, context,
                            splits, checked, worst.out, worst.lse, copy, peak}));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void register_all() {
  decode::register_device_copy();
  // Every configuration of one cache next to each other: the cache is built once for them.
  struct Variant {
    cuda::GpuKernel kernel;
    std::int64_t heads;
  };
  const Variant variants[] = {{cuda::GpuKernel::kTensorCore, 128},
                              {cuda::GpuKernel::kTensorCore, 16},
                              {cuda::GpuKernel::kSimt, 128}};
  for (std::int64_t context : {1024, 4096, 8192, 32768})
    for (std::int64_t batch : {1, 8, 32, 64, 128})
      for (KvPrecision p : {KvPrecision::kBf16, KvPrecision::kFp8}) {
        const std::int64_t pages = (context + decode::kNanSlots + kPageTokens - 1) / kPageTokens;
        const double pool_bytes =
            static_cast<double>((batch * pages + 1) * kPageTokens * token_bytes(p));
        if (pool_bytes > decode::kCacheBudgetBytes) continue;
        for (const Variant& v : variants)
          benchmark::RegisterBenchmark(
              fmt::format("BM_MlaDecodeGpu/kernel:{}/heads:{}/cache:{}/batch:{}/context:{}{}",
                          cuda::gpu_kernel_name(v.kernel), v.heads, precision_name(p), batch,
                          context,
                          // DeepSeek's decode kernel (128 heads, BF16 cache, tensor cores) gives
                          // the model its MLA decode table by batch and context, and its
                          // ceilings (topologies/measured_tables.h).
                          bench::gpu::model_input_segment(bench::gpu::mla_decode_model_input(
                              cuda::gpu_kernel_name(v.kernel), v.heads, precision_name(p))))
                  .c_str(),
              BM_MlaDecodeGpu, v.kernel, v.heads, p, batch, context)
              ->UseManualTime()
              ->MinTime(0.1)
              ->Unit(benchmark::kMicrosecond);
      }
  decode::register_gqa();
}

}  // namespace

int main(int argc, char** argv) {
  return cobench::bench::gpu_bench_main(argc, argv, "BM_MlaGpu", register_all);
}
