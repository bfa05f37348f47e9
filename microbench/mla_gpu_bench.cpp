// SPDX-License-Identifier: Apache-2.0
// MLA decode on the GPU: the split-KV kernel (kernels/mla/cuda/mla_decode_cuda.h) on FlashMLA's
// shapes, DeepSeek-V3's 128 query heads over one 576/512-dim latent KV head, BF16 and FP8 paged
// caches (kernels/mla/paged_cache.h), batch 1 .. 128 x context 1K .. 32K, one decode step.
//   BM_DeviceCopy      first: the device copy stream over 1 GiB arrays (kernels/memory/cuda/,
//                      STREAM counting, 16 B per element); its best pass is the measured device
//                      copy bandwidth, the denominator of copy_bw_fraction
//   BM_MlaDecodeGpu    verified against the FP64 paged reference, then timed with CUDA events
//                      (L2 flushed before every call). Counters:
//     kv_bytes_per_s        bytes that must move: the cache read once, plus q, out, lse (FP32)
//     attention_flop_per_s  2 x heads x context x (576 + 512) per sequence
//     copy_bw_fraction      kv_bytes_per_s over the measured device copy bandwidth (target, in
//                           memory-bound configurations: >= 0.8; this SIMT FP32 kernel is
//                           compute-bound at 128 heads, see docs/mla.md)
//     max_rel_err           out error relative to the largest |out| of a checked sequence
// Every sequence is followed by unwritten (NaN) cache slots, so a read past its length makes the
// output NaN and fails the check. Bandwidths are decimal (1 GB/s = 1e9 B/s). Without a device
// one entry reports the runtime's reason as an error and the binary exits 0.
//   cobench_bench_mla_gpu --benchmark_filter='DeviceCopy|batch:1/context:32768'
//   cobench_bench_mla_gpu --benchmark_filter='DeviceCopy|cache:fp8/batch:64/'
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/cuda/cuda_check.h"
#include "core/nvtx.h"
#include "core/random.h"
#include "kernels/gemm/cuda/device_buffer.h"
#include "kernels/memory/cuda/device_stream.h"
#include "kernels/mla/cuda/mla_decode_cuda.h"
#include "kernels/mla/mla_decode.h"
#include "microbench/gpu_bench_common.h"

