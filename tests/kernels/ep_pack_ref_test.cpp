// SPDX-License-Identifier: Apache-2.0
// The EP pack (FP8 E4M3 with a power-of-two scale per 128 values) and weighted BF16 combine of
// kernels/ep/ep_pack_ref.h on values worked by hand (E4M3: sign, 4 exponent bits of bias 7, 3
// mantissa bits; BF16: the upper half of an FP32).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/error.h"
#include "kernels/ep/ep_pack_ref.h"

namespace cobench::ep_kernels {
namespace {

TEST(EpPackRef, PowerOfTwoScaleIsTheSmallestThatKeepsTheBlockWithin448) {
  EXPECT_EQ(pow2_block_scale(0.0f), 1.0f);                // an all-zero block
  EXPECT_EQ(pow2_block_scale(448.0f), 1.0f);              // 448 / 448 = 2^0
  EXPECT_EQ(pow2_block_scale(449.0f), 2.0f);              // just above: the next power
  EXPECT_EQ(pow2_block_scale(896.0f), 2.0f);              // 2^1 exactly
  EXPECT_EQ(pow2_block_scale(7.0f), 1.0f / 64);           // 7 / 448 = 2^-6 exactly
  EXPECT_EQ(pow2_block_scale(1.0f), 1.0f / 256);          // 1 / 448 = 2^-8.81: ceil -> 2^-8
  EXPECT_EQ(packed_slot_bytes(7168), std::size_t{7392});  // DeepEP's (1 + 4/128) H
}

TEST(EpPackRef, PacksEachSlotsTokenWithItsBlockScales) {
  const int hidden = 256, tokens = 2;
  std::vector<float> x(static_cast<std::size_t>(tokens * hidden), 0.0f);
  // Token 0, block 0: amax 7, scale 2^-6, so x / scale = 64 x:
  //   1 -> 64 = 1.0 x 2^6 -> 0 1101 000 = 0x68; -3.5 -> -224 = -1.75 x 2^7 -> 1 1110 110 = 0xF6;
  //   7 -> 448 = 1.75 x 2^8 -> 0 1111 110 = 0x7E. Block 1 is zero: scale 1, codes 0.
  x[0] = 1.0f, x[1] = -3.5f, x[2] = 7.0f;
  // Token 1, block 1: amax 1, scale 2^-8, x / scale = 256 x: 1 -> 256 = 2^8 -> 0 1111 000 = 0x78;
  //   0.3 -> 76.8 = 1.2 x 2^6, between 72 (1.125) and 80 (1.25): 80 -> 0 1101 010 = 0x6A.
  x[hidden + 128] = 1.0f, x[hidden + 129] = 0.3f;
  const std::vector<int> slot_token{1, 0, 1};
  const std::size_t slot = packed_slot_bytes(hidden);
  ASSERT_EQ(slot, 264u);
  std::vector<std::byte> out(3 * slot, std::byte{0xEE});
  pack_fp8_ref(x.data(), tokens, hidden, slot_token.data(), 3, out.data());
  auto code = [&](int s, int k) { return static_cast<int>(out[s * slot + k]); };
  auto scale = [&](int s, int b) {
    float f;
    std::memcpy(&f, out.data() + s * slot + 256 + 4 * b, 4);
    return f;
  };
  EXPECT_EQ(code(1, 0), 0x68);
  EXPECT_EQ(code(1, 1), 0xF6);
  EXPECT_EQ(code(1, 2), 0x7E);
  EXPECT_EQ(scale(1, 0), 1.0f / 64);
  EXPECT_EQ(scale(1, 1), 1.0f);
  EXPECT_EQ(code(0, 128), 0x78);
  EXPECT_EQ(code(0, 129), 0x6A);
  EXPECT_EQ(scale(0, 0), 1.0f);
  EXPECT_EQ(scale(0, 1), 1.0f / 256);
  int nonzero = 0;
  for (int s = 0; s < 3; ++s)
    for (int k = 0; k < hidden; ++k) nonzero += code(s, k) != 0;
  EXPECT_EQ(nonzero, 3 + 2 + 2);  // slots 0 and 2 are both token 1
  EXPECT_EQ(std::memcmp(out.data(), out.data() + 2 * slot, slot), 0);
}

TEST(EpPackRef, BadArgumentsAreErrorsNamingThem) {
  std::vector<float> x(256, 0.0f);
  std::vector<std::byte> out(264 * 2);
  const int bad_slot[] = {0, 1};
  try {
    pack_fp8_ref(x.data(), 1, 256, bad_slot, 2, out.data());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("slot 1 names token 1, outside 0..0"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(pack_fp8_ref(x.data(), 1, 100, bad_slot, 1, out.data()), Error);
  const int decreasing[] = {0, 2, 1};
  std::vector<std::uint16_t> o(4);
  EXPECT_THROW(combine_bf16_ref(nullptr, nullptr, decreasing, 2, 2, o.data()), Error);
  const int not_from_zero[] = {1, 2};
  EXPECT_THROW(combine_bf16_ref(nullptr, nullptr, not_from_zero, 1, 2, o.data()), Error);
}

TEST(EpPackRef, CombineAddsEachTokensWeightedPartialsAndRoundsToBf16) {
  // BF16: 1 = 0x3F80, 2 = 0x4000, 4 = 0x4080, 0.5 = 0x3F00, -2 = 0xC000, 2^-7 = 0x3C00.
  const std::vector<std::uint16_t> partials{0x4000, 0x3F80,   // r0 (token 0): 2, 1
                                            0x4080, 0x3C00,   // r1 (token 0): 4, 2^-7
                                            0x3F80, 0xC000,   // r2 (token 2): 1, -2
                                            0x3F80, 0x3F00};  // r3 (token 2): 1, 0.5
  const std::vector<float> weights{0.5f, 0.25f, 1.5f, -0.5f};
  const std::vector<int> offsets{0, 2, 2, 4};  // token 1 has no partials
  std::vector<std::uint16_t> out(6, 0xFFFF);
  combine_bf16_ref(partials.data(), weights.data(), offsets.data(), 3, 2, out.data());
  EXPECT_EQ(out[0], 0x4000);  // 0.5 x 2 + 0.25 x 4 = 2
  // 0.5 x 1 + 0.25 x 2^-7 = 0.5 (1 + 2^-8): halfway between 0.5 and 0.5 (1 + 2^-7) -> even 0.5.
  EXPECT_EQ(out[1], 0x3F00);
  EXPECT_EQ(out[2], 0x0000);  // no partials
  EXPECT_EQ(out[3], 0x0000);
  EXPECT_EQ(out[4], 0x3F80);  // 1.5 - 0.5 = 1
  EXPECT_EQ(out[5], 0xC050);  // -3 - 0.25 = -3.25 = -1.625 x 2: 1 10000000 1010000
}

}  // namespace
}  // namespace cobench::ep_kernels
