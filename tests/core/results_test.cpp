// SPDX-License-Identifier: Apache-2.0
#include "core/results.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/provenance.h"
#include "core/results_io.h"
#include "tests/test_util.h"

namespace {

using namespace cobench::results;
using nlohmann::json;

Results sample() {
  Results r;
  r.run = cobench::make_run_header({"cobench", "test"});
  r.run.sysinfo = {{"host", "h"}};
  Record rec;
  rec.suite = "kv";
  rec.benchmark = "BM_Copy/bytes:1024";
  rec.backend = Backend::kCpu;
  rec.parameters = {{"bytes", 1024}, {"mode", "copy"}};
  rec.metrics.push_back({"time", "s", {1.0, 2.0, 3.0}, std::nullopt});
  rec.metrics.push_back({"bandwidth", "B/s", {2.0, 1.0, 3.0}, Peak{"dram (datasheet)", 4.0}});
  rec.verification = Verification::kPassed;
  rec.verification_detail = "bytes equal";
  r.records.push_back(rec);
  return r;
}

std::string error_of(const json& doc) {
  try {
    from_json(doc, "r.json");
  } catch (const cobench::Error& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

TEST(Results, DerivedStatisticsAndPeakFraction) {
  const json j = to_json(sample());
  EXPECT_EQ(j["schema"], "cobench.results/1");
  const json& bw = j["records"][0]["metrics"]["bandwidth"];
  EXPECT_EQ(bw["median"], 2.0);
  EXPECT_EQ(bw["min"], 1.0);
  EXPECT_EQ(bw["max"], 3.0);
  EXPECT_EQ(bw["stddev"], 1.0);
  EXPECT_EQ(bw["peak"]["fraction"], 0.5);  // median 2 of a peak of 4
}

TEST(Results, RoundTripsThroughJson) {
  const Results a = sample();
  const json once = to_json(a);
  const Results b = from_json(once, "mem");
  EXPECT_EQ(to_json(b), once);
  EXPECT_EQ(b.records[0].verification, Verification::kPassed);
  EXPECT_EQ(b.run.environment.contains("OPENBLAS_CORETYPE"), true);
}

TEST(Results, TheRunHeaderNamesItsMachine) {
  // Written with the machine its sysinfo describes (core/machine_identity.h), read back, and a
  // sysinfo without hardware fields writes none.
  Results r = sample();
  r.run.sysinfo = {{"host", "vm"},
                   {"cpu", {{"model", "AMD EPYC"}, {"family", 23}, {"cores", 2}}},
                   {"pci_devices", json::array()}};
  const json j = to_json(r);
  ASSERT_TRUE(j["run"].contains("machine"));
  EXPECT_EQ(j["run"]["machine"]["key"].get<std::string>().size(), 16u);
  EXPECT_EQ(j["run"]["machine"]["label"], "vm");
  EXPECT_EQ(j["run"]["machine"]["fields"]["cpu.family"], "23");
  EXPECT_EQ(j["run"]["machine"]["fields"]["gpus"], "none");
  EXPECT_NO_THROW(from_json(j, "r.json"));
  EXPECT_FALSE(to_json(sample())["run"].contains("machine"));
}

TEST(Results, ValidationNamesTheJsonPath) {
  json j = to_json(sample());
  json bad = j;
  bad["records"][0]["metrics"]["time"]["values"][1] = "fast";
  EXPECT_EQ(error_of(bad),
            "r.json: $.records[0].metrics.time.values[1]: expected a number, got string");
  bad = j;
  bad["records"][0]["backend"] = "tpu";
  EXPECT_EQ(error_of(bad),
            "r.json: $.records[0].backend: 'tpu' is not one of: cpu, cuda, mpi, nccl");
  bad = j;
  bad["records"][0]["metrics"]["time"]["unit"] = "ms";
  EXPECT_NE(error_of(bad).find("$.records[0].metrics.time.unit: 'ms' is not one of"),
            std::string::npos);
  bad = j;
  bad["run"]["hots"] = "x";
  EXPECT_EQ(error_of(bad), "r.json: $.run.hots: unknown key");
  bad = j;
  bad["run"].erase("host");
  EXPECT_EQ(error_of(bad), "r.json: $.run: missing required key 'host'");
  bad = j;
  bad["schema"] = "cobench.results/0";
  EXPECT_NE(error_of(bad).find("unsupported schema 'cobench.results/0'"), std::string::npos);
  bad = j;
  bad["run"]["utc_time"] = "yesterday";
  EXPECT_EQ(error_of(bad),
            "r.json: $.run.utc_time: 'yesterday' is not an ISO 8601 UTC time of the calendar "
            "(YYYY-MM-DDTHH:MM:SS[.fraction]Z, year from 0001)");
  bad = j;
  bad["records"][0]["verification"]["status"] = "ok";
  EXPECT_NE(error_of(bad).find("$.records[0].verification.status: 'ok' is not one of"),
            std::string::npos);
}

TEST(Results, StoredStatisticsMustMatchTheValues) {
  json bad = to_json(sample());
  bad["records"][0]["metrics"]["time"]["median"] = 2.5;  // values are 1, 2, 3
  EXPECT_EQ(error_of(bad),
            "r.json: $.records[0].metrics.time.median: stored 2.5 disagrees with 2 computed from "
            "the values");
  bad = to_json(sample());
  bad["records"][0]["metrics"]["bandwidth"]["peak"]["fraction"] = 0.9;
  EXPECT_NE(error_of(bad).find("$.records[0].metrics.bandwidth.peak.fraction: stored 0.9"),
            std::string::npos);
}

TEST(Results, FileNameSortsByTime) {
  RunHeader h;
  h.utc_time = "2026-11-29T05:30:00.123Z";
  h.host = "gpu node/1";
  EXPECT_EQ(default_file_name(h, "quick"), "20261129T053000Z_gpu-node-1_quick.json");
}

// The writer applies the reader's rules: a file it makes is never one `results validate` refuses.
TEST(Results, WriteRefusesWhatAReaderWouldAndWritesNothing) {
  const auto path = std::filesystem::path(testing::TempDir()) / "cobench_results_bad.json";
  std::filesystem::remove(path);
  Results r = sample();
  r.records[0].metrics[0].values[0] = -1;
  const std::string e = cobench::test::error_of([&] { write(path, r); });
  EXPECT_NE(e.find(path.string() + ": $.records[0].metrics." + r.records[0].metrics[0].name +
                   ".values[0]: -1 is negative"),
            std::string::npos)
      << e;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Results, WriteThenReadAndNeverOverwrite) {
  const auto path = std::filesystem::path(testing::TempDir()) / "cobench_results_test.json";
  std::filesystem::remove(path);
  const Results r = sample();
  write(path, r);
  EXPECT_EQ(to_json(read(path)), to_json(r));
  try {
    write(path, r);
    FAIL() << "overwrote an existing result";
  } catch (const cobench::Error& e) {
    EXPECT_NE(std::string(e.what()).find("refusing to overwrite"), std::string::npos);
  }
  EXPECT_EQ(read(path).records.size(), 1u);  // the first result is intact
  std::filesystem::remove(path);
}

}  // namespace
