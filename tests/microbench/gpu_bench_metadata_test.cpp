// SPDX-License-Identifier: Apache-2.0
// The GPU benchmarks' typed metadata (microbench/gpu_bench_metadata.h), without a GPU: per family
// (GEMM, device memory, MLA / GQA decode) the model input, model metric, shape parameters and peaks
// a configuration reports, and a Google Benchmark entry as the GPU benchmark writes it (its
// registered name, its counters, a label in other words than "verified: ...", the `cobench`
// object) converted as `cobench results from-gbench` does and read as `cobench analyze --measured`
// does. The same entry without the object (what the GPU benchmarks wrote before: the name's
// segments and the label's first word were all there was) loses its verdict with the reworded
// label and feeds the model nothing: issue 19.
#include "microbench/gpu_bench_metadata.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "core/gbench_convert.h"
#include "core/provenance.h"
#include "core/results.h"
#include "microbench/gemm_shapes.h"
#include "microbench/tensor_peak.h"
#include "topologies/data_files.h"
#include "topologies/measured.h"
#include "topologies/measured_tables.h"

namespace {

using namespace cobench;
using namespace cobench::bench;
using namespace cobench::bench::gpu;
using nlohmann::json;

// H100 SXM's dense peaks as the GEMM and MLA benchmarks get them (microbench/tensor_peak.h):
// NVIDIA's datasheet, 3958 TFLOPS FP8 with sparsity, halved: 1979e12; BF16 half of that.
const DevicePeak& h100() {
  static const DevicePeak p = tensor_core_peak("NVIDIA H100 80GB HBM3", 9, 132, 1980000);
  return p;
}

// One iteration entry of a manual-time GPU benchmark (MinTime(0.1) puts min_time:0.100 in the
// name, UseManualTime manual_time), with the benchmark's counters.
json entry(const std::string& name, const json& counters, const std::string& label) {
  json e = {{"name", name},
            {"family_index", 0},
            {"per_family_instance_index", 0},
            {"run_name", name},
            {"run_type", "iteration"},
            {"repetitions", 1},
            {"repetition_index", 0},
            {"threads", 1},
            {"iterations", 100},
            {"real_time", 25.0},
            {"cpu_time", 25.1},
            {"time_unit", "us"},
            {"label", label}};
  for (const auto& [k, v] : counters.items()) e[k] = v;
  return e;
}

// The entry alone in a gbench document, converted; with the metadata object when `md` is given.
results::Results convert(json e, const Metadata* md, const char* suite) {
  if (md) e["cobench"] = to_json(*md);
  const json doc = {{"benchmarks", json::array({e})}};
  return results::from_gbench(doc, make_run_header({"t"}), suite, results::Backend::kCuda,
                              "gpu.json");
}

const results::Metric& metric(const results::Record& rec, const std::string& name) {
  for (const results::Metric& m : rec.metrics)
    if (m.name == name) return m;
  throw std::runtime_error("no metric " + name);
}

// ---- GEMM ----

TEST(GpuBenchMetadata, GemmModelInputPerImplementationAndShape) {
  EXPECT_EQ(gemm_model_input(GemmImpl::kBf16Lt, true), "gpu.peak_flops.bf16");
  for (GemmImpl fp8 : {GemmImpl::kFp8TensorLt, GemmImpl::kFp8BlockLt, GemmImpl::kFp8BlockCobench,
                       GemmImpl::kFp8BlockCobenchMmaSync})
    EXPECT_EQ(gemm_model_input(fp8, true), "gpu.peak_flops.fp8") << gemm_benchmark(fp8);
  // On a model's shapes only the block-scaled FP8 GEMMs are the measured GEMM table.
  EXPECT_EQ(gemm_model_input(GemmImpl::kFp8BlockLt, false), "gpu.gemm_fp8");
  EXPECT_EQ(gemm_model_input(GemmImpl::kFp8BlockCobench, false), "gpu.gemm_fp8");
  EXPECT_EQ(gemm_model_input(GemmImpl::kBf16Lt, false), "");
  EXPECT_EQ(gemm_model_input(GemmImpl::kFp8TensorLt, false), "");
  // The names the tracked histories and scripts/gpu-check.sh's filters know.
  EXPECT_STREQ(gemm_benchmark(GemmImpl::kFp8BlockLt), "BM_Fp8Block_CublasLt");
  EXPECT_STREQ(gemm_benchmark(GemmImpl::kFp8BlockCobench), "BM_Fp8Block_Cobench");
  EXPECT_EQ(model_input_segment("gpu.gemm_fp8"), "/model_input:gpu.gemm_fp8");
  EXPECT_EQ(model_input_segment(""), "");
}

// A Google Benchmark filter (an extended regular expression, searched in the name) and the names
// the GEMM GPU benchmark registers, built as gemm_gpu_bench.cpp builds them: without a GPU no
// such name exists, so a filter that stopped matching would fail first on a device.
bool filter_matches(const std::string& filter, const std::string& name) {
  return std::regex_search(name, std::regex(filter, std::regex::extended));
}

// The filter of step `step` in scripts/gpu-check.sh's spec(): the last field of its echo line.
std::string gpu_check_filter(const std::string& step) {
  std::ifstream in(COBENCH_GPU_CHECK_SCRIPT);
  std::string line;
  const std::regex spec("^ *" + step + R"re(\) +echo "[^"]* ([^" ]+)" ;;$)re");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_match(line, m, spec)) return m[1];
  return "";
}

