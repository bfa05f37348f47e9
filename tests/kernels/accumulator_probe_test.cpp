// SPDX-License-Identifier: Apache-2.0
// The accumulator probe's reading, without a GPU: outputs synthesized by the accumulator model
// (kernels/gemm/accumulator_model.h) for known fraction bits and rounding must be read back as
// those. The device half (accumulator_probe.cu) runs in tests/gpu/gemm_cuda_test.cpp.
#include "kernels/gemm/cuda/probe_interpret.h"

#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/gemm/accumulator_model.h"
#include "kernels/numerics/fp8.h"

namespace {

using namespace cobench;
using gemm::cuda::ProbeCase;

// What a tensor core behaving as `model` would output, read as FP32 like the MMA's D.
std::vector<float> synthesize(const std::vector<ProbeCase>& cases,
                              const gemm::AccumulatorModel& model) {
  std::vector<float> out;
  for (const ProbeCase& c : cases)
    out.push_back(static_cast<float>(gemm::dot_accumulator_model(
        c.a.data(), c.b.data(), static_cast<std::int64_t>(c.a.size()), model)));
  return out;
}

TEST(AccumulatorProbe, InputsAreExactInE4m3) {
  for (const ProbeCase& c : gemm::cuda::accumulator_probe_cases()) {
    ASSERT_EQ(c.a.size() % 32, 0u);
    ASSERT_EQ(c.a.size(), c.b.size());
    for (size_t i = 0; i < c.a.size(); ++i)
      for (float x : {c.a[i], c.b[i]})
        ASSERT_EQ(
            num::decode_fp8(num::encode_fp8(x, num::Fp8Format::kE4M3, num::Overflow::kNoSaturate),
                            num::Fp8Format::kE4M3),
            x)
            << "case j=" << c.j << " element " << i;
  }
}

struct Expected {
  int bits;
  bool round;
  bool align_with_accumulator;
  friend void PrintTo(const Expected& e, std::ostream* os) {
    *os << e.bits << " bits, " << (e.round ? "round" : "truncate")
        << (e.align_with_accumulator ? "" : ", aligned apart");
  }
};

class ProbeReadsModel : public testing::TestWithParam<Expected> {};

TEST_P(ProbeReadsModel, RecoversBitsRoundingAndAlignment) {
  const Expected e = GetParam();
  gemm::AccumulatorModel model;
  model.fraction_bits = e.bits;
  model.round_to_nearest = e.round;
  model.align_with_accumulator = e.align_with_accumulator;
  const auto cases = gemm::cuda::accumulator_probe_cases();
  const auto r = gemm::cuda::interpret_accumulator_probe(cases, synthesize(cases, model));
  EXPECT_EQ(r.fraction_bits, e.bits) << r.summary;
  EXPECT_FALSE(r.at_fp32_limit);
  EXPECT_EQ(r.rounds, e.round) << r.summary;
  EXPECT_TRUE(r.products_aligned_individually) << r.summary;  // the model cuts each product
  EXPECT_EQ(r.accumulator_aligned_with_products, e.align_with_accumulator) << r.summary;
  EXPECT_NE(r.summary.find(std::to_string(e.bits) + " fraction bits"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Models, ProbeReadsModel,
                         testing::Values(Expected{13, false, true}, Expected{13, true, true},
                                         Expected{14, false, true}, Expected{14, true, true},
                                         Expected{22, false, true}, Expected{22, true, true},
                                         Expected{14, false, false}, Expected{13, true, false}),
                         [](const testing::TestParamInfo<Expected>& i) {
                           return std::to_string(i.param.bits) +
                                  (i.param.round ? "_round" : "_truncate") +
                                  (i.param.align_with_accumulator ? "" : "_apart");
                         });

TEST(AccumulatorProbe, ExactFp32SumsReadAsTheFp32Limit) {
  // An accumulator that keeps everything: FP32 output shows 23 bits below 256's leading bit.
  gemm::AccumulatorModel model;
  model.fraction_bits = 40;
  model.round_to_nearest = true;
  const auto cases = gemm::cuda::accumulator_probe_cases();
  const auto r = gemm::cuda::interpret_accumulator_probe(cases, synthesize(cases, model));
  EXPECT_EQ(r.fraction_bits, 23);
  EXPECT_TRUE(r.at_fp32_limit);
}

TEST(AccumulatorProbe, SummedBeforeTheCutIsSeen) {
  // Outputs of a tensor core that sums the products exactly and truncates the sum to 13 bits.
  const auto cases = gemm::cuda::accumulator_probe_cases();
  std::vector<float> out;
  for (const ProbeCase& c : cases) {
    double s = 0;
    for (size_t i = 0; i < c.a.size(); ++i) s += double(c.a[i]) * c.b[i];
    const double unit = std::ldexp(1.0, 8 - 13);
    out.push_back(static_cast<float>(std::trunc(s / unit) * unit));
  }
  const auto r = gemm::cuda::interpret_accumulator_probe(cases, out);
  EXPECT_EQ(r.fraction_bits, 13);
  EXPECT_FALSE(r.rounds);
  EXPECT_FALSE(r.products_aligned_individually);
  EXPECT_TRUE(r.products_summed_exactly);
  EXPECT_EQ(r.sum_units, 23);
  EXPECT_NE(r.summary.find("accumulator not read"), std::string::npos) << r.summary;
}

// A tensor core that aligns the products in sub-groups of a k-step (the sub-groups without L sum
// their small products apart): neither "one by one" nor "summed exactly", whatever the rounding.
// 13 bits; the units kept, from the accumulator model: truncating 12 (16-wide), 18 (8), 21 (4);
// rounding 27, 25, 24.
TEST(AccumulatorProbe, SubGroupAlignmentIsReadAsGrouped) {
  const auto cases = gemm::cuda::accumulator_probe_cases();
  for (int group : {16, 8, 4})
    for (bool round : {false, true}) {
      gemm::AccumulatorModel model;
      model.group_size = group;
      model.fraction_bits = 13;
      model.round_to_nearest = round;
      model.align_with_accumulator = false;
      const auto r = gemm::cuda::interpret_accumulator_probe(cases, synthesize(cases, model));
      EXPECT_EQ(r.fraction_bits, 13) << group;
      EXPECT_EQ(r.rounds, round) << group;
      EXPECT_FALSE(r.products_aligned_individually) << group << " " << r.summary;
      EXPECT_FALSE(r.products_summed_exactly) << group << " " << r.summary;
      EXPECT_FALSE(r.accumulator_aligned_with_products) << group;
      EXPECT_NE(r.summary.find("sub-groups"), std::string::npos) << r.summary;
    }
}

TEST(AccumulatorProbe, WrongOutputCountThrows) {
  const auto cases = gemm::cuda::accumulator_probe_cases();
  EXPECT_THROW(gemm::cuda::interpret_accumulator_probe(cases, {1.0f}), Error);
}

}  // namespace
