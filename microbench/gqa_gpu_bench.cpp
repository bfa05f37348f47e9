// SPDX-License-Identifier: Apache-2.0
// The baselines of the GPU MLA decode, in the same binary (cobench_bench_mla_gpu): GQA decode as
// Qwen2.5-72B (64 query heads, 8 KV heads, head dim 128: 4096 B per token and layer) and MHA
// (64 KV heads: 32768 B) over paged BF16 caches (kernels/mla/cuda/gqa_decode_cuda.h), so that
// MLA's bytes-per-token advantage (1152 / 656 B) shows as measured time at equal context.
//   BM_GqaDecodeGpu/attn:gqa|mha/batch:B/context:C   verified against the FP64 paged reference
//     (out within 1e-4 of the largest |out| of a checked sequence, lse within 1e-4), then timed
//     with CUDA events (L2 flushed before every call). Counters kv_bytes_per_s (the cache read
//     once, plus q, out, lse), attention_flop_per_s (4 x q_heads x 128 x context per sequence),
//     copy_bw_fraction (over the measured device copy), max_rel_err.
// Every sequence is followed by unwritten (NaN) slots. Bandwidths are decimal. Each run reports
// its verdict, error, shape and copy_bw_fraction's denominator as typed metadata
// (gpu_bench_metadata.h); they measure no model input.
//   cobench_bench_mla_gpu --benchmark_filter='DeviceCopy|GqaDecodeGpu/.*/batch:64/context:4096'
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
#include "core/cuda/device_buffer.h"
#include "core/random.h"
#include "kernels/mla/cuda/decode_common.h"
#include "kernels/mla/cuda/gqa_decode_cuda.h"
#include "kernels/mla/gqa_decode.h"
#include "microbench/decode_gpu_bench_common.h"
#include "microbench/gpu_bench_common.h"
#include "microbench/gpu_bench_metadata.h"

