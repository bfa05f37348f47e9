// SPDX-License-Identifier: Apache-2.0
// The native AVX-512F kernels: attention_tile_avx512.inc compiled with -mavx512f (kernels/
// CMakeLists.txt), where SIMDe maps each simde_ call to its AVX-512 instruction. Called only
// where the CPU has AVX-512F (tile_kernels_avx512, chosen by resolve_isa). Keep this TU minimal:
// raw pointers and plain loops only, nothing from a header that would be instantiated here as
// COMDAT code with AVX-512 instructions and could be picked by the linker for other TUs.
#if defined(__x86_64__)
#include <simde/x86/avx512.h>

#include <cstdint>

#include "kernels/mla/attention_tile.h"

#if !defined(SIMDE_X86_AVX512F_NATIVE)
#error "attention_tile_avx512.cpp must be compiled with -mavx512f"
#endif

#include "kernels/mla/attention_tile_avx512.inc"

namespace cobench::mla::detail {

void scores_avx512_native(const float* q, std::int64_t rows, std::int64_t dq, const float* kt,
                          std::int64_t n, float* s) {
  avx512::scores(q, rows, dq, kt, n, s);
}

void accumulate_avx512_native(const float* p, std::int64_t rows, const float* v, std::int64_t ldv,
                              std::int64_t n, std::int64_t dv, const float* alpha, float* o,
                              PrefetchRange next) {
  avx512::accumulate(p, rows, v, ldv, n, dv, alpha, o, next);
}

void softmax_avx512_native(float* s, std::int64_t rows, std::int64_t n, float scale, float* m,
                           float* l, float* alpha) {
  avx512::softmax(s, rows, n, scale, m, l, alpha);
}

void transpose_avx512_native(const float* rows, std::int64_t ldr, std::int64_t dq, float* kt) {
  avx512::transpose(rows, ldr, dq, kt);
}

void scores_rows_avx512_native(const float* q, std::int64_t rows, std::int64_t dq, const float* k,
                               std::int64_t ldk, std::int64_t n, float* s, PrefetchRange next) {
  avx512::scores_krows(q, rows, dq, k, ldk, n, s, next);
}

void bf16_to_float_avx512_native(const std::uint8_t* src, std::int64_t n, float* dst) {
  avx512::bf16_to_float(src, n, dst);
}

void scores_bf16_avx512_native(const float* q_split, std::int64_t rows, std::int64_t dq,
                               const std::uint8_t* k, std::int64_t ldk, std::int64_t n, float* s,
                               PrefetchRange next) {
  avx512::scores_bf16(q_split, rows, dq, k, ldk, n, s, next);
}

void accumulate_bf16_avx512_native(const float* p, std::int64_t rows, const std::uint8_t* v,
                                   std::int64_t ldv, std::int64_t n, std::int64_t dv,
                                   const float* alpha, float* o_split, PrefetchRange next) {
  avx512::accumulate_bf16(p, rows, v, ldv, n, dv, alpha, o_split, next);
}

}  // namespace cobench::mla::detail
#endif
