// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include "core/error.h"
#include "kernels/gemm/fp8_gemm.h"

namespace cobench::gemm {
namespace {

void check_shapes(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b) {
  COBENCH_CHECK(a.cols == b.cols, fmt::format("K differs: A has {}, B has {}", a.cols, b.cols));
  COBENCH_CHECK(a.tile_rows == 1 && a.tile_cols == 128, "A must be quantized per token (1 x 128)");
  COBENCH_CHECK(b.tile_rows == 128 && b.tile_cols == 128,
                "B must be quantized per block (128 x 128)");
}

}  // namespace

double fp8_gemm_ref_at(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b,
                       std::int64_t m, std::int64_t n) {
  double sum = 0;
  for (std::int64_t k = 0; k < a.cols; ++k) {
    const double x = static_cast<double>(
                         num::decode_fp8(a.codes[static_cast<size_t>(m * a.cols + k)], a.format)) *
                     a.scale_at(m, k);
    const double y = static_cast<double>(
                         num::decode_fp8(b.codes[static_cast<size_t>(n * b.cols + k)], b.format)) *
                     b.scale_at(n, k);
    sum += x * y;
  }
  return sum;
}

void fp8_gemm_ref(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, double* d) {
  check_shapes(a, b);
  for (std::int64_t m = 0; m < a.rows; ++m)
    for (std::int64_t n = 0; n < b.rows; ++n) d[m * b.rows + n] = fp8_gemm_ref_at(a, b, m, n);
}

}  // namespace cobench::gemm
