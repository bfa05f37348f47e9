// SPDX-License-Identifier: Apache-2.0
// The accumulator model: hand-worked truncation, agreement with FP64 when it keeps every bit,
// and the technical report's finding (percent-level error at K = 4096 without promotion, a large
// reduction with promotion every 128 elements).
#include "kernels/gemm/accumulator_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/numerics/fp8.h"

namespace {

using namespace cobench;
using gemm::AccumulatorModel;

TEST(AccumulatorModel, HandWorkedTruncation) {
  AccumulatorModel m;
  m.fraction_bits = 13;
  // 1 and 2^-15: aligned to 1, the grid is 2^-13; the small product is dropped.
  const float a[] = {1.0f, std::ldexp(1.0f, -15)}, ones[] = {1.0f, 1.0f};
  EXPECT_EQ(gemm::dot_accumulator_model(a, ones, 2, m), 1.0);
  // 1.5 x 2^-13 keeps one grid unit when truncating, and rounds to two to nearest (even).
  const float b[] = {1.0f, std::ldexp(1.5f, -13)};
  EXPECT_EQ(gemm::dot_accumulator_model(b, ones, 2, m), 1.0 + std::ldexp(1.0, -13));
  m.round_to_nearest = true;
  EXPECT_EQ(gemm::dot_accumulator_model(b, ones, 2, m), 1.0 + std::ldexp(1.0, -12));
}

TEST(AccumulatorModel, KeepingEveryBitEqualsFp64) {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0, 1);
  const std::int64_t M = 8, N = 8, K = 1000;  // K not a multiple of the group
  std::vector<float> a(M * K), b(N * K);
  for (auto& v : a) v = normal(rng);
  for (auto& v : b) v = normal(rng);
  AccumulatorModel m;
  m.fraction_bits = 60;  // more than a double holds: nothing is dropped but double rounding
  std::vector<float> c(M * N);
  std::vector<double> ref(M * N);
  gemm::gemm_accumulator_model(a.data(), b.data(), c.data(), M, N, K, m);
  gemm::gemm_fp64(a.data(), b.data(), ref.data(), M, N, K);
  for (std::int64_t i = 0; i < M * N; ++i)
    EXPECT_NEAR(c[i], ref[i], 1e-5 * std::fabs(ref[i]) + 1e-5);
}

// Max |error| / max |exact| of a 32 x 32 x K FP8 GEMM of positive uniform inputs (the
// accumulator's truncation bias adds up rather than cancelling).
double max_relative_error(std::int64_t k, const AccumulatorModel& model) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const std::int64_t M = 32, N = 32;
  auto fp8 = [](float x) {
    return num::decode_fp8(num::encode_fp8(x * 64, num::Fp8Format::kE4M3, num::Overflow::kSaturate),
                           num::Fp8Format::kE4M3);
  };
  std::vector<float> a(M * k), b(N * k), c(M * N);
  for (auto& v : a) v = fp8(u(rng));
  for (auto& v : b) v = fp8(u(rng));
  std::vector<double> ref(M * N);
  gemm::gemm_fp64(a.data(), b.data(), ref.data(), M, N, k);
  gemm::gemm_accumulator_model(a.data(), b.data(), c.data(), M, N, k, model);
  double worst = 0, largest = 0;
  for (std::int64_t i = 0; i < M * N; ++i) {
    worst = std::max(worst, std::fabs(c[i] - ref[i]));
    largest = std::max(largest, std::fabs(ref[i]));
  }
  return worst / largest;
}

