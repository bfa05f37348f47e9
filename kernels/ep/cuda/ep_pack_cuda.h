// SPDX-License-Identifier: Apache-2.0
// The EP dispatch pack (FP8 E4M3, a power-of-two scale per 128 values) and the weighted BF16
// combine on the GPU, bit-exact with kernels/ep/ep_pack_ref.h (which defines them). Device
// pointers; asynchronous on `stream`; the arguments are checked on the host first (slot_token
// and offsets are host copies of the device arrays' contents, read for that check only).
//   pack     one CTA per (slot, 128-value block), 128 threads: the block's amax by a shared-memory
//            reduction, the scale by thread 0, one code per thread;
//   combine  one CTA per token, threads over the hidden values, the token's partials in order.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace cobench::ep_kernels::cuda {

void pack_fp8(const float* d_x, int tokens, int hidden, const int* d_slot_token,
              const int* host_slot_token, int slots, std::byte* d_out, cudaStream_t stream);

void combine_bf16(const std::uint16_t* d_partials, const float* d_weights, const int* d_offsets,
                  const int* host_offsets, int tokens, int hidden, std::uint16_t* d_out,
                  cudaStream_t stream);

}  // namespace cobench::ep_kernels::cuda
