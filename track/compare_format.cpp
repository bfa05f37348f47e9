// SPDX-License-Identifier: Apache-2.0
// The text, Markdown and JSON forms of a CompareReport.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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

std::string percent(double change) {
  if (std::isinf(change)) return change > 0 ? "+inf" : "-inf";
  return fmt::format("{:+.1f}%", change * 100);
}

std::string verification_flag(const Comparison& c) {
  if (!c.flagged()) return "";
  return fmt::format("verification: baseline {}, current {}",
                     results::to_string(c.baseline_verification),
                     results::to_string(c.current_verification));
}

std::string run_line(const char* what, const RunInfo& r) {
  return fmt::format("{} {} ({}, {}, commit {})", what, r.file, r.utc_time, r.host, r.git_commit);
}

std::string summary(const CompareReport& r) {
  return fmt::format("{} slower, {} faster, {} same, {} too noisy; {} added, {} removed",
                     r.count(Verdict::kSlower), r.count(Verdict::kFaster), r.count(Verdict::kSame),
                     r.count(Verdict::kTooNoisy), r.added.size(), r.removed.size());
}

// Markdown table cell: '|' would end the cell, and a newline the row.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

// Markdown inline code outside a table: no escaping inside, so a backtick cannot end it early.
std::string code(std::string_view s) {
  std::string out = "`";
  for (char c : s) out += c == '`' ? '\'' : c;
  return out + "`";
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; }

}  // namespace

std::string format_text(const CompareReport& r) {
  std::string out =
      run_line("baseline", r.baseline) + "\n" + run_line("current ", r.current) + "\n";
  for (const auto& d : r.hardware_differences)
    out += fmt::format("warning: different hardware (--force): {}\n", d);
  size_t width = 9;
  for (const auto& c : r.rows) width = std::max(width, c.suite.size() + c.benchmark.size() + 1);
  if (!r.rows.empty())
    out += fmt::format("\n{:<{}}  {:<10} {:>12} {:>12} {:>8} {:>8} {:>5}  {}\n", "benchmark", width,
                       "metric", "baseline", "current", "change", "p-value", "n", "verdict");
  else
    out += "\nno benchmark in both runs to compare\n";
  for (const auto& c : r.rows) {
    const std::string flag = verification_flag(c);
    out +=
        fmt::format("{:<{}}  {:<10} {:>12} {:>12} {:>8} {:>8.4f} {:>5}  {}{}\n",
                    c.suite + "/" + c.benchmark, width, c.metric, value(c.baseline_median, c.unit),
                    value(c.current_median, c.unit), percent(c.change), c.p_value,
                    fmt::format("{}/{}", c.baseline_values.size(), c.current_values.size()),
                    to_string(c.verdict), flag.empty() ? "" : "  [" + flag + "]");
  }
  for (const auto& a : r.added) out += fmt::format("added    {}/{}\n", a.suite, a.benchmark);
  for (const auto& a : r.removed) out += fmt::format("removed  {}/{}\n", a.suite, a.benchmark);
  for (const auto& s : r.skipped) out += fmt::format("skipped  {}\n", s);
  out += "\n" + summary(r) + "\n";
  return out;
}

std::string format_markdown(const CompareReport& r) {
  std::string out = fmt::format(
      "### cobench compare: {}\n\n{}\n\nBaseline {} ({}, commit {}), current {} ({}, "
      "commit {}); threshold {:.1f}%, alpha {}, at least {} repetitions.\n",
      r.regression() ? "regression" : "no significant regression", summary(r),
      code(r.baseline.file), r.baseline.utc_time, code(r.baseline.git_commit), code(r.current.file),
      r.current.utc_time, code(r.current.git_commit), r.options.threshold * 100, r.options.alpha,
      r.options.min_repetitions);
  for (const auto& d : r.hardware_differences)
    out += fmt::format("\n**Different hardware (forced):** {}\n", d);
  if (!r.rows.empty()) {
    out +=
        "\n| benchmark | metric | baseline | current | change | p-value | n | verdict |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n";
    // Regressions first, then improvements, noise, and unchanged; by name within each.
    std::vector<const Comparison*> order;
    for (const auto& c : r.rows) order.push_back(&c);
    constexpr Verdict kOrder[] = {Verdict::kSlower, Verdict::kFaster, Verdict::kTooNoisy,
                                  Verdict::kSame};
    auto rank = [&](const Comparison* c) {
      return std::find(std::begin(kOrder), std::end(kOrder), c->verdict) - std::begin(kOrder);
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](const auto* a, const auto* b) { return rank(a) < rank(b); });
    for (const Comparison* row : order) {
      const Comparison& c = *row;
      const std::string flag = verification_flag(c);
      const bool bold = c.verdict == Verdict::kSlower;
      out += fmt::format("| {} | {} | {} | {} | {} | {:.4f} | {}/{} | {}{}{}{} |\n",
                         cell(c.suite + "/" + c.benchmark), cell(c.metric),
                         value(c.baseline_median, c.unit), value(c.current_median, c.unit),
                         percent(c.change), c.p_value, c.baseline_values.size(),
                         c.current_values.size(), bold ? "**" : "", to_string(c.verdict),
                         bold ? "**" : "", flag.empty() ? "" : " ⚠ " + cell(flag));
    }
  }
  auto list = [&out](const char* title, const std::vector<BenchmarkId>& ids) {
    if (ids.empty()) return;
    out += fmt::format("\n{}:\n", title);
    for (const auto& id : ids) out += fmt::format("- {}\n", code(id.suite + "/" + id.benchmark));
  };
  list("Added (only in the current run)", r.added);
  list("Removed (only in the baseline)", r.removed);
  if (!r.skipped.empty()) {
    out += "\nNot compared:\n";
    for (const auto& s : r.skipped) out += fmt::format("- {}\n", s);
  }
  return out;
}

nlohmann::json to_json(const CompareReport& r) {
  using nlohmann::json;
  auto run = [](const RunInfo& i) {
    return json{
        {"file", i.file}, {"utc_time", i.utc_time}, {"git_commit", i.git_commit}, {"host", i.host}};
  };
  json rows = json::array();
  for (const auto& c : r.rows)
    rows.push_back({{"suite", c.suite},
                    {"benchmark", c.benchmark},
                    {"metric", c.metric},
                    {"unit", c.unit},
                    {"higher_is_better", c.higher_is_better},
                    {"baseline_values", c.baseline_values},
                    {"current_values", c.current_values},
                    {"baseline_median", c.baseline_median},
                    {"current_median", c.current_median},
                    {"relative_change", number_or_null(c.change)},
                    {"p_value", c.p_value},
                    {"verdict", to_string(c.verdict)},
                    {"baseline_verification", results::to_string(c.baseline_verification)},
                    {"current_verification", results::to_string(c.current_verification)},
                    {"flagged", c.flagged()}});
  auto ids = [](const std::vector<BenchmarkId>& v) {
    json a = json::array();
    for (const auto& id : v) a.push_back({{"suite", id.suite}, {"benchmark", id.benchmark}});
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
            {"added", r.added.size()},
            {"removed", r.removed.size()}}},
          {"regression", r.regression()}};
}

}  // namespace cobench::track
