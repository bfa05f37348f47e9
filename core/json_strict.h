// SPDX-License-Identifier: Apache-2.0
// Strict JSON for the files cobench reads as data (results files): RFC 8259 syntax, and what
// nlohmann::json would otherwise let through refused too: a key repeated in one object (nlohmann
// keeps the last, a reader elsewhere may keep the first), a number beyond the range of a double
// (1e400), nesting deeper than kMaxJsonDepth. scripts/cobench_results.py applies the same rules.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace cobench {

/// Objects and arrays may nest this deep, no deeper.
inline constexpr std::size_t kMaxJsonDepth = 100;

/// Parses `text`; throws cobench::Error naming `source`, and the JSON path where one is known:
///   "r.json: not valid JSON: [json.exception.parse_error.101] parse error at line 3, ..."
///   "r.json: $.records[0].metrics.time: repeated key 'values'"
nlohmann::json parse_json_strict(std::string_view text, std::string_view source);

}  // namespace cobench
