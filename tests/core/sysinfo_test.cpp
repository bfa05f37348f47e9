// SPDX-License-Identifier: Apache-2.0
// Discovery checked against what the OS reports through other interfaces (/proc, sched
// affinity), and the cluster-node YAML read back by the topology model's loader.
#include "core/sysinfo/sysinfo.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/sysinfo/gpu_clocks.h"
#include "topologies/node_spec.h"

namespace {

using namespace cobench;

const sysinfo::NodeInfo& node() {
  static const sysinfo::NodeInfo n = sysinfo::discover();
  return n;
}

// Fields of /proc/cpuinfo for the processors this process may run on.
struct ProcCpuinfo {
  int processors = 0;
  std::set<std::pair<int, int>> cores;  // (physical id, core id)
  std::set<int> packages;
  std::set<std::string> flags;
};

ProcCpuinfo read_proc_cpuinfo() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  sched_getaffinity(0, sizeof allowed, &allowed);
  ProcCpuinfo out;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  int processor = -1, physical = 0, core = 0;
  auto flush = [&] {
    if (processor >= 0 && CPU_ISSET(processor, &allowed)) {
      ++out.processors;
      out.cores.insert({physical, core});
      out.packages.insert(physical);
    }
  };
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "processor") {
      flush();
      processor = std::stoi(value);
      physical = core = 0;
    } else if (key == "physical id") {
      physical = std::stoi(value);
    } else if (key == "core id") {
      core = std::stoi(value);
    } else if (key == "flags" && out.flags.empty()) {
      std::istringstream ss(value);
      for (std::string f; ss >> f;) out.flags.insert(f);
    }
  }
  flush();
  return out;
}

double meminfo_total_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (in >> key) {
    if (key == "MemTotal:") {
      in >> kib;
      return kib * 1024.0;
    }
    std::getline(in, key);
  }
  return 0;
}

TEST(Sysinfo, CountsAgreeWithTheOperatingSystem) {
  const ProcCpuinfo proc = read_proc_cpuinfo();
  ASSERT_GT(proc.processors, 0);
  EXPECT_EQ(node().cpu.threads, proc.processors);
  EXPECT_EQ(node().cpu.cores, static_cast<int>(proc.cores.size()));
  EXPECT_EQ(node().cpu.sockets, static_cast<int>(proc.packages.size()));
  EXPECT_FALSE(node().cpu.model.empty());
}

TEST(Sysinfo, MemoryAgreesWithProcMeminfo) {
  const double os_bytes = meminfo_total_bytes();
  ASSERT_GT(os_bytes, 0);
  // sysconf counts whole pages of the same MemTotal that /proc/meminfo prints in KiB.
  EXPECT_NEAR(node().total_memory.value, os_bytes, 4096.0);
  ASSERT_FALSE(node().numa_nodes.empty());
  double sum = 0;
  for (const auto& n : node().numa_nodes) {
    EXPECT_GT(n.memory.value, 0);
    sum += n.memory.value;
  }
  EXPECT_LE(sum, 1.02 * node().total_memory.value);
}

TEST(Sysinfo, IsaFeaturesAgreeWithKernelFlags) {
#if defined(__x86_64__)
  const ProcCpuinfo proc = read_proc_cpuinfo();
  for (const auto& [ours, kernel] :
       std::vector<std::pair<std::string, std::string>>{{"avx2", "avx2"},
                                                        {"fma", "fma"},
                                                        {"avx512f", "avx512f"},
                                                        {"avx512_bf16", "avx512_bf16"},
                                                        {"amx_tile", "amx_tile"}}) {
    EXPECT_EQ(node().cpu.features.at(ours), proc.flags.count(kernel) == 1) << ours;
  }
#else
  GTEST_SKIP() << "ISA features are probed on x86-64 only";
#endif
}

TEST(Sysinfo, CudaDevicesOrAReason) {
  if (node().cuda_devices.empty()) {
    EXPECT_EQ(node().cuda_status.rfind("no CUDA device: ", 0), 0u) << node().cuda_status;
  } else {
    EXPECT_TRUE(node().cuda_status.empty());
    for (const auto& d : node().cuda_devices) {
      EXPECT_FALSE(d.name.empty());
      EXPECT_GT(d.sms, 0);
      EXPECT_GT(d.memory.value, 0);
      EXPECT_GT(d.memory_bandwidth().value, 0);
    }
  }
}

