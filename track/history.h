// SPDX-License-Identifier: Apache-2.0
// `cobench history`: many results files ordered by run.utc_time, one series of medians per
// (suite, benchmark, metric), and the E-divisive change points of each series dated to the run
// that introduced them. docs/tracking.md describes the JSON the dashboard reads.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/results.h"
#include "track/changepoint.h"

namespace cobench::track {

struct HistoryOptions {
  std::string benchmark_regex;  ///< keep benchmarks whose name matches (search); empty: all
  std::string metric;           ///< empty: each record's time metric (select_metric)
  ChangePointOptions detector;
};

/// One run of a history.
struct HistoryRun {
  std::string file, utc_time, git_commit;
  results::Results results;
};

struct HistoryPoint {
  std::string file, utc_time, git_commit;
  double median = 0;
};

struct Series {
  std::string suite, benchmark, metric, unit;
  /// The machine its runs were measured on (core/machine_identity.h: the hardware key, or
  /// "host:<name>" for a run whose sysinfo has no hardware fields): runs of different machines
  /// never share a series.
  std::string machine;
  results::Backend backend = results::Backend::kCpu;
  std::vector<HistoryPoint> points;
  std::vector<ChangePoint> change_points;  ///< index into points: the first run after a change
};

/// The results files under `paths`: a file is taken as given (it must be a results file); a
/// directory is searched recursively, hidden entries (".name") left out, for *.json files whose
/// "schema" names cobench.results/...; other JSON documents are skipped (and listed in `skipped`
/// when given). Sorted by path. Throws cobench::Error for a missing path, and for a *.json file
/// that is not strict JSON (core/json_strict.h): a truncated results file is an error here as
/// when it is given by name, never dropped from the history.
std::vector<std::filesystem::path> find_results_files(
    const std::vector<std::string>& paths, std::vector<std::filesystem::path>* skipped = nullptr);

/// Reads the files and orders the runs by run.utc_time (then by file name).
std::vector<HistoryRun> load_history(const std::vector<std::filesystem::path>& files);

/// The series of `runs` (in the given order), one per (machine, suite, benchmark, backend,
/// metric), and
/// their change points, sorted by suite, benchmark, backend and metric. Throws cobench::Error for
/// an invalid regular expression.
std::vector<Series> build_series(const std::vector<HistoryRun>& runs, const HistoryOptions& o);

/// Hardware differences between runs (hardware_differences against the first run), so a
/// history that mixes machines can be warned about; empty when all agree.
std::vector<std::string> mixed_hardware(const std::vector<HistoryRun>& runs);

/// {"series": [...]} as docs/tracking.md specifies.
nlohmann::json to_json(const std::vector<Series>& series);
std::string format_text(const std::vector<Series>& series);

}  // namespace cobench::track