// Training's input-gradient shapes: the forward's N and K swapped (dX [m, K] = dY [m, N] W [N, K]),
// every FP8 GEMM of DeepSeek-V3 but the BF16 LM head, from its config by hand.
TEST(GpuBenchMetadata, DgradShapesSwapTheForwardsNAndK) {
  const topo::ModelArch v3 = topo::load_model("deepseek-v3");
  const std::vector<GemmShape> fwd = model_gemm_shapes(v3), dgrad = dgrad_gemm_shapes(v3);
  ASSERT_EQ(dgrad.size() + 1, fwd.size());  // all but lm_head
  for (const GemmShape& g : dgrad) EXPECT_NE(g.name, "lm_head_dgrad");
  auto find = [&](const std::string& name) {
    for (const GemmShape& g : dgrad)
      if (g.name == name) return std::pair{g.n, g.k};
    return std::pair<std::int64_t, std::int64_t>{0, 0};
  };
  // o: hidden 7168 from 128 heads x v_head_dim 128 = 16384; its dgrad maps 7168 back to 16384.
  EXPECT_EQ(find("o_dgrad"), (std::pair<std::int64_t, std::int64_t>{16384, 7168}));
  // q_b: 128 x (128 + 64) = 24576 from q_lora_rank 1536.
  EXPECT_EQ(find("q_b_dgrad"), (std::pair<std::int64_t, std::int64_t>{1536, 24576}));
  // expert_down: hidden 7168 from the expert intermediate 2048.
  EXPECT_EQ(find("expert_down_dgrad"), (std::pair<std::int64_t, std::int64_t>{2048, 7168}));
}

// gpu-check's gemm_model step (call 2): cuBLASLt's block-scaled FP8 on the FP8 shapes at M 64, 512
// and 4096 and on their dgrad shapes at 4096; not the LM head, not M 16384, not cobench's kernel.
TEST(GpuBenchMetadata, GpuCheckTakesTheModelsGemmTable) {
  const topo::ModelArch v3 = topo::load_model("deepseek-v3");
  const std::string filter = gpu_check_filter("gemm_model");
  ASSERT_FALSE(filter.empty()) << "no gemm_model step in " << COBENCH_GPU_CHECK_SCRIPT;
  auto name = [](GemmImpl impl, const std::string& shape, std::int64_t m, std::int64_t n,
                 std::int64_t k) {
    return gemm_benchmark_name(gemm_benchmark(impl), "deepseek-v3", shape) +
           model_input_segment(gemm_model_input(impl, false)) +
           fmt::format("/m:{}/n:{}/k:{}/min_time:0.100/manual_time", m, n, k);
  };
  for (const GemmShape& g : model_gemm_shapes(v3))
    for (std::int64_t m : {64, 512, 4096, 16384}) {
      const bool want = g.name != "lm_head" && m != 16384;
      EXPECT_EQ(filter_matches(filter, name(GemmImpl::kFp8BlockLt, g.name, m, g.n, g.k)), want)
          << g.name << " m " << m;
      EXPECT_FALSE(filter_matches(filter, name(GemmImpl::kFp8BlockCobench, g.name, m, g.n, g.k)));
    }
  for (const GemmShape& g : dgrad_gemm_shapes(v3))
    EXPECT_TRUE(filter_matches(filter, name(GemmImpl::kFp8BlockLt, g.name, 4096, g.n, g.k)))
        << g.name;
}

