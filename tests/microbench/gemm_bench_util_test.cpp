// SPDX-License-Identifier: Apache-2.0
// The GEMM benchmarks' shared helpers: Zipf token counts worked by hand (the rounding included),
// the sampled error and the FP8 reference with its magnitude on a hand-built case.
#include "microbench/gemm_bench_util.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "kernels/numerics/fp8.h"

namespace cobench::bench {
namespace {

using Counts = std::vector<std::int64_t>;

TEST(ZipfCounts, FourExpertsGetOneHalfThirdAndQuarterShares) {
  // Shares 1, 1/2, 1/3, 1/4 over H = 25/12: 100 x 12/25 = 48, then 24, 16 and 12; whole
  // numbers, so nothing is left for expert 0.
  EXPECT_EQ(zipf_counts(4, 100), (Counts{48, 24, 16, 12}));
}

TEST(ZipfCounts, RoundsDownAndGivesWhatIsLeftToExpertZero) {
  // H = 11/6: 100 x 6/11 = 54.5, then 27.3 and 18.2, rounded down to 54, 27, 18 (99); the one
  // token left goes to expert 0.
  EXPECT_EQ(zipf_counts(3, 100), (Counts{55, 27, 18}));
  // H = 137/60: 7 x 60/137 = 3.07, 1.53, 1.02, 0.77, 0.61 -> 3, 1, 1, 0, 0 (5); 2 left.
  EXPECT_EQ(zipf_counts(5, 7), (Counts{5, 1, 1, 0, 0}));
  EXPECT_EQ(zipf_counts(1, 9), (Counts{9}));
  EXPECT_EQ(zipf_counts(2, 0), (Counts{0, 0}));
}

TEST(ZipfCounts, SumToTheTokensAndFallWithTheExpertAtTheBenchmarksSizes) {
  for (const auto& [experts, tokens] :
       {std::pair<std::int64_t, std::int64_t>{8, 512}, {8, 2048}, {8, 4096}, {32, 16384}}) {
    const Counts c = zipf_counts(experts, tokens);
    ASSERT_EQ(static_cast<std::int64_t>(c.size()), experts);
    EXPECT_EQ(std::accumulate(c.begin(), c.end(), std::int64_t{0}), tokens);
    for (size_t e = 1; e < c.size(); ++e) EXPECT_LE(c[e], c[e - 1]) << experts << " " << tokens;
    EXPECT_GE(c.back(), 0);
  }
}

TEST(SampledError, IsTheLargestErrorRelativeToTheMagnitude) {
  auto got = [](std::int64_t m, std::int64_t n) { return static_cast<double>(m * 10 + n); };
  EXPECT_EQ(sampled_error(5, 7, got,
                          [&](std::int64_t m, std::int64_t n) {
                            return std::pair{got(m, n), 1.0};
                          }),
            0.0);
  // Every output off by a quarter of its magnitude.
  EXPECT_DOUBLE_EQ(sampled_error(5, 7, got,
                                 [&](std::int64_t m, std::int64_t n) {
                                   return std::pair{got(m, n) + 0.5, 2.0};
                                 }),
                   0.25);
}

TEST(Fp8ExactAndMagnitude, HandBuiltOneByTwo) {
  // A = [1, -2] x scale 0.5, B = [3, 1] x scale 2: exact (0.5)(6) + (-1)(2) = 1, |..| sum 5.
  auto fp8 = [](float x) {
    return num::encode_fp8(x, num::Fp8Format::kE4M3, num::Overflow::kSaturate);
  };
  quant::QuantizedMatrix a, b;
  a.rows = b.rows = 1;
  a.cols = b.cols = 2;
  b.tile_rows = 128;
  a.codes = {fp8(1.0f), fp8(-2.0f)};
  b.codes = {fp8(3.0f), fp8(1.0f)};
  a.scales = {0.5f};
  b.scales = {2.0f};
  const auto [exact, magnitude] = fp8_exact_and_magnitude(a, b, 0, 0);
  EXPECT_EQ(exact, 1.0);
  EXPECT_EQ(magnitude, 5.0);
}

}  // namespace
}  // namespace cobench::bench
