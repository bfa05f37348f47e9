// SPDX-License-Identifier: Apache-2.0
// A GEMM reference that emulates a tensor core's limited accumulation (paper section 3.1.1,
// technical report 3.3.2): the products of each group of `group_size` (32 for one k-step of an
// FP8 WGMMA) are aligned to the largest one's exponent and keep `fraction_bits` bits below its
// leading bit; their sum is added into an accumulator that keeps `fraction_bits` fraction bits
// (FP22: 8 exponent and 13 mantissa bits). Both steps truncate (Hopper-like) or round to nearest.
// With `promote_interval` = N_C > 0, the partial sum is added into an FP32 accumulator on the CUDA
// cores every N_C elements and restarted, as DeepSeek-V3 does with N_C = 128.
#pragma once

#include <cstdint>

namespace cobench::gemm {

struct AccumulatorModel {
  int group_size = 32;            ///< > 0
  int fraction_bits = 14;         ///< 0 to 64; the technical report: "around 14 bits"
  bool round_to_nearest = false;  ///< false: truncate
  int promote_interval = 0;       ///< N_C, a multiple of group_size; 0: never promote
  /// Align the accumulator with the products (D = A B + C in one adder tree), so a large
  /// accumulator truncates the products too; false: the products are aligned among themselves.
  bool align_with_accumulator = true;
};

/// Throws cobench::Error unless group_size > 0, 0 <= fraction_bits <= 64 (a double keeps 52;
/// more keeps every bit) and promote_interval is 0 or a positive multiple of group_size
/// (promotion happens at group boundaries, so any other interval would promote late).
void check_accumulator_model(const AccumulatorModel& model);

/// C[m, n] = sum_k A[m, k] B[n, k] with A [M, K] and B [N, K] row-major (K contiguous), the
/// products formed exactly (as FP8 x FP8 products are) and accumulated as `model` says
/// (check_accumulator_model; m, n, k >= 0).
void gemm_accumulator_model(const float* a, const float* b, float* c, std::int64_t m,
                            std::int64_t n, std::int64_t k, const AccumulatorModel& model);

/// The exact reference: C[m, n] = sum_k A[m, k] B[n, k] in double.
void gemm_fp64(const float* a, const float* b, double* c, std::int64_t m, std::int64_t n,
               std::int64_t k);

/// One inner product under the model (exposed for tests); k >= 0.
double dot_accumulator_model(const float* a, const float* b, std::int64_t k,
                             const AccumulatorModel& model);

}  // namespace cobench::gemm