namespace cobench::bench::decode {
namespace {

using namespace cobench::mla;

constexpr double kOutBound = 1e-4, kLseBound = 1e-4;  // as tests/gpu/gqa_cuda_test.cpp

struct Prepared {
  std::string attn;
  std::int64_t batch = 0, context = 0;
  GqaCache cache;
  std::vector<float> q;
  std::vector<std::int64_t> seqs;
  std::vector<std::vector<double>> ref_out, ref_lse;  // per checked sequence
};

const Prepared& prepared(const std::string& attn, const GqaShape& s, std::int64_t batch,
                         std::int64_t context) {
  static Prepared cached;
  if (cached.attn == attn && cached.batch == batch && cached.context == context) return cached;
  cached = Prepared{};  // frees the previous configuration first
  cached.cache = make_benchmark_cache(s, batch, context, kNanSlots);
  const std::int64_t per_seq = s.q_heads * s.head_dim;
  cached.q = random_normal_matrix(1, batch * per_seq, 5);
  cached.seqs = checked_sequences(batch, context);
  cached.ref_out.resize(cached.seqs.size());
  cached.ref_lse.resize(cached.seqs.size());
  std::vector<std::thread> pool;  // one FP64 reference a checked sequence
  std::vector<std::string> errors(cached.seqs.size());
  for (size_t k = 0; k < cached.seqs.size(); ++k)
    pool.emplace_back([&, k] {
      try {
        const std::int64_t seq = cached.seqs[k];
        const std::vector<double> qs(cached.q.begin() + seq * per_seq,
                                     cached.q.begin() + (seq + 1) * per_seq);
        cached.ref_out[k].resize(static_cast<size_t>(per_seq));
        cached.ref_lse[k].resize(static_cast<size_t>(s.q_heads));
        gqa_decode_ref_seq(cached.cache, seq, qs.data(), s.scale(), cached.ref_out[k].data(),
                           cached.ref_lse[k].data());
      } catch (const std::exception& e) {
        errors[k] = e.what();
      }
    });
  for (auto& t : pool) t.join();
  for (const std::string& e : errors) COBENCH_CHECK(e.empty(), e);
  cached.attn = attn, cached.batch = batch, cached.context = context;
  return cached;
}

void BM_GqaDecodeGpu(benchmark::State& state, std::string attn, GqaShape s, std::int64_t batch,
                     std::int64_t context) try {
  const Prepared& prep = prepared(attn, s, batch, context);
  const PagedCache& pc = prep.cache.paged;
  require_device_room(pc.pool.size());
  const cuda::UploadedPagedCache dev(pc);
  const DeviceBuffer<float> dq(prep.q);
  DeviceBuffer<float> out(prep.q.size()), lse(static_cast<size_t>(batch * s.q_heads));
  const int splits =
      pick_splits(batch * s.kv_heads,
                  std::int64_t{sm_count()} * cuda::gqa_decode_cuda_blocks_per_sm(s), context);
  DeviceBuffer<std::uint8_t> work(
      std::max<std::size_t>(1, cuda::gqa_decode_cuda_workspace_bytes(s, batch, splits)));
  const cuda::DeviceGqaCache dc = cuda::device_view(prep.cache, dev);
  const float scale = static_cast<float>(s.scale());
  const auto call = [&] {
    cuda::gqa_decode_cuda(dc, dq.get(), scale, splits, out.get(), lse.get(), work.get(), nullptr);
  };
  call();
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<float> hout = out.download(), hlse = lse.download();
  const std::int64_t per_seq = s.q_heads * s.head_dim;
  for (size_t i = 0; i < hout.size(); ++i)
    if (!std::isfinite(hout[i])) {
      fail_verification(state, fmt::format("verification failed: out[{}] is {} (sequence {})", i,
                                           hout[i], static_cast<std::int64_t>(i) / per_seq));
      return;
    }
  double error = 0, lse_error = 0;
  for (size_t k = 0; k < prep.seqs.size(); ++k) {
    const float* o = hout.data() + prep.seqs[k] * per_seq;
    const float* l = hlse.data() + prep.seqs[k] * s.q_heads;
    double largest = 0;
    for (double x : prep.ref_out[k]) largest = std::max(largest, std::fabs(x));
    for (std::int64_t i = 0; i < per_seq; ++i) {
      const double d = std::fabs(o[i] - prep.ref_out[k][static_cast<size_t>(i)]) / largest;
      error = std::isnan(d) ? INFINITY : std::max(error, d);
    }
    for (std::int64_t h = 0; h < s.q_heads; ++h) {
      const double d = std::fabs(l[h] - prep.ref_lse[k][static_cast<size_t>(h)]);
      lse_error = std::isnan(d) ? INFINITY : std::max(lse_error, d);
    }
  }
  if (!(error <= kOutBound && lse_error <= kLseBound)) {
    fail_verification(state, fmt::format("verification failed: out error {:.3g} (bound {:.0e}), "
                                         "lse error {:.3g} (bound {:.0e}), {}",
                                         error, kOutBound, lse_error, kLseBound, attn));
    return;
  }
  GpuTimer timer;
  const double seconds = timed_loop(state, timer, call, "BM_GqaDecodeGpu");
  if (out.download() != hout || lse.download() != hlse) {
    fail_verification(state, "verification failed after timing: the output changed between calls");
    return;
  }
  const double iters = static_cast<double>(state.iterations());
  const double bytes = static_cast<double>(pc.used_bytes()) +
                       4.0 * static_cast<double>(prep.q.size() + hout.size() + hlse.size());
  const double flop = 4.0 * static_cast<double>(batch * context * s.q_heads * s.head_dim);
  const double rate = bytes * iters / seconds, flops = flop * iters / seconds;
  const double copy = copy_bandwidth();
  state.counters["kv_bytes_per_s"] = rate;
  state.counters["attention_flop_per_s"] = flops;
  state.counters["copy_bw_fraction"] = rate / copy;
  state.counters["max_rel_err"] = error;
  const std::string checked = prep.seqs.size() == static_cast<size_t>(batch)
                                  ? "every sequence"
                                  : fmt::format("sequences {}", fmt::join(prep.seqs, ", "));
  state.SetLabel(fmt::format(
      "verified: {} x {} heads, out error {:.2g}, lse error {:.2g}; {} ({} KV heads), {} splits, "
      "{} B/token; {:.2f} TFLOPS, {:.0f} GB/s = {:.0f}% of the measured copy {:.0f} GB/s",
      checked, s.q_heads, error, lse_error, attn, s.kv_heads, splits, pc.token_bytes, flops * 1e-12,
      rate / 1e9, 100 * rate / copy, copy / 1e9));
  report(state, gpu::gqa_decode_metadata({attn, s.q_heads, s.kv_heads, s.head_dim, batch, context,
                                          splits, checked, error, lse_error, copy}));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

}  // namespace

void register_gqa() {
  for (std::int64_t context : {1024, 4096, 8192, 32768})
    for (std::int64_t batch : {1, 8, 32, 64, 128})
      for (const auto& [name, shape] :
           {std::pair{"gqa", qwen25_72b_gqa()}, std::pair{"mha", qwen25_72b_mha()}}) {
        const std::int64_t pages = (context + kNanSlots + kPageTokens - 1) / kPageTokens;
        const double pool_bytes =
            static_cast<double>((batch * pages + 1) * kPageTokens * shape.token_bytes());
        if (pool_bytes > kCacheBudgetBytes) continue;
        benchmark::RegisterBenchmark(
            fmt::format("BM_GqaDecodeGpu/attn:{}/batch:{}/context:{}", name, batch, context)
                .c_str(),
            BM_GqaDecodeGpu, std::string(name), shape, batch, context)
            ->UseManualTime()
            ->MinTime(0.1)
            ->Unit(benchmark::kMicrosecond);
      }
}

}  // namespace cobench::bench::decode
