// SPDX-License-Identifier: Apache-2.0
// The results format: one JSON document per run, a header with provenance and a list of
// records, one per benchmark configuration. docs/results-format.md describes every field and
// docs/results.schema.json is its JSON Schema. Values are in SI base units ("s", "B", "B/s",
// "FLOP/s", "1/s", "1"), converted once when they are recorded.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cobench::results {

inline constexpr std::string_view kSchemaId = "cobench.results/1";

/// The units a metric may carry (SI base units; "1" is dimensionless).
inline constexpr std::string_view kUnits[] = {"s",   "B", "B/s", "FLOP", "FLOP/s",
                                              "1/s", "1", "Hz",  "W",    "C"};

enum class Backend { kCpu, kCuda, kMpi, kNccl };
enum class Verification { kPassed, kFailed, kError, kNotChecked };

std::string_view to_string(Backend b);
std::string_view to_string(Verification v);

/// A named peak the metric is measured against (same unit as the metric).
struct Peak {
  std::string name;  ///< e.g. "hbm_bandwidth (datasheet)"
  double value = 0;
};

struct Metric {
  std::string name;            ///< e.g. "time", "bandwidth", "real_time"
  std::string unit;            ///< one of kUnits
  std::vector<double> values;  ///< one per repetition
  std::optional<Peak> peak;
};

struct Record {
  std::string suite;      ///< e.g. "gemm", "collectives", "sysinfo"
  std::string benchmark;  ///< e.g. "BM_Fp8Gemm_Cuda/m:4096/n:7168/k:2048"
  Backend backend = Backend::kCpu;
  nlohmann::json parameters = nlohmann::json::object();  ///< name -> number | string | bool
  std::vector<Metric> metrics;
  Verification verification = Verification::kNotChecked;
  std::string verification_detail;
  /// Largest relative error against the reference, when the check measured one.
  std::optional<double> reference_error;
  nlohmann::json extra = nlohmann::json::object();  ///< free-form, kept verbatim
};

struct RunHeader {
  std::string cobench_version;
  std::string git_commit;
  std::string utc_time;  ///< ISO 8601, "2026-11-29T05:30:00Z"
  std::string host;
  std::vector<std::string> command_line;
  std::string build_type;
  nlohmann::json library_versions = nlohmann::json::object();  ///< name -> version string
  nlohmann::json environment = nlohmann::json::object();  ///< variable -> value or null (unset)
  nlohmann::json sysinfo = nlohmann::json::object();      ///< `cobench sysinfo --json` snapshot
  nlohmann::json gpu_clocks = nullptr;                    ///< per device, when known
  nlohmann::json extra = nlohmann::json::object();
};

struct Results {
  RunHeader run;
  std::vector<Record> records;
};

/// Serializes with the derived fields (median, min, max, mean, stddev, fraction of peak).
nlohmann::json to_json(const Results& r);

/// Validates and reads a document. Errors throw cobench::Error naming `source` and the JSON path
/// of the offending value: "run.json: $.records[2].metrics.time.values[1]: expected a number".
/// Stored statistics must agree with the values they summarize.
Results from_json(const nlohmann::json& doc, std::string_view source);

}  // namespace cobench::results