TEST(GpuBenchMetadata, SmokeAndGpuCheckFiltersMatchTheGemmBenchmarksNames) {
  const topo::ModelArch v3 = topo::load_model("deepseek-v3");
  std::int64_t n = 0, k = 0;
  for (const GemmShape& s : model_gemm_shapes(v3))
    if (s.name == "kv_a") n = s.n, k = s.k;
  ASSERT_EQ(n, 576);  // kv_lora_rank 512 + RoPE 64, from hidden 7168
  ASSERT_EQ(k, 7168);
  const std::string args = "/min_time:0.100/manual_time";
  const std::string kv_a =
      gemm_benchmark_name(gemm_benchmark(GemmImpl::kFp8BlockCobench), "deepseek-v3", "kv_a") +
      model_input_segment(gemm_model_input(GemmImpl::kFp8BlockCobench, false));
  EXPECT_EQ(kv_a, "BM_Fp8Block_Cobench/shape:kv_a/model_input:gpu.gemm_fp8");
  const std::string smoke = COBENCH_GEMM_GPU_SMOKE_FILTER;
  EXPECT_TRUE(filter_matches(smoke, kv_a + "/m:64/n:576/k:7168" + args)) << smoke;
  EXPECT_FALSE(filter_matches(smoke, kv_a + "/m:512/n:576/k:7168" + args)) << smoke;
  // The filter the smoke test had before the model_input segment: it matches nothing now.
  EXPECT_FALSE(
      filter_matches("BM_Fp8Block_Cobench/shape:kv_a/m:64/", kv_a + "/m:64/n:576/k:7168" + args));
  // gpu-check's gemm step: both block-scaled GEMMs on the 4096^3 square.
  const std::string gemm = gpu_check_filter("gemm");
  ASSERT_FALSE(gemm.empty()) << "no gemm step in " << COBENCH_GPU_CHECK_SCRIPT;
  for (GemmImpl impl : {GemmImpl::kFp8BlockLt, GemmImpl::kFp8BlockCobench}) {
    const std::string square = std::string(gemm_benchmark(impl)) + "/shape:square" +
                               model_input_segment(gemm_model_input(impl, true));
    EXPECT_TRUE(filter_matches(gemm, square + "/m:4096/n:4096/k:4096" + args)) << gemm;
    EXPECT_FALSE(filter_matches(gemm, square + "/m:8192/n:8192/k:8192" + args)) << gemm;
  }
}

