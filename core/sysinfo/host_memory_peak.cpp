// SPDX-License-Identifier: Apache-2.0
#include "core/sysinfo/host_memory_peak.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "core/atomic_file.h"
#include "core/error.h"

namespace cobench::sysinfo {
namespace {

constexpr std::uint8_t kSmbiosMemoryArray = 16;
constexpr std::uint8_t kSmbiosMemoryDevice = 17;
// Type 16 (Physical Memory Array): Use at 0x05, 0x03 = system memory (not video, flash, NVRAM or
// cache). Type 17 names its array at 0x04.
constexpr std::size_t kArrayUseOffset = 0x05;
constexpr std::uint8_t kArrayUseSystemMemory = 0x03;
constexpr std::size_t kDeviceArrayHandleOffset = 0x04;
constexpr std::uint8_t kSmbiosEndOfTable = 127;
constexpr std::size_t kSmbiosHeaderBytes = 4;  // type, length, handle

// SMBIOS 3.x, type 17 (Memory Device): offsets in the formatted area.
constexpr std::size_t kDataWidthOffset = 0x0A;           // WORD, bits; 0xFFFF unknown
constexpr std::size_t kSizeOffset = 0x0C;                // WORD; 0 = no device installed
constexpr std::size_t kSpeedOffset = 0x15;               // WORD, MT/s; 0 unknown, 0xFFFF extended
constexpr std::size_t kConfiguredSpeedOffset = 0x20;     // WORD, MT/s; 0 unknown, 0xFFFF extended
constexpr std::size_t kExtendedSpeedOffset = 0x54;       // DWORD, MT/s (bits 30:0)
constexpr std::size_t kExtendedConfiguredOffset = 0x58;  // DWORD, MT/s (bits 30:0)
constexpr std::uint16_t kWordUnknown = 0xFFFF;
constexpr std::uint32_t kExtendedSpeedMask = 0x7FFFFFFF;

std::uint16_t word_at(std::span<const std::uint8_t> s, std::size_t offset) {
  return static_cast<std::uint16_t>(s[offset] | (s[offset + 1] << 8));
}
std::uint32_t dword_at(std::span<const std::uint8_t> s, std::size_t offset) {
  return static_cast<std::uint32_t>(word_at(s, offset)) |
         (static_cast<std::uint32_t>(word_at(s, offset + 2)) << 16);
}

// A 16-bit speed field of `device`, its 32-bit extension when it reads 0xFFFF; 0 when the field
// (or the extension it points to) is absent or unknown.
std::uint32_t speed_mts(std::span<const std::uint8_t> device, std::size_t offset,
                        std::size_t extended_offset) {
  if (device.size() < offset + 2) return 0;
  const std::uint16_t speed = word_at(device, offset);
  if (speed != kWordUnknown) return speed;
  if (device.size() < extended_offset + 4) return 0;
  return dword_at(device, extended_offset) & kExtendedSpeedMask;
}

}  // namespace

namespace {

// Calls visit(type, formatted area) for each structure up to the end-of-table one; throws on a
// malformed table.
template <class Visit>
void walk_smbios(std::span<const std::uint8_t> table, Visit visit) {
  std::size_t offset = 0;
  while (offset + kSmbiosHeaderBytes <= table.size()) {
    const std::uint8_t type = table[offset];
    const std::size_t length = table[offset + 1];
    COBENCH_CHECK(length >= kSmbiosHeaderBytes,
                  fmt::format("SMBIOS structure at byte {} (type {}) has length {}, less than its "
                              "4-byte header",
                              offset, type, length));
    COBENCH_CHECK(offset + length <= table.size(),
                  fmt::format("SMBIOS structure at byte {} (type {}, length {}) runs past the end "
                              "of the {}-byte table",
                              offset, type, length, table.size()));
    if (type == kSmbiosEndOfTable) break;
    // The string set after the formatted area ends with two zero bytes (just two when empty).
    std::size_t end = offset + length;
    while (end + 1 < table.size() && (table[end] != 0 || table[end + 1] != 0)) ++end;
    COBENCH_CHECK(end + 1 < table.size(),
                  fmt::format("SMBIOS structure at byte {} (type {}): its string set is not "
                              "terminated by two zero bytes before the end of the table",
                              offset, type));
    visit(type, table.subspan(offset, length));
    offset = end + 2;
  }
}

}  // namespace

std::optional<HostMemoryPeak> host_memory_peak_from_smbios(std::span<const std::uint8_t> table) {
  // Pass 1: the memory arrays, and which of them hold system memory. Where the table lists none,
  // every memory device counts.
  std::set<std::uint16_t> system_arrays;
  bool any_array = false;
  walk_smbios(table, [&](std::uint8_t type, std::span<const std::uint8_t> s) {
    if (type != kSmbiosMemoryArray || s.size() <= kArrayUseOffset) return;
    any_array = true;
    if (s[kArrayUseOffset] == kArrayUseSystemMemory) system_arrays.insert(word_at(s, 2));
  });
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> devices;  // (MT/s, width bits) -> count
  double bytes_per_s = 0;
  walk_smbios(table, [&](std::uint8_t type, std::span<const std::uint8_t> device) {
    if (type != kSmbiosMemoryDevice || device.size() < kSizeOffset + 2) return;
    if (any_array && !system_arrays.count(word_at(device, kDeviceArrayHandleOffset))) return;
    const std::uint16_t size = word_at(device, kSizeOffset);  // 0xFFFF: installed, size unknown
    const std::uint16_t width_bits = word_at(device, kDataWidthOffset);
    std::uint32_t mts = speed_mts(device, kConfiguredSpeedOffset, kExtendedConfiguredOffset);
    if (mts == 0) mts = speed_mts(device, kSpeedOffset, kExtendedSpeedOffset);
    if (size != 0 && width_bits != 0 && width_bits != kWordUnknown && mts != 0) {
      ++devices[{mts, width_bits}];
      bytes_per_s += static_cast<double>(mts) * 1e6 * width_bits / 8.0;
    }
  });
  if (devices.empty()) return std::nullopt;
  std::string terms;
  for (const auto& [key, count] : devices)
    terms += fmt::format("{}{} device{} x {} MT/s x {:g} B", terms.empty() ? "" : " + ", count,
                         count == 1 ? "" : "s", key.first, key.second / 8.0);
  return HostMemoryPeak{
      Bandwidth(bytes_per_s),
      fmt::format("SMBIOS: {} (assumes one DIMM per channel)", terms),
  };
}

std::vector<std::uint8_t> read_smbios_table(const std::string& path) {
  const std::string bytes = read_file(path);
  return {bytes.begin(), bytes.end()};
}

HostMemoryPeakReading read_host_memory_peak(const std::string& smbios_path) {
  if (const char* text = std::getenv(kHostMemoryPeakEnv); text && *text) {
    Bandwidth peak;
    try {
      peak = parse_bandwidth(text);
    } catch (const Error& e) {
      throw Error(
          fmt::format("{}='{}' is not a bandwidth: expected a positive number and a "
                      "unit such as '25.6 GB/s' or '204.8 GiB/s' ({})",
                      kHostMemoryPeakEnv, text, e.what()));
    }
    // A setting the user gave: its message names the variable, not this source file.
    if (!(peak.value > 0 && std::isfinite(peak.value)))
      throw Error(fmt::format("{}='{}': expected a positive, finite bandwidth such as '25.6 GB/s'",
                              kHostMemoryPeakEnv, text));
    return {HostMemoryPeak{peak, fmt::format("{}='{}'", kHostMemoryPeakEnv, text)}, ""};
  }
  const std::string hint = fmt::format("set {} (e.g. '25.6 GB/s')", kHostMemoryPeakEnv);
  try {  // an unreadable or malformed table is a reason, not an error
    if (std::optional<HostMemoryPeak> peak =
            host_memory_peak_from_smbios(read_smbios_table(smbios_path)))
      return {std::move(peak), ""};
  } catch (const Error& e) {
    return {std::nullopt, fmt::format("{}; {}", e.what(), hint)};
  }
  return {std::nullopt,
          fmt::format("{} lists no populated memory device (SMBIOS type 17) with a known speed "
                      "and data width; {}",
                      smbios_path, hint)};
}

}  // namespace cobench::sysinfo
