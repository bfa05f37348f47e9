// SPDX-License-Identifier: Apache-2.0
// The tile loop of amx_peak.h, compiled with -mamx-tile -mamx-bf16 (kernels/CMakeLists.txt):
// call it only where amx_bf16_usable().
#include <immintrin.h>

#include <cstdint>

#include "kernels/ceilings/amx_peak.h"

namespace cobench::ceilings::detail {
namespace {

struct alignas(64) TileConfig {
  std::uint8_t palette = 1, start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

void fill(std::uint16_t* tile, std::uint16_t bf16) {
  for (int i = 0; i < 16 * 32; ++i) tile[i] = bf16;
}

}  // namespace

void amx_peak_rounds(std::int64_t steps, float* out) {
  TileConfig cfg;
  for (int i = 0; i < 8; ++i) cfg.colsb[i] = 64, cfg.rows[i] = 16;
  _tile_loadconfig(&cfg);
  alignas(64) std::uint16_t one[512], two[512], sixteenth[512], eighth[512];
  fill(one, 0x3F80), fill(two, 0x4000), fill(sixteenth, 0x3D80), fill(eighth, 0x3E00);
  _tile_loadd(4, one, 64);
  _tile_loadd(5, two, 64);
  _tile_loadd(6, sixteenth, 64);
  _tile_loadd(7, eighth, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (std::int64_t i = 0; i < steps; ++i) {
    _tile_dpbf16ps(0, 4, 6);  // + 32 x 1 x 1/16 = 2
    _tile_dpbf16ps(1, 4, 7);  // + 32 x 1 x 2/16 = 4
    _tile_dpbf16ps(2, 5, 6);  // + 32 x 2 x 1/16 = 4
    _tile_dpbf16ps(3, 5, 7);  // + 32 x 2 x 2/16 = 8
  }
  _tile_stored(0, out, 64);
  _tile_stored(1, out + 256, 64);
  _tile_stored(2, out + 512, 64);
  _tile_stored(3, out + 768, 64);
  _tile_release();
}

}  // namespace cobench::ceilings::detail
