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

struct DevicePeak {
  double fp8 = 0, bf16 = 0;  ///< dense FLOP/s; 0 when the architecture is not known here
  std::string how;           ///< "132 SMs x 1980 MHz x 8192 FP8 FLOP/clk/SM (sm_90)"
};

/// SM count x the SM clock x the dense tensor-core FLOP per clock and SM of the architecture
/// (sm_90: 8192 FP8, 4096 BF16, the H100/H200 datasheets' 1979 / 989 TFLOPS at 1830 MHz; sm_100:
/// twice that).
DevicePeak device_peak();

/// A Google Benchmark main: `register_all` when a CUDA device is usable; otherwise one benchmark
/// `<prefix>/no_device` that reports the runtime's reason as its error. Returns the exit status.
int gpu_bench_main(int argc, char** argv, const std::string& prefix,
                   const std::function<void()>& register_all);

}  // namespace cobench::bench
