// SPDX-License-Identifier: Apache-2.0
#include "microbench/bench_flags.h"

#include <fmt/format.h>

#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <regex>
#include <string>
#include <system_error>

namespace cobench::bench {
namespace {

bool one_of(std::string_view v, std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed)
    if (v == a) return true;
  return false;
}

// The whole of `v` as a number; nullopt for "", "1x", "0.5s" (Google Benchmark 1.8's syntax).
std::optional<double> whole_double(std::string_view v) {
  double d = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return d;
}

}  // namespace

std::optional<std::string> benchmark_flag_error(std::string_view arg) {
  const std::size_t eq = arg.find('=');
  if (!arg.starts_with("--benchmark_") || eq == std::string_view::npos) return std::nullopt;
  const std::string_view flag = arg.substr(0, eq), v = arg.substr(eq + 1);
  if (flag == "--benchmark_format" || flag == "--benchmark_out_format") {
    if (!one_of(v, {"console", "json", "csv"}))
      return fmt::format("{}: expected console, json or csv, got '{}'", flag, v);
  } else if (flag == "--benchmark_time_unit") {
    if (!one_of(v, {"ns", "us", "ms", "s"}))
      return fmt::format("{}: expected ns, us, ms or s, got '{}'", flag, v);
  } else if (flag == "--benchmark_min_time" || flag == "--benchmark_min_warmup_time") {
    const std::optional<double> s = whole_double(v);
    if (!s || !std::isfinite(*s) || *s < 0)
      return fmt::format("{}: expected seconds, a finite number >= 0 (e.g. 0.5), got '{}'", flag,
                         v);
  } else if (flag == "--benchmark_filter") {
    // Google Benchmark compiles it as a POSIX extended expression ('-' in front negates it); one
    // that does not compile ran nothing with exit 0.
    const std::string_view re = v.starts_with('-') ? v.substr(1) : v;
    try {
      std::regex(std::string(re), std::regex::extended);
    } catch (const std::regex_error& e) {
      return fmt::format("{}: '{}' is not a regular expression: {}", flag, v, e.what());
    }
  } else if (flag == "--benchmark_out") {
    // Google Benchmark opens it only after the benchmarks have run, and then says "invalid file
    // name" with no reason: a directory that is missing (or is not one) is refused up front.
    if (v.empty()) return fmt::format("{}: expected a file name, got ''", flag);
    const std::filesystem::path out{std::string(v)};
    const std::filesystem::path dir = out.has_parent_path() ? out.parent_path() : ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      return fmt::format("{}: the directory '{}' of '{}' does not exist", flag, dir.string(), v);
    if (std::filesystem::is_directory(out, ec))
      return fmt::format("{}: '{}' is a directory; expected a file name", flag, v);
  } else if (flag == "--benchmark_repetitions") {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > INT_MAX)
      return fmt::format("{}: expected an integer from 1, got {}", flag, v);
  }
  return std::nullopt;
}

}  // namespace cobench::bench
