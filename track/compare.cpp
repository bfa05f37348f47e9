// SPDX-License-Identifier: Apache-2.0
#include "track/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "core/machine_identity.h"
#include "core/results_io.h"
#include "core/stats.h"
#include "track/mann_whitney.h"

namespace cobench::track {
namespace {

using results::Record;

using RecordKey = std::tuple<std::string, std::string, results::Backend>;

// Records by (suite, benchmark, backend); a valid results file holds each once.
std::map<RecordKey, const Record*> index(const results::Results& r) {
  std::map<RecordKey, const Record*> m;
  for (const auto& rec : r.records)
    m.emplace(RecordKey{rec.suite, rec.benchmark, rec.backend}, &rec);
  return m;
}

Verdict classify(const Comparison& c, const CompareOptions& o) {
  if (std::abs(c.change) < o.threshold) return Verdict::kSame;
  const auto min_n = static_cast<std::size_t>(std::max(o.min_repetitions, 1));
  if (c.baseline_values.size() < min_n || c.current_values.size() < min_n ||
      !(c.min_p_value < o.alpha))
    return Verdict::kTooFew;
  if (!(c.p_value < o.alpha)) return Verdict::kTooNoisy;
  const bool grew = c.change > 0;
  return grew == c.higher_is_better ? Verdict::kFaster : Verdict::kSlower;
}

}  // namespace

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kFaster:
      return "faster";
    case Verdict::kSlower:
      return "slower";
    case Verdict::kSame:
      return "same";
    case Verdict::kTooNoisy:
      return "too noisy";
    case Verdict::kTooFew:
      return "too few";
  }
  return "?";
}

bool Comparison::flagged() const {
  return baseline_verification != results::Verification::kPassed ||
         current_verification != results::Verification::kPassed;
}

int CompareReport::count(Verdict v) const {
  return static_cast<int>(
      std::count_if(rows.begin(), rows.end(), [v](const auto& c) { return c.verdict == v; }));
}

double min_two_sided_p(std::size_t n1, std::size_t n2) {
  // C(n1 + n2, n1) in floating point: exact enough for a p-value, and no overflow.
  double c = 1;
  const std::size_t k = std::min(n1, n2), n = n1 + n2;
  for (std::size_t i = 1; i <= k; ++i)
    c = c * static_cast<double>(n - k + i) / static_cast<double>(i);
  return std::min(1.0, 2 / c);
}

int repetitions_needed(double alpha, int floor) {
  int n = std::max(floor, 1);
  while (n < 1000 &&
         !(min_two_sided_p(static_cast<std::size_t>(n), static_cast<std::size_t>(n)) < alpha))
    ++n;
  return n;
}

bool higher_is_better(std::string_view unit) {
  return unit == "B/s" || unit == "FLOP/s" || unit == "1/s";
}

const results::Metric* select_metric(const Record& r, std::string_view name) {
  auto find = [&r](std::string_view n) -> const results::Metric* {
    for (const auto& m : r.metrics)
      if (m.name == n) return &m;
    return nullptr;
  };
  if (!name.empty()) return find(name);
  if (const auto* m = find("time")) return m;
  if (const auto* m = find("real_time")) return m;
  for (const auto& m : r.metrics)
    if (m.unit == "B/s" || m.unit == "FLOP/s") return &m;
  return nullptr;
}

std::vector<std::string> hardware_differences(const nlohmann::json& a, const nlohmann::json& b) {
  return identity_differences(machine_identity(a), machine_identity(b));
}

