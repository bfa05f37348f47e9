// SPDX-License-Identifier: Apache-2.0
// What the GPU benchmark mains share: CUDA-event timing with the L2 flushed before every timed
// call, the timed loop of a manual-time Google Benchmark, the device's dense tensor-core peak,
// and a main that registers one entry
// saying why when there is no usable device (a run without a GPU is visibly empty, not broken).
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <string>

#include "microbench/tensor_peak.h"

namespace cobench::bench {

/// Times `call` with CUDA events on the default stream after overwriting a buffer twice the L2
/// size (so no operand is served from L2). Seconds for the call alone.
class GpuTimer {
 public:
  GpuTimer();
  ~GpuTimer();
  GpuTimer(const GpuTimer&) = delete;
  GpuTimer& operator=(const GpuTimer&) = delete;
  double time(const std::function<void()>& call);

 private:
  void* flush_ = nullptr;
  std::size_t flush_bytes_ = 0;
  void* start_ = nullptr;  // cudaEvent_t
  void* stop_ = nullptr;
};

/// The timed loop of a manual-time benchmark: each iteration is one `call` timed by `timer`,
/// inside one NVTX range named `range`. Returns the seconds of all timed calls together.
double timed_loop(benchmark::State& state, GpuTimer& timer, const std::function<void()>& call,
                  const std::string& range);
/// timed_loop for a `call` that times itself and returns its seconds.
double self_timed_loop(benchmark::State& state, const std::function<double()>& call,
                       const std::string& range);

/// The current device's dense tensor-core peaks: the datasheet's for known parts, else SMs x the
/// maximum SM clock x the architecture's FLOP per clock (microbench/tensor_peak.h says which).
DevicePeak device_peak();

/// A Google Benchmark main: `register_all` when a CUDA device is usable and this build has
/// kernels for it; otherwise one benchmark `<prefix>/no_device` that reports why (no device, or
/// one this build has no kernels for) as its error, plus, when there is a device,
/// `register_other_device` (if given: what runs on any device, e.g. the accumulator probe).
/// Returns the exit status: 2 (after printing "<prefix>: <error>") when registering throws, as a
/// bad setting such as an unknown COBENCH_GEMM_MODEL does.
int gpu_bench_main(int argc, char** argv, const std::string& prefix,
                   const std::function<void()>& register_all,
                   const std::function<void()>& register_other_device = {});

}  // namespace cobench::bench
