// SPDX-License-Identifier: Apache-2.0
// KV-cache memory tiers on the GPU (kernels/memory/cuda/):
//   BM_DeviceStream     read, write, copy and triad over three arrays of 256 MiB, 1 GiB and
//                       4 GiB in device memory (STREAM counting: 8, 8, 16, 24 B per element);
//                       counters memory_bytes_per_s and peak_fraction (of the theoretical peak,
//                       memory clock x bus width x 2 from the device's attributes). The copy at
//                       4 GiB carries model_input:gpu.hbm_bandwidth.
//   BM_HostDeviceCopy   host to device (h2d), device to host (d2h) and both at once (bidir, one
//                       copy each way on two streams; both counted) from pinned or pageable host
//                       memory, 64 KiB .. 1 GiB per direction; counter copy_bytes_per_s. The
//                       pinned h2d at 1 GiB carries model_input:pcie.h2d_bandwidth.
//   BM_KernelGap        a CUDA graph of 1000 one-thread kernels in a chain, replayed: the time per
//                       kernel (counter kernel_gap_s), what every operation of a decode step
//                       pays beyond its work; carries model_input:gpu.kernel_gap.
// Every pass's data is verified before timing and again after it; timing uses CUDA events
// (streams: the L2 cache flushed before every pass). Bandwidths are decimal (1 GB/s = 1e9 B/s).
// Each run reports its verdict, model input, shape and peak as typed metadata
// (gpu_bench_metadata.h); the names keep their model_input: segments for histories and filters.
// Without a device one entry reports the runtime's reason as an error and the binary exits 0.
//   cobench_bench_memory_gpu --benchmark_filter='op:(copy|triad)/.*mib:1024'
//   cobench_bench_memory_gpu --benchmark_filter='HostDeviceCopy/.*kib:262144'
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <string>

#include "kernels/memory/cuda/device_stream.h"
#include "kernels/memory/cuda/host_device_copy.h"
#include "kernels/memory/cuda/kernel_gap.h"
#include "microbench/gpu_bench_common.h"
#include "microbench/gpu_bench_metadata.h"

