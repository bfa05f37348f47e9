// SPDX-License-Identifier: Apache-2.0
// Prints a report in the format `--format` names: json, markdown or text.
#pragma once

#include <fmt/format.h>

#include <string>

namespace cobench::app {

/// `report` as JSON (indented 2), Markdown or text: `to_json`, `format_markdown` and
/// `format_text` of the report's own namespace (found by argument-dependent lookup).
template <class Report>
void print_report(const std::string& format, const Report& report) {
  if (format == "json")
    fmt::print("{}\n", to_json(report).dump(2));
  else if (format == "markdown")
    fmt::print("{}", format_markdown(report));
  else
    fmt::print("{}", format_text(report));
}

}  // namespace cobench::app
