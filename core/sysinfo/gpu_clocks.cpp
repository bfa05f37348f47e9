// SPDX-License-Identifier: Apache-2.0
#include "core/sysinfo/gpu_clocks.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <array>

namespace cobench::sysinfo {
namespace {

// NVML's C ABI, declared here because nvml.h ships with the driver, not the toolkit.
using NvmlReturn = int;  // nvmlReturn_t; 0 is NVML_SUCCESS
using NvmlDevice = void*;
constexpr int kClockSm = 1;      // NVML_CLOCK_SM
constexpr int kClockMemory = 2;  // NVML_CLOCK_MEM
constexpr int kTemperatureGpu = 0;

struct Nvml {
  void* lib = nullptr;
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;
  NvmlReturn (*count)(unsigned*) = nullptr;
  NvmlReturn (*handle)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*name)(NvmlDevice, char*, unsigned) = nullptr;
  NvmlReturn (*uuid)(NvmlDevice, char*, unsigned) = nullptr;
  NvmlReturn (*clock)(NvmlDevice, int, unsigned*) = nullptr;
  NvmlReturn (*max_clock)(NvmlDevice, int, unsigned*) = nullptr;
  NvmlReturn (*temperature)(NvmlDevice, int, unsigned*) = nullptr;
  NvmlReturn (*power)(NvmlDevice, unsigned*) = nullptr;
  NvmlReturn (*reasons)(NvmlDevice, unsigned long long*) = nullptr;

  ~Nvml() {
    if (lib) dlclose(lib);
  }
};

template <class F>
bool bind(void* lib, F& fn, const char* symbol) {
  fn = reinterpret_cast<F>(dlsym(lib, symbol));
  return fn != nullptr;
}

struct Reason {
  unsigned long long bit;
  const char* name;
  bool throttles;
};
constexpr std::array<Reason, 9> kReasons{{{0x1, "gpu_idle", false},
                                          {0x2, "applications_clocks_setting", false},
                                          {0x4, "sw_power_cap", true},
                                          {0x8, "hw_slowdown", true},
                                          {0x10, "sync_boost", false},
                                          {0x20, "sw_thermal_slowdown", true},
                                          {0x40, "hw_thermal_slowdown", true},
                                          {0x80, "hw_power_brake_slowdown", true},
                                          {0x100, "display_clock_setting", false}}};

}  // namespace

std::vector<std::string> throttle_reason_names(unsigned long long mask) {
  std::vector<std::string> out;
  for (const Reason& r : kReasons) {
    if (mask & r.bit) out.emplace_back(r.name);
    mask &= ~r.bit;
  }
  for (int b = 0; b < 64; ++b)
    if (mask & (1ull << b)) out.push_back(fmt::format("unknown_0x{:x}", 1ull << b));
  return out;
}

bool is_throttled(unsigned long long mask) {
  for (const Reason& r : kReasons)
    if (r.throttles && (mask & r.bit)) return true;
  return false;
}

GpuClocks read_gpu_clocks() {
  GpuClocks out;
  Nvml nvml;
  nvml.lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!nvml.lib) {
    const char* why = dlerror();
    out.unavailable = fmt::format("NVML unavailable (no NVIDIA driver?): {}", why ? why : "");
    return out;
  }
  const bool ok = bind(nvml.lib, nvml.init, "nvmlInit_v2") &&
                  bind(nvml.lib, nvml.shutdown, "nvmlShutdown") &&
                  bind(nvml.lib, nvml.error_string, "nvmlErrorString") &&
                  bind(nvml.lib, nvml.count, "nvmlDeviceGetCount_v2") &&
                  bind(nvml.lib, nvml.handle, "nvmlDeviceGetHandleByIndex_v2") &&
                  bind(nvml.lib, nvml.name, "nvmlDeviceGetName") &&
                  bind(nvml.lib, nvml.uuid, "nvmlDeviceGetUUID") &&
                  bind(nvml.lib, nvml.clock, "nvmlDeviceGetClockInfo") &&
                  bind(nvml.lib, nvml.max_clock, "nvmlDeviceGetMaxClockInfo") &&
                  bind(nvml.lib, nvml.temperature, "nvmlDeviceGetTemperature") &&
                  bind(nvml.lib, nvml.power, "nvmlDeviceGetPowerUsage");
  if (!ok) {
    out.unavailable = "NVML unavailable: libnvidia-ml.so.1 lacks an expected function";
    return out;
  }
  // Newer drivers name it "clocks event reasons"; older ones "clocks throttle reasons".
  if (!bind(nvml.lib, nvml.reasons, "nvmlDeviceGetCurrentClocksEventReasons"))
    bind(nvml.lib, nvml.reasons, "nvmlDeviceGetCurrentClocksThrottleReasons");
  if (NvmlReturn rc = nvml.init(); rc != 0) {
    out.unavailable = fmt::format("NVML unavailable: nvmlInit_v2: {}", nvml.error_string(rc));
    return out;
  }
  unsigned count = 0;
  if (nvml.count(&count) != 0) count = 0;
  for (unsigned i = 0; i < count; ++i) {
    NvmlDevice dev = nullptr;
    if (nvml.handle(i, &dev) != 0) continue;
    GpuClockSample s;
    s.index = i;
    char buf[96] = {};
    if (nvml.name(dev, buf, sizeof buf) == 0) s.name = buf;
    if (nvml.uuid(dev, buf, sizeof buf) == 0) s.uuid = buf;
    nvml.clock(dev, kClockSm, &s.sm_clock_mhz);
    nvml.max_clock(dev, kClockSm, &s.max_sm_clock_mhz);
    nvml.clock(dev, kClockMemory, &s.memory_clock_mhz);
    nvml.temperature(dev, kTemperatureGpu, &s.temperature_c);
    unsigned milliwatts = 0;
    if (nvml.power(dev, &milliwatts) == 0) s.power_w = milliwatts / 1000.0;
    if (nvml.reasons) nvml.reasons(dev, &s.throttle_mask);
    out.devices.push_back(std::move(s));
  }
  nvml.shutdown();
  if (out.devices.empty()) out.unavailable = "NVML reports no GPU";
  return out;
}

nlohmann::json to_json(const GpuClocks& clocks) {
  if (!clocks.unavailable.empty()) return {{"unavailable", clocks.unavailable}};
  nlohmann::json devices = nlohmann::json::array();
  for (const GpuClockSample& s : clocks.devices) {
    devices.push_back({{"nvml_index", s.index},
                       {"name", s.name},
                       {"uuid", s.uuid},
                       {"sm_clock_mhz", s.sm_clock_mhz},
                       {"max_sm_clock_mhz", s.max_sm_clock_mhz},
                       {"memory_clock_mhz", s.memory_clock_mhz},
                       {"temperature_c", s.temperature_c},
                       {"power_w", s.power_w},
                       {"throttle_reasons", throttle_reason_names(s.throttle_mask)},
                       {"throttled", is_throttled(s.throttle_mask)}});
  }
  return {{"devices", devices}};
}

}  // namespace cobench::sysinfo
