// SPDX-License-Identifier: Apache-2.0
// Typed benchmark metadata (microbench/bench_metadata.h) from a real Google Benchmark run through
// the benchmarks' main, the converter and the model's reader: what the model reads comes from the
// fields, so rewording a label (or a name) changes nothing; old gbench JSON without the fields
// still converts as before.
#include "microbench/bench_metadata.h"

#include <benchmark/benchmark.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/gbench_convert.h"
#include "core/provenance.h"
#include "core/results.h"
#include "microbench/bench_main.h"
#include "topologies/measured.h"

namespace {

using namespace cobench;
using namespace cobench::results;
using nlohmann::json;

constexpr double kBandwidth = 2.0e10;  // B/s: a plain counter, so every repetition reports it
constexpr double kPeak = 2.56e10;      // B/s, the peak the benchmark names

// A "stream" whose result is fixed, so the model's value is known: 2e10 B/s.
void BM_Stream(benchmark::State& state, const std::string& label) {
  for (auto _ : state) benchmark::DoNotOptimize(state.iterations());
  state.counters["memory_bytes_per_s"] = kBandwidth;
  state.SetLabel(label);
  bench::Metadata md = bench::verified("read over 1 MiB");
  md.reference_error = 0.0;
  md.model_input = "cpu.memory_bandwidth";
  md.parameters = {{"mib", 1}, {"op", "read"}};
  md.peaks.push_back({"memory_bytes_per_s", "host memory peak (test)", kPeak});
  bench::report(state, std::move(md));
}

// Failed with an error message in other words than "verification failed".
void BM_Wrong(benchmark::State& state) {
  for (auto _ : state) {
  }
  bench::fail_verification(state, "the sums differ at element 3");
}

// The name still says model_input:gpu.hbm_bandwidth (the old convention), the fields do not.
void BM_NameOnly(benchmark::State& state) {
  for (auto _ : state) {
  }
  state.counters["memory_bytes_per_s"] = kBandwidth;
  bench::report(state, bench::verified("checked"));
}

json run_once() {
  benchmark::RegisterBenchmark("BM_Stream/label:old", BM_Stream,
                               std::string("verified: read over 1 MiB"));
  benchmark::RegisterBenchmark("BM_Stream/label:reworded", BM_Stream,
                               std::string("read over 1 MiB, all bytes as written"));
  benchmark::RegisterBenchmark("BM_Wrong", BM_Wrong);
  benchmark::RegisterBenchmark("BM_NameOnly/model_input:gpu.hbm_bandwidth", BM_NameOnly);
  const std::string out = (std::filesystem::path(testing::TempDir()) /
                           ("cobench_metadata_" + std::to_string(getpid()) + ".json"))
                              .string();
  std::filesystem::remove(out);
  std::string a0 = "bench_metadata_tests", a1 = "--benchmark_repetitions=2",
              a2 = "--benchmark_min_time=0.001", a3 = "--benchmark_out=" + out,
              a4 = "--benchmark_out_format=json", a5 = "--benchmark_format=json";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), a5.data()};
  int argc = 6;
  benchmark::Initialize(&argc, argv);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int status = bench::run_registered_benchmarks("bench_metadata_tests");
  testing::internal::GetCapturedStdout();
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, 1);  // BM_Wrong ended in an error (twice: two repetitions)
  benchmark::ClearRegisteredBenchmarks();
  json doc = json::parse(read_file(out));
  std::filesystem::remove(out);
  return doc;
}

const json& gbench() {
  static const json doc = run_once();
  return doc;
}

Results convert(const json& g) {
  return from_gbench(g, make_run_header({"t"}), "memory", Backend::kCpu, "g.json");
}

const Record& find(const Results& r, const std::string& name) {
  for (const Record& rec : r.records)
    if (rec.benchmark == name) return rec;
  throw std::runtime_error("no record " + name);
}

// The records named, alone in a document, as the model reads them.
topo::MeasuredInputs model_reads(const Results& all, const std::string& name) {
  Results one;
  one.run = all.run;
  one.records.push_back(find(all, name));
  return topo::measured_inputs(one, "m.json");
}

TEST(BenchMetadata, EveryRepetitionCarriesTheFields) {
  int tagged = 0;
  for (const json& e : gbench()["benchmarks"]) {
    if (e.value("run_type", "") != "iteration") continue;
    ASSERT_TRUE(e.contains("cobench")) << e.dump();
    ++tagged;
    if (e["run_name"] == "BM_Stream/label:reworded") {
      EXPECT_EQ(e["cobench"]["verification"], "passed");
      EXPECT_EQ(e["cobench"]["model_input"], "cpu.memory_bandwidth");
      EXPECT_EQ(e["cobench"]["peaks"][0]["value"], kPeak);
    }
  }
  EXPECT_EQ(tagged, 8);  // 4 benchmarks x 2 repetitions
}

