// SPDX-License-Identifier: Apache-2.0
#include "core/units.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include "core/error.h"

namespace cobench {
namespace {

struct Prefix {
  std::string_view symbol;
  double factor;
};
constexpr std::array<Prefix, 6> kSiPrefixes{
    {{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}}};
constexpr std::array<Prefix, 5> kIecPrefixes{{{"Ki", 1024.0},
                                              {"Mi", 1048576.0},
                                              {"Gi", 1073741824.0},
                                              {"Ti", 1099511627776.0},
                                              {"Pi", 1125899906842624.0}}};

constexpr std::string_view kBytesUnits =
    "B, kB/KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB, or the same in bits (b, kb, Mb, Gb, "
    "Tb, Kib, ..., bit)";
constexpr std::string_view kSecondsUnits = "s, ms, us (µs), ns, min, h";
constexpr std::string_view kBandwidthUnits =
    "a data-size unit per second (B/s, GB/s, GiB/s, TB/s, b/s, Gb/s, ...) or bits as bps, kbps, "
    "Mbps, Gbps, Tbps";
constexpr std::string_view kFlopUnits =
    "FLOPS or FLOP/s with a prefix: kFLOPS, MFLOPS, GFLOPS, TFLOPS, PFLOPS, EFLOPS";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "3.35 TB/s" into 3.35 and "TB/s". The number is a plain decimal with an optional
// exponent; a missing number or a non-finite or negative value is an error.
std::pair<double, std::string_view> split_number(std::string_view text, std::string_view kind,
                                                 std::string_view accepted) {
  std::string_view s = trim(text);
  double value = 0.0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || !std::isfinite(value)) {
    throw Error(fmt::format("bad {} '{}': expected a number followed by a unit ({})", kind, text,
                            accepted));
  }
  if (value < 0) throw Error(fmt::format("bad {} '{}': must not be negative", kind, text));
  std::string_view unit =
      trim(std::string_view(end, static_cast<size_t>(s.data() + s.size() - end)));
  return {value, unit};
}

// A parsed quantity in its base unit: 0, or from kMinQuantity to kMaxQuantity (finite, and far
// enough from both ends that the model's products and quotients of quantities stay finite).
double in_range(double v, std::string_view kind, std::string_view text, std::string_view base) {
  if (v != 0.0 && !(v >= kMinQuantity && v <= kMaxQuantity))
    throw Error(fmt::format("bad {} '{}': out of range; expected 0 or from {:g} to {:g} {}", kind,
                            text, kMinQuantity, kMaxQuantity, base));
  return v;
}

[[noreturn]] void unknown_unit(std::string_view kind, std::string_view text, std::string_view unit,
                               std::string_view accepted) {
  if (unit.empty()) {
    throw Error(fmt::format("bad {} '{}': missing unit; accepted units: {}", kind, text, accepted));
  }
  throw Error(fmt::format("bad {} '{}': unknown unit '{}'; accepted units: {}", kind, text, unit,
                          accepted));
}

// Bytes per unit for a data-size unit ("GiB" -> 2^30, "Gb" -> 1e9 / 8), or nothing.
std::optional<double> data_unit_bytes(std::string_view unit) {
  double bits_divisor = 0;
  std::string_view base;
  if (unit.ends_with("bit")) {
    bits_divisor = 8;
    base = unit.substr(0, unit.size() - 3);
  } else if (unit.ends_with("B")) {
    bits_divisor = 1;
    base = unit.substr(0, unit.size() - 1);
  } else if (unit.ends_with("b")) {
    bits_divisor = 8;
    base = unit.substr(0, unit.size() - 1);
  } else {
    return std::nullopt;
  }
  if (base.empty()) return 1.0 / bits_divisor;
  for (const auto& p : kIecPrefixes)
    if (base == p.symbol) return p.factor / bits_divisor;
  for (const auto& p : kSiPrefixes)
    if (base == p.symbol) return p.factor / bits_divisor;
  return std::nullopt;
}

// Picks the prefix that keeps the mantissa in [1, base) and prints "<mantissa> <prefix><unit>".
template <size_t N>
std::string format_scaled(double value, const std::array<Prefix, N>& prefixes,
                          std::string_view unit, int digits) {
  std::string_view symbol;
  double factor = 1.0;
  for (const auto& p : prefixes) {
    if (p.symbol == "K") continue;  // print SI kilo as "k"
    if (std::fabs(value) >= p.factor) {
      symbol = p.symbol;
      factor = p.factor;
    }
  }
  return fmt::format("{:.{}g} {}{}", value / factor, digits, symbol, unit);
}

}  // namespace

