// SPDX-License-Identifier: Apache-2.0
#include "core/cuda/cuda_check.h"
#include "kernels/ep/cuda/ep_pack_cuda.h"
#include "kernels/ep/ep_pack_ref.h"

namespace cobench::ep_kernels::cuda {
namespace {

__global__ void pack_fp8_kernel(const float* x, int hidden, const int* slot_token,
                                std::uint8_t* out, std::size_t slot_bytes) {
  __shared__ float amax[kScaleBlock];
  const int s = blockIdx.x, b = blockIdx.y, i = threadIdx.x;
  const int k = b * kScaleBlock + i;
  const float v = x[static_cast<std::size_t>(slot_token[s]) * hidden + k];
  amax[i] = fabsf(v);
  __syncthreads();
  for (int stride = kScaleBlock / 2; stride > 0; stride /= 2) {
    if (i < stride) amax[i] = fmaxf(amax[i], amax[i + stride]);
    __syncthreads();
  }
  const float scale = pow2_block_scale(amax[0]);
  std::uint8_t* dst = out + static_cast<std::size_t>(s) * slot_bytes;
  dst[k] = num::encode_fp8(v / scale, num::Fp8Format::kE4M3, num::Overflow::kSaturate);
  if (i == 0) reinterpret_cast<float*>(dst + hidden)[b] = scale;
}

__global__ void combine_bf16_kernel(const std::uint16_t* partials, const float* weights,
                                    const int* offsets, int hidden, std::uint16_t* out) {
  const int t = blockIdx.x;
  const int begin = offsets[t], end = offsets[t + 1];
  for (int k = threadIdx.x; k < hidden; k += blockDim.x) {
    float acc = 0;
    for (int r = begin; r < end; ++r)
      acc = fmaf(weights[r], num::decode_bf16(partials[static_cast<std::size_t>(r) * hidden + k]),
                 acc);
    out[static_cast<std::size_t>(t) * hidden + k] = num::encode_bf16(acc);
  }
}

}  // namespace

void pack_fp8(const float* d_x, int tokens, int hidden, const int* d_slot_token,
              const int* host_slot_token, int slots, std::byte* d_out, cudaStream_t stream) {
  check_pack_args(tokens, hidden, host_slot_token, slots);
  if (slots == 0) return;
  const dim3 grid(static_cast<unsigned>(slots), static_cast<unsigned>(hidden / kScaleBlock));
  pack_fp8_kernel<<<grid, kScaleBlock, 0, stream>>>(
      d_x, hidden, d_slot_token, reinterpret_cast<std::uint8_t*>(d_out), packed_slot_bytes(hidden));
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

void combine_bf16(const std::uint16_t* d_partials, const float* d_weights, const int* d_offsets,
                  const int* host_offsets, int tokens, int hidden, std::uint16_t* d_out,
                  cudaStream_t stream) {
  check_combine_args(host_offsets, tokens, hidden);
  if (tokens == 0) return;
  combine_bf16_kernel<<<static_cast<unsigned>(tokens), 256, 0, stream>>>(d_partials, d_weights,
                                                                         d_offsets, hidden, d_out);
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cobench::ep_kernels::cuda
