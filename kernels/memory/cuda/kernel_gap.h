// SPDX-License-Identifier: Apache-2.0
// The time a GPU takes per kernel of a back-to-back chain, beyond the kernels' work: a CUDA graph
// of `kernels` launches of a one-thread kernel that adds 1 to a device counter, each depending
// on the one before (one stream). A replay of the graph over its kernel count is what every
// operation of a decode step pays on top of its work (launch, ramp-up and tail), which the
// serving model adds per operation (`gpu.kernel_gap`, topologies/perf_model.h). The counter
// verifies that every kernel ran: after r replays it holds r x kernels. C++17.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace cobench::memory::cuda {

class KernelChain {
 public:
  /// Captures the graph of `kernels` (>= 1) launches; throws cobench::Error.
  explicit KernelChain(int kernels);
  ~KernelChain();
  KernelChain(const KernelChain&) = delete;
  KernelChain& operator=(const KernelChain&) = delete;

  /// Replays the graph once on the default stream (no synchronization; CUDA-event timers on
  /// the default stream bracket it).
  void run();
  /// Sets the counter to 0 and forgets the replays (synchronizes).
  void reset();
  /// Waits for the device and checks the counter against kernels x replays since reset(): ""
  /// or what was wrong.
  std::string verify();
  int kernels() const { return kernels_; }

 private:
  int kernels_ = 0;
  std::int64_t replays_ = 0;
  unsigned long long* counter_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace cobench::memory::cuda
