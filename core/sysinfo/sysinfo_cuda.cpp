// SPDX-License-Identifier: Apache-2.0
// CUDA devices through the runtime API, and the CUDA runtime, driver and NCCL versions. Works on
// machines without a driver: the runtime then reports why there is no device.
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include "core/sysinfo/sysinfo.h"

#if defined(COBENCH_HAVE_NCCL) && COBENCH_HAVE_NCCL
#include <nccl.h>
#endif

namespace cobench::sysinfo {
namespace {

std::string cuda_version(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

int attribute(cudaDeviceAttr attr, int device) {
  int value = 0;
  if (cudaDeviceGetAttribute(&value, attr, device) != cudaSuccess) value = 0;
  return value;
}

}  // namespace

void discover_cuda(NodeInfo& n) {
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  n.versions["cuda_runtime"] = cuda_version(runtime);
  cudaDriverGetVersion(&driver);  // 0 when no driver is installed
  n.versions["cuda_driver"] = driver ? cuda_version(driver) : "none";
#if defined(COBENCH_HAVE_NCCL) && COBENCH_HAVE_NCCL
  int nccl = 0;
  if (ncclGetVersion(&nccl) == ncclSuccess)
    n.versions["nccl"] = fmt::format("{}.{}.{}", nccl / 10000, nccl / 100 % 100, nccl % 100);
#endif

  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    n.cuda_status =
        fmt::format("no CUDA device: {}{} ({})", driver == 0 ? "no NVIDIA driver is loaded; " : "",
                    cudaGetErrorString(status), cudaGetErrorName(status));
    return;
  }
  if (count == 0) {
    n.cuda_status = "no CUDA device: the driver reports 0 devices";
    return;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    CudaDevice d;
    d.index = i;
    d.name = prop.name;
    d.cc_major = prop.major;
    d.cc_minor = prop.minor;
    d.sms = prop.multiProcessorCount;
    d.memory = Bytes(static_cast<double>(prop.totalGlobalMem));
    d.clock_khz = attribute(cudaDevAttrClockRate, i);
    d.memory_clock_khz = attribute(cudaDevAttrMemoryClockRate, i);
    d.memory_bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, i);
    d.l2_cache = Bytes(static_cast<double>(attribute(cudaDevAttrL2CacheSize, i)));
    char bus[32] = {};
    if (cudaDeviceGetPCIBusId(bus, sizeof bus, i) == cudaSuccess) d.pci_bus_id = bus;
    n.cuda_devices.push_back(std::move(d));
  }
}

}  // namespace cobench::sysinfo