TEST(GpuBenchMetadata, GemmReportsShapeErrorAndThePeakOfItsPrecision) {
  const Metadata bf16 = gemm_metadata(
      {GemmImpl::kBf16Lt, true, "", "square", 4096, 4096, 4096, 3e-4, "cuBLASLt bf16", h100()});
  EXPECT_EQ(bf16.verdict, Verdict::kVerified);
  ASSERT_TRUE(bf16.reference_error.has_value());
  EXPECT_EQ(*bf16.reference_error, 3e-4);
  EXPECT_EQ(bf16.model_input, "gpu.peak_flops.bf16");
  EXPECT_EQ(bf16.model_metric, "");  // gemm_flop_per_s is its only FLOP/s counter
  EXPECT_EQ(bf16.parameters, json({{"shape", "square"}, {"m", 4096}, {"n", 4096}, {"k", 4096}}));
  ASSERT_EQ(bf16.peaks.size(), 1u);
  EXPECT_EQ(bf16.peaks[0].metric, "gemm_flop_per_s");
  EXPECT_DOUBLE_EQ(bf16.peaks[0].value, 989.5e12);

  const Metadata fp8 =
      gemm_metadata({GemmImpl::kFp8BlockCobench, false, "deepseek-v3", "q_b", 64, 24576, 1536, 1e-6,
                     "cobench fp8 block-scaled, wgmma", h100()});
  EXPECT_EQ(fp8.model_input, "gpu.gemm_fp8");
  EXPECT_EQ(
      fp8.parameters,
      json({{"model", "deepseek-v3"}, {"shape", "q_b"}, {"m", 64}, {"n", 24576}, {"k", 1536}}));
  ASSERT_EQ(fp8.peaks.size(), 1u);
  EXPECT_DOUBLE_EQ(fp8.peaks[0].value, 1979e12);

  // An architecture without a known peak: no peak_fraction counter, no peak.
  EXPECT_TRUE(gemm_metadata({GemmImpl::kFp8TensorLt, true, "", "square", 4096, 4096, 4096, 0, "lt",
                             DevicePeak{}})
                  .peaks.empty());

  // Zipf(1) over 8 experts of 4096 tokens (bench::zipf_counts): 4096 / (e + 1) / 2.717857 rounded
  // down, 188 for the last expert, 1507 + the 3 the rounding left for the first.
  const Metadata grouped = grouped_gemm_metadata({8, 4096, 7168, 2048, 188, 1510, 2e-6, h100()});
  EXPECT_EQ(grouped.model_input, "");
  EXPECT_EQ(grouped.parameters, json({{"experts", 8}, {"tokens", 4096}, {"n", 7168}, {"k", 2048}}));
  ASSERT_EQ(grouped.peaks.size(), 1u);
  EXPECT_DOUBLE_EQ(grouped.peaks[0].value, 1979e12);

  const Metadata probe = probe_metadata("wgmma_m64n8k32_e4m3");
  EXPECT_EQ(probe.verdict, Verdict::kNotChecked);  // a reading, not a checked result
  EXPECT_EQ(probe.parameters, json({{"instruction", "wgmma_m64n8k32_e4m3"}}));
}

TEST(GpuBenchMetadata, GemmSquareWithARewordedLabelStillFeedsThePeak) {
  const std::string name =
      "BM_Fp8Block_Cobench/shape:square/model_input:gpu.peak_flops.fp8/m:4096/n:4096/k:4096/"
      "min_time:0.100/manual_time";
  // 1.2e15 FLOP/s of the 1979e12 peak: peak_fraction 0.606.
  const json counters = {{"gemm_flop_per_s", 1.2e15},
                         {"operand_bytes_per_s", 4.0e12},
                         {"peak_fraction", 1.2e15 / 1979e12},
                         {"max_rel_err", 2e-6}};
  const std::string label = "error 2e-06 with cobench's WGMMA tile: 1200 TFLOPS";
  const Metadata md = gemm_metadata({GemmImpl::kFp8BlockCobench, true, "", "square", 4096, 4096,
                                     4096, 2e-6, "cobench fp8 block-scaled, wgmma", h100()});
  const results::Results r = convert(entry(name, counters, label), &md, "gemm_gpu");
  const results::Record& rec = r.records.at(0);
  EXPECT_EQ(rec.verification, results::Verification::kPassed);
  ASSERT_TRUE(rec.reference_error.has_value());
  EXPECT_EQ(*rec.reference_error, 2e-6);
  EXPECT_EQ(rec.parameters, json({{"shape", "square"},
                                  {"model_input", "gpu.peak_flops.fp8"},
                                  {"m", 4096},
                                  {"n", 4096},
                                  {"k", 4096},
                                  {"min_time", 0.1},
                                  {"manual_time", true}}));
  ASSERT_TRUE(metric(rec, "gemm_flop_per_s").peak.has_value());
  EXPECT_DOUBLE_EQ(metric(rec, "gemm_flop_per_s").peak->value, 1979e12);
  EXPECT_EQ(topo::measured_inputs(r, "gpu.json").at("gpu.peak_flops.fp8").value, 1.2e15);

  // Before: no object, and a label that does not start with "verified": nothing reaches the model.
  const results::Results old = convert(entry(name, counters, label), nullptr, "gemm_gpu");
  EXPECT_EQ(old.records.at(0).verification, results::Verification::kNotChecked);
  EXPECT_TRUE(topo::measured_inputs(old, "gpu.json").empty());
}

