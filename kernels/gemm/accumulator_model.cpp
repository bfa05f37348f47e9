// SPDX-License-Identifier: Apache-2.0
#include "kernels/gemm/accumulator_model.h"

#include <fmt/format.h>

#include <climits>
#include <cmath>

#include "core/error.h"

namespace cobench::gemm {
namespace {

// x on the grid of `step`, truncated toward zero or rounded to nearest (ties to even).
double to_grid(double x, double step, bool nearest) {
  const double units = x / step;
  return (nearest ? std::nearbyint(units) : std::trunc(units)) * step;
}

// x with `bits` fraction bits below its leading bit.
double keep_bits(double x, int bits, bool nearest) {
  if (x == 0) return 0;
  int e = 0;
  std::frexp(x, &e);  // |x| = f x 2^e with f in [0.5, 1): the leading bit weighs 2^(e - 1)
  return to_grid(x, std::ldexp(1.0, e - 1 - bits), nearest);
}

// One inner product; the model and k are checked by the callers.
double dot_unchecked(const float* a, const float* b, std::int64_t k,
                     const AccumulatorModel& model) {
  double tensor_core = 0;  // the MMA accumulator (FP22-like)
  float promoted = 0;      // the FP32 accumulator on the CUDA cores
  std::int64_t since_promotion = 0;
  for (std::int64_t k0 = 0; k0 < k; k0 += model.group_size) {
    const std::int64_t k1 = k0 + model.group_size < k ? k0 + model.group_size : k;
    // Align the group's products (and the accumulator) to the largest exponent.
    int emax = INT32_MIN;
    if (model.align_with_accumulator && tensor_core != 0) std::frexp(tensor_core, &emax);
    for (std::int64_t i = k0; i < k1; ++i) {
      const double p = static_cast<double>(a[i]) * static_cast<double>(b[i]);
      if (p != 0) {
        int e = 0;
        std::frexp(p, &e);
        emax = e > emax ? e : emax;
      }
    }
    double group = 0;
    if (emax != INT32_MIN) {
      const double step = std::ldexp(1.0, emax - 1 - model.fraction_bits);
      for (std::int64_t i = k0; i < k1; ++i)
        group += to_grid(static_cast<double>(a[i]) * static_cast<double>(b[i]), step,
                         model.round_to_nearest);
    }
    tensor_core = keep_bits(tensor_core + group, model.fraction_bits, model.round_to_nearest);
    since_promotion += k1 - k0;
    if (model.promote_interval > 0 && since_promotion >= model.promote_interval) {
      promoted += static_cast<float>(tensor_core);
      tensor_core = 0;
      since_promotion = 0;
    }
  }
  return model.promote_interval > 0
             ? static_cast<double>(promoted + static_cast<float>(tensor_core))
             : tensor_core;
}

}  // namespace

void check_accumulator_model(const AccumulatorModel& model) {
  // group_size <= 0 would never advance through K.
  COBENCH_CHECK(model.group_size > 0,
                fmt::format("group_size {}: expected a positive number of products per group",
                            model.group_size));
  COBENCH_CHECK(model.fraction_bits >= 0 && model.fraction_bits <= 64,
                fmt::format("fraction_bits {}: expected 0 to 64 (a double keeps 52; more keeps "
                            "every bit)",
                            model.fraction_bits));
  // Promotion is checked after each group: an interval that is not a multiple of the group
  // would promote at the next group boundary, later than asked.
  COBENCH_CHECK(model.promote_interval >= 0 && model.promote_interval % model.group_size == 0,
                fmt::format("promote_interval {}: expected 0 (never) or a positive multiple of "
                            "group_size {}",
                            model.promote_interval, model.group_size));
}

double dot_accumulator_model(const float* a, const float* b, std::int64_t k,
                             const AccumulatorModel& model) {
  check_accumulator_model(model);
  COBENCH_CHECK(k >= 0, fmt::format("k {}: expected k >= 0", k));
  return dot_unchecked(a, b, k, model);
}

void gemm_accumulator_model(const float* a, const float* b, float* c, std::int64_t m,
                            std::int64_t n, std::int64_t k, const AccumulatorModel& model) {
  check_accumulator_model(model);
  COBENCH_CHECK(m >= 0 && n >= 0 && k >= 0,
                fmt::format("m {}, n {}, k {}: expected sizes >= 0", m, n, k));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      c[i * n + j] = static_cast<float>(dot_unchecked(a + i * k, b + j * k, k, model));
}

void gemm_fp64(const float* a, const float* b, double* c, std::int64_t m, std::int64_t n,
               std::int64_t k) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::int64_t p = 0; p < k; ++p)
        s += static_cast<double>(a[i * k + p]) * static_cast<double>(b[j * k + p]);
      c[i * n + j] = s;
    }
}

}  // namespace cobench::gemm
