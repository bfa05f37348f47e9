// SPDX-License-Identifier: Apache-2.0
// Runs real Google Benchmark benchmarks in-process, converts their JSON output and checks that
// nothing is lost: gbench -> results -> results file JSON -> results -> gbench gives the input
// back.
#include "core/gbench_convert.h"

#include <benchmark/benchmark.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/provenance.h"
#include "core/results.h"

namespace {

using namespace cobench::results;
using nlohmann::json;

void BM_Sum(benchmark::State& state) {
  std::vector<double> v(static_cast<size_t>(state.range(0)), 1.0);
  double s = 0;
  for (auto _ : state) {
    for (double x : v) s += x;
    benchmark::DoNotOptimize(s);
  }
  state.counters["bytes_per_second"] = benchmark::Counter(
      static_cast<double>(state.range(0) * 8), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["moved_bytes"] = static_cast<double>(state.range(0) * 8);
  state.SetLabel("verified: sum equals n");
}

void BM_Broken(benchmark::State& state) {
  for (auto _ : state) {
  }
  state.SkipWithError("verification failed: max rel err 0.5 > 0.01");
}

// Numbers within 1e-12 relative (times are stored in seconds); everything else exactly.
::testing::AssertionResult same(const json& a, const json& b, const std::string& path) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    if (std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y))) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << path << ": " << x << " != " << y;
  }
  if (a.type() != b.type()) return ::testing::AssertionFailure() << path << ": type differs";
  if (a.is_object()) {
    if (a.size() != b.size()) return ::testing::AssertionFailure() << path << ": key count";
    for (const auto& [k, v] : a.items()) {
      if (!b.contains(k)) return ::testing::AssertionFailure() << path << "." << k << " missing";
      if (auto r = same(v, b[k], path + "." + k); !r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return ::testing::AssertionFailure() << path << ": length";
    for (size_t i = 0; i < a.size(); ++i)
      if (auto r = same(a[i], b[i], path + "[" + std::to_string(i) + "]"); !r) return r;
    return ::testing::AssertionSuccess();
  }
  if (a == b) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << path << ": " << a.dump() << " != " << b.dump();
}

// Google Benchmark runs once per process; its output is shared by the tests below.
json run_gbench_once() {
  benchmark::RegisterBenchmark("BM_Sum", BM_Sum)
      ->ArgName("n")
      ->Arg(64)
      ->Arg(256)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Broken", BM_Broken);
  const std::string out = (std::filesystem::path(testing::TempDir()) /
                           ("cobench_gbench_" + std::to_string(getpid()) + ".json"))
                              .string();
  std::filesystem::remove(out);
  std::string a0 = "gbench_convert_tests", a1 = "--benchmark_repetitions=3",
              a2 = "--benchmark_min_time=0.001", a3 = "--benchmark_out=" + out,
              a4 = "--benchmark_out_format=json", a5 = "--benchmark_format=json";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), a5.data()};
  int argc = 6;
  benchmark::Initialize(&argc, argv);
  testing::internal::CaptureStdout();
  benchmark::RunSpecifiedBenchmarks();
  testing::internal::GetCapturedStdout();
  benchmark::ClearRegisteredBenchmarks();
  json doc = json::parse(cobench::read_file(out));
  std::filesystem::remove(out);
  return doc;
}

const json& run_gbench() {
  static const json doc = run_gbench_once();
  return doc;
}

TEST(GbenchConvert, RecordsUnitsParametersAndVerification) {
  const json& g = run_gbench();
  const Results r =
      from_gbench(g, cobench::make_run_header({"t"}), "demo", Backend::kCpu, "g.json");
  ASSERT_EQ(r.records.size(), 3u);  // BM_Sum/n:64, BM_Sum/n:256, BM_Broken
  const Record& sum = r.records[1];
  EXPECT_EQ(sum.benchmark, "BM_Sum/n:256");
  EXPECT_EQ(sum.parameters, json({{"n", 256}}));
  EXPECT_EQ(sum.verification, Verification::kPassed);
  auto metric = [&](const std::string& name) -> const Metric& {
    for (const Metric& m : sum.metrics)
      if (m.name == name) return m;
    throw std::runtime_error("no metric " + name);
  };
  EXPECT_EQ(metric("real_time").unit, "s");
  EXPECT_EQ(metric("real_time").values.size(), 3u);
  EXPECT_EQ(metric("bytes_per_second").unit, "B/s");
  EXPECT_EQ(metric("moved_bytes").unit, "B");
  EXPECT_EQ(metric("moved_bytes").values, (std::vector<double>{2048, 2048, 2048}));
  EXPECT_EQ(metric("iterations").unit, "1");
  // gbench reported microseconds; the record holds seconds.
  json first;
  for (const json& e : g["benchmarks"]) {
    if (e["run_name"] == "BM_Sum/n:256" && e["run_type"] == "iteration") {
      first = e;
      break;
    }
  }
  ASSERT_TRUE(first.is_object());
  EXPECT_NEAR(metric("real_time").values[0], first["real_time"].get<double>() * 1e-6, 1e-18);
  EXPECT_EQ(r.records[2].verification, Verification::kFailed);
  EXPECT_EQ(r.records[2].verification_detail, "verification failed: max rel err 0.5 > 0.01");
  EXPECT_TRUE(r.run.extra.contains("gbench_context"));
}

TEST(GbenchConvert, IsLosslessThroughTheResultsFile) {
  const json& g = run_gbench();
  const Results r =
      from_gbench(g, cobench::make_run_header({"t"}), "demo", Backend::kCpu, "g.json");
  const Results back = from_json(json::parse(to_json(r).dump()), "mem");
  EXPECT_TRUE(same(to_gbench(back), g, "$"));
}

TEST(GbenchConvert, CounterUnitsFollowTheNamingConvention) {
  EXPECT_EQ(counter_unit("bytes_per_second"), "B/s");
  EXPECT_EQ(counter_unit("items_per_second"), "1/s");
  EXPECT_EQ(counter_unit("hbm_bytes_per_s"), "B/s");
  EXPECT_EQ(counter_unit("tensor_flop_per_s"), "FLOP/s");
  EXPECT_EQ(counter_unit("gemm_flop"), "FLOP");
  EXPECT_EQ(counter_unit("latency_s"), "s");
  EXPECT_EQ(counter_unit("experts"), "1");
}

TEST(GbenchConvert, RejectsADocumentThatIsNotGbench) {
  EXPECT_THROW(from_gbench(json{{"records", 1}}, {}, "x", Backend::kCpu, "x.json"), cobench::Error);
}

}  // namespace
