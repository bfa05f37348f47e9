// SPDX-License-Identifier: Apache-2.0
// The tensor-core peaks against the datasheets' figures, worked by hand.
#include "microbench/tensor_peak.h"

#include <gtest/gtest.h>

namespace cobench::bench {
namespace {

TEST(TensorPeak, H200UsesTheDatasheetNotTheBoostClock) {
  // NVIDIA's H200 SXM: 3958 TFLOPS FP8 with sparsity, 1979 dense; BF16 989.5 dense. At the
  // 1980 MHz boost clock the formula would give 132 x 1.98e9 x 8192 = 2141 TFLOPS (8% more).
  const DevicePeak p = tensor_core_peak("NVIDIA H200", 9, 132, 1980000);
  EXPECT_DOUBLE_EQ(p.fp8, 1979e12);
  EXPECT_DOUBLE_EQ(p.bf16, 989.5e12);
  EXPECT_NE(p.how.find("datasheet: H200 SXM"), std::string::npos) << p.how;
  EXPECT_NE(p.how.find("1980 MHz"), std::string::npos) << p.how;
}

TEST(TensorPeak, H100VariantsAreToldApartByName) {
  EXPECT_DOUBLE_EQ(tensor_core_peak("NVIDIA H100 80GB HBM3", 9, 132, 1980000).fp8, 1979e12);
  EXPECT_DOUBLE_EQ(tensor_core_peak("NVIDIA H100 PCIe", 9, 114, 1755000).fp8, 1513e12);
  EXPECT_DOUBLE_EQ(tensor_core_peak("NVIDIA H100 NVL", 9, 132, 1785000).fp8, 1670.5e12);
  EXPECT_DOUBLE_EQ(tensor_core_peak("NVIDIA H800", 9, 132, 1980000).fp8, 1979e12);
  // Names that contain another entry's name get their own figures.
  EXPECT_DOUBLE_EQ(tensor_core_peak("NVIDIA H200 NVL", 9, 132, 1785000).fp8, 1670.5e12);
  EXPECT_DOUBLE_EQ(tensor_core_peak("NVIDIA H20", 9, 78, 1980000).fp8, 296e12);
  EXPECT_DOUBLE_EQ(tensor_core_peak("NVIDIA GB200", 10, 148, 1965000).fp8, 5000e12);
  EXPECT_DOUBLE_EQ(tensor_core_peak("NVIDIA B200", 10, 148, 1965000).fp8, 4500e12);
  const DevicePeak gh = tensor_core_peak("NVIDIA GH200 480GB", 9, 132, 1980000);
  EXPECT_NE(gh.how.find("GH200"), std::string::npos) << gh.how;
}

TEST(TensorPeak, UnknownPartFallsBackToTheMaximumClockAndSaysSo) {
  // A Hopper part not in the table: 78 x 1.5e9 x 8192 = 958.464 TFLOPS.
  const DevicePeak p = tensor_core_peak("NVIDIA H9X", 9, 78, 1500000);
  EXPECT_DOUBLE_EQ(p.fp8, 78 * 1.5e9 * 8192);
  EXPECT_DOUBLE_EQ(p.bf16, p.fp8 / 2);
  EXPECT_NE(p.how.find("no datasheet entry"), std::string::npos) << p.how;
  // A datasheet name with the wrong SM count is not the datasheet's part.
  EXPECT_DOUBLE_EQ(tensor_core_peak("NVIDIA H100 80GB HBM3", 9, 100, 1000000).fp8,
                   100 * 1e9 * 8192);
  // Blackwell (sm_100) doubles the FLOP per clock: 2 x 1e9 x 16384.
  EXPECT_DOUBLE_EQ(tensor_core_peak("test", 10, 2, 1000000).fp8, 2 * 1e9 * 16384);
}

TEST(TensorPeak, UnknownArchitectureHasNoPeak) {
  const DevicePeak p = tensor_core_peak("NVIDIA GeForce RTX 4090", 8, 128, 2520000);
  EXPECT_EQ(p.fp8, 0);
  EXPECT_EQ(p.bf16, 0);
  EXPECT_NE(p.how.find("unknown"), std::string::npos) << p.how;
}

}  // namespace
}  // namespace cobench::bench
