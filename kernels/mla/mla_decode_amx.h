// SPDX-License-Identifier: Apache-2.0
// MLA decode on AMX tiles (internal to kernels/mla; mla_decode_cpu calls it for CpuIsa::kAmx).
// One task reads its run of pages once for every head, as the AVX-512 path does, but scores and
// P V are tile products (TDPBF16PS: pairs of BF16 products summed into FP32) instead of FP32
// FMAs:
//   scores  S [heads, 64] = Q [heads, 576] K^T      K^T as BF16 pairs [288][64 tokens][2]
//   P V     O [heads, 512] += P [heads, 64] V [64, 512]    V as token pairs [32][512][2]
// Both come near FP32 accuracy with BF16 tiles: every cached value is exact in BF16 (a BF16
// cache's values; an FP8 cache's E4M3 codes, whose per-128-dim scales are applied to the scores'
// groups and folded into P), and each FP32 operand x of the other side (the query, the softmax
// weights) is split into x_hi = bf16(x) and x_lo = bf16(x - x_hi), |x - x_hi - x_lo| < 2^-17 |x|
// (16-17 significant bits where FP32 has 24), so Q K^T = Q_hi K^T + Q_lo K^T and
// P V = P_hi V + P_lo V: twice the tile work of the attention's FLOP. P V accumulates 4 pages into
// O's tiles per pass (each pass's page i's P rescaled by the later pages' softmax factors), since
// loading and storing the accumulators drains the tile pipeline. The softmax is the AVX-512
// kernel's. A task runs with denormals flushed: the smallest weights' residuals x - x_hi, and
// weights times the later pages' factors or the FP8 scales, can be denormal, and each FP32
// operation on a denormal costs a microcode assist.
#pragma once

#include <cstdint>

#include "kernels/mla/attention_tile.h"
#include "kernels/mla/paged_cache.h"

namespace cobench::mla::detail {

/// Pages [first_page, first_page + pages) of sequence `seq`, every head: out [heads, 512] and
/// lse [heads] of that run alone (a split's partial, or the final output when it is the whole
/// sequence). Call only where cpu_isa_supported(CpuIsa::kAmx).
void mla_pages_amx(const MlaCache& c, std::int64_t seq, std::int64_t first_page, std::int64_t pages,
                   const float* q, std::int64_t heads, float scale, float* out, float* lse);

/// dst[i] = the E4M3 code src[i] as BF16, exactly (every E4M3 value is a BF16 value; NaN codes
/// give a NaN), i < n, n a multiple of 32: the FP8 cache's latent, whose scales the AMX path
/// applies to the scores and to P instead. AVX-512BW: call only where cpu_isa_supported(kAmx).
void e4m3_to_bf16_amx(const std::uint8_t* src, std::int64_t n, std::uint16_t* dst);

}  // namespace cobench::mla::detail
