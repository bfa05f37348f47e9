// SPDX-License-Identifier: Apache-2.0
// ISA features from cpuid, each reported only when the OS also enables its register state
// (XCR0), since an instruction the OS does not save cannot be used.
#include "core/sysinfo/sysinfo.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace cobench::sysinfo {

CpuInfo cpu_features() {
  CpuInfo cpu;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  auto bit = [](unsigned reg, int n) { return ((reg >> n) & 1u) != 0; };
  __cpuid(0, a, b, c, d);
  const unsigned max_leaf = a;
  __cpuid(1, a, b, c, d);
  const int base_family = static_cast<int>((a >> 8) & 0xf),
            base_model = static_cast<int>((a >> 4) & 0xf);
  cpu.family = base_family == 0xf ? base_family + static_cast<int>((a >> 20) & 0xff) : base_family;
  cpu.model_number = base_family == 0x6 || base_family == 0xf
                         ? base_model + (static_cast<int>((a >> 16) & 0xf) << 4)
                         : base_model;
  cpu.stepping = static_cast<int>(a & 0xf);
  const bool osxsave = bit(c, 27);
  const bool fma = bit(c, 12);
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  const bool avx_os = (xcr0 & 0x6) == 0x6;                 // SSE and AVX state
  const bool avx512_os = avx_os && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool amx_os = (xcr0 & 0x60000) == 0x60000;         // XTILECFG, XTILEDATA
  unsigned b7 = 0, c7 = 0, d7 = 0, a71 = 0;
  if (max_leaf >= 7) {
    unsigned a7 = 0;
    __cpuid_count(7, 0, a7, b7, c7, d7);
    unsigned b71 = 0, c71 = 0, d71 = 0;
    if (a7 >= 1) __cpuid_count(7, 1, a71, b71, c71, d71);
  }
  cpu.features["fma"] = avx_os && fma;
  cpu.features["avx2"] = avx_os && bit(b7, 5);
  cpu.features["avx512f"] = avx512_os && bit(b7, 16);
  cpu.features["avx512bw"] = avx512_os && bit(b7, 30);
  cpu.features["avx512vl"] = avx512_os && bit(b7, 31);
  cpu.features["avx512_vnni"] = avx512_os && bit(c7, 11);
  cpu.features["avx512_bf16"] = avx512_os && bit(a71, 5);
  cpu.features["avx512_fp16"] = avx512_os && bit(d7, 23);
  cpu.features["amx_bf16"] = amx_os && bit(d7, 22);
  cpu.features["amx_tile"] = amx_os && bit(d7, 24);
  cpu.features["amx_int8"] = amx_os && bit(d7, 25);
#endif
  return cpu;
}

}  // namespace cobench::sysinfo
