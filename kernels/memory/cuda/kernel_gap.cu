// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include "core/cuda/cuda_check.h"
#include "core/error.h"
#include "kernels/memory/cuda/kernel_gap.h"

namespace cobench::memory::cuda {
namespace {

// One thread: the least work a kernel can do that the host can check.
__global__ void add_one(unsigned long long* counter) { *counter += 1; }

}  // namespace

KernelChain::KernelChain(int kernels) : kernels_(kernels) {
  if (kernels < 1)
    throw Error(fmt::format("KernelChain: {} kernels: expected at least 1", kernels));
  COBENCH_CUDA_CHECK(cudaMalloc(&counter_, sizeof(*counter_)));
  COBENCH_CUDA_CHECK(cudaMemset(counter_, 0, sizeof(*counter_)));
  COBENCH_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  COBENCH_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < kernels; ++i) add_one<<<1, 1, 0, stream_>>>(counter_);
  const cudaError_t launched = cudaGetLastError();
  const cudaError_t ended = cudaStreamEndCapture(stream_, &graph_);
  COBENCH_CUDA_CHECK(launched);
  COBENCH_CUDA_CHECK(ended);
  COBENCH_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph_, 0));
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
}

KernelChain::~KernelChain() {
  if (exec_) cudaGraphExecDestroy(exec_);
  if (graph_) cudaGraphDestroy(graph_);
  if (stream_) cudaStreamDestroy(stream_);
  if (counter_) cudaFree(counter_);
}

void KernelChain::run() {
  COBENCH_CUDA_CHECK(cudaGraphLaunch(exec_, nullptr));
  ++replays_;
}

void KernelChain::reset() {
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  COBENCH_CUDA_CHECK(cudaMemset(counter_, 0, sizeof(*counter_)));
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  replays_ = 0;
}

std::string KernelChain::verify() {
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  unsigned long long got = 0;
  COBENCH_CUDA_CHECK(cudaMemcpy(&got, counter_, sizeof(got), cudaMemcpyDeviceToHost));
  const unsigned long long want =
      static_cast<unsigned long long>(replays_) * static_cast<unsigned long long>(kernels_);
  if (got == want) return "";
  return fmt::format("the counter holds {} after {} replays of {} kernels: expected {}", got,
                     replays_, kernels_, want);
}

}  // namespace cobench::memory::cuda
