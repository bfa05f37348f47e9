// SPDX-License-Identifier: Apache-2.0
// MLA decode on AMX tiles (internal to kernels/mla; mla_decode_cpu calls it for CpuIsa::kAmx).
// One task reads its run of pages once for every head, as the AVX-512 path does, but scores and
// P V are tile products (TDPBF16PS: BF16 pairs, FP32 sums) instead of FP32 FMAs:
//   scores  S [heads, 64] = Q [heads, 576] K^T      K^T as BF16 pairs [288][64 tokens][2]
//   P V     O [heads, 512] += P [heads, 64] V [64, 512]    V as token pairs [32][512][2]
// Both products keep FP32 accuracy with BF16 tiles by splitting each FP32 operand x into
// x_hi = bf16(x) and x_lo = bf16(x - x_hi) (|x - x_hi - x_lo| <= 2^-17 |x|): a BF16 cache is
// exact in BF16, so Q K^T = Q_hi K^T + Q_lo K^T and P V = P_hi V + P_lo V; an FP8 cache's
// dequantized values (code x scale) are split too, and the third term, x_lo y_hi, is added
// (x_lo y_lo, below 2^-16 of the product, is not). The softmax is the AVX-512 kernel's.
#pragma once

#include <cstdint>

#include "kernels/mla/attention_tile.h"
#include "kernels/mla/paged_cache.h"

namespace cobench::mla::detail {

/// Pages [first_page, first_page + pages) of sequence `seq`, every head: out [heads, 512] and
/// lse [heads] of that run alone (a split's partial, or the final output when it is the whole
/// sequence). `avx512` is tile_kernels(CpuIsa::kAvx512) (softmax and the page's dequantization).
/// Call only where cpu_isa_supported(CpuIsa::kAmx).
void mla_pages_amx(const MlaCache& c, std::int64_t seq, std::int64_t first_page, std::int64_t pages,
                   const float* q, std::int64_t heads, float scale, const TileKernels& avx512,
                   float* out, float* lse);

}  // namespace cobench::mla::detail
