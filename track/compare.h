// SPDX-License-Identifier: Apache-2.0
// `cobench compare`: two results files, benchmark by benchmark. Records match by (suite,
// benchmark, backend), which a results file holds once each; for each the chosen metric's medians
// give the relative change and the repetitions the two-sided Mann-Whitney U p-value; each row is
// classified faster, slower, same, too noisy, or too few (repetitions that cannot reach the
// significance level whatever the values). docs/tracking.md describes the statistics and the
// output.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/results.h"

namespace cobench::track {

/// Thrown when the two runs come from different hardware and the comparison is not forced.
class HardwareMismatch : public Error {
 public:
  using Error::Error;
};

struct CompareOptions {
  double threshold = 0.05;  ///< |relative change| below this is "same"
  double alpha = 0.05;      ///< significance level of the U test
  int min_repetitions = 3;  ///< fewer values on either side: not significant ("too noisy")
  std::string metric;       ///< empty: the time metric ("time", else "real_time")
  bool force = false;       ///< compare runs from different hardware anyway
};

/// kTooFew: the change reaches the threshold but the repetitions cannot (fewer than
/// --min-repetitions, or so few that even completely separated samples give p >= alpha).
enum class Verdict { kFaster, kSlower, kSame, kTooNoisy, kTooFew };
std::string_view to_string(Verdict v);

struct Comparison {
  std::string suite, benchmark, metric, unit;
  results::Backend backend = results::Backend::kCpu;
  bool higher_is_better = false;
  std::vector<double> baseline_values, current_values;
  double baseline_median = 0, current_median = 0;
  double change = 0;   ///< (current - baseline) / baseline of the medians
  double p_value = 1;  ///< two-sided Mann-Whitney U
  /// The smallest two-sided p-value these sample sizes allow, 2 / C(n1 + n2, n1).
  double min_p_value = 1;
  /// kTooFew: the repetitions a side that would let a change reach alpha (and the minimum).
  int needed_repetitions = 0;
  Verdict verdict = Verdict::kSame;
  results::Verification baseline_verification = results::Verification::kNotChecked;
  results::Verification current_verification = results::Verification::kNotChecked;
  /// True when either side's verification is not "passed".
  bool flagged() const;
};

/// A run as the report names it.
struct RunInfo {
  std::string file, utc_time, git_commit, host;
  std::string machine;  ///< the machine key of its sysinfo (core/machine_identity.h), or ""
};

struct BenchmarkId {
  std::string suite, benchmark;
  results::Backend backend = results::Backend::kCpu;
};

struct CompareReport {
  RunInfo baseline, current;
  CompareOptions options;
  std::vector<Comparison> rows;
  std::vector<BenchmarkId> added;    ///< only in the current run
  std::vector<BenchmarkId> removed;  ///< only in the baseline
  /// Records in both runs that could not be compared, with the reason (e.g. the metric is
  /// missing on one side).
  std::vector<std::string> skipped;
  /// What differs in the hardware (non-empty only when forced).
  std::vector<std::string> hardware_differences;
  int count(Verdict v) const;
  /// A significant regression: some row is "slower".
  bool regression() const { return count(Verdict::kSlower) > 0; }
};

/// The smallest two-sided p-value of the exact Mann-Whitney U test with n1 and n2 values (the
/// samples completely separated): 2 / C(n1 + n2, n1), at most 1.
double min_two_sided_p(std::size_t n1, std::size_t n2);
/// The fewest repetitions n a side for which min_two_sided_p(n, n) < alpha (at least `floor`).
int repetitions_needed(double alpha, int floor);

/// Whether a metric improves as it grows: units B/s, FLOP/s and 1/s; everything else (times)
/// improves as it shrinks.
bool higher_is_better(std::string_view unit);

/// The metric a record is compared and tracked by: `name` when given (nullptr when the record
/// lacks it); else "time", else "real_time", else the first B/s or FLOP/s metric, else nullptr.
const results::Metric* select_metric(const results::Record& r, std::string_view name);

/// What differs between the machines of two sysinfo snapshots (run.sysinfo;
/// core/machine_identity.h: CPU vendor, model, family, model number, stepping, features, counts;
/// GPUs; NICs), one sentence each; empty when they agree or a snapshot does not say.
std::vector<std::string> hardware_differences(const nlohmann::json& baseline_sysinfo,
                                              const nlohmann::json& current_sysinfo);

/// Compares two runs. Throws HardwareMismatch naming what differs unless `options.force`.
CompareReport compare(const results::Results& baseline, const RunInfo& baseline_info,
                      const results::Results& current, const RunInfo& current_info,
                      const CompareOptions& options);

/// Reads both files (core/results_io.h) and compares them.
CompareReport compare_files(const std::string& baseline, const std::string& current,
                            const CompareOptions& options);

std::string format_text(const CompareReport& r);
/// A Markdown summary and table for CI comments; text from the files (names, hosts, commits) is
/// escaped (core/markdown.h): it makes no HTML, link or table cell of its own.
std::string format_markdown(const CompareReport& r);
nlohmann::json to_json(const CompareReport& r);

}  // namespace cobench::track
