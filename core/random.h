// SPDX-License-Identifier: Apache-2.0
// Reproducible test and benchmark inputs.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace cobench {

/// rows x cols standard-normal floats from a seeded Mersenne Twister: the same on every run.
inline std::vector<float> random_normal_matrix(std::int64_t rows, std::int64_t cols,
                                               std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (auto& v : x) v = normal(rng);
  return x;
}

}  // namespace cobench
