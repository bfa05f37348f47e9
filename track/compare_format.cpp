// SPDX-License-Identifier: Apache-2.0
// The text, Markdown and JSON forms of a CompareReport.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "core/markdown.h"
#include "core/units.h"
#include "track/compare.h"

namespace cobench::track {
namespace {

std::string value(double v, const std::string& unit) {
  if (unit == "s") return format_seconds(Seconds(v), 4);
  if (unit == "B/s") return format_bandwidth(Bandwidth(v), 4);
  if (unit == "FLOP/s") return format_flop_rate(FlopRate(v), 4);
  if (unit == "B") return format_bytes(Bytes(v), Prefixes::kIec, 4);
  return fmt::format("{:.4g} {}", v, unit);
}

std::string percent(double change) { return fmt::format("{:+.1f}%", change * 100); }

std::string verification_flag(const Comparison& c) {
  if (!c.flagged()) return "";
  return fmt::format("verification: baseline {}, current {}",
                     results::to_string(c.baseline_verification),
                     results::to_string(c.current_verification));
}

std::string run_line(const char* what, const RunInfo& r) {
  return fmt::format("{} {} ({}, {}{}, commit {})", what, r.file, r.utc_time, r.host,
                     r.machine.empty() ? "" : ", machine " + r.machine, r.git_commit);
}

std::string summary(const CompareReport& r) {
  std::string out =
      fmt::format("{} slower, {} faster, {} same, {} too noisy", r.count(Verdict::kSlower),
                  r.count(Verdict::kFaster), r.count(Verdict::kSame), r.count(Verdict::kTooNoisy));
  if (const int few = r.count(Verdict::kTooFew); few > 0) {
    int needed = 0;
    for (const auto& c : r.rows) needed = std::max(needed, c.needed_repetitions);
    out += fmt::format(", {} too few (no verdict possible: {} repetitions a side needed)", few,
                       needed);
  }
  return out + fmt::format("; {} added, {} removed", r.added.size(), r.removed.size());
}

// "suite/benchmark", with the backend where the same suite and benchmark appear with another
// backend in the report (an MPI and an NCCL collective of one name).
class Names {
 public:
  explicit Names(const CompareReport& r) {
    std::map<std::pair<std::string, std::string>, std::set<results::Backend>> backends;
    auto note = [&](const std::string& s, const std::string& b, results::Backend be) {
      backends[{s, b}].insert(be);
    };
    for (const auto& c : r.rows) note(c.suite, c.benchmark, c.backend);
    for (const auto& a : r.added) note(a.suite, a.benchmark, a.backend);
    for (const auto& a : r.removed) note(a.suite, a.benchmark, a.backend);
    for (const auto& [key, set] : backends)
      if (set.size() > 1) ambiguous_.insert(key);
  }
  std::string operator()(const std::string& suite, const std::string& benchmark,
                         results::Backend backend) const {
    const std::string name = suite + "/" + benchmark;
    if (!ambiguous_.count({suite, benchmark})) return name;
    return fmt::format("{} [{}]", name, results::to_string(backend));
  }

 private:
  std::set<std::pair<std::string, std::string>> ambiguous_;
};

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; }

}  // namespace

std::string format_text(const CompareReport& r) {
  std::string out =
      run_line("baseline", r.baseline) + "\n" + run_line("current ", r.current) + "\n";
  for (const auto& d : r.hardware_differences)
    out += fmt::format("warning: different hardware (--force): {}\n", d);
  const Names name(r);
  size_t width = 9;
  for (const auto& c : r.rows)
    width = std::max(width, name(c.suite, c.benchmark, c.backend).size());
  if (!r.rows.empty())
    out += fmt::format("\n{:<{}}  {:<10} {:>12} {:>12} {:>8} {:>8} {:>5}  {}\n", "benchmark", width,
                       "metric", "baseline", "current", "change", "p-value", "n", "verdict");
  else
    out += "\nno benchmark in both runs to compare\n";
  for (const auto& c : r.rows) {
    const std::string flag = verification_flag(c);
    out += fmt::format("{:<{}}  {:<10} {:>12} {:>12} {:>8} {:>8.4f} {:>5}  {}{}\n",
                       name(c.suite, c.benchmark, c.backend), width, c.metric,
                       value(c.baseline_median, c.unit), value(c.current_median, c.unit),
                       percent(c.change), c.p_value,
                       fmt::format("{}/{}", c.baseline_values.size(), c.current_values.size()),
                       to_string(c.verdict), flag.empty() ? "" : "  [" + flag + "]");
  }
  for (const auto& a : r.added)
    out += fmt::format("added    {}\n", name(a.suite, a.benchmark, a.backend));
  for (const auto& a : r.removed)
    out += fmt::format("removed  {}\n", name(a.suite, a.benchmark, a.backend));
  for (const auto& s : r.skipped) out += fmt::format("skipped  {}\n", s);
  out += "\n" + summary(r) + "\n";
  return out;
}

