// SPDX-License-Identifier: Apache-2.0
#include "microbench/tensor_peak.h"

#include <fmt/format.h>

#include <array>

namespace cobench::bench {
namespace {

struct Datasheet {
  const char* name_part;  // matched as a substring of the device name, first match wins
  const char* part;
  int cc_major;
  int sms;
  double fp8_tflops;  // dense (no sparsity), decimal TFLOP/s
  double tensor_mhz;  // the clock the datasheet figure implies: fp8 / (SMs x FLOP/clk/SM)
};

// Dense FP8 figures of NVIDIA's datasheets (the sparse figures halved); BF16 is half of FP8 on
// these parts. A name matches as a substring and the SM count must agree too; more specific
// names come first ("H200 NVL" before "H200", "GB200" before "B200", "GH200" before "H200").
// H20's tensor throughput is cut far below its SM count's (296 dense FP8 TFLOPS on 78 SMs).
constexpr std::array<Datasheet, 11> kDatasheets{{
    {"H100 NVL", "H100 NVL", 9, 132, 1670.5, 1545},
    {"H200 NVL", "H200 NVL", 9, 132, 1670.5, 1545},
    {"H100 PCIe", "H100 PCIe", 9, 114, 1513, 1620},
    {"H800 PCIe", "H800 PCIe", 9, 114, 1513, 1620},
    {"GH200", "GH200 (H100/H200 SXM figures)", 9, 132, 1979, 1830},
    {"H200", "H200 SXM", 9, 132, 1979, 1830},
    {"H100", "H100 SXM", 9, 132, 1979, 1830},
    {"H800", "H800 SXM", 9, 132, 1979, 1830},
    {"H20", "H20", 9, 78, 296, 463},
    {"GB200", "GB200 (NVL72: 720 PFLOPS sparse / 72)", 10, 148, 5000, 2062},
    {"B200", "B200 (HGX)", 10, 148, 4500, 1856},
}};

// Dense FP8 FLOP per clock and SM: Hopper 8192, Blackwell (sm_100) twice that.
double fp8_flop_per_clk(int cc_major) { return cc_major == 9 ? 8192 : cc_major == 10 ? 16384 : 0; }

}  // namespace

DevicePeak tensor_core_peak(const std::string& name, int cc_major, int sms, int max_clock_khz) {
  DevicePeak p;
  for (const Datasheet& d : kDatasheets)
    if (name.find(d.name_part) != std::string::npos && d.cc_major == cc_major && d.sms == sms) {
      p.fp8 = d.fp8_tflops * 1e12;
      p.bf16 = p.fp8 / 2;
      p.how = fmt::format(
          "datasheet: {} dense FP8 {} TFLOPS ({} SMs x {} MHz implied x {} FLOP/clk/SM; the "
          "maximum "
          "SM clock here is {} MHz)",
          d.part, d.fp8_tflops, d.sms, d.tensor_mhz, fp8_flop_per_clk(cc_major),
          max_clock_khz / 1000);
      return p;
    }
  const double per_clk = fp8_flop_per_clk(cc_major);
  if (per_clk == 0) {
    p.how = fmt::format("unknown: no tensor-core FLOP per clock for sm_{}x ({})", cc_major, name);
    return p;
  }
  p.fp8 = sms * (max_clock_khz * 1e3) * per_clk;
  p.bf16 = p.fp8 / 2;
  p.how = fmt::format(
      "no datasheet entry for {}: {} SMs x {} MHz (maximum SM clock, above the datasheets' "
      "tensor clocks) x {} FP8 FLOP/clk/SM (sm_{}x)",
      name, sms, max_clock_khz / 1000, per_clk, cc_major);
  return p;
}

}  // namespace cobench::bench
