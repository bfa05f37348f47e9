// SPDX-License-Identifier: Apache-2.0
#include "topologies/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "core/markdown.h"

namespace cobench::topo {
namespace {

// Numbers for people: 4 significant digits, no exponent; 1000 and above as whole numbers, up to
// 10^15 (beyond it, as an absurd input can give, 4 digits and an exponent, not 40 digits).
std::string number(double v) {
  if (!std::isfinite(v)) return fmt::format("{}", v);
  if (std::fabs(v) >= 1e15) return fmt::format("{:.4g}", v);
  if (std::fabs(v) >= 1000) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

// A row's values and unit as printed: the unit scaled to the row's size (the JSON keeps the base
// unit). One convention, docs/model.md "Units in reports":
//   s                      ms, us or ns below 1 s;
//   B (bytes), B/s         SI prefixes, decimal: kB, MB, GB, TB (kB/s ... TB/s);
//   FLOP, FLOP/s           k, M, G, T FLOP(/s);
//   a noun (params, tokens, GPUs, tok/s ...)  from a million on M, B (billion), T (trillion)
//                          before the noun: "671 B params", "272.1 B tokens"; B never stands
//                          alone for a billion;
//   no unit                M or G from a million on.
struct Display {
  double factor = 1;
  std::string unit;
};

// The units that take SI prefixes glued to them (kB, GB/s) rather than a count's M/B/T.
bool is_bytes(const std::string& u) { return u == "B" || u == "B/s"; }

Display display_of(const ReportRow& row) {
  const double size = std::max(std::fabs(row.cobench), row.paper ? std::fabs(*row.paper) : 0.0);
  const std::string& u = row.unit;
  if (size == 0 || !std::isfinite(size)) return {1, u};
  if (u == "s") {
    if (size < 1e-6) return {1e9, "ns"};
    if (size < 1e-3) return {1e6, "us"};
    if (size < 1) return {1e3, "ms"};
    return {1, u};
  }
  if (is_bytes(u) || u == "FLOP/s" || u == "FLOP") {
    const std::string sep = is_bytes(u) ? "" : " ";
    if (size >= 1e12) return {1e-12, "T" + sep + u};
    if (size >= 1e9) return {1e-9, "G" + sep + u};
    if (size >= 1e6) return {1e-6, "M" + sep + u};
    if (size >= 1e3) return {1e-3, "k" + sep + u};
    return {1, u};
  }
  // Units a row gives with a prefix already (the analysis's ms, us, KB, GB, M$, K GPU-h): kept,
  // unless the value reaches a larger prefix of the same unit (2459 GB: 2.459 TB; 3.7e11 ms: s;
  // 16,470 M$: 16.47 B$), never a second prefix before the first ("16.47 M M$"). GFLOP stays
  // GFLOP up to a million of them, the paper's unit for Table 2 (Llama 3's 2448 GFLOP a token).
  struct Rung {
    const char* unit;
    double scale;
  };
  static constexpr Rung kTime[] = {{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}};
  static constexpr Rung kBytes[] = {
      {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15}};
  static constexpr Rung kUsd[] = {{"$", 1}, {"k$", 1e3}, {"M$", 1e6}, {"B$", 1e9}, {"T$", 1e12}};
  static constexpr Rung kGpuHours[] = {
      {"GPU-h", 1}, {"K GPU-h", 1e3}, {"M GPU-h", 1e6}, {"B GPU-h", 1e9}, {"T GPU-h", 1e12}};
  static constexpr Rung kFlop[] = {{"GFLOP", 1e9}, {"PFLOP", 1e15}, {"EFLOP", 1e18}};
  static constexpr Rung kFlopRate[] = {{"TFLOP/s", 1e12}, {"PFLOP/s", 1e15}, {"EFLOP/s", 1e18}};
  for (const auto& ladder : {std::span<const Rung>(kTime), std::span<const Rung>(kBytes),
                             std::span<const Rung>(kUsd), std::span<const Rung>(kGpuHours),
                             std::span<const Rung>(kFlop), std::span<const Rung>(kFlopRate)}) {
    auto at =
        std::find_if(ladder.begin(), ladder.end(), [&](const Rung& r) { return r.unit == u; });
    if (at == ladder.end()) continue;
    const double base = size * at->scale;
    auto best = at;
    for (auto r = at; r != ladder.end(); ++r)
      if (base >= r->scale) best = r;
    return {at->scale / best->scale, best->unit};
  }
  if (u.empty()) {
    if (size >= 1e9) return {1e-9, "G"};
    if (size >= 1e6) return {1e-6, "M"};
    return {1, u};
  }
  if (size >= 1e12) return {1e-12, "T " + u};
  if (size >= 1e9) return {1e-9, "B " + u};
  if (size >= 1e6) return {1e-6, "M " + u};
  return {1, u};
}

std::string deviation_text(const ReportRow& row) {
  auto d = row.deviation();
  if (!d) return "";
  // "!" marks an unexplained deviation, "*" one explained in the row's note.
  return fmt::format("{:+.2f}%{}", *d * 100,
                     row.unexplained() ? " !" : (row.flagged() ? " *" : ""));
}

}  // namespace

std::optional<double> ReportRow::deviation() const {
  if (!paper || *paper == 0) return std::nullopt;
  return cobench / *paper - 1.0;
}

bool ReportRow::flagged() const {
  auto d = deviation();
  return d && std::fabs(*d) > tolerance + 1e-12;
}

std::string format_quantity(double value, const std::string& unit) {
  ReportRow row;
  row.cobench = value;
  row.unit = unit;
  const Display d = display_of(row);
  return d.unit.empty() ? number(value * d.factor)
                        : fmt::format("{} {}", number(value * d.factor), d.unit);
}

std::string format_text(const Report& r) {
  std::string out = r.title + "\n";
  // Reports without paper values (any model on any cluster) print only cobench's column.
  const bool compare = std::any_of(r.rows.begin(), r.rows.end(),
                                   [](const ReportRow& row) { return row.paper.has_value(); });
  std::string section;
  for (const ReportRow& row : r.rows) {
    if (row.section != section) {
      section = row.section;
      out += compare ? fmt::format("\n{}\n  {:<66} {:>12} {:>12} {:<9} {:>9}\n", section,
                                   "quantity", "paper", "cobench", "unit", "deviation")
                     : fmt::format("\n{}\n", section);
    }
    const Display d = display_of(row);
    if (compare) {
      out += fmt::format("  {:<66} {:>12} {:>12} {:<9} {:>9}\n", row.quantity,
                         row.paper ? number(*row.paper * d.factor) : "-",
                         number(row.cobench * d.factor), d.unit, deviation_text(row));
    } else {
      out +=
          fmt::format("  {:<66} {:>12} {}\n", row.quantity, number(row.cobench * d.factor), d.unit);
    }
    if (!row.note.empty()) out += fmt::format("      note: {}\n", row.note);
  }
  if (!compare) return out;
  int flagged = 0, unexplained = 0;
  for (const ReportRow& row : r.rows) {
    flagged += row.flagged();
    unexplained += row.unexplained();
  }
  out += fmt::format(
      "\n{} rows; {} differ from the paper beyond tolerance: {} explained (*, see the note), {} "
      "unexplained (!)\n",
      r.rows.size(), flagged, flagged - unexplained, unexplained);
  return out;
}

std::string format_markdown(const Report& r) {
  // Titles, quantities, units and notes may hold names from input files: escaped Markdown text.
  std::string out = fmt::format("# {}\n", markdown_text(r.title));
  std::string section;
  for (const ReportRow& row : r.rows) {
    if (row.section != section) {
      section = row.section;
      out += fmt::format(
          "\n## {}\n\n| quantity | paper | cobench | unit | deviation | note |\n"
          "| --- | ---: | ---: | --- | ---: | --- |\n",
          markdown_text(section));
    }
    const Display d = display_of(row);
    out +=
        fmt::format("| {} | {} | {} | {} | {} | {} |\n", markdown_text(row.quantity),
                    row.paper ? number(*row.paper * d.factor) : "-", number(row.cobench * d.factor),
                    markdown_text(d.unit), deviation_text(row), markdown_text(row.note));
  }
  return out;
}

nlohmann::json to_json(const Report& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const ReportRow& row : r.rows) {
    nlohmann::json j = {{"section", row.section},   {"key", row.key},
                        {"quantity", row.quantity}, {"cobench", row.cobench},
                        {"unit", row.unit},         {"tolerance", row.tolerance},
                        {"flagged", row.flagged()}, {"known_difference", row.known_difference}};
    j["paper"] = row.paper ? nlohmann::json(*row.paper) : nlohmann::json(nullptr);
    j["deviation"] = row.deviation() ? nlohmann::json(*row.deviation()) : nlohmann::json(nullptr);
    if (!row.note.empty()) j["note"] = row.note;
    rows.push_back(std::move(j));
  }
  nlohmann::json out = {{"title", r.title}, {"rows", rows}};
  for (const auto& [key, value] : r.extra.items()) out[key] = value;
  return out;
}

}  // namespace cobench::topo
