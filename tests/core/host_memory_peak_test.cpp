// SPDX-License-Identifier: Apache-2.0
// The host memory peak: SMBIOS type 17 records walked and summed over a hand-built table whose
// answer is computed below by hand, malformed tables refused, and COBENCH_HOST_MEMORY_PEAK read
// first (a bad value names the variable).
#include "core/sysinfo/host_memory_peak.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace {

using namespace cobench;
using namespace cobench::sysinfo;
using Blob = std::vector<std::uint8_t>;

void put16(Blob& s, std::size_t offset, std::uint16_t v) {
  s[offset] = static_cast<std::uint8_t>(v & 0xFF);
  s[offset + 1] = static_cast<std::uint8_t>(v >> 8);
}
void put32(Blob& s, std::size_t offset, std::uint32_t v) {
  put16(s, offset, static_cast<std::uint16_t>(v & 0xFFFF));
  put16(s, offset + 2, static_cast<std::uint16_t>(v >> 16));
}

// A formatted area of `length` bytes (type, length, handle, then zeros) for the caller to fill.
Blob formatted(std::uint8_t type, std::uint8_t length, std::uint16_t handle) {
  Blob s(length, 0);
  s[0] = type;
  s[1] = length;
  put16(s, 2, handle);
  return s;
}

// Appends a structure and its string set: each string NUL-terminated, then one more NUL (two NULs
// when there are no strings).
void append(Blob& table, const Blob& area, const std::vector<std::string>& strings) {
  table.insert(table.end(), area.begin(), area.end());
  for (const std::string& str : strings) {
    table.insert(table.end(), str.begin(), str.end());
    table.push_back(0);
  }
  if (strings.empty()) table.push_back(0);
  table.push_back(0);
}

// A type 17 (Memory Device) of `length` bytes: size, data width (bits), speed and configured
// speed (MT/s).
Blob memory_device(std::uint8_t length, std::uint16_t handle, std::uint16_t size,
                   std::uint16_t width_bits, std::uint16_t speed, std::uint16_t configured) {
  Blob d = formatted(17, length, handle);
  put16(d, 0x08, static_cast<std::uint16_t>(width_bits == 64 ? 72 : width_bits));  // total width
  put16(d, 0x0A, width_bits);
  put16(d, 0x0C, size);
  d[0x10] = 1;  // device locator: string 1
  put16(d, 0x15, speed);
  if (length >= 0x22) put16(d, 0x20, configured);
  return d;
}

// The table of the tests:
//   type 0 (BIOS), strings "Vendor", "1.0"
//   type 17, SMBIOS 2.8 length 0x28: 16 GiB, 64-bit data, speed 3200, configured speed 0
//     (unknown, so the speed counts): 3200 MT/s x 8 B = 25.6 GB/s
//   type 17, empty slot (size 0) though its speeds read 3200: nothing
//   type 17, SMBIOS 3.3 length 0x5C: size 0x7FFF (extended), 64-bit data, speed 0xFFFF ->
//     extended 8000, configured 0xFFFF -> extended configured 6400, no strings:
//     6400 MT/s x 8 B = 51.2 GB/s
//   type 17, installed but data width 0xFFFF (unknown): nothing
//   type 127 (end of table), then a populated type 17 that must not count
// Peak = 25.6 + 51.2 = 76.8 GB/s = 7.68e10 B/s.
Blob test_table() {
  Blob t;
  Blob bios = formatted(0, 0x18, 0);
  bios[0x04] = 1, bios[0x05] = 2;
  append(t, bios, {"Vendor", "1.0"});
  append(t, memory_device(0x28, 0x1100, 0x4000, 64, 3200, 0), {"DIMM_A1", "BANK 0"});
  append(t, memory_device(0x28, 0x1101, 0, 64, 3200, 3200), {"DIMM_A2"});
  Blob ddr5 = memory_device(0x5C, 0x1102, 0x7FFF, 64, 0xFFFF, 0xFFFF);
  put32(ddr5, 0x1C, 32768);  // extended size, MiB
  put32(ddr5, 0x54, 8000);
  put32(ddr5, 0x58, 6400);
  append(t, ddr5, {});
  append(t, memory_device(0x28, 0x1103, 0x4000, 0xFFFF, 3200, 3200), {"DIMM_B2"});
  append(t, formatted(127, 4, 0xFFFE), {});
  append(t, memory_device(0x28, 0x1104, 0x4000, 64, 3200, 3200), {"AFTER_END"});
  return t;
}

TEST(HostMemoryPeak, SumsPopulatedSmbiosMemoryDevices) {
  const Blob t = test_table();
  const std::optional<HostMemoryPeak> peak = host_memory_peak_from_smbios(t);
  ASSERT_TRUE(peak.has_value());
  EXPECT_DOUBLE_EQ(peak->bandwidth.value, 76.8e9);
  EXPECT_EQ(peak->source,
            "SMBIOS: 1 device x 3200 MT/s x 8 B + 1 device x 6400 MT/s x 8 B (assumes one DIMM "
            "per channel)");
}