CompareReport compare(const results::Results& baseline, const RunInfo& baseline_info,
                      const results::Results& current, const RunInfo& current_info,
                      const CompareOptions& options) {
  CompareReport rep;
  rep.baseline = baseline_info;
  rep.current = current_info;
  rep.options = options;
  rep.hardware_differences = hardware_differences(baseline.run.sysinfo, current.run.sysinfo);
  if (!rep.hardware_differences.empty() && !options.force) {
    std::string what;
    for (const auto& d : rep.hardware_differences) what += (what.empty() ? "" : "; ") + d;
    throw HardwareMismatch(fmt::format(
        "refusing to compare runs from different hardware: {} ({} vs {}); --force compares "
        "them anyway",
        what, baseline_info.file, current_info.file));
  }
  if (!options.metric.empty()) {
    // A --metric that no record of either run has would skip every benchmark and exit 0: a
    // regression gate that can never fire.
    std::set<std::string> names;
    for (const auto* r : {&baseline, &current})
      for (const auto& rec : r->records)
        for (const auto& m : rec.metrics) names.insert(m.name);
    if (names.count(options.metric) == 0) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw UsageError(fmt::format("--metric '{}': no record of {} or {} has it; their metrics: {}",
                                   options.metric, baseline_info.file, current_info.file,
                                   list.empty() ? "none" : list));
    }
  }
  const auto base = index(baseline), cur = index(current);
  for (const auto& [key, b] : base)
    if (!cur.count(key)) rep.removed.push_back({b->suite, b->benchmark, b->backend});
  for (const auto& [key, c] : cur) {
    const auto it = base.find(key);
    if (it == base.end()) {
      rep.added.push_back({c->suite, c->benchmark, c->backend});
      continue;
    }
    const Record& b = *it->second;
    const results::Metric* mb = select_metric(b, options.metric);
    const results::Metric* mc = select_metric(*c, options.metric);
    const std::string name = c->suite + "/" + c->benchmark;
    if (!mb || !mc || mb->name != mc->name || mb->values.empty() || mc->values.empty()) {
      rep.skipped.push_back(
          fmt::format("{}: {}", name,
                      options.metric.empty()
                          ? std::string("no common time, bandwidth or FLOP-rate metric with values")
                          : fmt::format("metric '{}' is missing on {}", options.metric,
                                        !mb ? "the baseline" : "the current side")));
      continue;
    }
    if (mb->unit != mc->unit) {
      rep.skipped.push_back(fmt::format("{}: metric '{}' is in '{}' in the baseline but '{}' now",
                                        name, mb->name, mb->unit, mc->unit));
      continue;
    }
    Comparison row;
    row.suite = c->suite;
    row.benchmark = c->benchmark;
    row.backend = c->backend;
    row.metric = mb->name;
    row.unit = mb->unit;
    row.higher_is_better = higher_is_better(mb->unit);
    row.baseline_values = mb->values;
    row.current_values = mc->values;
    row.baseline_median = summarize(mb->values).median;
    row.current_median = summarize(mc->values).median;
    row.change = row.baseline_median == row.current_median
                     ? 0
                     : (row.current_median - row.baseline_median) / std::abs(row.baseline_median);
    // From 0, or from a median so small (or to one so large) that the ratio leaves a double's
    // range, there is no relative change to judge: said, never printed as "+inf".
    if (!std::isfinite(row.change)) {
      rep.skipped.push_back(
          fmt::format("{}: no relative change from a baseline median of {:g} {} to {:g} {}", name,
                      row.baseline_median, mb->unit, row.current_median, mc->unit));
      continue;
    }
    row.p_value = mann_whitney_u(mb->values, mc->values).p_value;
    row.min_p_value = min_two_sided_p(mb->values.size(), mc->values.size());
    row.baseline_verification = b.verification;
    row.current_verification = c->verification;
    row.verdict = classify(row, options);
    if (row.verdict == Verdict::kTooFew)
      row.needed_repetitions = repetitions_needed(options.alpha, options.min_repetitions);
    rep.rows.push_back(std::move(row));
  }
  return rep;
}

CompareReport compare_files(const std::string& baseline, const std::string& current,
                            const CompareOptions& options) {
  const results::Results b = results::read(baseline), c = results::read(current);
  auto info = [](const std::string& file, const results::Results& r) {
    return RunInfo{file, r.run.utc_time, r.run.git_commit, r.run.host,
                   machine_identity(r.run.sysinfo).key};
  };
  return compare(b, info(baseline, b), c, info(current, c), options);
}

}  // namespace cobench::track