TEST(GpuBenchMetadata, GemmTableShapeWithARewordedLabelStillFeedsTheTable) {
  const std::string name =
      "BM_Fp8Block_CublasLt/shape:q_b/model_input:gpu.gemm_fp8/m:64/n:24576/k:1536/"
      "min_time:0.100/manual_time";
  const json counters = {{"gemm_flop_per_s", 3.0e14}, {"operand_bytes_per_s", 2.0e12}};
  const Metadata md = gemm_metadata({GemmImpl::kFp8BlockLt, false, "deepseek-v3", "q_b", 64, 24576,
                                     1536, 1e-6, "cuBLASLt fp8 block-scaled", h100()});
  const std::string label = "cuBLASLt, 300 TFLOPS, error 1e-06";
  const topo::MeasuredTables t =
      topo::measured_tables(convert(entry(name, counters, label), &md, "gemm_gpu"), "gpu.json");
  ASSERT_EQ(t.gemm_fp8.size(), 1u);
  EXPECT_EQ(t.gemm_fp8[0].m, 64);
  EXPECT_EQ(t.gemm_fp8[0].n, 24576);
  EXPECT_EQ(t.gemm_fp8[0].k, 1536);
  EXPECT_EQ(t.gemm_fp8[0].flops_per_s, 3.0e14);
  EXPECT_TRUE(
      topo::measured_tables(convert(entry(name, counters, label), nullptr, "gemm_gpu"), "gpu.json")
          .gemm_fp8.empty());
}

// ---- device memory, host <-> device copies, kernel gap ----

TEST(GpuBenchMetadata, MemoryModelInputs) {
  EXPECT_EQ(device_stream_model_input("copy", 4096), "gpu.hbm_bandwidth");
  EXPECT_EQ(device_stream_model_input("copy", 1024), "");
  EXPECT_EQ(device_stream_model_input("triad", 4096), "");
  EXPECT_EQ(host_device_copy_model_input("h2d", "pinned", 1048576), "pcie.h2d_bandwidth");
  EXPECT_EQ(host_device_copy_model_input("h2d", "pinned", 262144), "");
  EXPECT_EQ(host_device_copy_model_input("h2d", "pageable", 1048576), "");
  EXPECT_EQ(host_device_copy_model_input("bidir", "pinned", 1048576), "");

  const Metadata copy = host_device_copy_metadata("h2d", "pinned", 1048576, 1073741824);
  EXPECT_EQ(copy.model_input, "pcie.h2d_bandwidth");
  EXPECT_EQ(copy.parameters, json({{"dir", "h2d"}, {"host", "pinned"}, {"kib", 1048576}}));
  EXPECT_FALSE(copy.reference_error.has_value());  // the bytes are compared exactly
  EXPECT_TRUE(copy.peaks.empty());

  const Metadata gap = kernel_gap_metadata(1000);
  EXPECT_EQ(gap.model_input, "gpu.kernel_gap");
  EXPECT_EQ(gap.model_metric, "kernel_gap_s");
  EXPECT_EQ(gap.parameters, json({{"kernels", 1000}}));
}