std::optional<double> whole_bytes(double bytes) {
  if (!std::isfinite(bytes)) return std::nullopt;
  const double whole = std::round(bytes);
  // Within 1e-12 of itself: a decimal size's rounding (about 1e-16 of it), where a fraction of a
  // byte is more than that below 1e11 B.
  if (whole < 1 || std::fabs(bytes - whole) > 1e-12 * whole) return std::nullopt;
  return whole;
}

Bytes parse_bytes(std::string_view text) {
  auto [value, unit] = split_number(text, "data size", kBytesUnits);
  if (auto f = data_unit_bytes(unit)) return Bytes(in_range(value * *f, "data size", text, "B"));
  unknown_unit("data size", text, unit, kBytesUnits);
}

Seconds parse_seconds(std::string_view text) {
  auto [value, unit] = split_number(text, "time", kSecondsUnits);
  static constexpr std::array<Prefix, 7> kTimeUnits{{{"s", 1.0},
                                                     {"ms", 1e-3},
                                                     {"us", 1e-6},
                                                     {"µs", 1e-6},
                                                     {"ns", 1e-9},
                                                     {"min", 60.0},
                                                     {"h", 3600.0}}};
  for (const auto& u : kTimeUnits)
    if (unit == u.symbol) return Seconds(in_range(value * u.factor, "time", text, "s"));
  unknown_unit("time", text, unit, kSecondsUnits);
}

Bandwidth parse_bandwidth(std::string_view text) {
  auto [value, unit] = split_number(text, "bandwidth", kBandwidthUnits);
  if (unit.ends_with("/s")) {
    if (auto f = data_unit_bytes(unit.substr(0, unit.size() - 2)))
      return Bandwidth(in_range(value * *f, "bandwidth", text, "B/s"));
  } else if (unit.ends_with("bps")) {
    // "Gbps" is gigabits per second; "bps" alone is bits per second.
    std::string_view base = unit.substr(0, unit.size() - 3);
    if (auto f = data_unit_bytes(std::string(base) + "b"))
      return Bandwidth(in_range(value * *f, "bandwidth", text, "B/s"));
  }
  unknown_unit("bandwidth", text, unit, kBandwidthUnits);
}

FlopRate parse_flop_rate(std::string_view text) {
  auto [value, unit] = split_number(text, "compute rate", kFlopUnits);
  std::string_view base;
  if (unit.ends_with("FLOPS")) {
    base = unit.substr(0, unit.size() - 5);
  } else if (unit.ends_with("FLOP/s")) {
    base = unit.substr(0, unit.size() - 6);
  } else {
    unknown_unit("compute rate", text, unit, kFlopUnits);
  }
  if (base.empty()) return FlopRate(in_range(value, "compute rate", text, "FLOP/s"));
  if (base == "E") return FlopRate(in_range(value * 1e18, "compute rate", text, "FLOP/s"));
  for (const auto& p : kSiPrefixes)
    if (base == p.symbol)
      return FlopRate(in_range(value * p.factor, "compute rate", text, "FLOP/s"));
  unknown_unit("compute rate", text, unit, kFlopUnits);
}

std::string format_bytes(Bytes b, Prefixes p, int digits) {
  return p == Prefixes::kIec ? format_scaled(b.value, kIecPrefixes, "B", digits)
                             : format_scaled(b.value, kSiPrefixes, "B", digits);
}

std::string format_seconds(Seconds s, int digits) {
  const double v = s.value;
  if (v == 0.0 || std::fabs(v) >= 1.0) return fmt::format("{:.{}g} s", v, digits);
  if (std::fabs(v) >= 1e-3) return fmt::format("{:.{}g} ms", v * 1e3, digits);
  if (std::fabs(v) >= 1e-6) return fmt::format("{:.{}g} us", v * 1e6, digits);
  return fmt::format("{:.{}g} ns", v * 1e9, digits);
}

std::string format_bandwidth(Bandwidth bw, int digits) {
  return format_scaled(bw.value, kSiPrefixes, "B/s", digits);
}

std::string format_bandwidth_bits(Bandwidth bw, int digits) {
  return format_scaled(bw.value * 8.0, kSiPrefixes, "b/s", digits);
}

std::string format_flop_rate(FlopRate f, int digits) {
  static constexpr std::array<Prefix, 7> kFlopPrefixes{
      {{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18}, {"K", 1e3}}};
  return format_scaled(f.value, kFlopPrefixes, "FLOP/s", digits);
}

}  // namespace cobench
