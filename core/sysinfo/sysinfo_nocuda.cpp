// SPDX-License-Identifier: Apache-2.0
// discover_cuda for builds without the CUDA toolkit.
#include "core/sysinfo/sysinfo.h"

namespace cobench::sysinfo {

void discover_cuda(NodeInfo& n) {
  n.versions["cuda_runtime"] = "not built";
  n.cuda_status = "no CUDA device: cobench was built without the CUDA toolkit";
}

}  // namespace cobench::sysinfo
