// SPDX-License-Identifier: Apache-2.0
#include "kernels/gemm/cuda/scale_layout.h"

#include "core/error.h"

namespace cobench::gemm::cuda {

std::vector<float> cublaslt_vec128_scales(const quant::QuantizedMatrix& a) {
  COBENCH_CHECK(a.tile_rows == 1 && a.tile_cols == 128, "VEC128 scales need 1 x 128 tiles");
  const std::int64_t kb = a.scale_cols();
  std::vector<float> s(static_cast<size_t>(kb * a.rows));
  for (std::int64_t m = 0; m < a.rows; ++m)
    for (std::int64_t k = 0; k < kb; ++k)
      s[static_cast<size_t>(k * a.rows + m)] = a.scales[static_cast<size_t>(m * kb + k)];
  return s;
}

std::int64_t cublaslt_blk128_ld(std::int64_t k) { return ((k + 127) / 128 + 3) / 4 * 4; }

std::vector<float> cublaslt_blk128_scales(const quant::QuantizedMatrix& b, std::int64_t rows) {
  COBENCH_CHECK(b.tile_rows == 128 && b.tile_cols == 128, "BLK128x128 scales need 128 x 128");
  COBENCH_CHECK(rows >= b.rows, "padded row count below the matrix's");
  const std::int64_t kb = b.scale_cols(), ld = cublaslt_blk128_ld(b.cols);
  const std::int64_t nb = (b.rows + 127) / 128, padded_nb = (rows + 127) / 128;
  std::vector<float> s(static_cast<size_t>(padded_nb * ld), 1.0f);
  for (std::int64_t n = 0; n < nb; ++n)
    for (std::int64_t k = 0; k < kb; ++k)
      s[static_cast<size_t>(n * ld + k)] = b.scales[static_cast<size_t>(n * kb + k)];
  return s;
}

}  // namespace cobench::gemm::cuda
