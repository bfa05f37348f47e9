// SPDX-License-Identifier: Apache-2.0
// Current GPU clocks, temperature, power and clock-throttle reasons, read through NVML. NVML ships
// with the driver, so it is loaded at run time (dlopen of libnvidia-ml.so.1): without a driver
// the reading says why it is unavailable, and binaries still start. Taken at the start and end
// of a run, it flags measurements made while the GPU was throttled.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cobench::sysinfo {

struct GpuClockSample {
  unsigned index = 0;  ///< NVML index (PCI order; CUDA's order may differ)
  std::string name;
  std::string uuid;
  unsigned sm_clock_mhz = 0;
  unsigned max_sm_clock_mhz = 0;
  unsigned memory_clock_mhz = 0;
  unsigned temperature_c = 0;
  double power_w = 0;
  unsigned long long throttle_mask = 0;  ///< NVML clocks-event reasons bit mask
};

struct GpuClocks {
  std::vector<GpuClockSample> devices;
  std::string unavailable;  ///< why there is no reading, "" when there is one
};

/// Reads every GPU NVML sees now.
GpuClocks read_gpu_clocks();

/// Names of the bits set in an NVML clocks-event mask: "gpu_idle", "applications_clocks_setting",
/// "sw_power_cap", "hw_slowdown", "sync_boost", "sw_thermal_slowdown", "hw_thermal_slowdown",
/// "hw_power_brake_slowdown", "display_clock_setting", "unknown_0x..." for others.
std::vector<std::string> throttle_reason_names(unsigned long long mask);

/// True when the mask holds a reason that lowers clocks under load: power cap, thermal or
/// hardware slowdown, power brake. Idle, application-clock and sync-boost settings do not count.
bool is_throttled(unsigned long long mask);

nlohmann::json to_json(const GpuClocks& clocks);

}  // namespace cobench::sysinfo