TEST(GpuBenchMetadata, DeviceStreamCarriesTheDeviceMemoryPeak) {
  // H100 SXM's attributes: 2619 MHz memory clock x 5120-bit bus / 8 x 2 = 3.35232e12 B/s.
  const double peak = 2619e6 * 5120 / 8 * 2;
  const std::string name =
      "BM_DeviceStream/op:copy/model_input:gpu.hbm_bandwidth/mib:4096/"
      "min_time:0.100/manual_time";
  const Metadata md = device_stream_metadata(
      {"copy", 4096, 4294967296, 264, 16, peak, "memory clock x bus width x 2"});
  EXPECT_EQ(md.parameters, json({{"op", "copy"}, {"mib", 4096}}));
  const results::Results r =
      convert(entry(name, {{"memory_bytes_per_s", 3.0e12}, {"peak_fraction", 3.0e12 / peak}},
                    "copy: 3000 GB/s, 89% of the theoretical peak"),
              &md, "memory_gpu");
  const results::Record& rec = r.records.at(0);
  EXPECT_EQ(rec.verification, results::Verification::kPassed);
  EXPECT_EQ(rec.parameters["model_input"], "gpu.hbm_bandwidth");
  ASSERT_TRUE(metric(rec, "memory_bytes_per_s").peak.has_value());
  EXPECT_DOUBLE_EQ(metric(rec, "memory_bytes_per_s").peak->value, 3.35232e12);
  // The results file states the fraction: 3.0e12 / 3.35232e12 = 0.894902...
  EXPECT_NEAR(results::to_json(r)["records"][0]["metrics"]["memory_bytes_per_s"]["peak"]["fraction"]
                  .get<double>(),
              0.894902, 1e-6);
  EXPECT_EQ(topo::measured_inputs(r, "gpu.json").at("gpu.hbm_bandwidth").value, 3.0e12);
  EXPECT_TRUE(topo::measured_inputs(
                  convert(entry(name, {{"memory_bytes_per_s", 3.0e12}}, "copy: 3000 GB/s"), nullptr,
                          "memory_gpu"),
                  "gpu.json")
                  .empty());
}

TEST(GpuBenchMetadata, KernelGapNamesItsMetricAmongTheSeconds) {
  // real_time and cpu_time are seconds too: without model_metric the model could not choose.
  const std::string name =
      "BM_KernelGap/kernels:1000/model_input:gpu.kernel_gap/model_metric:kernel_gap_s/"
      "min_time:0.100/manual_time";
  const Metadata md = kernel_gap_metadata(1000);
  const results::Results r =
      convert(entry(name, {{"kernel_gap_s", 2.5e-6}}, "2.50 us a kernel"), &md, "memory_gpu");
  EXPECT_EQ(r.records.at(0).parameters["model_metric"], "kernel_gap_s");
  EXPECT_EQ(topo::measured_inputs(r, "gpu.json").at("gpu.kernel_gap").value, 2.5e-6);
}

// ---- decode: device copy, MLA, GQA ----

TEST(GpuBenchMetadata, MlaDecodeModelInputIsDeepSeeksKernelOnly) {
  EXPECT_EQ(mla_decode_model_input("tc", 128, "bf16"), "gpu.mla_decode");
  EXPECT_EQ(mla_decode_model_input("tc", 16, "bf16"), "");
  EXPECT_EQ(mla_decode_model_input("simt", 128, "bf16"), "");
  EXPECT_EQ(mla_decode_model_input("tc", 128, "fp8"), "");

  const Metadata copy = device_copy_metadata(1024, 1073741824);
  EXPECT_EQ(copy.verdict, Verdict::kVerified);
  EXPECT_EQ(copy.model_input, "");
  EXPECT_EQ(copy.parameters, json({{"mib", 1024}}));
}

