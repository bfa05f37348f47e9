// SPDX-License-Identifier: Apache-2.0
// Strong unit types. Every quantity is stored once, in an SI base unit (bytes, seconds, bytes/s,
// FLOP/s), and converted only at the edges: parse_* reads text such as "400Gbps", "50 GB/s",
// "80GiB", "2.8us" or "989 TFLOPS"; format_* prints it. Bits versus bytes and SI (powers of 1000)
// versus IEC (powers of 1024) prefixes are exact: "KB" and "kB" are 1000 bytes, "KiB" 1024,
// "Gb" a gigabit (1e9 bits = 1.25e8 bytes). Bad text throws cobench::Error naming the text and
// the accepted units.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace cobench {

/// A value in one SI base unit, tagged so that bytes never mix with seconds by accident.
template <class Tag>
struct Quantity {
  double value = 0.0;

  constexpr Quantity() = default;
  constexpr explicit Quantity(double v) : value(v) {}

  constexpr Quantity operator+(Quantity o) const { return Quantity(value + o.value); }
  constexpr Quantity operator-(Quantity o) const { return Quantity(value - o.value); }
  constexpr Quantity operator*(double k) const { return Quantity(value * k); }
  constexpr Quantity operator/(double k) const { return Quantity(value / k); }
  constexpr double operator/(Quantity o) const { return value / o.value; }  // a ratio
  constexpr Quantity& operator+=(Quantity o) {
    value += o.value;
    return *this;
  }
  constexpr auto operator<=>(const Quantity&) const = default;
};

struct BytesTag {};
struct SecondsTag {};
struct BandwidthTag {};
struct FlopRateTag {};

using Bytes = Quantity<BytesTag>;          ///< bytes
using Seconds = Quantity<SecondsTag>;      ///< seconds
using Bandwidth = Quantity<BandwidthTag>;  ///< bytes per second
using FlopRate = Quantity<FlopRateTag>;    ///< floating-point operations per second

constexpr Bandwidth operator/(Bytes b, Seconds s) { return Bandwidth(b.value / s.value); }
constexpr Seconds operator/(Bytes b, Bandwidth bw) { return Seconds(b.value / bw.value); }
constexpr Bytes operator*(Bandwidth bw, Seconds s) { return Bytes(bw.value * s.value); }

/// Every parsed quantity is 0 or from kMinQuantity to kMaxQuantity in its base unit (B, s, B/s,
/// FLOP/s): anything else ("1e308 GB", "4.9e-324 TB/s") is an error, so that the model's products
/// and quotients of quantities stay finite.
inline constexpr double kMinQuantity = 1e-30;
inline constexpr double kMaxQuantity = 1e30;

/// Whether `v` is a quantity above 0 that the model takes: from kMinQuantity to kMaxQuantity
/// (false for NaN and the infinities). Measured values and plain numbers of input files are held
/// to the range the unit parsers apply.
constexpr bool is_model_quantity(double v) { return v >= kMinQuantity && v <= kMaxQuantity; }

/// Data size: B, kB/KB, MB, GB, TB, PB (SI); KiB, MiB, GiB, TiB, PiB (IEC); and the same in
/// bits: b or bit, kb/Kb, Mb, Gb, Tb, Pb, Kib, Mib, Gib, Tib, Pib (divided by 8).
Bytes parse_bytes(std::string_view text);
/// A byte count that is whole, 1 or more, up to the rounding of its decimal form (4.1GB parses to
/// 4099999999.9999995 B): that whole number; else nullopt (0.5 B, 1 bit, 1.5 B, NaN).
std::optional<double> whole_bytes(double bytes);
/// Time: s, ms, us (or µs), ns, min, h.
Seconds parse_seconds(std::string_view text);
/// Bandwidth: any data-size unit followed by "/s"; also bits as "bps" with a prefix ("400Gbps").
Bandwidth parse_bandwidth(std::string_view text);
/// Compute rate: FLOPS or FLOP/s with an SI prefix (kFLOPS, MFLOPS, ..., PFLOPS, EFLOPS).
FlopRate parse_flop_rate(std::string_view text);

/// Which prefixes a formatted value uses.
enum class Prefixes { kSi, kIec };

/// "80 GiB" (kIec) or "85.9 GB" (kSi): the largest prefix that keeps the mantissa >= 1, printed
/// with up to `digits` significant digits.
std::string format_bytes(Bytes b, Prefixes p = Prefixes::kIec, int digits = 6);
std::string format_seconds(Seconds s, int digits = 6);            ///< "2.8 us"
std::string format_bandwidth(Bandwidth bw, int digits = 6);       ///< "3.35 TB/s" (SI bytes)
std::string format_bandwidth_bits(Bandwidth bw, int digits = 6);  ///< "400 Gb/s"
std::string format_flop_rate(FlopRate f, int digits = 6);         ///< "989 TFLOP/s"

}  // namespace cobench