namespace {

using namespace cobench;
using namespace cobench::mla;
using gemm::cuda::DeviceBuffer;

constexpr std::int64_t kHeads = 128;
constexpr std::int64_t kCopyMib = 1024;
// Unwritten slots after every sequence's last token: 0xFF bytes, NaN in BF16, E4M3 and FP32.
constexpr std::int64_t kNanSlots = 32;
// Configurations whose cache pool exceeds this are not registered (it is built on the host,
// copied to the device, and the host keeps it for the reference). 128 x 32K BF16 is 4.5 GiB.
constexpr double kCacheBudgetBytes = 8.0 * (1 << 30);
// Up to this many cached tokens (batch x context) every sequence is checked against the FP64
// reference, all heads; beyond it the first, the middle (batch / 2) and the last sequence, all
// heads (the reference takes about 10 GFLOP per sequence at 32K), and every output of every
// sequence must be finite.
constexpr std::int64_t kFullCheckTokens = 65536;

// FP32 kernel with fast exponentials (__expf) vs FP64 over the same dequantized cache: out relative
// to the largest |out| of a sequence, lse absolute. The same as tests/gpu/mla_cuda_test.cpp for
// both precisions: the reference reads the same quantized values the kernel does, so the cache's
// precision changes the inputs, not the arithmetic error (the CPU benchmark holds 1e-4 at 32K).
struct ErrorBounds {
  double out, lse;
};
constexpr ErrorBounds kBf16Bounds{1e-4, 1e-4};
constexpr ErrorBounds kFp8Bounds{1e-4, 1e-4};
constexpr ErrorBounds bounds(KvPrecision p) {
  return p == KvPrecision::kBf16 ? kBf16Bounds : kFp8Bounds;
}

double g_copy_bandwidth = 0;  // B/s, from BM_DeviceCopy or measured on first use

// Best of `passes` verified device copy passes over 1 GiB arrays, in B/s (STREAM counting).
double measure_copy(memory::cuda::DeviceStream& s, bench::GpuTimer& timer, int passes) {
  double best = 0;
  for (int i = 0; i < passes; ++i) {
    const double t = timer.time([&] { s.run(memory::StreamOp::kCopy); });
    best = std::max(best, static_cast<double>(s.bytes_per_pass(memory::StreamOp::kCopy)) / t);
  }
  const std::string e = s.verify(memory::StreamOp::kCopy);
  COBENCH_CHECK(e.empty(), "device copy verification failed: " + e);
  return best;
}

double copy_bandwidth() {
  if (g_copy_bandwidth <= 0) {
    memory::cuda::DeviceStream s(static_cast<std::size_t>(kCopyMib) << 20);
    bench::GpuTimer timer;
    g_copy_bandwidth = measure_copy(s, timer, 5);
  }
  return g_copy_bandwidth;
}

void BM_DeviceCopy(benchmark::State& state) try {
  memory::cuda::DeviceStream s(static_cast<std::size_t>(kCopyMib) << 20);
  s.run(memory::StreamOp::kCopy);
  if (const std::string e = s.verify(memory::StreamOp::kCopy); !e.empty()) {
    state.SkipWithError(("verification failed: " + e).c_str());
    return;
  }
  bench::GpuTimer timer;
  const double bytes = static_cast<double>(s.bytes_per_pass(memory::StreamOp::kCopy));
  double best = 0, seconds = 0;
  {
    NvtxRange range("BM_DeviceCopy");
    for (auto _ : state) {
      const double t = timer.time([&] { s.run(memory::StreamOp::kCopy); });
      state.SetIterationTime(t);
      seconds += t;
      best = std::max(best, bytes / t);
    }
  }
  if (const std::string e = s.verify(memory::StreamOp::kCopy); !e.empty()) {
    state.SkipWithError(("verification failed after timing: " + e).c_str());
    return;
  }
  g_copy_bandwidth = best;
  state.counters["memory_bytes_per_s"] = bytes * static_cast<double>(state.iterations()) / seconds;
  state.SetLabel(fmt::format(
      "verified: copy over {} B per array, 16 B counted per element; best pass {:.0f} GB/s is "
      "the denominator of copy_bw_fraction",
      s.elements() * 8, best / 1e9));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

// A cache of `batch` sequences of `context` tokens (seeded random values), each followed by
// kNanSlots unwritten slots in its last page.
MlaCache make_cache(KvPrecision p, std::int64_t batch, std::int64_t context) {
  MlaCache c =
      make_mla_cache(p, std::vector<std::int64_t>(static_cast<size_t>(batch), context + kNanSlots));
  fill_random(c, 11);
  for (std::int64_t s = 0; s < batch; ++s) {
    for (std::int64_t t = context; t < context + kNanSlots; ++t)
      std::memset(c.paged.token(s, t), 0xFF, static_cast<size_t>(c.paged.token_bytes));
    c.paged.lengths[static_cast<size_t>(s)] = context;
  }
  return c;
}

// Splits per sequence: enough blocks for two per SM (4 head blocks of 32 per sequence), at most
// one per 64 tokens.
int pick_splits(std::int64_t batch, std::int64_t context) {
  int dev = 0, sms = 0;
  COBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  const std::int64_t blocks = batch * ((kHeads + 31) / 32);
  const std::int64_t want = (2 * std::int64_t{sms} + blocks - 1) / blocks;
  return static_cast<int>(
      std::clamp<std::int64_t>(want, 1, std::max<std::int64_t>(1, context / 64)));
}

// FP64 reference of sequence `s`, all heads, its heads spread over the host's threads.
void reference(const MlaCache& cache, const std::vector<float>& q, std::int64_t s, double scale,
               std::vector<double>& out, std::vector<double>& lse) {
  const int threads =
      static_cast<int>(std::min<unsigned>(32, std::max(1u, std::thread::hardware_concurrency())));
  const std::int64_t per = (kHeads + threads - 1) / threads;
  const std::vector<double> qs(q.begin() + s * kHeads * kQkDims,
                               q.begin() + (s + 1) * kHeads * kQkDims);
  out.assign(static_cast<size_t>(kHeads * kVDims), 0.0);
  lse.assign(static_cast<size_t>(kHeads), 0.0);
  std::vector<std::thread> pool;
  std::vector<std::string> errors(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    const std::int64_t h0 = i * per, h1 = std::min(kHeads, h0 + per);
    if (h0 >= h1) break;
    pool.emplace_back([&, i, h0, h1] {
      try {
        mla_decode_ref_seq(cache, s, qs.data() + h0 * kQkDims, h1 - h0, scale,
                           out.data() + h0 * kVDims, lse.data() + h0);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(i)] = e.what();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (const std::string& e : errors) COBENCH_CHECK(e.empty(), e);
}

// Largest deviation of one sequence's `out`, `lse` from the reference: {out relative, lse
// absolute}.
std::pair<double, double> deviation(const float* out, const float* lse,
                                    const std::vector<double>& ref_out,
                                    const std::vector<double>& ref_lse) {
  double largest = 0, dout = 0, dlse = 0;
  for (double x : ref_out) largest = std::max(largest, std::fabs(x));
  for (size_t i = 0; i < ref_out.size(); ++i) {
    const double d = std::fabs(out[i] - ref_out[i]) / largest;
    dout = std::isnan(d) ? INFINITY : std::max(dout, d);
  }
  for (size_t h = 0; h < ref_lse.size(); ++h) {
    const double d = std::fabs(lse[h] - ref_lse[h]);
    dlse = std::isnan(d) ? INFINITY : std::max(dlse, d);
  }
  return {dout, dlse};
}

std::vector<std::int64_t> checked_sequences(std::int64_t batch, std::int64_t context) {
  std::vector<std::int64_t> seqs;
  if (batch * context <= kFullCheckTokens) {
    for (std::int64_t s = 0; s < batch; ++s) seqs.push_back(s);
  } else {
    seqs = {0, batch / 2, batch - 1};
    seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  }
  return seqs;
}

// A configuration's host side: the cache, the queries and the FP64 reference of the checked
// sequences. Kept for the next call with the same configuration, so that repetitions rebuild
// neither (the GPU output is still checked against it on every call).
struct Prepared {
  KvPrecision precision = KvPrecision::kBf16;
  std::int64_t batch = 0, context = 0;
  MlaCache cache;
  std::vector<float> q;
  std::vector<std::int64_t> seqs;
  std::vector<std::vector<double>> ref_out, ref_lse;  // per checked sequence
};

const Prepared& prepared(KvPrecision p, std::int64_t batch, std::int64_t context) {
  static Prepared cached;
  if (cached.batch == batch && cached.context == context && cached.precision == p) return cached;
  cached = Prepared{};  // frees the previous configuration first
  cached.cache = make_cache(p, batch, context);
  cached.q = random_normal_matrix(1, batch * kHeads * kQkDims, 5);
  cached.seqs = checked_sequences(batch, context);
  for (std::int64_t s : cached.seqs) {
    cached.ref_out.emplace_back();
    cached.ref_lse.emplace_back();
    reference(cached.cache, cached.q, s, deepseek_v3_softmax_scale(), cached.ref_out.back(),
              cached.ref_lse.back());
  }
  cached.precision = p, cached.batch = batch, cached.context = context;
  return cached;
}

void BM_MlaDecodeGpu(benchmark::State& state, KvPrecision p, std::int64_t batch,
                     std::int64_t context) try {
  const Prepared& prep = prepared(p, batch, context);
  const PagedCache& pc = prep.cache.paged;
  const std::vector<float>& q = prep.q;
  const std::vector<std::int64_t>& seqs = prep.seqs;
  std::size_t free_bytes = 0, total_bytes = 0;
  COBENCH_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  if (pc.pool.size() + (std::size_t{1} << 30) > free_bytes) {
    state.SkipWithError(fmt::format("cache of {} B does not fit the device's {} free bytes",
                                    pc.pool.size(), free_bytes)
                            .c_str());
    return;
  }
  const std::vector<std::int32_t> lengths(pc.lengths.begin(), pc.lengths.end());
  const DeviceBuffer<std::uint8_t> pool(pc.pool);
  const DeviceBuffer<std::int32_t> table(pc.block_table), lens(lengths);
  const DeviceBuffer<float> dq(q);
  DeviceBuffer<float> out(static_cast<size_t>(batch * kHeads * kVDims)),
      lse(static_cast<size_t>(batch * kHeads));
  const int splits = pick_splits(batch, context);
  DeviceBuffer<std::uint8_t> work(cuda::mla_decode_cuda_workspace_bytes(batch, kHeads, splits));
  const cuda::DeviceMlaCache dc{
      p,          pc.batch(),  pc.max_pages, pc.page_tokens, pc.token_bytes,
      pool.get(), table.get(), lens.get()};
  const float scale = static_cast<float>(deepseek_v3_softmax_scale());
  const auto call = [&] {
    cuda::mla_decode_cuda(dc, dq.get(), kHeads, scale, splits, out.get(), lse.get(), work.get(),
                          nullptr);
  };
  call();
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<float> hout = out.download(), hlse = lse.download();
  for (size_t i = 0; i < hout.size(); ++i)
    if (!std::isfinite(hout[i])) {
      state.SkipWithError(fmt::format("verification failed: out[{}] is {} (sequence {})", i,
                                      hout[i], static_cast<std::int64_t>(i) / (kHeads * kVDims))
                              .c_str());
      return;
    }
  double error = 0, lse_error = 0;
  for (size_t k = 0; k < seqs.size(); ++k) {
    const std::int64_t s = seqs[k];
    const auto [e, le] = deviation(hout.data() + s * kHeads * kVDims, hlse.data() + s * kHeads,
                                   prep.ref_out[k], prep.ref_lse[k]);
    error = std::max(error, e), lse_error = std::max(lse_error, le);
  }
  const ErrorBounds bound = bounds(p);
  if (!(error <= bound.out && lse_error <= bound.lse)) {
    state.SkipWithError(fmt::format("verification failed: out error {:.3g} (bound {:.0e}), lse "
                                    "error {:.3g} (bound {:.0e}), {} cache",
                                    error, bound.out, lse_error, bound.lse, precision_name(p))
                            .c_str());
    return;
  }
  bench::GpuTimer timer;
  const double seconds = bench::timed_loop(state, timer, call, "BM_MlaDecodeGpu");
  // The kernel is deterministic: the last timed call must have written what was verified.
  if (out.download() != hout || lse.download() != hlse) {
    state.SkipWithError("verification failed after timing: the output changed between calls");
    return;
  }
  const double iters = static_cast<double>(state.iterations());
  const double bytes = static_cast<double>(pc.used_bytes()) +
                       4.0 * static_cast<double>(q.size() + hout.size() + hlse.size());
  const double flop = 2.0 * static_cast<double>(batch * context * kHeads * (kQkDims + kVDims));
  const double rate = bytes * iters / seconds, flops = flop * iters / seconds;
  const double copy = copy_bandwidth();
  state.counters["kv_bytes_per_s"] = rate;
  state.counters["attention_flop_per_s"] = flops;
  state.counters["copy_bw_fraction"] = rate / copy;
  state.counters["max_rel_err"] = error;
  const std::string checked = seqs.size() == static_cast<size_t>(batch)
                                  ? "every sequence"
                                  : fmt::format("sequences {}", fmt::join(seqs, ", "));
  state.SetLabel(fmt::format(
      "verified: {} x {} heads, out error {:.2g}, lse error {:.2g}; {} splits, {} B/token; "
      "{:.1f} TFLOPS, {:.0f} GB/s = {:.0f}% of the measured copy {:.0f} GB/s",
      checked, kHeads, error, lse_error, splits, pc.token_bytes, flops * 1e-12, rate / 1e9,
      100 * rate / copy, copy / 1e9));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void register_all() {
  benchmark::RegisterBenchmark(fmt::format("BM_DeviceCopy/mib:{}", kCopyMib).c_str(), BM_DeviceCopy)
      ->UseManualTime()
      ->MinTime(0.1)
      ->Unit(benchmark::kMillisecond);
  for (std::int64_t context : {1024, 4096, 8192, 32768})
    for (std::int64_t batch : {1, 8, 32, 64, 128})
      for (KvPrecision p : {KvPrecision::kBf16, KvPrecision::kFp8}) {
        const std::int64_t pages = (context + kNanSlots + kPageTokens - 1) / kPageTokens;
        const double pool_bytes =
            static_cast<double>((batch * pages + 1) * kPageTokens * token_bytes(p));
        if (pool_bytes > kCacheBudgetBytes) continue;
        benchmark::RegisterBenchmark(fmt::format("BM_MlaDecodeGpu/cache:{}/batch:{}/context:{}",
                                                 precision_name(p), batch, context)
                                         .c_str(),
                                     BM_MlaDecodeGpu, p, batch, context)
            ->UseManualTime()
            ->MinTime(0.1)
            ->Unit(benchmark::kMicrosecond);
      }
}

}  // namespace

int main(int argc, char** argv) {
  return cobench::bench::gpu_bench_main(argc, argv, "BM_MlaGpu", register_all);
}
