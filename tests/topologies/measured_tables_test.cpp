// SPDX-License-Identifier: Apache-2.0
// Measured kernel tables reach the model: per-shape FP8 GEMM throughput, MLA decode times by
// batch and context and MLA decode ceilings from results files
// (tests/data/measured_h800_kernels.json, hand-made) replace the published tables of the same
// GPU, and each operation they time says "measured".
#include "topologies/measured_tables.h"

#include <gtest/gtest.h>

#include <string>

#include "core/results_io.h"
#include "tests/test_util.h"
#include "topologies/data_files.h"
#include "topologies/measured_identity.h"
#include "topologies/perf_model.h"

namespace {

using namespace cobench::topo;

const std::string kKernels = std::string(COBENCH_TEST_DATA_DIR) + "/measured_h800_kernels.json";

TEST(MeasuredTables, ShapesAndCeilingsFromRecords) {
  const MeasuredTables t = measured_tables(cobench::results::read(kKernels), kKernels);
  // Two shapes: the failed record does not count; of two records of one shape the faster wins
  // (medians 305 and 290 TFLOP/s).
  ASSERT_EQ(t.gemm_fp8.size(), 2u);
  EXPECT_EQ(t.gemm_fp8[0].m, 64);
  EXPECT_EQ(t.gemm_fp8[0].n, 7168);
  EXPECT_EQ(t.gemm_fp8[0].k, 16384);
  EXPECT_EQ(t.gemm_fp8[0].flops_per_s, 305e12);
  EXPECT_EQ(t.gemm_fp8[1].flops_per_s, 1200e12);
  // The best FLOP/s and the best B/s of the MLA records, from different records.
  EXPECT_EQ(*t.mla_decode_flop_per_s, 550e12);
  EXPECT_EQ(*t.mla_decode_bytes_per_s, 2500e9);
  // Each MLA record names its batch and context: a point of the table, its time the FLOPs of
  // that shape (2 x 128 heads x (512 + 64 + 512) a cached token) over its FLOP/s.
  ASSERT_EQ(t.mla_decode.size(), 2u);
  EXPECT_EQ(t.mla_decode[0].batch, 64);
  EXPECT_EQ(t.mla_decode[0].context, 4096);
  EXPECT_DOUBLE_EQ(t.mla_decode[0].seconds, 2.0 * 128 * 1088 * 64 * 4096 / 500e12);
  EXPECT_EQ(t.mla_decode[1].batch, 128);
  EXPECT_EQ(t.mla_decode[1].context, 32768);
  EXPECT_DOUBLE_EQ(t.mla_decode[1].seconds, 2.0 * 128 * 1088 * 128 * 32768 / 550e12);
}

TEST(MeasuredTables, MlaRecordsOfOneShapeKeepTheFasterAndNeedBoth) {
  cobench::results::Results r;
  cobench::results::Record rec;
  rec.benchmark = "mla";
  rec.verification = cobench::results::Verification::kPassed;
  rec.parameters = {{"model_input", "gpu.mla_decode"}, {"batch", 64}, {"context", 4096}};
  rec.metrics = {{"attention_flop_per_s", "FLOP/s", {4e14}, std::nullopt}};
  r.records.push_back(rec);
  rec.metrics[0].values = {5e14};
  r.records.push_back(rec);
  const MeasuredTables t = measured_tables(r, "m.json");
  ASSERT_EQ(t.mla_decode.size(), 1u);
  EXPECT_DOUBLE_EQ(t.mla_decode[0].seconds, 2.0 * 128 * 1088 * 64 * 4096 / 5e14);
  // A record without a shape gives only the ceilings; one with half a shape is refused.
  r.records.resize(1);
  r.records[0].parameters.erase("batch");
  EXPECT_NE(cobench::test::error_of([&] { measured_tables(r, "m.json"); })
                .find("m.json: $.records[0].parameters: model input 'gpu.mla_decode' needs the "
                      "shape parameter 'batch'"),
            std::string::npos)
      << cobench::test::error_of([&] { measured_tables(r, "m.json"); });
  r.records[0].parameters.erase("context");
  const MeasuredTables ceilings = measured_tables(r, "m.json");
  EXPECT_TRUE(ceilings.mla_decode.empty());
  EXPECT_EQ(*ceilings.mla_decode_flop_per_s, 4e14);
  // A shaped record with B/s alone: its time from the BF16 cache it read, 576 x 2 B a token.
  r.records[0].parameters["batch"] = 16;
  r.records[0].parameters["context"] = 8192;
  r.records[0].metrics = {{"kv_bytes_per_s", "B/s", {2e12}, std::nullopt}};
  const MeasuredTables bytes_only = measured_tables(r, "m.json");
  ASSERT_EQ(bytes_only.mla_decode.size(), 1u);
  EXPECT_DOUBLE_EQ(bytes_only.mla_decode[0].seconds, 16.0 * 8192 * 1152 / 2e12);
}

TEST(MeasuredTables, BadRecordsNameTheirPath) {
  cobench::results::Results r;
  cobench::results::Record rec;
  rec.benchmark = "gemm";
  rec.verification = cobench::results::Verification::kPassed;
  rec.parameters = {{"model_input", "gpu.gemm_fp8"}, {"m", 64}, {"n", 7168}};
  rec.metrics = {{"gemm_flop_per_s", "FLOP/s", {3e14}, std::nullopt}};
  r.records.push_back(rec);
  EXPECT_NE(cobench::test::error_of([&] { measured_tables(r, "k.json"); })
                .find("k.json: $.records[0].parameters: model input 'gpu.gemm_fp8' needs the shape "
                      "parameter 'k'"),
            std::string::npos);
  r.records[0].parameters["k"] = 16384;
  r.records[0].metrics[0].values = {-3e14};
  EXPECT_NE(cobench::test::error_of([&] { measured_tables(r, "k.json"); })
                .find("k.json: $.records[0].metrics.gemm_flop_per_s.values[0]: must be finite and "
                      "greater than zero (FLOP/s), got -300000000000000"),
            std::string::npos);
}

TEST(MeasuredTables, ReplaceThePublishedTableAndSaySo) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  PerfModel perf(c, find_published_perf(c));
  perf.use_measured(measured_tables(cobench::results::read(kKernels), kKernels));
  Op op;
  op.kind = OpKind::kGemm;
  op.m = 64, op.n = 7168, op.k = 16384;
  op.flops = 2.0 * 64 * 7168 * 16384;
  op.bytes = 7168.0 * 16384 + 64.0 * 16384 + 64.0 * 7168 * 2;
  const OpTime t = perf.compute(op, false);
  EXPECT_NEAR(t.seconds, op.flops / 305e12, 1e-15);  // exact at a measured shape
  EXPECT_EQ(t.source, PerfSource::kMeasured);
  Op core;
  core.kind = OpKind::kAttention;
  core.flops = 550e12 * 1e-3;
  core.bytes = 2500e9 * 0.5e-3;
  const OpTime a = perf.compute(core, false);
  EXPECT_NEAR(a.seconds, 1e-3, 1e-15);
  EXPECT_EQ(a.source, PerfSource::kMeasured);
  // DeepSeek-V3's MLA decode at a measured shape (64 sequences over 4096 tokens, BF16 cache,
  // 128 heads) takes that record's time, not the published table's nor the best ceilings.
  Op mla;
  mla.kind = OpKind::kAttention;
  mla.mla_absorbed = true;
  mla.heads = 128, mla.cache_bytes = 2, mla.sequences = 64, mla.context = 4096;
  mla.flops = 2.0 * 64 * 128 * 1088 * 4096;
  mla.bytes = 64.0 * 4096 * 576 * 2;
  const OpTime m = perf.compute(mla, false);
  EXPECT_NEAR(m.seconds, mla.flops / 500e12, 1e-15);
  EXPECT_EQ(m.source, PerfSource::kMeasured);
  // Outside the measured shapes' range (batch 64-128, context 4096-32768) the published table
  // still times it: one sequence over 1024 tokens, InferSim's 20.91 us.
  Op one = mla;
  one.sequences = 1, one.context = 1024;
  one.flops = 2.0 * 128 * 1088 * 1024;
  one.bytes = 1024.0 * 576 * 2;
  const OpTime o = perf.compute(one, false);
  EXPECT_NEAR(o.seconds, 20.91e-6, 1e-12);
  EXPECT_EQ(o.source, PerfSource::kPublished);
}

TEST(MeasuredTables, OnlyForTheGpuTheyMeasured) {
  const std::string e = cobench::test::error_of(
      [] { measured_data_for({kKernels}, load_cluster_file("h200-ib-256"), {}); });
  EXPECT_NE(e.find("measures model input 'gpu.gemm_fp8' of another gpu"), std::string::npos) << e;
  const MeasuredData d = measured_data_for({kKernels}, load_cluster_file("deepseek-h800-2048"), {});
  EXPECT_EQ(d.tables.gemm_fp8.size(), 2u);
  EXPECT_TRUE(d.inputs.empty());
}

}  // namespace