namespace {

using namespace cobench;
using namespace cobench::memory;
using namespace cobench::memory::cuda;

constexpr std::int64_t kLargestStreamMib = 4096;
constexpr std::int64_t kLargestCopyKib = 1 << 20;  // 1 GiB

void BM_DeviceStream(benchmark::State& state, StreamOp op, std::int64_t mib,
                     const DevicePeakBandwidth& peak) try {
  DeviceStream s(static_cast<std::size_t>(mib) << 20);
  s.run(op);
  if (const std::string e = s.verify(op); !e.empty()) {
    bench::fail_verification(state, "verification failed: " + e);
    return;
  }
  bench::GpuTimer timer;
  const double seconds = bench::timed_loop(
      state, timer, [&] { s.run(op); }, "BM_DeviceStream");
  s.clear_results();  // one more pass into cleared outputs, checked
  s.run(op);
  if (const std::string e = s.verify(op); !e.empty()) {
    bench::fail_verification(state, "verification failed after timing: " + e);
    return;
  }
  const double rate =
      static_cast<double>(s.bytes_per_pass(op)) * static_cast<double>(state.iterations()) / seconds;
  state.counters["memory_bytes_per_s"] = rate;
  if (peak.bytes_per_s > 0) state.counters["peak_fraction"] = rate / peak.bytes_per_s;
  const std::string of_peak = peak.bytes_per_s > 0 ? fmt::format(" = {:.0f}% of {:.0f} GB/s ({})",
                                                                 100 * rate / peak.bytes_per_s,
                                                                 peak.bytes_per_s / 1e9, peak.how)
                                                   : " (" + peak.how + ")";
  state.SetLabel(fmt::format(
      "verified: {} over {} B per array, {} blocks x 256 threads, 16-byte vectors; {} B counted "
      "per element; {:.0f} GB/s{}; 1 GB/s = 1e9 B/s",
      stream_op_name(op), s.elements() * 8, s.blocks(op), stream_bytes_per_element(op), rate / 1e9,
      of_peak));
  bench::report(state, bench::gpu::device_stream_metadata(
                           {stream_op_name(op), mib, static_cast<std::int64_t>(s.elements()) * 8,
                            static_cast<std::int64_t>(s.blocks(op)),
                            static_cast<std::int64_t>(stream_bytes_per_element(op)),
                            peak.bytes_per_s, peak.how}));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void BM_HostDeviceCopy(benchmark::State& state, CopyDirection dir, HostMemory host,
                       std::int64_t kib) try {
  HostDeviceCopy c(static_cast<std::size_t>(kib) << 10, host);
  c.run(dir);
  if (const std::string e = c.verify(dir); !e.empty()) {
    bench::fail_verification(state, "verification failed: " + e);
    return;
  }
  const double seconds = bench::self_timed_loop(
      state, [&] { return c.run(dir); }, "BM_HostDeviceCopy");
  c.clear_destinations();  // one more pass into cleared destinations, checked
  c.run(dir);
  if (const std::string e = c.verify(dir); !e.empty()) {
    bench::fail_verification(state, "verification failed after timing: " + e);
    return;
  }
  const double rate = static_cast<double>(c.bytes_per_pass(dir)) *
                      static_cast<double>(state.iterations()) / seconds;
  state.counters["copy_bytes_per_s"] = rate;
  state.SetLabel(fmt::format(
      "verified: {} {} host memory, {} B per direction{}, cudaMemcpyAsync; {:.2f} GB/s; "
      "1 GB/s = 1e9 B/s",
      copy_direction_name(dir), host_memory_name(host), c.bytes(),
      dir != CopyDirection::kBidirectional ? ""
      : host == HostMemory::kPinned
          ? " (both directions at once on two streams, both counted)"
          : " (both counted; from pageable memory CUDA runs them one after the other)",
      rate / 1e9));
  bench::report(
      state, bench::gpu::host_device_copy_metadata(copy_direction_name(dir), host_memory_name(host),
                                                   kib, static_cast<std::int64_t>(c.bytes())));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void BM_KernelGap(benchmark::State& state, int kernels) try {
  KernelChain chain(kernels);
  chain.run();
  if (const std::string e = chain.verify(); !e.empty()) {
    bench::fail_verification(state, "verification failed: " + e);
    return;
  }
  chain.reset();
  bench::GpuTimer timer;
  const double seconds = bench::timed_loop(
      state, timer, [&] { chain.run(); }, "BM_KernelGap");
  if (const std::string e = chain.verify(); !e.empty()) {
    bench::fail_verification(state, "verification failed after timing: " + e);
    return;
  }
  const double per_kernel_s =
      seconds / (static_cast<double>(state.iterations()) * static_cast<double>(kernels));
  state.counters["kernel_gap_s"] = per_kernel_s;
  state.SetLabel(fmt::format(
      "verified: {} one-thread kernels a graph replay, each adding 1 to a device counter after "
      "the one before (the counter checked after every run); {:.2f} us a kernel",
      kernels, per_kernel_s * 1e6));
  bench::report(state, bench::gpu::kernel_gap_metadata(kernels));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void register_all() {
  static const DevicePeakBandwidth peak = [] {
    try {
      return device_peak_bandwidth();
    } catch (const std::exception& e) {  // no fraction of peak then, the bandwidths still run
      return DevicePeakBandwidth{0.0, e.what()};
    }
  }();
  for (std::int64_t mib : {std::int64_t{256}, std::int64_t{1024}, kLargestStreamMib})
    for (StreamOp op : {StreamOp::kRead, StreamOp::kWrite, StreamOp::kCopy, StreamOp::kTriad}) {
      benchmark::RegisterBenchmark(
          fmt::format("BM_DeviceStream/op:{}{}/mib:{}", stream_op_name(op),
                      bench::gpu::model_input_segment(
                          bench::gpu::device_stream_model_input(stream_op_name(op), mib)),
                      mib)
              .c_str(),
          [op, mib](benchmark::State& st) { BM_DeviceStream(st, op, mib, peak); })
          ->UseManualTime()
          ->MinTime(0.1)
          ->Unit(benchmark::kMillisecond);
    }
  benchmark::RegisterBenchmark(
      "BM_KernelGap/kernels:1000/model_input:gpu.kernel_gap/model_metric:kernel_gap_s",
      BM_KernelGap, 1000)
      ->UseManualTime()
      ->MinTime(0.1)
      ->Unit(benchmark::kMicrosecond);
  for (CopyDirection dir :
       {CopyDirection::kH2D, CopyDirection::kD2H, CopyDirection::kBidirectional})
    for (HostMemory host : {HostMemory::kPinned, HostMemory::kPageable})
      for (std::int64_t kib : {std::int64_t{64}, std::int64_t{1024}, std::int64_t{16384},
                               std::int64_t{262144}, kLargestCopyKib}) {
        benchmark::RegisterBenchmark(
            fmt::format("BM_HostDeviceCopy/dir:{}/host:{}{}/kib:{}", copy_direction_name(dir),
                        host_memory_name(host),
                        bench::gpu::model_input_segment(bench::gpu::host_device_copy_model_input(
                            copy_direction_name(dir), host_memory_name(host), kib)),
                        kib)
                .c_str(),
            BM_HostDeviceCopy, dir, host, kib)
            ->UseManualTime()
            ->MinTime(0.1)
            ->Unit(benchmark::kMicrosecond);
      }
}

}  // namespace

int main(int argc, char** argv) {
  return cobench::bench::gpu_bench_main(argc, argv, "BM_MemoryGpu", register_all);
}
