// SPDX-License-Identifier: Apache-2.0
// Where one section of `cobench analyze` writes. A quantity is written once: it becomes a row of
// the report (text, Markdown; in a display unit) and a field of the JSON (in SI units) under the
// key the row names, so the two cannot disagree. Fields without a row (arrays, labels) and rows
// without a field of their own (one row per array element, notes) have their own calls.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "topologies/analysis.h"

namespace cobench::topo {

/// How a row shows an SI value: value x times / per, in `unit`.
struct Shown {
  double times = 1, per = 1;
  std::string_view unit;
};

inline constexpr Shown shown_as_is(std::string_view unit) { return {1, 1, unit}; }
inline constexpr Shown kShownMs{1e3, 1, "ms"};
inline constexpr Shown kShownUs{1e6, 1, "us"};
inline constexpr Shown kShownKb{1, 1e3, "KB"};
inline constexpr Shown kShownGb{1, 1e9, "GB"};
inline constexpr Shown kShownGflop{1, 1e9, "GFLOP"};
inline constexpr Shown kShownMillionUsd{1, 1e6, "M$"};

class SectionOut {
 public:
  /// Rows under the report section `title`; JSON under `analysis.json[json_key]`; a row's key is
  /// `json_key` + "." + its path.
  SectionOut(Analysis& analysis, std::string title, std::string json_key);

  /// JSON field `path` (dotted: "prediction.tpot_s") = `value`, and its row: `label`,
  /// value x shown.times / shown.per in shown.unit.
  void quantity(std::string_view path, std::string label, double value, Shown shown,
                std::string note = "");
  /// The same for a count: an integer in the JSON.
  void count(std::string_view path, std::string label, std::int64_t value, std::string unit,
             std::string note = "");
  /// A JSON field with no row.
  void field(std::string_view path, nlohmann::json value);
  /// A row with no JSON field of its own, its value already in `unit`.
  void row(std::string_view path, std::string label, double shown_value, std::string unit,
           std::string note = "");
  /// The section's JSON (null until written).
  nlohmann::json& json();

 private:
  nlohmann::json& at(std::string_view path);

  Analysis& a_;
  std::string title_, key_;
};

}  // namespace cobench::topo
