// SPDX-License-Identifier: Apache-2.0
// Hand-worked conversions: 1 Gb = 1e9 bits = 1.25e8 bytes; 1 GiB = 2^30 bytes.
#include "core/units.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>

#include "core/error.h"

#include "tests/test_util.h"

namespace {

using cobench::test::error_of;
using cobench::test::replace;

using namespace cobench;

TEST(Units, ParsesTheSpellingsOfTheIssue) {
  EXPECT_DOUBLE_EQ(parse_bandwidth("400Gbps").value, 50e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("400 Gb/s").value, 50e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("50 GB/s").value, 50e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("3.35TB/s").value, 3.35e12);
  EXPECT_DOUBLE_EQ(parse_bytes("80GiB").value, 85899345920.0);
  EXPECT_DOUBLE_EQ(parse_seconds("2.8us").value, 2.8e-6);
  EXPECT_DOUBLE_EQ(parse_flop_rate("989 TFLOPS").value, 989e12);
}

// Whole byte counts up to their decimal form's rounding (a review found 4.1GB, 16.1KB refused);
// parts of a byte refused.
TEST(Units, WholeBytesAllowTheRoundingOfDecimalSizes) {
  EXPECT_EQ(whole_bytes(parse_bytes("4.1GB").value), 4100000000.0);
  EXPECT_EQ(whole_bytes(parse_bytes("16.1KB").value), 16100.0);
  EXPECT_EQ(whole_bytes(parse_bytes("1B").value), 1.0);
  EXPECT_EQ(whole_bytes(parse_bytes("12b").value), std::nullopt);  // 1.5 B
  EXPECT_EQ(whole_bytes(parse_bytes("1b").value), std::nullopt);   // 0.125 B
  EXPECT_EQ(whole_bytes(0.5), std::nullopt);
  EXPECT_EQ(whole_bytes(std::nan("")), std::nullopt);
}

TEST(Units, BitsBytesSiAndIecAreExact) {
  EXPECT_EQ(parse_bytes("1 KB").value, 1000.0);
  EXPECT_EQ(parse_bytes("1 kB").value, 1000.0);
  EXPECT_EQ(parse_bytes("1 KiB").value, 1024.0);
  EXPECT_EQ(parse_bytes("70.272 KB").value, 70272.0);
  EXPECT_EQ(parse_bytes("8 b").value, 1.0);
  EXPECT_EQ(parse_bytes("8 bit").value, 1.0);
  EXPECT_EQ(parse_bytes("1 Gib").value, 134217728.0);  // 2^30 / 8
  EXPECT_EQ(parse_bytes("1 Gb").value, 125000000.0);   // 1e9 / 8
  EXPECT_EQ(parse_bandwidth("1 GiB/s").value, 1073741824.0);
  EXPECT_EQ(parse_bandwidth("8 bps").value, 1.0);
  EXPECT_EQ(parse_bandwidth("200 Gbit/s").value, 25e9);
  EXPECT_EQ(parse_seconds("3 ms").value, 3e-3);
  EXPECT_EQ(parse_seconds("1 min").value, 60.0);
  EXPECT_EQ(parse_seconds("5 ns").value, 5e-9);
  EXPECT_EQ(parse_flop_rate("1979 TFLOP/s").value, 1979e12);
  EXPECT_EQ(parse_flop_rate("2 PFLOPS").value, 2e15);
}

TEST(Units, BadTextNamesTheTextAndTheAcceptedUnits) {
  const std::string e1 = error_of([] { parse_bandwidth("400 Gbx"); });
  EXPECT_NE(e1.find("bad bandwidth '400 Gbx': unknown unit 'Gbx'; accepted units: "),
            std::string::npos)
      << e1;
  EXPECT_NE(e1.find("Gbps"), std::string::npos) << e1;
  EXPECT_NE(error_of([] { parse_bytes("80"); }).find("'80': missing unit"), std::string::npos);
  EXPECT_NE(error_of([] { parse_bytes("lots"); }).find("expected a number followed by a unit"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_bytes("-5 GB"); }).find("must not be negative"), std::string::npos);
  // A size where a bandwidth belongs is an error, not a silent reinterpretation.
  EXPECT_NE(error_of([] { parse_bandwidth("50 GB"); }).find("unknown unit 'GB'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_flop_rate("989 TOPS"); }).find("unknown unit 'TOPS'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_seconds("2.8 uss"); }).find("unknown unit 'uss'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_seconds("inf s"); }).find("expected a number"), std::string::npos);
}

TEST(Units, FormatsWithTheLargestFittingPrefix) {
  EXPECT_EQ(format_bytes(Bytes(85899345920.0)), "80 GiB");
  EXPECT_EQ(format_bytes(Bytes(70272.0), Prefixes::kSi), "70.272 kB");
  EXPECT_EQ(format_bytes(Bytes(512.0)), "512 B");
  EXPECT_EQ(format_bandwidth(Bandwidth(3.35e12)), "3.35 TB/s");
  EXPECT_EQ(format_bandwidth_bits(Bandwidth(50e9)), "400 Gb/s");
  EXPECT_EQ(format_seconds(Seconds(2.8e-6)), "2.8 us");
  EXPECT_EQ(format_seconds(Seconds(19.926)), "19.926 s");
  EXPECT_EQ(format_flop_rate(FlopRate(989e12)), "989 TFLOP/s");
}

TEST(Units, PrintedValuesParseBack) {
  for (double v : {1.0, 1536.0, 85899345920.0, 1.234567e15}) {
    EXPECT_DOUBLE_EQ(parse_bytes(format_bytes(Bytes(v), Prefixes::kIec, 17)).value, v);
    EXPECT_DOUBLE_EQ(parse_bytes(format_bytes(Bytes(v), Prefixes::kSi, 17)).value, v);
    EXPECT_DOUBLE_EQ(parse_bandwidth(format_bandwidth(Bandwidth(v), 17)).value, v);
    EXPECT_DOUBLE_EQ(parse_bandwidth(format_bandwidth_bits(Bandwidth(v), 17)).value, v);
    EXPECT_DOUBLE_EQ(parse_flop_rate(format_flop_rate(FlopRate(v), 17)).value, v);
  }
}

TEST(Units, DimensionalArithmetic) {
  // 1 GB in 20 ms is 50 GB/s; 7 KB at 50 GB/s takes 140 ns.
  EXPECT_DOUBLE_EQ((Bytes(1e9) / Seconds(0.02)).value, 50e9);
  EXPECT_DOUBLE_EQ((Bytes(7000) / Bandwidth(50e9)).value, 140e-9);
  EXPECT_DOUBLE_EQ((Bandwidth(50e9) * Seconds(2.0)).value, 100e9);
  EXPECT_DOUBLE_EQ(Bytes(3e9) / Bytes(1e9), 3.0);
  EXPECT_LT(Seconds(1.0), Seconds(2.0));
}

}  // namespace