TEST(GpuBenchMetadata, MlaDecodeWithARewordedLabelStillFeedsTheDecodeTable) {
  const std::string name =
      "BM_MlaDecodeGpu/kernel:tc/heads:128/cache:bf16/batch:64/context:4096/"
      "model_input:gpu.mla_decode/min_time:0.100/manual_time";
  const double copy = 3.0e12;  // the measured device copy, B/s
  const Metadata md = mla_decode_metadata(
      {"tc", 128, "bf16", 64, 4096, 2, "sequences 0, 32, 63", 3e-5, 2e-6, copy, h100()});
  ASSERT_TRUE(md.reference_error.has_value());
  EXPECT_EQ(*md.reference_error, 3e-5);
  ASSERT_EQ(md.peaks.size(), 2u);
  EXPECT_EQ(md.peaks[0].metric, "kv_bytes_per_s");
  EXPECT_EQ(md.peaks[0].value, copy);
  EXPECT_EQ(md.peaks[1].metric, "attention_flop_per_s");
  EXPECT_DOUBLE_EQ(md.peaks[1].value, 989.5e12);
  const json counters = {{"kv_bytes_per_s", 2.4e12},
                         {"attention_flop_per_s", 5.0e14},
                         {"copy_bw_fraction", 0.8},
                         {"roofline_fraction", 0.7},
                         {"max_rel_err", 3e-5}};
  const std::string label = "64 sequences, 128 heads: 500 TFLOPS, 2400 GB/s";
  const results::Results r = convert(entry(name, counters, label), &md, "mla_gpu");
  const results::Record& rec = r.records.at(0);
  EXPECT_EQ(rec.verification, results::Verification::kPassed);
  // The name's segments and the metadata agree; the metadata adds the split count.
  EXPECT_EQ(rec.parameters, json({{"kernel", "tc"},
                                  {"heads", 128},
                                  {"cache", "bf16"},
                                  {"batch", 64},
                                  {"context", 4096},
                                  {"splits", 2},
                                  {"model_input", "gpu.mla_decode"},
                                  {"min_time", 0.1},
                                  {"manual_time", true}}));
  const topo::MeasuredTables t = topo::measured_tables(r, "gpu.json");
  ASSERT_TRUE(t.mla_decode_bytes_per_s.has_value() && t.mla_decode_flop_per_s.has_value());
  EXPECT_EQ(*t.mla_decode_bytes_per_s, 2.4e12);
  EXPECT_EQ(*t.mla_decode_flop_per_s, 5.0e14);
  // The record's shape makes it a point of the model's MLA decode table: the FLOPs of 64
  // sequences over 4096 tokens (2 x 128 heads x 1088 a cached token) at 500 TFLOP/s.
  ASSERT_EQ(t.mla_decode.size(), 1u);
  EXPECT_EQ(t.mla_decode[0].batch, 64);
  EXPECT_EQ(t.mla_decode[0].context, 4096);
  EXPECT_DOUBLE_EQ(t.mla_decode[0].seconds, 2.0 * 128 * 1088 * 64 * 4096 / 5.0e14);
  const topo::MeasuredTables before =
      topo::measured_tables(convert(entry(name, counters, label), nullptr, "mla_gpu"), "gpu.json");
  EXPECT_FALSE(before.mla_decode_bytes_per_s.has_value());
}

TEST(GpuBenchMetadata, GqaDecodeKeepsItsVerdictAndCopyDenominator) {
  const std::string name =
      "BM_GqaDecodeGpu/attn:gqa/batch:64/context:4096/min_time:0.100/manual_time";
  const Metadata md = gqa_decode_metadata(
      {"gqa", 64, 8, 128, 64, 4096, 3, "sequences 0, 32, 63", 4e-6, 1e-6, 3e12});
  EXPECT_EQ(md.model_input, "");
  const results::Results r =
      convert(entry(name, {{"kv_bytes_per_s", 2.7e12}, {"copy_bw_fraction", 0.9}},
                    "GQA (8 KV heads): 2700 GB/s"),
              &md, "mla_gpu");
  const results::Record& rec = r.records.at(0);
  EXPECT_EQ(rec.verification, results::Verification::kPassed);
  ASSERT_TRUE(rec.reference_error.has_value());
  EXPECT_EQ(*rec.reference_error, 4e-6);
  EXPECT_EQ(rec.parameters, json({{"attn", "gqa"},
                                  {"batch", 64},
                                  {"context", 4096},
                                  {"q_heads", 64},
                                  {"kv_heads", 8},
                                  {"head_dim", 128},
                                  {"splits", 3},
                                  {"min_time", 0.1},
                                  {"manual_time", true}}));
  ASSERT_TRUE(metric(rec, "kv_bytes_per_s").peak.has_value());
  EXPECT_EQ(metric(rec, "kv_bytes_per_s").peak->value, 3e12);
  // Without the object the reworded label leaves the run unverified.
  EXPECT_EQ(convert(entry(name, {{"kv_bytes_per_s", 2.7e12}}, "GQA: 2700 GB/s"), nullptr, "mla_gpu")
                .records.at(0)
                .verification,
            results::Verification::kNotChecked);
}

}  // namespace