TEST(BenchMetadata, ARewordedLabelChangesNothingTheModelReads) {
  const Results r = convert(gbench());
  const Record &old_label = find(r, "BM_Stream/label:old"),
               &reworded = find(r, "BM_Stream/label:reworded");
  for (const Record* rec : {&old_label, &reworded}) {
    EXPECT_EQ(rec->verification, Verification::kPassed) << rec->benchmark;
    EXPECT_EQ(rec->verification_detail, "read over 1 MiB");
    ASSERT_TRUE(rec->reference_error.has_value());
    EXPECT_EQ(*rec->reference_error, 0.0);
    EXPECT_EQ(rec->parameters["model_input"], "cpu.memory_bandwidth");
    EXPECT_EQ(rec->parameters["mib"], 1);
    EXPECT_EQ(rec->parameters["op"], "read");
    bool has_peak = false;
    for (const Metric& m : rec->metrics)
      if (m.name == "memory_bytes_per_s") {
        ASSERT_TRUE(m.peak.has_value());
        EXPECT_EQ(m.peak->value, kPeak);
        has_peak = true;
      }
    EXPECT_TRUE(has_peak);
    // The model reads 2e10 B/s for either, the counter every repetition reported.
    const topo::MeasuredInputs in = model_reads(r, rec->benchmark);
    ASSERT_EQ(in.count("cpu.memory_bandwidth"), 1u) << rec->benchmark;
    EXPECT_EQ(in.at("cpu.memory_bandwidth").value, kBandwidth);
  }
  // The results file states the fraction of the peak: 2e10 / 2.56e10 = 0.78125.
  const json doc = to_json(r);
  EXPECT_DOUBLE_EQ(
      doc["records"][1]["metrics"]["memory_bytes_per_s"]["peak"]["fraction"].get<double>(),
      0.78125);
  EXPECT_EQ(doc["records"][1]["verification"]["reference_error"], 0.0);
}

TEST(BenchMetadata, AFailureIsReadFromTheFieldNotTheErrorText) {
  const Results r = convert(gbench());
  const Record& wrong = find(r, "BM_Wrong");
  EXPECT_EQ(wrong.verification, Verification::kFailed);
  EXPECT_EQ(wrong.verification_detail, "the sums differ at element 3");
}

TEST(BenchMetadata, ANameSegmentFeedsNothingWhenTheFieldsSayNothing) {
  const Results r = convert(gbench());
  const Record& rec = find(r, "BM_NameOnly/model_input:gpu.hbm_bandwidth");
  EXPECT_EQ(rec.verification, Verification::kPassed);
  EXPECT_FALSE(rec.parameters.contains("model_input"));
  EXPECT_TRUE(model_reads(r, rec.benchmark).empty());
}

TEST(BenchMetadata, TheFieldsSurviveTheRoundTrip) {
  const json& g = gbench();
  const Results back = from_json(to_json(convert(g)), "r.json");
  const json again = to_gbench(back)["benchmarks"];
  ASSERT_EQ(again.size(), g["benchmarks"].size());
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i]["name"], g["benchmarks"][i]["name"]);
    EXPECT_EQ(again[i].value("cobench", json()), g["benchmarks"][i].value("cobench", json()));
  }
  EXPECT_EQ(*find(back, "BM_Stream/label:old").reference_error, 0.0);
}

// Google Benchmark JSON written before the fields existed: the name's model_input segment and
// the "verified" label still decide, as they did.
TEST(BenchMetadata, OldGbenchJsonConvertsAsBefore) {
  const json old = json::parse(R"({"benchmarks": [
    {"name": "BM_HostStream/op:read/model_input:cpu.memory_bandwidth/mib:512/threads:2/real_time",
     "run_name": "BM_HostStream/op:read/model_input:cpu.memory_bandwidth/mib:512/threads:2/real_time",
     "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1,
     "iterations": 10, "real_time": 25.0, "cpu_time": 24.0, "time_unit": "ms",
     "memory_bytes_per_s": 2.0e10, "label": "verified: read over 536870912 B per array"},
    {"name": "BM_Bad", "run_name": "BM_Bad", "run_type": "iteration", "repetitions": 1,
     "repetition_index": 0, "threads": 1, "iterations": 0, "real_time": 0, "cpu_time": 0,
     "time_unit": "ns", "error_occurred": true, "error_message": "verification failed: x"}]})");
  const Results r = convert(old);
  const Record& stream = r.records[0];
  EXPECT_EQ(stream.parameters, json({{"op", "read"},
                                     {"model_input", "cpu.memory_bandwidth"},
                                     {"mib", 512},
                                     {"threads", 2},
                                     {"real_time", true}}));
  EXPECT_EQ(stream.verification, Verification::kPassed);
  EXPECT_EQ(stream.verification_detail, "verified: read over 536870912 B per array");
  EXPECT_FALSE(stream.reference_error.has_value());
  EXPECT_EQ(topo::measured_inputs(r, "old.json").at("cpu.memory_bandwidth").value, 2.0e10);
  EXPECT_EQ(r.records[1].verification, Verification::kFailed);
  EXPECT_EQ(r.records[1].verification_detail, "verification failed: x");
}

TEST(BenchMetadata, BadFieldsAreNamed) {
  json g = json::parse(R"({"benchmarks": [{"name": "BM_A", "run_name": "BM_A",
    "run_type": "iteration", "iterations": 1, "real_time": 1, "cpu_time": 1, "time_unit": "ns",
    "cobench": {"verification": "ok"}}]})");
  try {
    convert(g);
    ADD_FAILURE() << "accepted verification \"ok\"";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "g.json: benchmarks[0].cobench.verification: \"ok\" is not \"passed\" or "
                 "\"failed\"");
  }
  g["benchmarks"][0]["cobench"] = {
      {"peaks", {{{"metric", "real_time"}, {"name", "p"}, {"value", 0}}}}};
  EXPECT_THROW(convert(g), Error);
}

}  // namespace
