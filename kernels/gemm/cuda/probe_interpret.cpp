// SPDX-License-Identifier: Apache-2.0
#include "kernels/gemm/cuda/probe_interpret.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace cobench::gemm::cuda {
namespace {

constexpr float kL = 256.0f;  // the large product, 16 x 16

// a x b == 2^e exactly, both factors powers of two within E4M3's range (2^-9 .. 2^8).
void pow2_product(int e, float& a, float& b) {
  const int ea = e >= 0 ? e / 2 : -((-e + 1) / 2);
  a = std::ldexp(1.0f, ea);
  b = std::ldexp(1.0f, e - ea);
}

ProbeCase make_case(ProbeKind kind, int j) {
  ProbeCase c;
  c.kind = kind;
  c.j = j;
  const int groups = kind == ProbeKind::kCarry ? 2 : 1;
  c.a.assign(static_cast<size_t>(32 * groups), 0.0f);
  c.b.assign(static_cast<size_t>(32 * groups), 0.0f);
  c.a[0] = 16.0f;
  c.b[0] = 16.0f;
  // 0.75 unit = 1.5 x 2^(7 - j): 1.5 x 2^ea (E4M3 down to 1.5 x 2^-8) times 2^eb.
  float small_a = 0, small_b = 0;
  if (kind == ProbeKind::kSurvive) {
    pow2_product(8 - j, small_a, small_b);
  } else {
    pow2_product(7 - j, small_a, small_b);
    if (std::ilogb(small_a) > std::ilogb(small_b) || std::ilogb(small_a) > -8) {
      small_a *= 1.5f;
    } else {
      small_b *= 1.5f;
    }
  }
  const size_t first = kind == ProbeKind::kCarry ? 32 : 1;
  const size_t count = kind == ProbeKind::kSurvive || kind == ProbeKind::kRound ? 1 : 31;
  for (size_t i = first; i < first + count; ++i) {
    c.a[i] = small_a;
    c.b[i] = small_b;
  }
  return c;
}

const char* kind_name(ProbeKind k) {
  switch (k) {
    case ProbeKind::kSurvive:
      return "survive";
    case ProbeKind::kRound:
      return "round";
    case ProbeKind::kSum:
      return "sum";
    case ProbeKind::kCarry:
      return "carry";
  }
  return "?";
}

}  // namespace

std::vector<ProbeCase> accumulator_probe_cases() {
  std::vector<ProbeCase> cases;
  for (ProbeKind k : {ProbeKind::kSurvive, ProbeKind::kRound, ProbeKind::kSum, ProbeKind::kCarry})
    for (int j = 1; j <= kProbeMaxBits; ++j) cases.push_back(make_case(k, j));
  return cases;
}

ProbeReading interpret_accumulator_probe(const std::vector<ProbeCase>& cases,
                                         const std::vector<float>& outputs) {
  COBENCH_CHECK(cases.size() == outputs.size(),
                fmt::format("{} probe outputs for {} cases", outputs.size(), cases.size()));
  auto output = [&](ProbeKind kind, int j) -> double {
    for (size_t i = 0; i < cases.size(); ++i)
      if (cases[i].kind == kind && cases[i].j == j) return outputs[i];
    throw Error(fmt::format("probe case {} j={} missing", kind_name(kind), j));
  };
  auto units = [&](ProbeKind kind, int j) {
    return (output(kind, j) - double(kL)) / std::ldexp(1.0, 8 - j);
  };
  ProbeReading r;
  // Fraction bits: the largest j whose single unit survives, the survivors contiguous from 1.
  int n = 0;
  while (n < kProbeMaxBits && units(ProbeKind::kSurvive, n + 1) == 1.0) ++n;
  for (int j = n + 2; j <= kProbeMaxBits; ++j)
    COBENCH_CHECK(
        units(ProbeKind::kSurvive, j) == 0.0,
        fmt::format("probe: a unit at j={} survived after one at j={} was lost", j, n + 1));
  COBENCH_CHECK(n > 0, fmt::format("probe: 256 + 128 gave {} (no fraction bit kept?)",
                                   output(ProbeKind::kSurvive, 1)));
  r.fraction_bits = n;
  r.at_fp32_limit = n >= 23;  // FP32 shows 23 bits below 256's leading bit
  const double round_units = units(ProbeKind::kRound, n);
  COBENCH_CHECK(round_units == 0.0 || round_units == 1.0,
                fmt::format("probe: 0.75 unit at j={} gave {} units", n, round_units));
  r.rounds = round_units == 1.0;
  const double sum = units(ProbeKind::kSum, n), carry = units(ProbeKind::kCarry, n);
  r.sum_units = static_cast<int>(std::lround(sum));
  r.carry_units = static_cast<int>(std::lround(carry));
  const double individually = r.rounds ? 31 : 0;
  r.products_aligned_individually = sum == individually;
  r.products_summed_exactly = sum == 23.0;
  r.accumulator_aligned_with_products = r.products_aligned_individually && carry == individually;
  const std::string products = r.products_aligned_individually ? "cut to the grid one by one"
                               : r.products_summed_exactly     ? "summed exactly before the cut"
                                                           : "aligned in sub-groups of the k-step";
  const std::string accumulator =
      !r.products_aligned_individually
          ? fmt::format("not read ({} units: the products were not cut one by one)", carry)
          : fmt::format(
                "{} ({} units)",
                r.accumulator_aligned_with_products ? "aligned with the products" : "aligned apart",
                carry);
  r.summary = fmt::format(
      "{}{} fraction bits, {}; products {} ({} of 31 x 0.75 units kept); "
      "accumulator {}",
      r.at_fp32_limit ? ">= " : "", n, r.rounds ? "rounding to nearest" : "truncating", products,
      sum, accumulator);
  return r;
}

}  // namespace cobench::gemm::cuda
