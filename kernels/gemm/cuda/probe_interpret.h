// SPDX-License-Identifier: Apache-2.0
// The tensor-core accumulation probe, host half (plain C++, tested without a GPU against
// kernels/gemm/accumulator_model): the crafted inputs and the reading of what an FP8 MMA made of
// them. Every case is one inner product of FP8-exact values, K a multiple of 32 (one MMA k-step
// each, the accumulator chained from step to step, starting at zero), whose output is read as
// FP32. L = 2^8 (16 x 16) is the large product; a "unit" at j is 2^(8 - j), the last bit kept
// when the sum is aligned to L and j fraction bits are kept.
//   survive j  L + one product of 1 unit               kept iff j <= fraction bits
//   round j    L + one product of 0.75 unit             truncation drops it, rounding gives 1 unit
//   sum j      L + 31 products of 0.75 unit             each dropped/rounded alone: 0 or 31 units;
//                                                       summed exactly first: 23 (of 23.25);
//                                                       anything else: aligned in sub-groups of
//                                                       the k-step (those without L summed apart)
//   carry j    k-step 1: L; k-step 2: 31 x 0.75 unit     the accumulator aligned with the products:
//                                                       0 or 31 units; aligned apart: 23
// The output is FP32, so at most 23 fraction bits can be seen (j <= 24 are crafted).
#pragma once

#include <string>
#include <vector>

namespace cobench::gemm::cuda {

enum class ProbeKind { kSurvive, kRound, kSum, kCarry };

struct ProbeCase {
  ProbeKind kind = ProbeKind::kSurvive;
  int j = 0;
  std::vector<float> a, b;  ///< K values each, K a multiple of 32; every value exact in E4M3
};

/// Every case, for j = 1 .. kProbeMaxBits.
constexpr int kProbeMaxBits = 24;
std::vector<ProbeCase> accumulator_probe_cases();

struct ProbeReading {
  int fraction_bits = 0;       ///< largest j whose unit survives (kept bits below the leading bit)
  bool at_fp32_limit = false;  ///< every crafted unit survived: at least this many bits
  bool rounds = false;         ///< round to nearest (else truncation)
  int sum_units = 0;           ///< "sum" case at j = fraction_bits, in units
  int carry_units = 0;         ///< "carry" case at j = fraction_bits, in units
  bool products_aligned_individually = false;  ///< each product cut to the grid before the sum
  bool products_summed_exactly = false;        ///< the k-step's products summed, then cut
  ///< (neither: grouped in sub-groups of the k-step)
  /// Read only when products are cut one by one (the carry case means nothing otherwise).
  bool accumulator_aligned_with_products = false;
  std::string summary;  ///< one line, e.g. "13 fraction bits, truncating, ..."
};

/// Reads the outputs (as FP32, one per case, in the order of accumulator_probe_cases()).
/// Throws cobench::Error when the outputs do not fit any reading (e.g. the wrong count).
ProbeReading interpret_accumulator_probe(const std::vector<ProbeCase>& cases,
                                         const std::vector<float>& outputs);

}  // namespace cobench::gemm::cuda