TEST(AccumulatorModel, ReproducesTheTechnicalReportsFinding) {
  const AccumulatorModel hopper;  // 14 bits, truncation, aligned with the accumulator
  const double no_promotion = max_relative_error(4096, hopper);
  AccumulatorModel promoted = hopper;
  promoted.promote_interval = 128;
  const double with_promotion = max_relative_error(4096, promoted);
  RecordProperty("max_rel_error_k4096_no_promotion", std::to_string(no_promotion));
  RecordProperty("max_rel_error_k4096_nc128", std::to_string(with_promotion));
  // The report measures "a maximum relative error of nearly 2%" at K = 4096; the model's
  // default (14 bits, truncating, aligned with the accumulator) gives 3.17% here (docs/
  // numerics.md: 3.2%). The band [1.5%, 4.5%] holds that with margin and fails the neighbouring
  // mechanisms: 13 bits gives 6.7%, rounding to nearest 0.22%, products aligned among
  // themselves 0.16%.
  EXPECT_GT(no_promotion, 0.015);
  EXPECT_LT(no_promotion, 0.045);
  // N_C = 128 gives 0.018%. 0.04% passes that with a factor of two to spare; promoting late
  // fails it (every 256 elements gives 0.060%, every 512 0.19%), as does never promoting.
  EXPECT_LT(with_promotion, 4e-4);
  EXPECT_LT(with_promotion, no_promotion / 10);  // the large reduction
  // The error grows with K without promotion.
  EXPECT_LT(max_relative_error(1024, hopper), no_promotion);
}

// Promotion, worked by hand on 128 products 1 x 1 with two fraction bits. A group of 32 sums
// to 32 exactly; the next group aligns to the accumulator's 32 (grid 2^(5 - 2) = 8), so each
// product of 1 truncates to 0 and the group adds nothing. Without promotion the sum stays 32;
// promoting every 64 elements restarts the accumulator after groups 2 and 4: 32 + 32 = 64;
// every 32: 4 x 32 = 128, exact.
TEST(AccumulatorModel, PromotionHandWorked) {
  const std::vector<float> ones(128, 1.0f);
  AccumulatorModel m;
  m.fraction_bits = 2;
  EXPECT_EQ(gemm::dot_accumulator_model(ones.data(), ones.data(), 128, m), 32.0);
  m.promote_interval = 64;
  EXPECT_EQ(gemm::dot_accumulator_model(ones.data(), ones.data(), 128, m), 64.0);
  m.promote_interval = 32;
  EXPECT_EQ(gemm::dot_accumulator_model(ones.data(), ones.data(), 128, m), 128.0);
}

// Options that would hang (group_size <= 0), promote late (an interval that is not a multiple of
// the group) or make no sense (negative or huge fraction_bits, negative sizes) throw, naming the
// option.
TEST(AccumulatorModel, RejectsNonsensicalOptions) {
  const float one[] = {1.0f};
  float c = 0;
  auto expect_rejected = [&](const AccumulatorModel& m, const std::string& what) {
    try {
      gemm::dot_accumulator_model(one, one, 1, m);
      ADD_FAILURE() << "dot_accumulator_model accepted " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    EXPECT_THROW(gemm::gemm_accumulator_model(one, one, &c, 1, 1, 1, m), Error) << what;
    EXPECT_THROW(gemm::check_accumulator_model(m), Error) << what;
  };
  AccumulatorModel m;
  m.promote_interval = 48;  // groups of 32: would promote at 64
  expect_rejected(m,
                  "promote_interval 48: expected 0 (never) or a positive multiple of "
                  "group_size 32");
  m.promote_interval = -128;
  expect_rejected(m, "promote_interval -128");
  m = AccumulatorModel{};
  m.fraction_bits = -1;
  expect_rejected(m, "fraction_bits -1: expected 0 to 64");
  m.fraction_bits = 65;
  expect_rejected(m, "fraction_bits 65");
  m = AccumulatorModel{};
  m.group_size = -32;
  expect_rejected(m, "group_size -32: expected a positive number");
  m.group_size = 0;  // looped forever
  expect_rejected(m, "group_size 0");
  EXPECT_THROW(gemm::dot_accumulator_model(one, one, -1, AccumulatorModel{}), Error);
  EXPECT_THROW(gemm::gemm_accumulator_model(one, one, &c, 1, -1, 1, AccumulatorModel{}), Error);
  // The valid extremes are accepted.
  m = AccumulatorModel{};
  m.fraction_bits = 0;
  m.promote_interval = 32;
  EXPECT_NO_THROW(gemm::check_accumulator_model(m));
  m.fraction_bits = 64;
  EXPECT_NO_THROW(gemm::check_accumulator_model(m));
}

}  // namespace
