// SPDX-License-Identifier: Apache-2.0
// DeepSeek-V3's fine-grained FP8 quantization (technical report 3.3): activations per token in
// 1 x 128 tiles, weights in 128 x 128 blocks, one scale per tile or block. The scale maps the
// tile's largest magnitude to the format's largest finite value: an FP32 scale amax / max, or a
// power of two 2^ceil(log2(amax / max)) (UE8M0, as DeepGEMM's scales on Blackwell), which never
// overflows. Shapes need not be multiples of 128: the last tiles are partial. Every scale is at
// least FLT_MIN (2^-126) so that tiles of tiny values never divide by 0; an all-zero tile has
// scale 1.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/numerics/fp8.h"

namespace cobench::quant {

enum class ScaleKind { kFp32, kPowerOfTwo };

struct QuantizedMatrix {
  std::int64_t rows = 0, cols = 0;
  std::int64_t tile_rows = 1, tile_cols = 128;  ///< 1 x 128 (per token) or 128 x 128 (per block)
  num::Fp8Format format = num::Fp8Format::kE4M3;
  std::vector<std::uint8_t> codes;  ///< [rows, cols] row-major
  std::vector<float> scales;        ///< [ceil(rows / tile_rows), ceil(cols / tile_cols)]

  std::int64_t scale_cols() const { return (cols + tile_cols - 1) / tile_cols; }
  float scale_at(std::int64_t r, std::int64_t c) const {
    return scales[static_cast<size_t>((r / tile_rows) * scale_cols() + c / tile_cols)];
  }
};

/// Quantizes a row-major [rows, cols] matrix in tiles of tile_rows x tile_cols. Throws
/// cobench::Error unless the tile sizes are positive, the sizes non-negative and every value
/// finite (the message names the row and column of the first that is not).
QuantizedMatrix quantize(const float* x, std::int64_t rows, std::int64_t cols,
                         std::int64_t tile_rows, std::int64_t tile_cols, num::Fp8Format format,
                         ScaleKind scale_kind);

/// Per-token 1 x 128 tiles (activations) and per-block 128 x 128 (weights).
QuantizedMatrix quantize_per_token(const float* x, std::int64_t rows, std::int64_t cols,
                                   num::Fp8Format format, ScaleKind scale_kind);
QuantizedMatrix quantize_per_block(const float* x, std::int64_t rows, std::int64_t cols,
                                   num::Fp8Format format, ScaleKind scale_kind);

/// The values the codes and scales stand for: decode(code) x scale.
std::vector<float> dequantize(const QuantizedMatrix& q);

/// How far `approx` (y, e.g. the dequantized values) is from `exact` (x), in double.
struct QuantizationError {
  /// max_i |x_i - y_i|, in the values' own units.
  double max_abs = 0;
  /// max_i |x_i - y_i| / |x_i| over the i with x_i != 0 and |x_i| >= 1e-6 max_j |x_j| (tiny
  /// values would dominate it otherwise).
  double max_rel = 0;
  /// Relative L2 error ||x - y||_2 / ||x||_2; 0 when x is all zeros.
  double rel_l2 = 0;
  /// DeepGEMM's calc_diff, 1 - 2 sum(x y) / sum(x^2 + y^2): 0 when y = x, about rel_l2^2 / 2
  /// for small errors (its tests accept < 1e-3 for FP8 E4M3); 0 when x and y are all zeros.
  double calc_diff = 0;
};

/// The error of `approx` against `exact`, n elements each (n >= 0), accumulated in double.
QuantizationError compare(const float* exact, const float* approx, std::int64_t n);

}  // namespace cobench::quant
