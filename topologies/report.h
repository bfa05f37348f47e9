// SPDX-License-Identifier: Apache-2.0
// A report of named sections of rows, printed as text, Markdown or JSON. A row compares the
// paper's value (when it has one) with what cobench computes, and flags a deviation beyond the
// row's tolerance.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cobench::topo {

struct ReportRow {
  std::string section;   ///< e.g. "Table 1: KV cache per token"
  std::string key;       ///< stable JSON key, e.g. "kv_bytes_per_token.deepseek_v3"
  std::string quantity;  ///< what it is, for people
  std::optional<double> paper;
  double cobench = 0;
  std::string unit;      ///< display unit of both values, e.g. "KB", "us", "x"
  double tolerance = 0;  ///< relative; the row is flagged beyond it
  std::string note;
  bool known_difference = false;  ///< the deviation is explained in `note` (erratum, convention)

  std::optional<double> deviation() const;  ///< cobench / paper - 1
  bool flagged() const;                     ///< beyond tolerance
  bool unexplained() const { return flagged() && !known_difference; }
};

struct Report {
  std::string title;
  std::vector<ReportRow> rows;
  /// More top-level JSON fields (e.g. `cobench fabric --measured`'s "measured"); to_json only.
  nlohmann::json extra = nlohmann::json::object();
};

std::string format_text(const Report& r);
/// One value as the text report prints it: 4 significant digits, the unit scaled to its size
/// ("3.7 us" for 3.7e-06 s, "20.4 GB/s").
std::string format_quantity(double value, const std::string& unit);
std::string format_markdown(const Report& r);
nlohmann::json to_json(const Report& r);

}  // namespace cobench::topo
