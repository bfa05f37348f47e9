// SPDX-License-Identifier: Apache-2.0
#include "topologies/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/markdown.h"

namespace cobench::topo {
namespace {

std::string number(double v) { return fmt::format("{:.6g}", v); }

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

std::string format_text(const Report& r) {
  std::string out = r.title + "\n";
  // Reports without paper values (any model on any cluster) print only cobench's column.
  const bool compare = std::any_of(r.rows.begin(), r.rows.end(),
                                   [](const ReportRow& row) { return row.paper.has_value(); });
  std::string section;
  for (const ReportRow& row : r.rows) {
    if (row.section != section) {
      section = row.section;
      out += compare ? fmt::format("\n{}\n  {:<66} {:>12} {:>12} {:<7} {:>9}\n", section,
                                   "quantity", "paper", "cobench", "unit", "deviation")
                     : fmt::format("\n{}\n", section);
    }
    if (compare) {
      out += fmt::format("  {:<66} {:>12} {:>12} {:<7} {:>9}\n", row.quantity,
                         row.paper ? number(*row.paper) : "-", number(row.cobench), row.unit,
                         deviation_text(row));
    } else {
      out += fmt::format("  {:<66} {:>12} {}\n", row.quantity, number(row.cobench), row.unit);
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
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", markdown_text(row.quantity),
                       row.paper ? number(*row.paper) : "-", number(row.cobench),
                       markdown_text(row.unit), deviation_text(row), markdown_text(row.note));
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
  return {{"title", r.title}, {"rows", rows}};
}

}  // namespace cobench::topo
