// SPDX-License-Identifier: Apache-2.0
// nccl-tests -J JSON to the results format: documents built as nccl-tests' src/util.cu writes
// them (format version 2), values worked by hand.
#include "core/nccl_tests_convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/provenance.h"
#include "core/results.h"

namespace {

using namespace cobench::results;
using nlohmann::json;

// 2 hosts x 2 processes of one GPU each: 4 ranks.
json devices() {
  json d = json::array();
  for (int r = 0; r < 4; ++r)
    d.push_back({{"rank", r},
                 {"group", 0},
                 {"pid", 100 + r},
                 {"hostname", r < 2 ? "a" : "b"},
                 {"device", r % 2},
                 {"device_hex", "0000:18:00"},
                 {"device_info", "NVIDIA H100 80GB HBM3"}});
  return d;
}

json line(std::size_t size, double time_us, double alg_gbs, double bus_gbs, json nwrong) {
  json body = {{"time", time_us}, {"alg_bw", alg_gbs}, {"bus_bw", bus_gbs}, {"nwrong", nwrong}};
  return {{"size", size},     {"count", size / 4},       {"type", "float"},
          {"redop", "sum"},   {"root", "    -1"},        {"out_of_place", body},
          {"in_place", body}, {"actual_iterations", 20}, {"experiment_name", ""}};
}

json document(const char* binary, json results) {
  return {{"version", 2},
          {"start_time", "2026-11-30 09:14:02"},
          {"args", {binary, "-b", "8", "-e", "1M"}},
          {"env", {"HOME=/root", "NCCL_IB_HCA=mlx5", "SECRET_TOKEN=x", "NCCL_DEBUG=WARN"}},
          {"nccl_version", 22803},
          {"config", {{"nthreads", 1}, {"ngpus", 1}, {"devices", devices()}}},
          {"results", results},
          {"errors", json::array()}};
}

Results convert(const json& doc) {
  return from_nccl_tests(doc, cobench::make_run_header({}), "t.json");
}

const Metric& metric(const Record& r, const char* name) {
  for (const Metric& m : r.metrics)
    if (m.name == name) return m;
  throw std::runtime_error(std::string("no metric ") + name);
}

TEST(NcclTestsConvert, CollectiveNamesAreCobenchs) {
  EXPECT_EQ(collective_of_nccl_test("./build/all_reduce_perf"), "all_reduce");
  EXPECT_EQ(collective_of_nccl_test("alltoall_perf"), "all_to_all");
  EXPECT_EQ(collective_of_nccl_test("/opt/nccl-tests/sendrecv_perf"), "send_recv");
  EXPECT_EQ(collective_of_nccl_test("reduce_scatter_perf"), "reduce_scatter");
  EXPECT_EQ(collective_of_nccl_test("hypercube_perf"), "hypercube");  // kept as nccl-tests says
}

// all_reduce of 1 MiB on 4 ranks in 40 us: algbw 1048576 / 40e-6 = 26.2144 GB/s, busbw
// 2 (4 - 1) / 4 of it = 39.3216 GB/s.
TEST(NcclTestsConvert, AllReduceLinesBecomeRecordsInSiUnits) {
  const Results r =
      convert(document("./all_reduce_perf", {line(1048576, 40, 26.2144, 39.3216, 0.0)}));
  ASSERT_EQ(r.records.size(), 2u);
  const Record& oop = r.records[0];
  EXPECT_EQ(oop.suite, "collectives");
  EXPECT_EQ(oop.benchmark, "all_reduce/bytes:1048576/out_of_place");
  EXPECT_EQ(r.records[1].benchmark, "all_reduce/bytes:1048576/in_place");
  EXPECT_EQ(oop.backend, Backend::kNccl);
  EXPECT_EQ(oop.verification, Verification::kPassed);
  EXPECT_EQ(oop.parameters["ranks"], 4);
  EXPECT_EQ(oop.parameters["nodes"], 2);
  EXPECT_EQ(oop.parameters["root"], -1);
  EXPECT_EQ(oop.parameters["count"], 262144);
  EXPECT_DOUBLE_EQ(metric(oop, "time").values.at(0), 40e-6);
  EXPECT_DOUBLE_EQ(metric(oop, "algbw").values.at(0), 26.2144e9);
  EXPECT_DOUBLE_EQ(metric(oop, "busbw").values.at(0), 39.3216e9);
  EXPECT_FALSE(oop.parameters.contains("model_input"));  // no send_recv in this file
}

TEST(NcclTestsConvert, ProvenanceIsTheRunsNotTheConvertingMachines) {
  const Results r = convert(document("all_reduce_perf", {line(8, 20, 0.0004, 0.0006, 0.0)}));
  EXPECT_EQ(r.run.host, "a");
  EXPECT_EQ(r.run.sysinfo["hosts"], json({"a", "b"}));
  ASSERT_EQ(r.run.sysinfo["cuda_devices"].size(), 4u);
  EXPECT_EQ(r.run.sysinfo["cuda_devices"][3]["name"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(r.run.library_versions["nccl"], "2.28.3");
  // Only NCCL_* variables: the file holds the whole environment, secrets included.
  EXPECT_EQ(r.run.environment, json({{"NCCL_IB_HCA", "mlx5"}, {"NCCL_DEBUG", "WARN"}}));
  EXPECT_EQ(r.run.extra["nccl_tests"]["start_time"], "2026-11-30 09:14:02");
  // What it writes is a valid results file.
  EXPECT_NO_THROW(from_json(to_json(r), "round trip"));
}

TEST(NcclTestsConvert, ValidationOffFailuresNansAndRepeatsAreKept) {
  json rows = {line(1024, 19, 0.05, 0.05, 0.0), line(2048, 20, 0.1, 0.1, nullptr),
               line(4096, 21, 0.2, 0.2, 7.0), line(8192, 22, 0.4, 0.4, 0.0)};
  rows[3]["out_of_place"]["time"] = "nan";
  rows.push_back(line(1024, 38, 0.025, 0.025, 0.0));  // -N 2: the second cycle
  const Results r = convert(document("sendrecv_perf", rows));
  ASSERT_EQ(r.records.size(), 8u);
  // The repeated line is a second repetition of the same record.
  EXPECT_EQ(metric(r.records[0], "time").values, (std::vector<double>{19e-6, 38e-6}));
  EXPECT_EQ(r.records[2].verification, Verification::kNotChecked);  // nwrong null (-c 0)
  EXPECT_EQ(r.records[4].verification, Verification::kFailed);
  EXPECT_NE(r.records[4].verification_detail.find("7 wrong elements"), std::string::npos);
  EXPECT_EQ(r.records[6].verification, Verification::kError);  // the "nan" time
  EXPECT_TRUE(r.records[6].metrics.empty());
  // The smallest send_recv that passed is the latency input: hosts a and b, so inter-node.
  EXPECT_EQ(r.records[0].parameters["model_input"], "latency.inter_node");
  for (std::size_t i = 1; i < r.records.size(); ++i)
    EXPECT_FALSE(r.records[i].parameters.contains("model_input")) << i;
}

TEST(NcclTestsConvert, PerIterationTimesAreTheRepetitions) {
  json row = line(1048576, 40, 26.2144, 26.2144, 0.0);
  row["out_of_place_per_iter"] = {{"times_us", {32.0, 40.0, 64.0}}};
  const Results r = convert(document("alltoall_perf", {row}));
  EXPECT_EQ(r.records[0].benchmark, "all_to_all/bytes:1048576/out_of_place");
  EXPECT_EQ(metric(r.records[0], "time").values, (std::vector<double>{32e-6, 40e-6, 64e-6}));
  // Bandwidth scales as 1 / time from the line's average: 26.2144 x 40 / 32.
  EXPECT_DOUBLE_EQ(metric(r.records[0], "algbw").values[0], 32.768e9);
  EXPECT_EQ(metric(r.records[1], "time").values.size(), 1u);  // in-place had no -I list
}

TEST(NcclTestsConvert, SeveralTypesNameTheRecords) {
  json rows = {line(64, 10, 0.0064, 0.0064, 0.0), line(64, 10, 0.0064, 0.0064, 0.0)};
  rows[1]["type"] = "half";
  const Results r = convert(document("all_gather_perf", rows));
  EXPECT_EQ(r.records[0].benchmark, "all_gather/bytes:64/out_of_place/type:float");
  EXPECT_EQ(r.records[2].benchmark, "all_gather/bytes:64/out_of_place/type:half");
}

std::string error_of(const json& doc) {
  try {
    convert(doc);
  } catch (const cobench::Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(NcclTestsConvert, WhatIsNotNcclTestsJsonIsRefusedWithItsPath) {
  const json good = document("all_reduce_perf", {line(8, 20, 0.0004, 0.0006, 0.0)});
  EXPECT_EQ(error_of(json::array()), "t.json: $: expected an object (nccl-tests -J output)");
  json d = good;
  d["version"] = 3;
  EXPECT_NE(error_of(d).find("t.json: $.version: nccl-tests JSON version 3 is not supported"),
            std::string::npos);
  d = good;
  d.erase("results");
  EXPECT_EQ(error_of(d), "t.json: $: no key 'results' (is this nccl-tests -J output?)");
  d = good;
  d["results"][0]["root"] = "x";
  EXPECT_EQ(error_of(d), "t.json: $.results[0].root: expected an integer, got \"x\"");
  d = good;
  d["results"][0]["out_of_place"]["alg_bw"] = true;
  EXPECT_EQ(error_of(d), "t.json: $.results[0].out_of_place.alg_bw: expected a number, got true");
  d = good;
  d["config"]["devices"] = json::array();
  EXPECT_NE(error_of(d).find("$.config.devices: expected a list"), std::string::npos);
}

}  // namespace
