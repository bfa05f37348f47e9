// SPDX-License-Identifier: Apache-2.0
// The EP dispatch pack and the weighted combine, plain C++: the reference the CUDA kernels
// (kernels/ep/cuda/ep_pack_cuda.h) are checked against bit for bit.
//   pack     send slot s gets token slot_token[s] of x [T][H] (FP32) as FP8 E4M3 in blocks of
//            128 values, each with a power-of-two scale 2^ceil(log2(amax / 448)) (UE8M0 rounded
//            up, as DeepEP's dispatch with rounded scales; 1 for an all-zero block), codes
//            e4m3(x / scale) saturating (x / scale is exact: a power-of-two divisor). A slot is
//            H codes then H/128 FP32 scales: the EP records' payload (collectives/ep), H + 4H/128
//            bytes.
//   combine  out[t] = bf16(sum over the token's partials r = offsets[t] .. offsets[t+1] - 1, in
//            that order, of w_r x partial_r), partials BF16, accumulated in FP32 by fused
//            multiply-adds (one rounding each, on host and device alike).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/host_device.h"
#include "kernels/numerics/fp8.h"

namespace cobench::ep_kernels {

inline constexpr int kScaleBlock = 128;
inline constexpr float kE4M3Max = 448.0f;

/// Bytes of one packed slot: H FP8 codes and H/128 FP32 scales.
inline std::size_t packed_slot_bytes(int hidden) {
  return static_cast<std::size_t>(hidden) + 4 * static_cast<std::size_t>(hidden / kScaleBlock);
}

/// The block's scale: 2^ceil(log2(amax / 448)), or 1 when amax is 0.
COBENCH_HD inline float pow2_block_scale(float amax) {
  if (!(amax > 0.0f)) return 1.0f;
  return num::decode_ue8m0(
      num::encode_ue8m0(amax / kE4M3Max, num::Overflow::kSaturate, num::ScaleRounding::kUp));
}

/// Packs `slots` slots into out [slots][packed_slot_bytes(hidden)]; hidden a multiple of 128 and
/// every slot_token[s] a row of x (throws cobench::Error otherwise).
void pack_fp8_ref(const float* x, int tokens, int hidden, const int* slot_token, int slots,
                  std::byte* out);

/// out [tokens][hidden] (BF16 codes) from partials [offsets[tokens]][hidden] (BF16) and weights
/// [offsets[tokens]]; offsets non-decreasing from 0 (throws cobench::Error otherwise).
void combine_bf16_ref(const std::uint16_t* partials, const float* weights, const int* offsets,
                      int tokens, int hidden, std::uint16_t* out);

/// Checks the arguments both versions share; throws cobench::Error naming the one that is wrong.
void check_pack_args(int tokens, int hidden, const int* slot_token, int slots);
void check_combine_args(const int* offsets, int tokens, int hidden);

}  // namespace cobench::ep_kernels
