// SPDX-License-Identifier: Apache-2.0
// MLA's two forms: a hand-worked case, and naive = absorbed on random weights at DeepSeek-V3's
// head dimensions (d_nope 128, d_rope 64, d_v 128, r_kv 512) over ragged context lengths.
#include "kernels/mla/mla_forms_ref.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"

namespace {

using namespace cobench::mla;

std::vector<double> random_vector(std::int64_t n, std::mt19937_64& rng, double scale = 1.0) {
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = normal(rng);
  return v;
}

TEST(MlaFormsRef, HandWorkedTinyCase) {
  // One head, every dimension 1: k = w_uk c, v = w_uv c, score = (q_nope k + q_rope k_rope) x s.
  MlaShape s{1, 1, 1, 1, 1, 0.5};
  const MlaWeights w{{2.0}, {3.0}};
  // Two cached tokens with equal scores: the output is the mean of the values, and the
  // log-sum-exp is the score plus ln 2. Token 0: c = 1, k_rope = 0 -> score (1 x 2) x 0.5 = 1.
  // Token 1: c = 0, k_rope = 2 -> score (1 x 2) x 0.5 = 1.
  const std::vector<double> q_nope{1.0}, q_rope{1.0}, latent{1.0, 0.0}, k_rope{0.0, 2.0};
  for (const MlaOutput& o : {mla_naive_ref(s, w, q_nope, q_rope, latent, k_rope, 2),
                             mla_absorbed_ref(s, w, q_nope, q_rope, latent, k_rope, 2)}) {
    EXPECT_DOUBLE_EQ(o.out[0], (3.0 * 1 + 3.0 * 0) / 2);
    EXPECT_DOUBLE_EQ(o.lse[0], 1.0 + std::log(2.0));
  }
}

class MlaForms : public ::testing::TestWithParam<std::pair<std::int64_t, std::int64_t>> {};

TEST_P(MlaForms, NaiveEqualsAbsorbed) {
  const auto [heads, tokens] = GetParam();
  MlaShape s;
  s.heads = heads;
  std::mt19937_64 rng(42 + static_cast<std::uint64_t>(tokens));
  const double wscale = 1.0 / std::sqrt(static_cast<double>(s.kv_lora));
  const MlaWeights w{random_vector(s.heads * s.nope * s.kv_lora, rng, wscale),
                     random_vector(s.heads * s.v * s.kv_lora, rng, wscale)};
  const auto q_nope = random_vector(s.heads * s.nope, rng),
             q_rope = random_vector(s.heads * s.rope, rng);
  const auto latent = random_vector(tokens * s.kv_lora, rng),
             k_rope = random_vector(tokens * s.rope, rng);
  const MlaOutput naive = mla_naive_ref(s, w, q_nope, q_rope, latent, k_rope, tokens);
  const MlaOutput absorbed = mla_absorbed_ref(s, w, q_nope, q_rope, latent, k_rope, tokens);
  double largest = 0;
  for (double x : naive.out) largest = std::max(largest, std::fabs(x));
  ASSERT_GT(largest, 0);
  for (size_t i = 0; i < naive.out.size(); ++i)
    ASSERT_NEAR(naive.out[i], absorbed.out[i], 1e-12 * largest) << "output " << i;
  for (size_t h = 0; h < naive.lse.size(); ++h)
    ASSERT_NEAR(naive.lse[h], absorbed.lse[h], 1e-12 * std::fabs(naive.lse[h])) << "head " << h;
}

// Ragged contexts (1, 63, 64, 65 tokens) at 8 heads, and all 128 heads sharing one latent head.
INSTANTIATE_TEST_SUITE_P(DeepSeekV3Dims, MlaForms,
                         ::testing::Values(std::pair{8, 1}, std::pair{8, 63}, std::pair{8, 64},
                                           std::pair{8, 65}, std::pair{128, 5}));

TEST(MlaFormsRef, WrongShapesAreErrors) {
  MlaShape s{2, 4, 2, 4, 8, 0};
  const MlaWeights w{std::vector<double>(2 * 4 * 8), std::vector<double>(2 * 4 * 8)};
  const std::vector<double> q_nope(8), q_rope(4), latent(8 * 3), k_rope(2 * 3);
  EXPECT_NO_THROW(mla_absorbed_ref(s, w, q_nope, q_rope, latent, k_rope, 3));
  EXPECT_THROW(mla_absorbed_ref(s, w, q_nope, q_rope, latent, k_rope, 4), cobench::Error);
  EXPECT_THROW(mla_naive_ref(s, w, q_nope, q_rope, latent, k_rope, 0), cobench::Error);
}

}  // namespace
