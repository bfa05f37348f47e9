// SPDX-License-Identifier: Apache-2.0
#include "microbench/gemm_gpu_bench_util.h"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <map>
#include <tuple>

#include "core/cuda/cuda_check.h"

namespace cobench::bench {

float read_device(const float* p) {
  float x = 0;
  COBENCH_CUDA_CHECK(cudaMemcpy(&x, p, sizeof x, cudaMemcpyDeviceToHost));
  return x;
}

quant::QuantizedMatrix random_fp8(std::int64_t rows, std::int64_t cols, std::int64_t tile_rows,
                                  std::uint64_t seed) {
  quant::QuantizedMatrix q;
  q.rows = rows;
  q.cols = cols;
  q.tile_rows = tile_rows;
  q.tile_cols = 128;
  q.codes.resize(static_cast<size_t>(rows * cols));
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&s] {  // splitmix64
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (size_t i = 0; i < q.codes.size(); i += 8) {
    std::uint64_t r = next();
    for (size_t j = i; j < std::min(i + 8, q.codes.size()); ++j, r >>= 8) {
      const auto c = static_cast<std::uint8_t>(r);
      q.codes[j] = (c & 0x7F) == 0x7F ? static_cast<std::uint8_t>(c - 1) : c;  // never NaN
    }
  }
  const std::int64_t srows = (rows + tile_rows - 1) / tile_rows;
  q.scales.resize(static_cast<size_t>(srows * q.scale_cols()));
  for (float& x : q.scales)
    x = static_cast<float>(1.0 / 64 + 3.0 / 64 * double(next() >> 11) * 0x1p-53);
  return q;
}

const quant::QuantizedMatrix& cached_fp8(int slot, std::int64_t rows, std::int64_t cols,
                                         std::int64_t tile_rows) {
  static std::map<
      int, std::pair<std::tuple<std::int64_t, std::int64_t, std::int64_t>, quant::QuantizedMatrix>>
      cache;
  const auto key = std::make_tuple(rows, cols, tile_rows);
  auto it = cache.find(slot);
  if (it == cache.end() || it->second.first != key) {
    cache[slot] = {key, random_fp8(rows, cols, tile_rows, static_cast<std::uint64_t>(slot + 1))};
    it = cache.find(slot);
  }
  return it->second.second;
}

}  // namespace cobench::bench
