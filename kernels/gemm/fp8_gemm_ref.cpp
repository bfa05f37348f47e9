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

const char* format_name(num::Fp8Format f) { return f == num::Fp8Format::kE4M3 ? "E4M3" : "E5M2"; }

}  // namespace

void check_grouped(const quant::QuantizedMatrix& a, const std::vector<quant::QuantizedMatrix>& b,
                   const std::vector<std::int64_t>& counts) {
  COBENCH_CHECK(!b.empty() && b.size() == counts.size(),
                fmt::format("{} expert weights for {} token counts", b.size(), counts.size()));
  std::int64_t total = 0;
  for (size_t e = 0; e < b.size(); ++e) {
    COBENCH_CHECK(counts[e] >= 0, fmt::format("expert {} has {} tokens", e, counts[e]));
    check_shapes(a, b[e]);
    COBENCH_CHECK(b[e].rows == b[0].rows, "every expert must have the same N");
    // One format (and, with check_shapes, one 128 x 128 scale layout) for every expert:
    // grouped_fp8_gemm_cpu decodes all of them with the first expert's table.
    COBENCH_CHECK(b[e].format == b[0].format,
                  fmt::format("expert {} is {}, expert 0 is {}: every expert must have the same "
                              "FP8 format",
                              e, format_name(b[e].format), format_name(b[0].format)));
    total += counts[e];
  }
  COBENCH_CHECK(total == a.rows,
                fmt::format("token counts sum to {}, A has {} rows", total, a.rows));
}

void grouped_fp8_gemm_ref(const quant::QuantizedMatrix& a,
                          const std::vector<quant::QuantizedMatrix>& b,
                          const std::vector<std::int64_t>& counts, double* d) {
  check_grouped(a, b, counts);
  const std::int64_t N = b.front().rows;
  std::int64_t m = 0;
  for (size_t e = 0; e < counts.size(); ++e)
    for (std::int64_t end = m + counts[e]; m < end; ++m)
      for (std::int64_t n = 0; n < N; ++n) d[m * N + n] = fp8_gemm_ref_at(a, b[e], m, n);
}

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
