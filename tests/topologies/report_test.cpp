// SPDX-License-Identifier: Apache-2.0
// How reports print numbers for people (docs/model.md, "Units in reports"): golden strings typed
// from the convention, not from the code's output. Bytes take decimal SI prefixes glued to B;
// counts of a noun take M, B (billion) and T before it; B never stands alone for a billion.
#include "topologies/report.h"

#include <gtest/gtest.h>

#include <string>

#include "topologies/analysis.h"
#include "topologies/data_files.h"

namespace {

using namespace cobench::topo;

TEST(ReportUnits, TimesScaleBelowOneSecond) {
  EXPECT_EQ(format_quantity(3.7e-6, "s"), "3.7 us");
  EXPECT_EQ(format_quantity(0.04506, "s"), "45.06 ms");
  EXPECT_EQ(format_quantity(2.5e-8, "s"), "25 ns");
  EXPECT_EQ(format_quantity(19.926, "s"), "19.93 s");
}

TEST(ReportUnits, BytesTakeDecimalPrefixes) {
  EXPECT_EQ(format_quantity(7392, "B"), "7.392 kB");  // an FP8 dispatch copy of 7168 values
  EXPECT_EQ(format_quantity(512, "B"), "512 B");
  EXPECT_EQ(format_quantity(2.04318e10, "B/s"), "20.43 GB/s");
  EXPECT_EQ(format_quantity(3.35e12, "B/s"), "3.35 TB/s");
  EXPECT_EQ(format_quantity(1.5e6, "FLOP/s"), "1.5 M FLOP/s");
}

// Rows the analysis gives in ms, us, KB or GB keep that unit until a larger prefix of it fits;
// they never take a count's M/B/T ("368.6 B ms", "1.475 T GB").
TEST(ReportUnits, PrefixedUnitsMoveUpTheirOwnLadder) {
  EXPECT_EQ(format_quantity(42.5, "GB"), "42.5 GB");
  EXPECT_EQ(format_quantity(2459, "GB"), "2.459 TB");
  EXPECT_EQ(format_quantity(1.475e6, "GB"), "1.475 PB");
  EXPECT_EQ(format_quantity(0.5, "GB"), "0.5 GB");  // never down the ladder
  EXPECT_EQ(format_quantity(147.5, "KB"), "147.5 KB");
  EXPECT_EQ(format_quantity(2.5e6, "KB"), "2.5 GB");
  EXPECT_EQ(format_quantity(50.9, "ms"), "50.9 ms");
  EXPECT_EQ(format_quantity(1976, "ms"), "1.976 s");
  EXPECT_EQ(format_quantity(3.686e11, "ms"), "368600000 s");
  EXPECT_EQ(format_quantity(155, "us"), "155 us");
  EXPECT_EQ(format_quantity(2500, "us"), "2.5 ms");
  EXPECT_EQ(format_quantity(2448, "GFLOP"), "2448 GFLOP");  // Table 2's unit
  // Never a second prefix before a unit's own (a helper's sweep read "16.47 M M$",
  // "16.47 B K GPU-h", "7.416 M GFLOP" and "20.62 M M$").
  EXPECT_EQ(format_quantity(16.47e6, "M$"), "16.47 T$");
  EXPECT_EQ(format_quantity(20.62e6, "M$"), "20.62 T$");
  EXPECT_EQ(format_quantity(16470, "M$"), "16.47 B$");
  EXPECT_EQ(format_quantity(2.5, "M$"), "2.5 M$");
  EXPECT_EQ(format_quantity(4390, "k$"), "4.39 M$");
  EXPECT_EQ(format_quantity(16.47e9, "K GPU-h"), "16.47 T GPU-h");
  EXPECT_EQ(format_quantity(3500, "K GPU-h"), "3.5 M GPU-h");
  EXPECT_EQ(format_quantity(7.416e6, "GFLOP"), "7.416 PFLOP");
  EXPECT_EQ(format_quantity(2500, "TFLOP/s"), "2.5 PFLOP/s");
  EXPECT_EQ(format_quantity(989, "TFLOP/s"), "989 TFLOP/s");
  // An absurd size: 4 digits and an exponent, not 40 digits.
  EXPECT_EQ(format_quantity(6.4565e39, "s"), "6.456e+39 s");
}

TEST(ReportUnits, CountsOfANounTakeMillionsBillionsTrillions) {
  EXPECT_EQ(format_quantity(671.0e9, "params"), "671 B params");
  EXPECT_EQ(format_quantity(926.7e6, "params"), "926.7 M params");
  EXPECT_EQ(format_quantity(881664, "params"), "881664 params");  // whole below a million
  EXPECT_EQ(format_quantity(272.8e9, "tokens"), "272.8 B tokens");
  EXPECT_EQ(format_quantity(1.5e12, "tokens"), "1.5 T tokens");
  EXPECT_EQ(format_quantity(7907, "tok/s"), "7907 tok/s");
  EXPECT_EQ(format_quantity(0.49, ""), "0.49");  // a fraction: no rate, no prefix
  EXPECT_EQ(format_quantity(2.5e6, ""), "2.5 M");
}

TEST(ReportUnits, ParameterRowsNameTheirUnit) {
  const Analysis a = analyze(load_model("deepseek-v3"), load_cluster_file("cpu-local"));
  const std::string text = format_text(a.report);
  // 671.0e9 parameters (the paper's Table 1 figure, MTP excluded) as a count of params.
  EXPECT_NE(text.find("671 B params"), std::string::npos) << text;
  for (const ReportRow& row : a.report.rows) {
    if (row.key.starts_with("memory.params")) {
      EXPECT_EQ(row.unit, "params") << row.key;
    }
  }
}

TEST(ReportUnits, AClusterWithoutAFabricSaysSoInsteadOfZeros) {
  const Analysis a = analyze(load_model("deepseek-v3"), load_cluster_file("cpu-local"));
  bool nodes = false;
  for (const ReportRow& row : a.report.rows) {
    EXPECT_NE(row.key, "network.switches");
    EXPECT_NE(row.key, "network.cost_usd");
    if (row.key == "network.nodes") {
      nodes = true;
      EXPECT_EQ(row.cobench, 1);  // cpu-local.yaml: one machine
      EXPECT_EQ(row.unit, "node");
    }
  }
  EXPECT_TRUE(nodes);
}

}  // namespace
