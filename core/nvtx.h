// SPDX-License-Identifier: Apache-2.0
// Named NVTX ranges around benchmark regions, so runs read well in Nsight Systems. NVTX3 is
// header-only and costs nothing without a profiler attached, GPU or not; without the CUDA
// toolkit the range compiles to nothing.
#pragma once

#if defined(COBENCH_HAVE_NVTX) && COBENCH_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace cobench {

/// Pushes an NVTX range named `name` for the lifetime of the object.
class NvtxRange {
 public:
  explicit NvtxRange(const char* name) {
#if defined(COBENCH_HAVE_NVTX) && COBENCH_HAVE_NVTX
    nvtxRangePushA(name);
#else
    (void)name;
#endif
  }
  ~NvtxRange() {
#if defined(COBENCH_HAVE_NVTX) && COBENCH_HAVE_NVTX
    nvtxRangePop();
#endif
  }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace cobench
