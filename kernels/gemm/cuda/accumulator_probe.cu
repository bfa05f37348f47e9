// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include <cstdint>
#include <cstring>

#include "core/cuda/cuda_check.h"
#include "core/cuda/device_check.h"
#include "core/cuda/ptx.cuh"
#include "core/error.h"
#include "kernels/gemm/cuda/accumulator_probe.h"
#include "kernels/gemm/cuda/device_query.h"
#include "kernels/gemm/cuda/wgmma_fp8.cuh"
#include "kernels/numerics/fp8.h"

namespace cobench::gemm::cuda {
namespace {

constexpr int kMaxSteps = 2;  // the longest case: two k-steps of 32

// One warp per case: A row 0 and B column 0 carry the case (lanes 0 .. 3 hold them), every
// other element is zero; the accumulator starts at zero and chains through `steps[c]` MMAs.
__global__ void probe_kernel(const std::uint8_t* a, const std::uint8_t* b, const int* steps,
                             float* out) {
  const int c = blockIdx.x, lane = threadIdx.x, g = lane / 4, t = lane % 4;
  float d[4] = {0, 0, 0, 0};
  for (int s = 0; s < steps[c]; ++s) {
    const std::uint8_t* ak = a + (c * kMaxSteps + s) * 32;
    const std::uint8_t* bk = b + (c * kMaxSteps + s) * 32;
    std::uint32_t fa[4] = {0, 0, 0, 0}, fb[2] = {0, 0};
    if (g == 0) {
      fa[0] = *reinterpret_cast<const std::uint32_t*>(ak + 4 * t);
      fa[2] = *reinterpret_cast<const std::uint32_t*>(ak + 16 + 4 * t);
      fb[0] = *reinterpret_cast<const std::uint32_t*>(bk + 4 * t);
      fb[1] = *reinterpret_cast<const std::uint32_t*>(bk + 16 + 4 * t);
    }
    ptx::mma_m16n8k32_e4m3(d, fa, fb);
  }
  if (lane == 0) out[c] = d[0];
}

// One warpgroup per case with WGMMA m64n8k32: A row 0 and B row (n) 0 carry the case in shared
// memory, the rest is zero. Core matrices are 128 bytes; the leading byte offset is 128 and the
// stride byte offset 256. Which of the two walks K is the one assumption here, so the second
// K half of row 0 is stored at both offsets: either reading finds it for D[0][0], and the copy
// it does not read lands in A rows 8 .. 15 (other outputs) or outside B's 8 rows.
constexpr int kCore = 128, kOperandBytes = 2048;

__global__ void probe_wgmma_kernel(const std::uint8_t* a, const std::uint8_t* b, const int* steps,
                                   float* out) {
  __shared__ alignas(128) std::uint8_t as[kMaxSteps][kOperandBytes];
  __shared__ alignas(128) std::uint8_t bs[kMaxSteps][kOperandBytes];
  const int c = blockIdx.x;
  for (int i = threadIdx.x; i < kMaxSteps * kOperandBytes; i += blockDim.x) {
    (&as[0][0])[i] = 0;
    (&bs[0][0])[i] = 0;
  }
  __syncthreads();
  if (threadIdx.x < kMaxSteps * 32) {
    const int s = threadIdx.x / 32, k = threadIdx.x % 32;
    const std::uint8_t va = a[(c * kMaxSteps + s) * 32 + k], vb = b[(c * kMaxSteps + s) * 32 + k];
    if (k < 16) {
      as[s][k] = va;
      bs[s][k] = vb;
    } else {
      as[s][kCore + k - 16] = as[s][2 * kCore + k - 16] = va;
      bs[s][kCore + k - 16] = bs[s][2 * kCore + k - 16] = vb;
    }
  }
  fence_proxy_async_shared();
  __syncthreads();
  float d[4] = {0, 0, 0, 0};
  wgmma_fence();
  for (int s = 0; s < steps[c]; ++s)
    wgmma_m64n8k32_e4m3(d, wgmma_descriptor(as[s], kCore, 2 * kCore),
                        wgmma_descriptor(bs[s], kCore, 2 * kCore), s > 0);
  wgmma_commit_and_wait();
  asm volatile("" : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])::"memory");  // read after
  if (threadIdx.x == 0) out[c] = d[0];
}

// E4M3 codes of `x`, which must be exact.
std::uint8_t exact_e4m3(float x) {
  const std::uint8_t code = num::encode_fp8(x, num::Fp8Format::kE4M3, num::Overflow::kNoSaturate);
  COBENCH_CHECK(num::decode_fp8(code, num::Fp8Format::kE4M3) == x,
                fmt::format("probe input {} is not exact in E4M3", x));
  return code;
}

}  // namespace

std::string accumulator_probe_unsupported(ProbeInstruction instruction) {
  if (std::string why = ::cobench::cuda_device_unavailable(); !why.empty())
    return "accumulator probe: " + why;
  int dev = 0, major = 0, minor = 0;
  COBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  const int cc = 10 * major + minor;
  if (instruction == ProbeInstruction::kWgmma && cc != 90)
    return fmt::format("accumulator probe: WGMMA needs sm_90; this device is sm_{}", cc);
  if (cc < 89)
    return fmt::format("accumulator probe: FP8 MMA needs sm_89 or later; this device is sm_{}", cc);
  if (std::string why = ::cobench::cuda_arch_unsupported(cc, COBENCH_PROBE_ARCHITECTURES);
      !why.empty())
    return "accumulator probe: " + why;
  return "";
}

std::vector<float> run_accumulator_probe(const std::vector<ProbeCase>& cases,
                                         ProbeInstruction instruction) {
  if (const std::string why = accumulator_probe_unsupported(instruction); !why.empty())
    throw Error(why);
  const size_t n = cases.size();
  std::vector<std::uint8_t> a(n * kMaxSteps * 32, 0), b(n * kMaxSteps * 32, 0);
  std::vector<int> steps(n);
  for (size_t c = 0; c < n; ++c) {
    const size_t k = cases[c].a.size();
    COBENCH_CHECK(
        k % 32 == 0 && k > 0 && k <= kMaxSteps * 32 && cases[c].b.size() == k,
        fmt::format("probe case {}: K = {} (a multiple of 32 up to {})", c, k, kMaxSteps * 32));
    steps[c] = static_cast<int>(k / 32);
    for (size_t i = 0; i < k; ++i) {
      a[c * kMaxSteps * 32 + i] = exact_e4m3(cases[c].a[i]);
      b[c * kMaxSteps * 32 + i] = exact_e4m3(cases[c].b[i]);
    }
  }
  DeviceBuffer<std::uint8_t> da(a), db(b);
  DeviceBuffer<int> dsteps(steps);
  DeviceBuffer<float> out(n);
  if (instruction == ProbeInstruction::kWgmma) {
    probe_wgmma_kernel<<<static_cast<unsigned>(n), 128>>>(da.get(), db.get(), dsteps.get(),
                                                          out.get());
  } else {
    probe_kernel<<<static_cast<unsigned>(n), 32>>>(da.get(), db.get(), dsteps.get(), out.get());
  }
  COBENCH_CUDA_CHECK(cudaGetLastError());
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  return out.download();
}

ProbeReading probe_tensor_core_accumulator(ProbeInstruction instruction) {
  const std::vector<ProbeCase> cases = accumulator_probe_cases();
  return interpret_accumulator_probe(cases, run_accumulator_probe(cases, instruction));
}

}  // namespace cobench::gemm::cuda
