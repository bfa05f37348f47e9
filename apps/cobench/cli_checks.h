// SPDX-License-Identifier: Apache-2.0
// Validators for numeric command-line options. CLI11's Range lets "nan" through (every comparison
// with NaN is false) and prints its bounds as "0.000000 to 1797693134862315708..."; these refuse
// what is not a finite number in range and say what was expected. CLI11 puts the option's name
// before the message and the command exits 2 (a usage error).
#pragma once

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>

namespace cobench::app {

/// A finite number from `min` to `max` (greater than `min` when `min_exclusive`, less than `max`
/// when `max_exclusive`).
inline CLI::Validator finite_number(double min, double max, bool min_exclusive = false,
                                    bool max_exclusive = false) {
  const std::string range =
      min_exclusive ? fmt::format("greater than {} and {} {}", min,
                                  max_exclusive ? "less than" : "at most", max)
                    : fmt::format("from {} to {}{}", min, max, max_exclusive ? " (excluded)" : "");
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        const bool above = min_exclusive ? v > min : v >= min;
        const bool below = max_exclusive ? v < max : v <= max;
        if (ec == std::errc() && ptr == end && std::isfinite(v) && above && below) return "";
        return fmt::format("expected a finite number {}, got '{}'", range, text);
      },
      "NUMBER " + range);
}

/// A finite number greater than zero.
inline CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (ec == std::errc() && ptr == end && std::isfinite(v) && v > 0) return "";
        return fmt::format("expected a finite number > 0, got '{}'", text);
      },
      "NUMBER > 0");
}

/// An integer from `min` to `max` (decimal digits, no exponent).
template <class Int>
CLI::Validator integer_in(Int min, Int max) {
  const std::string range = fmt::format("from {} to {}", min, max);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        Int v = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (ec == std::errc() && ptr == end && v >= min && v <= max) return "";
        return fmt::format("expected an integer {}, got '{}'", range, text);
      },
      "INTEGER " + range);
}

/// An option of `cmd` that `check` validates, its default shown in --help.
template <class T>
CLI::Option* add_checked(CLI::App& cmd, const std::string& name, T& value, const std::string& help,
                         const CLI::Validator& check) {
  return cmd.add_option(name, value, help)->check(check)->capture_default_str();
}

}  // namespace cobench::app
