// SPDX-License-Identifier: Apache-2.0
#include "microbench/decode_gpu_bench_common.h"

#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "core/cuda/cuda_check.h"
#include "core/error.h"
#include "core/nvtx.h"
#include "kernels/memory/cuda/device_stream.h"
#include "microbench/gpu_bench_common.h"
#include "microbench/gpu_bench_metadata.h"

namespace cobench::bench::decode {
namespace {

constexpr std::int64_t kCopyMib = 1024;
double g_copy_bandwidth = 0;  // B/s, from BM_DeviceCopy or measured on first use

// Best of `passes` verified device copy passes over 1 GiB arrays, in B/s (STREAM counting).
double measure_copy(memory::cuda::DeviceStream& s, GpuTimer& timer, int passes) {
  double best = 0;
  for (int i = 0; i < passes; ++i) {
    const double t = timer.time([&] { s.run(memory::StreamOp::kCopy); });
    best = std::max(best, static_cast<double>(s.bytes_per_pass(memory::StreamOp::kCopy)) / t);
  }
  const std::string e = s.verify(memory::StreamOp::kCopy);
  COBENCH_CHECK(e.empty(), "device copy verification failed: " + e);
  return best;
}

void BM_DeviceCopy(benchmark::State& state) try {
  memory::cuda::DeviceStream s(static_cast<std::size_t>(kCopyMib) << 20);
  s.run(memory::StreamOp::kCopy);
  if (const std::string e = s.verify(memory::StreamOp::kCopy); !e.empty()) {
    fail_verification(state, "verification failed: " + e);
    return;
  }
  GpuTimer timer;
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
    fail_verification(state, "verification failed after timing: " + e);
    return;
  }
  g_copy_bandwidth = best;
  state.counters["memory_bytes_per_s"] = bytes * static_cast<double>(state.iterations()) / seconds;
  state.SetLabel(fmt::format(
      "verified: copy over {} B per array, 16 B counted per element; best pass {:.0f} GB/s is "
      "the denominator of copy_bw_fraction",
      s.elements() * 8, best / 1e9));
  report(state, gpu::device_copy_metadata(kCopyMib, s.elements() * 8));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

}  // namespace

void register_device_copy() {
  benchmark::RegisterBenchmark(fmt::format("BM_DeviceCopy/mib:{}", kCopyMib).c_str(), BM_DeviceCopy)
      ->UseManualTime()
      ->MinTime(0.1)
      ->Unit(benchmark::kMillisecond);
}

double copy_bandwidth() {
  if (g_copy_bandwidth <= 0) {
    memory::cuda::DeviceStream s(static_cast<std::size_t>(kCopyMib) << 20);
    GpuTimer timer;
    g_copy_bandwidth = measure_copy(s, timer, 5);
  }
  return g_copy_bandwidth;
}

void require_device_room(std::size_t bytes) {
  std::size_t free_bytes = 0, total_bytes = 0;
  COBENCH_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  if (bytes + (std::size_t{1} << 30) > free_bytes)
    throw Error(
        fmt::format("a cache of {} B does not fit the device's {} free bytes with 1 GiB "
                    "to spare",
                    bytes, free_bytes));
}

int sm_count() {
  int dev = 0, sms = 0;
  COBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  return sms;
}

int pick_splits(std::int64_t blocks_per_split, std::int64_t slots, std::int64_t context) {
  COBENCH_CHECK(blocks_per_split >= 1 && slots >= 1, "pick_splits: no blocks or no slots");
  const std::int64_t most = std::clamp<std::int64_t>(context / 64, 1, 4 * slots);
  std::int64_t best = 1;
  double best_fill = 0;
  for (std::int64_t s = 1; s <= most; ++s) {
    const std::int64_t blocks = s * blocks_per_split, waves = (blocks + slots - 1) / slots;
    const double fill = static_cast<double>(blocks) / static_cast<double>(waves * slots);
    if (fill >= 0.9) return static_cast<int>(s);
    if (fill > best_fill) best = s, best_fill = fill;
  }
  return static_cast<int>(best);
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

}  // namespace cobench::bench::decode
