// SPDX-License-Identifier: Apache-2.0
#include "kernels/ep/ep_pack_ref.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace cobench::ep_kernels {

void check_pack_args(int tokens, int hidden, const int* slot_token, int slots) {
  if (hidden <= 0 || hidden % kScaleBlock != 0)
    COBENCH_THROW(fmt::format("EP pack: hidden {} must be a positive multiple of 128", hidden));
  if (tokens < 0 || slots < 0)
    COBENCH_THROW(
        fmt::format("EP pack: {} tokens and {} slots must not be negative", tokens, slots));
  for (int s = 0; s < slots; ++s)
    if (slot_token[s] < 0 || slot_token[s] >= tokens)
      COBENCH_THROW(fmt::format("EP pack: slot {} names token {}, outside 0..{}", s, slot_token[s],
                                tokens - 1));
}

void check_combine_args(const int* offsets, int tokens, int hidden) {
  if (hidden <= 0 || tokens < 0)
    COBENCH_THROW(fmt::format("EP combine: hidden {} must be positive, tokens {} not negative",
                              hidden, tokens));
  if (offsets[0] != 0) COBENCH_THROW("EP combine: offsets[0] must be 0");
  for (int t = 0; t < tokens; ++t)
    if (offsets[t + 1] < offsets[t])
      COBENCH_THROW(fmt::format("EP combine: offsets[{}] = {} is below offsets[{}] = {}", t + 1,
                                offsets[t + 1], t, offsets[t]));
}

void pack_fp8_ref(const float* x, int tokens, int hidden, const int* slot_token, int slots,
                  std::byte* out) {
  check_pack_args(tokens, hidden, slot_token, slots);
  const std::size_t slot_bytes = packed_slot_bytes(hidden);
  const auto h = static_cast<std::size_t>(hidden);
  for (int s = 0; s < slots; ++s) {
    const float* row = x + static_cast<std::size_t>(slot_token[s]) * h;
    std::byte* dst = out + static_cast<std::size_t>(s) * slot_bytes;
    for (int b = 0; b < hidden / kScaleBlock; ++b) {
      float amax = 0;
      for (int i = 0; i < kScaleBlock; ++i)
        amax = std::max(amax, std::fabs(row[b * kScaleBlock + i]));
      const float scale = pow2_block_scale(amax);
      for (int i = 0; i < kScaleBlock; ++i) {
        const int k = b * kScaleBlock + i;
        dst[k] = static_cast<std::byte>(
            num::encode_fp8(row[k] / scale, num::Fp8Format::kE4M3, num::Overflow::kSaturate));
      }
      std::memcpy(dst + h + 4 * static_cast<std::size_t>(b), &scale, 4);
    }
  }
}

void combine_bf16_ref(const std::uint16_t* partials, const float* weights, const int* offsets,
                      int tokens, int hidden, std::uint16_t* out) {
  check_combine_args(offsets, tokens, hidden);
  const auto h = static_cast<std::size_t>(hidden);
  for (int t = 0; t < tokens; ++t)
    for (std::size_t k = 0; k < h; ++k) {
      float acc = 0;
      for (int r = offsets[t]; r < offsets[t + 1]; ++r)
        acc = std::fma(weights[r], num::decode_bf16(partials[static_cast<std::size_t>(r) * h + k]),
                       acc);
      out[static_cast<std::size_t>(t) * h + k] = num::encode_bf16(acc);
    }
}

}  // namespace cobench::ep_kernels
