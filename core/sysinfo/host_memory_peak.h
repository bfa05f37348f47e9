// SPDX-License-Identifier: Apache-2.0
// The node's theoretical host memory bandwidth, for the fraction of peak the host streams reach.
// Sources, in order: the environment variable COBENCH_HOST_MEMORY_PEAK (a bandwidth such as
// "25.6 GB/s" or "204.8 GiB/s", read by parse_bandwidth), then the SMBIOS type 17 (Memory
// Device) records of /sys/firmware/dmi/tables/DMI (often root-only; absent on many VMs): the sum
// over populated devices of their configured speed (MT/s) x data width (bytes), which assumes one
// DIMM per channel (two DIMMs sharing a channel share its bandwidth, and the sum overstates it).
// Bandwidths in B/s; labels in decimal GB/s (1 GB/s = 1e9 B/s).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/units.h"

namespace cobench::sysinfo {

inline constexpr const char* kHostMemoryPeakEnv = "COBENCH_HOST_MEMORY_PEAK";
inline constexpr const char* kSmbiosTablePath = "/sys/firmware/dmi/tables/DMI";

struct HostMemoryPeak {
  Bandwidth bandwidth;  ///< B/s
  std::string source;   ///< where it came from, e.g. "COBENCH_HOST_MEMORY_PEAK='25.6 GB/s'"
};

/// The peak from an SMBIOS structure table (the bytes of /sys/firmware/dmi/tables/DMI): every
/// type 17 device that is populated (size not 0) with a known data width (not 0 or 0xFFFF) and a
/// known speed (configured speed, its extended field when 0xFFFF, else the device's speed) adds
/// MT/s x width, counting only devices of system-memory arrays (type 16, Use 0x03) where the table
/// lists arrays; nothing when no device qualifies. Walks the structures up to type 127 (end of
/// table) or the end of the buffer; throws cobench::Error when a structure is malformed.
std::optional<HostMemoryPeak> host_memory_peak_from_smbios(std::span<const std::uint8_t> table);

/// The bytes of an SMBIOS table file; throws cobench::Error when it cannot be read.
std::vector<std::uint8_t> read_smbios_table(const std::string& path = kSmbiosTablePath);

struct HostMemoryPeakReading {
  std::optional<HostMemoryPeak> peak;
  std::string unavailable;  ///< why there is no peak, "" when there is one
};

/// $COBENCH_HOST_MEMORY_PEAK when set (throws cobench::Error naming the variable when it is not a
/// positive bandwidth), else SMBIOS from `smbios_path`, else why neither gave a peak.
HostMemoryPeakReading read_host_memory_peak(const std::string& smbios_path = kSmbiosTablePath);

}  // namespace cobench::sysinfo
