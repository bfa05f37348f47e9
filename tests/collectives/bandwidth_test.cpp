// SPDX-License-Identifier: Apache-2.0
// Bandwidth formulas, size rounding and sweeps, checked against hand-worked values from
// nccl-tests' doc/PERFORMANCE.md conventions.
#include <gtest/gtest.h>

#include <limits>

#include "collectives/bandwidth.h"
#include "core/error.h"
#include "tests/test_util.h"

namespace cobench::coll {
namespace {

TEST(BusBandwidth, FactorsOfNcclTests) {
  EXPECT_DOUBLE_EQ(bus_factor(Collective::kAllReduce, 8), 1.75);  // 2 * 7 / 8
  EXPECT_DOUBLE_EQ(bus_factor(Collective::kAllGather, 8), 0.875);
  EXPECT_DOUBLE_EQ(bus_factor(Collective::kReduceScatter, 4), 0.75);
  EXPECT_DOUBLE_EQ(bus_factor(Collective::kAllToAll, 2), 0.5);
  EXPECT_DOUBLE_EQ(bus_factor(Collective::kSendRecv, 16), 1.0);
  EXPECT_DOUBLE_EQ(bus_factor(Collective::kAllReduce, 1), 0.0);  // one rank moves nothing
}

TEST(BusBandwidth, HandWorkedAllReduce) {
  // 1 GiB all-reduced by 8 ranks in 10 ms: algbw = 2^30 / 0.01 = 107.374 GB/s; busbw x 1.75.
  const auto bw = bus_bandwidth(Collective::kAllReduce, 1u << 30, 0.01, 8);
  EXPECT_NEAR(bw.alg_bytes_per_s, 107.3741824e9, 1);
  EXPECT_NEAR(bw.bus_bytes_per_s, 187.9048192e9, 1);
}

TEST(BusBandwidth, HandWorkedAllToAll) {
  // 64 MiB send buffer per rank over 16 ranks in 2 ms: 33.554 GB/s algbw, x 15/16 busbw.
  const auto bw = bus_bandwidth(Collective::kAllToAll, 64u << 20, 0.002, 16);
  EXPECT_NEAR(bw.alg_bytes_per_s, 33.554432e9, 1);
  EXPECT_NEAR(bw.bus_bytes_per_s, 31.45728e9, 1);
  EXPECT_THROW(bus_bandwidth(Collective::kAllToAll, 1, 0, 2), Error);
}

TEST(CollectiveCounts, RoundsDownAsNcclTests) {
  // all_gather of 100 B of float32 over 3 ranks: 25 elements -> 8 per rank, S = 96 B.
  auto k = collective_counts(Collective::kAllGather, 100, 4, 3);
  EXPECT_EQ(k.param, 8u);
  EXPECT_EQ(k.send, 8u);
  EXPECT_EQ(k.recv, 24u);
  EXPECT_EQ(k.bytes, 96u);
  k = collective_counts(Collective::kReduceScatter, 100, 4, 3);
  EXPECT_EQ(k.send, 24u);
  EXPECT_EQ(k.recv, 8u);
  k = collective_counts(Collective::kAllToAll, 100, 4, 3);
  EXPECT_EQ(k.param, 8u);
  EXPECT_EQ(k.send, 24u);
  EXPECT_EQ(k.bytes, 96u);
  k = collective_counts(Collective::kAllReduce, 7, 4, 3);
  EXPECT_EQ(k.param, 1u);
  EXPECT_EQ(k.bytes, 4u);
  k = collective_counts(Collective::kAllToAll, 0, 4, 8);
  EXPECT_EQ(k.bytes, 0u);
}

TEST(SizeSweep, FactorAndStep) {
  EXPECT_EQ(size_sweep(8, 128, 2, 0), (std::vector<std::size_t>{8, 16, 32, 64, 128}));
  EXPECT_EQ(size_sweep(0, 3, 2, 0), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(size_sweep(100, 400, 0, 150), (std::vector<std::size_t>{100, 250, 400}));
  EXPECT_EQ(size_sweep(1000, 1000, 4, 0), (std::vector<std::size_t>{1000}));
  EXPECT_NE(test::error_of([] { size_sweep(10, 1, 2, 0); }).find("exceeds maximum"),
            std::string::npos);
  EXPECT_THROW(size_sweep(1, 10, 1, 0), Error);
  // Issue 16: a factor that is not finite, or a sweep of more than kMaxSweepSizes sizes (a factor
  // barely above 1), is refused instead of stepping by one byte for hours.
  EXPECT_THROW(size_sweep(8, 64, std::numeric_limits<double>::infinity(), 0), Error);
  EXPECT_THROW(size_sweep(8, 64, std::numeric_limits<double>::quiet_NaN(), 0), Error);
  EXPECT_NE(test::error_of([] {
              size_sweep(8, std::size_t{64} << 20, 1.0001, 0);
            }).find("more than 10000 sizes"),
            std::string::npos);
  EXPECT_EQ(size_sweep(1, 1 << 20, 1e300, 0), (std::vector<std::size_t>{1}));
}

TEST(Collective, NamesRoundTripAndUnknownNamesAreErrors) {
  for (Collective c : kAllCollectives) EXPECT_EQ(parse_collective(to_string(c)), c);
  EXPECT_NE(test::error_of([] { parse_collective("allreduce"); }).find("expected all_reduce"),
            std::string::npos);
}

}  // namespace
}  // namespace cobench::coll