TEST(Sysinfo, JsonAndTextCarryTheFacts) {
  const auto j = sysinfo::to_json(node());
  EXPECT_EQ(j["cpu"]["threads"], node().cpu.threads);
  EXPECT_EQ(j["total_memory_bytes"], node().total_memory.value);
  EXPECT_TRUE(j["versions"].contains("hwloc"));
  EXPECT_TRUE(j["versions"].contains("cuda_runtime"));
  const std::string text = sysinfo::to_text(node());
  EXPECT_NE(text.find(node().host), std::string::npos);
  EXPECT_NE(text.find(std::to_string(node().cpu.cores) + " core(s)"), std::string::npos);
}

TEST(Sysinfo, ClusterNodeYamlIsReadByTheModel) {
  const std::string yaml = sysinfo::to_cluster_node_yaml(node());
  const topo::NodeSpec spec = topo::load_node_file(config::parse_yaml(yaml, "node.yaml"));
  EXPECT_EQ(spec.name, node().host);
  ASSERT_TRUE(spec.cpu.has_value());
  EXPECT_EQ(spec.cpu->cores, node().cpu.cores);
  EXPECT_EQ(spec.cpu->threads, node().cpu.threads);
  EXPECT_NEAR(spec.cpu->memory_capacity.value, node().total_memory.value,
              1e-8 * node().total_memory.value);
  EXPECT_EQ(spec.gpus_per_node, static_cast<int>(node().cuda_devices.size()));
  if (!node().cuda_devices.empty()) {
    ASSERT_TRUE(spec.gpu.has_value());
    EXPECT_EQ(spec.gpu->name, node().cuda_devices[0].name);
  }
  int nics = 0;
  for (const auto& d : node().pci_devices) nics += d.kind == "nic" && d.rdma;
  EXPECT_EQ(spec.nics_per_node, nics);
}

// A node with a RoCE NIC, an InfiniBand NIC and a virtio NIC: two fabric NICs, the fastest port
// their speed, the virtio one named as left out.
TEST(Sysinfo, ClusterNodeCountsOnlyRdmaNics) {
  sysinfo::NodeInfo n = node();
  n.pci_devices.clear();
  sysinfo::PciDevice roce, ib, virtio;
  roce.kind = ib.kind = virtio.kind = "nic";
  roce.bus_id = "0000:17:00.0", roce.os_devices = {"ens1", "mlx5_0"}, roce.rdma = true;
  roce.port_speed = Bandwidth(200e9 / 8);
  ib.bus_id = "0000:18:00.0", ib.os_devices = {"ib0", "mlx5_1"}, ib.rdma = true;
  ib.port_speed = Bandwidth(400e9 / 8);
  virtio.bus_id = "0000:00:03.0", virtio.os_devices = {"eth0"};
  n.pci_devices = {roce, ib, virtio};
  const std::string yaml = sysinfo::to_cluster_node_yaml(n);
  const topo::NodeSpec spec = topo::load_node_file(config::parse_yaml(yaml, "node.yaml"));
  EXPECT_EQ(spec.nics_per_node, 2);
  ASSERT_TRUE(spec.nic_speed.has_value()) << yaml;
  EXPECT_DOUBLE_EQ(spec.nic_speed->value, 400e9 / 8);
  EXPECT_NE(yaml.find("NICs without an RDMA device, not counted: 0000:00:03.0 [eth0]"),
            std::string::npos)
      << yaml;
}

TEST(GpuClocks, ThrottleReasonsByName) {
  // 0x4 power cap + 0x40 hardware thermal + an undefined bit 0x1000.
  EXPECT_EQ(sysinfo::throttle_reason_names(0x4 | 0x40 | 0x1000),
            (std::vector<std::string>{"sw_power_cap", "hw_thermal_slowdown", "unknown_0x1000"}));
  EXPECT_TRUE(sysinfo::throttle_reason_names(0).empty());
  EXPECT_FALSE(sysinfo::is_throttled(0x1));   // idle
  EXPECT_FALSE(sysinfo::is_throttled(0x10));  // sync boost
  EXPECT_TRUE(sysinfo::is_throttled(0x1 | 0x20));
  EXPECT_TRUE(sysinfo::is_throttled(0x80));
}

TEST(GpuClocks, ReadingOrAReason) {
  const sysinfo::GpuClocks c = sysinfo::read_gpu_clocks();
  if (c.devices.empty()) {
    EXPECT_FALSE(c.unavailable.empty());
    EXPECT_EQ(sysinfo::to_json(c)["unavailable"], c.unavailable);
  } else {
    for (const auto& s : c.devices) {
      EXPECT_GT(s.max_sm_clock_mhz, 0u);
      EXPECT_LE(s.sm_clock_mhz, s.max_sm_clock_mhz);
    }
  }
}

}  // namespace