std::string format_markdown(const CompareReport& r) {
  const Names name(r);
  auto code = [](std::string_view s) { return markdown_code(s); };
  std::string out = fmt::format(
      "### cobench compare: {}\n\n{}\n\nBaseline {} ({}, commit {}), current {} ({}, "
      "commit {}); threshold {:.1f}%, alpha {}, at least {} repetitions.\n",
      r.regression() ? "regression" : "no significant regression", summary(r),
      code(r.baseline.file), markdown_text(r.baseline.utc_time), code(r.baseline.git_commit),
      code(r.current.file), markdown_text(r.current.utc_time), code(r.current.git_commit),
      r.options.threshold * 100, r.options.alpha, r.options.min_repetitions);
  for (const auto& d : r.hardware_differences)
    out += fmt::format("\n**Different hardware (forced):** {}\n", markdown_text(d));
  if (!r.rows.empty()) {
    out +=
        "\n| benchmark | metric | baseline | current | change | p-value | n | verdict |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n";
    // Regressions first, then improvements, noise, and unchanged; by name within each.
    std::vector<const Comparison*> order;
    for (const auto& c : r.rows) order.push_back(&c);
    constexpr Verdict kOrder[] = {Verdict::kSlower, Verdict::kFaster, Verdict::kTooFew,
                                  Verdict::kTooNoisy, Verdict::kSame};
    auto rank = [&](const Comparison* c) {
      return std::find(std::begin(kOrder), std::end(kOrder), c->verdict) - std::begin(kOrder);
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](const auto* a, const auto* b) { return rank(a) < rank(b); });
    for (const Comparison* row : order) {
      const Comparison& c = *row;
      const std::string flag = verification_flag(c);
      const bool bold = c.verdict == Verdict::kSlower;
      out += fmt::format(
          "| {} | {} | {} | {} | {} | {:.4f} | {}/{} | {}{}{}{} |\n",
          markdown_text(name(c.suite, c.benchmark, c.backend)), markdown_text(c.metric),
          value(c.baseline_median, c.unit), value(c.current_median, c.unit), percent(c.change),
          c.p_value, c.baseline_values.size(), c.current_values.size(), bold ? "**" : "",
          to_string(c.verdict), bold ? "**" : "", flag.empty() ? "" : " ⚠ " + markdown_text(flag));
    }
  }
  auto list = [&](const char* title, const std::vector<BenchmarkId>& ids) {
    if (ids.empty()) return;
    out += fmt::format("\n{}:\n", title);
    for (const auto& id : ids)
      out += fmt::format("- {}\n", code(name(id.suite, id.benchmark, id.backend)));
  };
  list("Added (only in the current run)", r.added);
  list("Removed (only in the baseline)", r.removed);
  if (!r.skipped.empty()) {
    out += "\nNot compared:\n";
    for (const auto& s : r.skipped) out += fmt::format("- {}\n", markdown_text(s));
  }
  return out;
}

nlohmann::json to_json(const CompareReport& r) {
  using nlohmann::json;
  auto run = [](const RunInfo& i) {
    return json{{"file", i.file},
                {"utc_time", i.utc_time},
                {"git_commit", i.git_commit},
                {"host", i.host},
                {"machine", i.machine}};
  };
  json rows = json::array();
  for (const auto& c : r.rows)
    rows.push_back({{"suite", c.suite},
                    {"benchmark", c.benchmark},
                    {"backend", results::to_string(c.backend)},
                    {"metric", c.metric},
                    {"unit", c.unit},
                    {"higher_is_better", c.higher_is_better},
                    {"baseline_values", c.baseline_values},
                    {"current_values", c.current_values},
                    {"baseline_median", c.baseline_median},
                    {"current_median", c.current_median},
                    {"relative_change", number_or_null(c.change)},
                    {"p_value", c.p_value},
                    {"min_p_value", c.min_p_value},
                    {"verdict", to_string(c.verdict)},
                    {"baseline_verification", results::to_string(c.baseline_verification)},
                    {"current_verification", results::to_string(c.current_verification)},
                    {"flagged", c.flagged()}});
  auto ids = [](const std::vector<BenchmarkId>& v) {
    json a = json::array();
    for (const auto& id : v)
      a.push_back({{"suite", id.suite},
                   {"benchmark", id.benchmark},
                   {"backend", results::to_string(id.backend)}});
    return a;
  };
  return {{"baseline", run(r.baseline)},
          {"current", run(r.current)},
          {"options",
           {{"threshold", r.options.threshold},
            {"alpha", r.options.alpha},
            {"min_repetitions", r.options.min_repetitions},
            {"metric", r.options.metric},
            {"force", r.options.force}}},
          {"hardware_differences", r.hardware_differences},
          {"rows", rows},
          {"added", ids(r.added)},
          {"removed", ids(r.removed)},
          {"skipped", r.skipped},
          {"summary",
           {{"slower", r.count(Verdict::kSlower)},
            {"faster", r.count(Verdict::kFaster)},
            {"same", r.count(Verdict::kSame)},
            {"too_noisy", r.count(Verdict::kTooNoisy)},
            {"too_few", r.count(Verdict::kTooFew)},
            {"added", r.added.size()},
            {"removed", r.removed.size()}}},
          {"regression", r.regression()}};
}

}  // namespace cobench::track
