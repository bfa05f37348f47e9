// SPDX-License-Identifier: Apache-2.0
// Node discovery for `cobench sysinfo`: CPU (model, sockets/cores/threads, caches, ISA features),
// NUMA nodes and memory, GPUs and NICs on PCI with their NUMA locality (hwloc), CUDA devices
// through the runtime API (or the reason there are none) and the versions of the libraries that
// shape results. Runs on machines without a GPU or a driver.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/units.h"

namespace cobench::sysinfo {

struct Cache {
  int level = 0;     ///< 1, 2, 3
  std::string type;  ///< "data", "instruction", "unified"
  Bytes size;        ///< per instance
  int count = 0;     ///< instances on the node
};

struct NumaNode {
  int os_index = 0;
  Bytes memory;
};

struct CpuInfo {
  std::string model;
  std::string vendor;
  /// x86 CPUID leaf 1 (-1 where unknown): display family and model as Linux's /proc/cpuinfo
  /// shows them ("cpu family", "model"), and the stepping. Tells a Zen 1 (family 23) from a
  /// Zen 3/4 (25) when both call themselves "AMD EPYC".
  int family = -1, model_number = -1, stepping = -1;
  int sockets = 0;
  int cores = 0;    ///< physical cores on the node
  int threads = 0;  ///< hardware threads (processing units) on the node
  /// ISA features usable here (CPU support and OS-enabled register state): avx2, fma, avx512f,
  /// avx512bw, avx512vl, avx512_vnni, avx512_bf16, avx512_fp16, amx_tile, amx_bf16, amx_int8.
  std::map<std::string, bool> features;
};

struct PciDevice {
  std::string kind;    ///< "gpu" or "nic"
  std::string bus_id;  ///< "0000:17:00.0"
  std::string vendor;  ///< name when hwloc knows it, else the PCI vendor id "0x10de"
  std::string name;    ///< device name when hwloc knows it, else the PCI device id
  int numa_node = -1;  ///< closest NUMA node, -1 when unknown
  std::optional<Bandwidth> pcie_link;   ///< PCIe link bandwidth per direction, when known
  std::vector<std::string> os_devices;  ///< "eth0", "mlx5_0", "cuda0", ...
  std::optional<Bandwidth> port_speed;  ///< NIC port speed from sysfs, when known
  /// A NIC with an RDMA device (InfiniBand or RoCE: hwloc's OpenFabrics OS device, "mlx5_0"):
  /// a fabric NIC. A NIC without one (virtio, a management port) carries no collective traffic.
  bool rdma = false;
};

struct CudaDevice {
  int index = 0;
  std::string name;
  int cc_major = 0;
  int cc_minor = 0;
  int sms = 0;
  Bytes memory;
  int clock_khz = 0;         ///< peak SM clock
  int memory_clock_khz = 0;  ///< peak memory clock
  int memory_bus_bits = 0;
  Bytes l2_cache;
  std::string pci_bus_id;
  /// Theoretical memory bandwidth: 2 (double data rate) x memory clock x bus width / 8.
  Bandwidth memory_bandwidth() const;
};

struct NodeInfo {
  std::string host;
  std::string os;  ///< "Linux 6.1.0-... x86_64"
  CpuInfo cpu;
  std::vector<NumaNode> numa_nodes;  ///< memory per node as the node reports it (sysfs)
  Bytes total_memory;                ///< the kernel's total (sysconf), what the OS can use
  std::vector<Cache> caches;
  std::vector<PciDevice> pci_devices;
  std::vector<CudaDevice> cuda_devices;
  std::string cuda_status;  ///< "" when devices were enumerated, else "no CUDA device: <reason>"
  std::map<std::string, std::string> versions;  ///< library -> version ("not built" if absent)
};

/// Discovers this node. Throws cobench::Error when hwloc cannot load the topology.
NodeInfo discover();

nlohmann::json to_json(const NodeInfo& n);
/// Human-readable report, one fact per line.
std::string to_text(const NodeInfo& n);
/// The node part of a cluster description (docs/cluster-format.md), as YAML.
std::string to_cluster_node_yaml(const NodeInfo& n);

// Parts of discover(), each in its own file.
void discover_hwloc(NodeInfo& n);     // CPU, NUMA, caches, PCI (sysinfo_hwloc.cpp)
CpuInfo cpu_features();               // ISA features from cpuid (sysinfo_cpu.cpp)
void discover_cuda(NodeInfo& n);      // CUDA devices and versions (sysinfo_cuda.cpp / _nocuda)
void discover_versions(NodeInfo& n);  // other libraries (sysinfo_versions.cpp)

}  // namespace cobench::sysinfo
