// SPDX-License-Identifier: Apache-2.0
// Typed benchmark metadata: what a benchmark says about its run (verified or failed, the error
// against its reference, the model input it measures and its shape, the peak a metric is divided
// by) as fields, not as words in its name or label. A benchmark body calls report() (or
// fail_verification()); the benchmarks' main (bench_main.h) writes it into each of the run's
// entries of the Google Benchmark JSON output as a `cobench` object, which
// `cobench results from-gbench` (core/gbench_convert.h) reads into the record's verification,
// parameters and metric peaks. docs/results-format.md lists the fields. The human label stays
// free text: rewording it changes nothing the converter or the model reads.
//   bench::Metadata md = bench::verified("read, 2 threads");
//   md.model_input = "cpu.memory_bandwidth";
//   md.parameters = {{"mib", 512}};
//   md.peaks.push_back({"memory_bytes_per_s", "host memory peak (SMBIOS)", 2.1e10});
//   bench::report(state, std::move(md));
#pragma once

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace cobench::bench {

enum class Verdict { kNotChecked, kVerified, kFailed };

/// A metric of the run and the peak it is measured against, in that metric's unit.
struct PeakRef {
  std::string metric;  ///< the counter, e.g. "memory_bytes_per_s"
  std::string name;    ///< where the peak comes from, e.g. "host memory peak (SMBIOS)"
  double value = 0;    ///< positive, in the metric's unit
};

struct Metadata {
  Verdict verdict = Verdict::kNotChecked;
  std::string detail;                     ///< what was checked, or why it failed
  std::optional<double> reference_error;  ///< largest relative error against the reference
  std::string model_input;   ///< the model input it measures ("cpu.memory_bandwidth"); "": none
  std::string model_metric;  ///< the metric that feeds model_input, when the run has several
  nlohmann::json parameters = nlohmann::json::object();  ///< shape: name -> number|string|bool
  std::vector<PeakRef> peaks;
};

/// A passed verification: `detail` says what was checked (set the other fields after).
Metadata verified(std::string detail);

/// A passed verification with its human label: sets the label "verified: " + what, and returns
/// the metadata with the verdict, the error against the reference and the shape (add peaks, then
/// report()).
Metadata verified_run(benchmark::State& state, const std::string& what, double reference_error,
                      nlohmann::json shape);

/// Records `md` for the run `state` belongs to (from thread 0; other threads' calls are ignored).
/// A later call in the same benchmark replaces an earlier one, except that a failed verdict is
/// kept. Throws cobench::Error on a non-positive peak or a parameter that is not a number, string
/// or boolean.
void report(const benchmark::State& state, Metadata md);

/// Records a failed verification (`detail` says why) and ends the run with `detail` as its error.
void fail_verification(benchmark::State& state, const std::string& detail);

/// The `cobench` object written into each Google Benchmark JSON entry of the run.
nlohmann::json to_json(const Metadata& md);

namespace detail {
/// What report() recorded since the last call, and clears it (the main's reporter calls it once
/// per benchmark, after its repetitions); nullopt when nothing was reported.
std::optional<Metadata> take_reported();
}  // namespace detail

}  // namespace cobench::bench
