// SPDX-License-Identifier: Apache-2.0
// Software prefetch spread over a loop: the FP32 driver (fp8_gemm_cpu_blocked.h; no other file)
// fetches the next B panel's codes into L2 while the current panel computes. A burst of prefetches
// fills the core's line fill buffers and stalls it (profiled in the grouped GEMM at 512 tokens: B's
// packing, which prefetches 64 rows x 2 lines at once, took about 1.6 times its time on codes
// already in L2); a few lines before each kernel call overlap with the FMAs instead. Internal:
// namespace cpu_detail.
#pragma once

#include <cstdint>

namespace cobench::gemm::cpu_detail {

// Prefetches (into L2: PREFETCHT1 on x86) the `bytes` bytes from `p`, one cache line after another
// in address order, a share at each of `steps` calls of step(); later calls do nothing.
class SpreadPrefetch {
 public:
  SpreadPrefetch(const std::uint8_t* p, std::int64_t bytes, std::int64_t steps)
      : p_(reinterpret_cast<const char*>(p)), lines_((bytes + 63) / 64), steps_(steps) {}

  void step() {
    if (done_ >= lines_) return;
    const std::int64_t upto = ++step_ >= steps_ ? lines_ : step_ * lines_ / steps_;
    for (; done_ < upto; ++done_) __builtin_prefetch(p_ + done_ * 64, 0, 2);
  }

 private:
  const char* p_;
  std::int64_t lines_, steps_, step_ = 0, done_ = 0;
};

}  // namespace cobench::gemm::cpu_detail