// Devices of arrays that are not system memory (type 16 Use at 0x05 != 0x03: here flash, 0x05)
// do not count; with no type 16 in the table (the tests above) every device counts.
TEST(HostMemoryPeak, OnlySystemMemoryArraysCount) {
  Blob t;
  Blob system = formatted(16, 0x17, 0x1000), flash = formatted(16, 0x17, 0x2000);
  system[0x05] = 0x03, flash[0x05] = 0x05;
  append(t, system, {});
  append(t, flash, {});
  Blob dimm = memory_device(0x28, 0x1100, 0x4000, 64, 3200, 3200);
  put16(dimm, 0x04, 0x1000);
  append(t, dimm, {"DIMM_A1"});
  Blob flash_device = memory_device(0x28, 0x1101, 0x0010, 8, 100, 100);
  put16(flash_device, 0x04, 0x2000);
  append(t, flash_device, {"FLASH"});
  const std::optional<HostMemoryPeak> peak = host_memory_peak_from_smbios(t);
  ASSERT_TRUE(peak.has_value());
  EXPECT_DOUBLE_EQ(peak->bandwidth.value, 3200e6 * 8);  // the DIMM alone: 25.6 GB/s
}

TEST(HostMemoryPeak, GroupsEqualDevices) {
  Blob t;
  for (std::uint16_t h = 0; h < 4; ++h)
    append(t, memory_device(0x22, h, 0x2000, 64, 3200, 2933), {"DIMM"});  // no end structure
  const std::optional<HostMemoryPeak> peak = host_memory_peak_from_smbios(t);
  ASSERT_TRUE(peak.has_value());
  EXPECT_DOUBLE_EQ(peak->bandwidth.value, 4 * 2933e6 * 8);  // 93.856 GB/s
  EXPECT_EQ(peak->source, "SMBIOS: 4 devices x 2933 MT/s x 8 B (assumes one DIMM per channel)");
}

TEST(HostMemoryPeak, NoUsableDeviceOrMalformedTable) {
  EXPECT_FALSE(host_memory_peak_from_smbios({}).has_value());
  Blob empty_slots;
  append(empty_slots, memory_device(0x28, 1, 0, 64, 3200, 3200), {"DIMM"});
  append(empty_slots, memory_device(0x28, 2, 0x4000, 64, 0, 0), {"DIMM"});  // speed unknown
  EXPECT_FALSE(host_memory_peak_from_smbios(empty_slots).has_value());

  Blob t = test_table();
  Blob short_length = t;
  short_length[1] = 3;  // shorter than the header
  EXPECT_THROW(host_memory_peak_from_smbios(short_length), Error);
  Blob past_end = formatted(17, 0x28, 1);
  past_end.resize(0x20);  // the formatted area is cut off
  EXPECT_THROW(host_memory_peak_from_smbios(past_end), Error);
  Blob unterminated = memory_device(0x28, 1, 0x4000, 64, 3200, 3200);
  unterminated.push_back('A');
  unterminated.push_back(0);  // one NUL: the string set never ends
  EXPECT_THROW(host_memory_peak_from_smbios(unterminated), Error);
}

class PeakEnv : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv(kHostMemoryPeakEnv); }
  void TearDown() override { unsetenv(kHostMemoryPeakEnv); }
};

TEST_F(PeakEnv, EnvironmentFirstThenSmbiosThenWhy) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::string missing = (dir / "cobench-no-such-dmi-table").string();
  HostMemoryPeakReading r = read_host_memory_peak(missing);
  EXPECT_FALSE(r.peak.has_value());
  EXPECT_NE(r.unavailable.find("cannot open '" + missing + "': No such file or directory"),
            std::string::npos)
      << r.unavailable;
  EXPECT_NE(r.unavailable.find(kHostMemoryPeakEnv), std::string::npos) << r.unavailable;
  EXPECT_THROW(read_smbios_table(missing), Error);

  const std::string file = (dir / ("cobench-dmi-test-" + std::to_string(getpid()))).string();
  {
    const Blob t = test_table();
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(t.size()));
  }
  EXPECT_EQ(read_smbios_table(file), test_table());
  r = read_host_memory_peak(file);
  ASSERT_TRUE(r.peak.has_value()) << r.unavailable;
  EXPECT_EQ(r.unavailable, "");
  EXPECT_DOUBLE_EQ(r.peak->bandwidth.value, 76.8e9);

  setenv(kHostMemoryPeakEnv, "25.6 GB/s", 1);  // wins over SMBIOS
  r = read_host_memory_peak(file);
  ASSERT_TRUE(r.peak.has_value());
  EXPECT_DOUBLE_EQ(r.peak->bandwidth.value, 25.6e9);
  EXPECT_EQ(r.peak->source, "COBENCH_HOST_MEMORY_PEAK='25.6 GB/s'");
  setenv(kHostMemoryPeakEnv, "2 GiB/s", 1);
  EXPECT_DOUBLE_EQ(read_host_memory_peak(missing).peak->bandwidth.value, 2.0 * (1 << 30));
  std::filesystem::remove(file);

  for (const char* bad : {"fast", "25.6", "25.6 GB", "0 GB/s", "inf GB/s"}) {
    setenv(kHostMemoryPeakEnv, bad, 1);
    try {
      read_host_memory_peak(missing);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(kHostMemoryPeakEnv), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("GB/s"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
