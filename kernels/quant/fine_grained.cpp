// SPDX-License-Identifier: Apache-2.0
#include "kernels/quant/fine_grained.h"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/error.h"

namespace cobench::quant {

QuantizedMatrix quantize(const float* x, std::int64_t rows, std::int64_t cols,
                         std::int64_t tile_rows, std::int64_t tile_cols, num::Fp8Format format,
                         ScaleKind scale_kind) {
  COBENCH_CHECK(rows >= 0 && cols >= 0,
                fmt::format("rows {}, cols {}: expected sizes >= 0", rows, cols));
  COBENCH_CHECK(tile_rows > 0 && tile_cols > 0,
                fmt::format("tile_rows {}, tile_cols {}: expected positive tile sizes", tile_rows,
                            tile_cols));
  QuantizedMatrix q;
  q.rows = rows, q.cols = cols, q.tile_rows = tile_rows, q.tile_cols = tile_cols;
  q.format = format;
  q.codes.resize(static_cast<size_t>(rows * cols));
  const std::int64_t tiles_r = (rows + tile_rows - 1) / tile_rows;
  q.scales.resize(static_cast<size_t>(tiles_r * q.scale_cols()));
  const float fp8_max = format == num::Fp8Format::kE4M3 ? 448.0f : 57344.0f;
  for (std::int64_t tr = 0; tr < tiles_r; ++tr) {
    for (std::int64_t tc = 0; tc < q.scale_cols(); ++tc) {
      const std::int64_t r0 = tr * tile_rows, r1 = std::min(rows, r0 + tile_rows);
      const std::int64_t c0 = tc * tile_cols, c1 = std::min(cols, c0 + tile_cols);
      float amax = 0;
      for (std::int64_t r = r0; r < r1; ++r)
        for (std::int64_t c = c0; c < c1; ++c) {
          const float v = x[r * cols + c];
          // An infinity or NaN would set the tile's scale to infinity or leave it NaN.
          COBENCH_CHECK(std::isfinite(v), fmt::format("x[{}, {}] is {}: quantize needs finite "
                                                      "values",
                                                      r, c, v));
          amax = std::max(amax, std::fabs(v));
        }
      // An all-zero tile keeps scale 1. Otherwise the scale is at least FLT_MIN (2^-126, the
      // smallest normal float): for a tile of tiny values amax / fp8_max is a subnormal, or 0
      // when amax is below about 2^-141, and a scale of 0 made x / scale 0/0 = NaN. A normal
      // scale also keeps 1 / scale finite for kernels that multiply by it. The clamp acts only
      // when amax < fp8_max x FLT_MIN (about 2^-117 for E4M3, 2^-110 for E5M2): such a tile
      // uses less of the format's range, and values below half its smallest subnormal times
      // FLT_MIN (2^-136 for E4M3, 2^-143 for E5M2) become 0. The power-of-two scale is clamped
      // before it is rounded up, so it is at least 2^-126 too (UE8M0 alone goes down to 2^-127).
      float scale = amax > 0 ? std::max(amax / fp8_max, FLT_MIN) : 1.0f;
      if (scale_kind == ScaleKind::kPowerOfTwo)
        scale = num::decode_ue8m0(
            num::encode_ue8m0(scale, num::Overflow::kSaturate, num::ScaleRounding::kUp));
      q.scales[static_cast<size_t>(tr * q.scale_cols() + tc)] = scale;
      for (std::int64_t r = r0; r < r1; ++r)
        for (std::int64_t c = c0; c < c1; ++c)
          q.codes[static_cast<size_t>(r * cols + c)] =
              num::encode_fp8(x[r * cols + c] / scale, format, num::Overflow::kSaturate);
    }
  }
  return q;
}

QuantizedMatrix quantize_per_token(const float* x, std::int64_t rows, std::int64_t cols,
                                   num::Fp8Format format, ScaleKind scale_kind) {
  return quantize(x, rows, cols, 1, 128, format, scale_kind);
}

QuantizedMatrix quantize_per_block(const float* x, std::int64_t rows, std::int64_t cols,
                                   num::Fp8Format format, ScaleKind scale_kind) {
  return quantize(x, rows, cols, 128, 128, format, scale_kind);
}

std::vector<float> dequantize(const QuantizedMatrix& q) {
  std::vector<float> out(q.codes.size());
  for (std::int64_t r = 0; r < q.rows; ++r)
    for (std::int64_t c = 0; c < q.cols; ++c) {
      const size_t i = static_cast<size_t>(r * q.cols + c);
      out[i] = num::decode_fp8(q.codes[i], q.format) * q.scale_at(r, c);
    }
  return out;
}

QuantizationError compare(const float* exact, const float* approx, std::int64_t n) {
  COBENCH_CHECK(n >= 0, fmt::format("n {}: expected n >= 0", n));
  QuantizationError e;
  double largest = 0, err2 = 0, ref2 = 0, cross = 0, both2 = 0;
  for (std::int64_t i = 0; i < n; ++i) largest = std::max(largest, std::fabs(double(exact[i])));
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = exact[i], y = approx[i], d = std::fabs(x - y);
    e.max_abs = std::max(e.max_abs, d);
    if (std::fabs(x) >= 1e-6 * largest && x != 0) e.max_rel = std::max(e.max_rel, d / std::fabs(x));
    err2 += d * d, ref2 += x * x, cross += x * y, both2 += x * x + y * y;
  }
  e.rel_l2 = ref2 > 0 ? std::sqrt(err2 / ref2) : 0;
  e.calc_diff = both2 > 0 ? 1 - 2 * cross / both2 : 0;
  return e;
}

}  // namespace cobench::quant
