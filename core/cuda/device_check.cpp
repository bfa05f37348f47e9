// SPDX-License-Identifier: Apache-2.0
#include "core/cuda/device_check.h"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <cctype>
#include <cstdlib>

namespace cobench {

std::string cuda_device_unavailable() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return std::string("no CUDA device: ") + cudaGetErrorString(status);
  }
  return count == 0 ? "no CUDA device: 0 devices" : "";
}

std::string cuda_arch_unsupported(int cc, std::string_view built) {
  std::string_view rest = built;
  while (!rest.empty()) {
    const size_t end = rest.find_first_of(",;");
    const std::string_view entry = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    size_t digits = 0;
    while (digits < entry.size() && std::isdigit(static_cast<unsigned char>(entry[digits])))
      ++digits;
    if (entry.empty()) continue;
    if (digits == 0) return "";  // "native", "all", "all-major": CMake chose for this machine
    const int arch = std::atoi(std::string(entry.substr(0, digits)).c_str());
    const std::string_view suffix = entry.substr(digits);
    const bool specific = !suffix.empty() && suffix[0] == 'a';
    const bool family = !suffix.empty() && suffix[0] == 'f';
    const bool real_only = suffix.find("-real") != std::string_view::npos;
    const bool same_major_up = cc / 10 == arch / 10 && cc >= arch;
    if (specific ? cc == arch : family || real_only ? same_major_up : cc >= arch) return "";
  }
  return fmt::format(
      "the device is sm_{}; this build has kernels for {} only "
      "(CMAKE_CUDA_ARCHITECTURES)",
      cc, built);
}

std::string cuda_device_unsupported() {
  if (std::string why = cuda_device_unavailable(); !why.empty()) return why;
  int dev = 0, major = 0, minor = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) {
    cudaGetLastError();
    return "the CUDA runtime cannot tell the device's compute capability";
  }
  return cuda_arch_unsupported(10 * major + minor, COBENCH_CUDA_ARCHITECTURES);
}

}  // namespace cobench
