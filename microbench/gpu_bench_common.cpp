// SPDX-License-Identifier: Apache-2.0
#include "microbench/gpu_bench_common.h"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "core/cuda/cuda_check.h"
#include "core/cuda/device_check.h"
#include "core/nvtx.h"
#include "microbench/bench_main.h"

namespace cobench::bench {

DevicePeak device_peak() {
  int dev = 0;
  COBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  COBENCH_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  int khz = 0;
  COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, dev));
  return tensor_core_peak(prop.name, prop.major, prop.multiProcessorCount, khz);
}

GpuTimer::GpuTimer() {
  int dev = 0, l2 = 0;
  COBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
  flush_bytes_ = 2 * static_cast<std::size_t>(l2 > 0 ? l2 : 64 << 20);
  COBENCH_CUDA_CHECK(cudaMalloc(&flush_, flush_bytes_));
  cudaEvent_t a = nullptr, b = nullptr;
  COBENCH_CUDA_CHECK(cudaEventCreate(&a));
  COBENCH_CUDA_CHECK(cudaEventCreate(&b));
  start_ = a;
  stop_ = b;
}

GpuTimer::~GpuTimer() {
  cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
  cudaFree(flush_);
}

double GpuTimer::time(const std::function<void()>& call) {
  COBENCH_CUDA_CHECK(cudaMemsetAsync(flush_, 0, flush_bytes_));
  COBENCH_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(start_)));
  call();
  COBENCH_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(stop_)));
  COBENCH_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)));
  float ms = 0;
  COBENCH_CUDA_CHECK(
      cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)));
  return 1e-3 * static_cast<double>(ms);
}

double timed_loop(benchmark::State& state, GpuTimer& timer, const std::function<void()>& call,
                  const std::string& range) {
  return self_timed_loop(
      state, [&] { return timer.time(call); }, range);
}

double self_timed_loop(benchmark::State& state, const std::function<double()>& call,
                       const std::string& range) {
  double seconds = 0;
  NvtxRange nvtx(range.c_str());
  for (auto _ : state) {
    const double t = call();
    state.SetIterationTime(t);
    seconds += t;
  }
  return seconds;
}

int gpu_bench_main(int argc, char** argv, const std::string& prefix,
                   const std::function<void()>& register_all,
                   const std::function<void()>& register_other_device) {
  if (const int usage = initialize_benchmarks(argc, argv, prefix.c_str())) return usage;
  const std::string why = cuda_device_unsupported();
  if (why.empty()) {
    try {
      register_all();
    } catch (const std::exception& e) {  // a bad setting (e.g. COBENCH_GEMM_MODEL)
      fmt::print(stderr, "{}: {}\n", prefix, e.what());
      return 2;
    }
  } else {
    if (register_other_device && cuda_device_unavailable().empty()) register_other_device();
    benchmark::RegisterBenchmark((prefix + "/no_device").c_str(), [why](benchmark::State& st) {
      st.SkipWithError(why.c_str());
      for (auto _ : st) {
      }
    });
  }
  // Without a device the one record says why and the binary exits 0 (a skip, not a failure).
  int status = 0;
  if (why.empty())
    status = run_registered_benchmarks(prefix.c_str());
  else
    benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return status;
}

}  // namespace cobench::bench
