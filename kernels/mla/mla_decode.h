// SPDX-License-Identifier: Apache-2.0
// MLA decode attention over the paged latent cache (kernels/mla/paged_cache.h), in the absorbed
// form used for decoding (mla_absorbed_ref in kernels/mla/mla_forms_ref.h, without its weights):
// each sequence's `heads` query heads share one latent KV head; a query is [q_lat (512);
// q_rope (64)] (W_UK already folded in), a score reads all 576 cached dims and the output sums
// the 512 latent dims: o_lat = softmax(s * q K^T) V, V = K[:, :512]. The caller applies W_UV.
// Shapes (row-major):
//   q [batch, heads, 576], out [batch, heads, 512], lse [batch, heads] (natural log of the sum of
//   exp(scaled score)); every sequence needs at least one token.
//
//   mla_decode_ref  FP64 over the dequantized paged cache: the reference every kernel meets
//   mla_decode_cpu  flash-decoding on the CPU: (sequence, KV split) tasks over a thread pool,
//                   each reads its pages once for all heads, 64-token chunks dequantized to FP32,
//                   scores and P V in register-blocked kernels (AVX-512, AVX2+FMA or portable,
//                   picked at run time) or in AMX-BF16 tiles (kernels/mla/mla_decode_amx.h),
//                   online softmax in FP32; a combine step merges splits through their
//                   log-sum-exp
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/mla/paged_cache.h"

namespace cobench::mla {

/// FlashMLA's softmax scale for DeepSeek-V3: 1 / sqrt(qk_nope + qk_rope) = 1 / sqrt(192).
double deepseek_v3_softmax_scale();

struct DecodeRef {
  std::vector<double> out;        ///< [batch, heads, 512]
  std::vector<double> lse;        ///< [batch, heads]
  std::vector<double> magnitude;  ///< [batch, heads, 512]: sum_t softmax_t |v_tj|
};

/// One sequence: q [heads, 576] -> out [heads, 512], lse [heads], and, unless null, magnitude
/// [heads, 512] = sum_t softmax_t |v_tj| (>= |out|; a relative error e in each softmax weight
/// moves out_j by at most e x magnitude_j: what kernels that round P bound their error with).
void mla_decode_ref_seq(const MlaCache& c, std::int64_t seq, const double* q, std::int64_t heads,
                        double scale, double* out, double* lse, double* magnitude = nullptr);
/// Every sequence; q [batch, heads, 576].
DecodeRef mla_decode_ref(const MlaCache& c, const std::vector<double>& q, std::int64_t heads,
                         double scale);

enum class CpuIsa { kAuto, kPortable, kAvx2, kAvx512, kAmx };

const char* cpu_isa_name(CpuIsa isa);
/// Whether this CPU runs `isa` (kAuto and kPortable always).
bool cpu_isa_supported(CpuIsa isa);
/// What kAuto picks here: AMX (kernels/mla/mla_decode_amx.h; MLA only, GQA and MHA run AVX-512),
/// else AVX-512F, else AVX2+FMA, else portable.
CpuIsa best_cpu_isa();

struct CpuDecodeOptions {
  int threads = 0;               ///< <= 0: every hardware thread
  CpuIsa isa = CpuIsa::kAuto;    ///< an unsupported ISA is an error
  std::int64_t split_pages = 0;  ///< pages per KV split; 0 picks enough splits for the threads
};

/// q [batch, heads, 576] -> out [batch, heads, 512], lse [batch, heads], FP32.
void mla_decode_cpu(const MlaCache& c, const float* q, std::int64_t heads, float scale, float* out,
                    float* lse, const CpuDecodeOptions& options = {});

}  // namespace cobench::mla
