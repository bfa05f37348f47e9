// SPDX-License-Identifier: Apache-2.0
#include "core/sysinfo/sysinfo.h"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "core/provenance.h"

namespace cobench::sysinfo {

Bandwidth CudaDevice::memory_bandwidth() const {
  return Bandwidth(2.0 * memory_clock_khz * 1e3 * memory_bus_bits / 8.0);
}

NodeInfo discover() {
  NodeInfo n;
  n.host = host_name();
  utsname u{};
  if (uname(&u) == 0) n.os = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  CpuInfo features = cpu_features();
  discover_hwloc(n);
  // The kernel's total, not the NUMA nodes' sum: some virtual machines report less in
  // /sys/devices/system/node than they have (seen: 5 GB of 24 GB on node 0).
  n.total_memory = Bytes(static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                         static_cast<double>(sysconf(_SC_PAGE_SIZE)));
  n.cpu.features = std::move(features.features);
  n.cpu.family = features.family;
  n.cpu.model_number = features.model_number;
  n.cpu.stepping = features.stepping;
  discover_cuda(n);
  discover_versions(n);
  return n;
}

nlohmann::json to_json(const NodeInfo& n) {
  using nlohmann::json;
  json cpu = {{"model", n.cpu.model}, {"vendor", n.cpu.vendor},   {"sockets", n.cpu.sockets},
              {"cores", n.cpu.cores}, {"threads", n.cpu.threads}, {"features", n.cpu.features}};
  if (n.cpu.family >= 0) {
    cpu["family"] = n.cpu.family;
    cpu["model_number"] = n.cpu.model_number;
    cpu["stepping"] = n.cpu.stepping;
  }
  json numa = json::array();
  for (const auto& node : n.numa_nodes)
    numa.push_back({{"os_index", node.os_index}, {"memory_bytes", node.memory.value}});
  json caches = json::array();
  for (const auto& c : n.caches)
    caches.push_back(
        {{"level", c.level}, {"type", c.type}, {"size_bytes", c.size.value}, {"count", c.count}});
  json pci = json::array();
  for (const auto& d : n.pci_devices) {
    json j = {{"kind", d.kind}, {"bus_id", d.bus_id},       {"vendor", d.vendor},
              {"name", d.name}, {"numa_node", d.numa_node}, {"os_devices", d.os_devices}};
    if (d.kind == "nic") j["rdma"] = d.rdma;
    j["pcie_link_bytes_per_s"] = d.pcie_link ? json(d.pcie_link->value) : json(nullptr);
    j["port_speed_bytes_per_s"] = d.port_speed ? json(d.port_speed->value) : json(nullptr);
    pci.push_back(std::move(j));
  }
  json cuda = json::array();
  for (const auto& d : n.cuda_devices) {
    cuda.push_back({{"index", d.index},
                    {"name", d.name},
                    {"compute_capability", fmt::format("{}.{}", d.cc_major, d.cc_minor)},
                    {"sms", d.sms},
                    {"memory_bytes", d.memory.value},
                    {"clock_khz", d.clock_khz},
                    {"memory_clock_khz", d.memory_clock_khz},
                    {"memory_bus_bits", d.memory_bus_bits},
                    {"memory_bandwidth_bytes_per_s", d.memory_bandwidth().value},
                    {"l2_cache_bytes", d.l2_cache.value},
                    {"pci_bus_id", d.pci_bus_id}});
  }
  return {{"host", n.host},
          {"os", n.os},
          {"cpu", cpu},
          {"numa_nodes", numa},
          {"total_memory_bytes", n.total_memory.value},
          {"caches", caches},
          {"pci_devices", pci},
          {"cuda_devices", cuda},
          {"cuda_status", n.cuda_status.empty() ? json(nullptr) : json(n.cuda_status)},
          {"versions", n.versions}};
}

std::string to_text(const NodeInfo& n) {
  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    out += fmt::format("{:<20} {}\n", key, value);
  };
  line("host", n.host);
  line("os", n.os);
  line("cpu", fmt::format("{} ({})", n.cpu.model, n.cpu.vendor));
  line("topology", fmt::format("{} socket(s), {} core(s), {} thread(s), {} NUMA node(s)",
                               n.cpu.sockets, n.cpu.cores, n.cpu.threads, n.numa_nodes.size()));
  line("memory", format_bytes(n.total_memory, Prefixes::kIec, 4));
  for (const auto& node : n.numa_nodes)
    line(fmt::format("  numa {}", node.os_index), format_bytes(node.memory, Prefixes::kIec, 4));
  for (const auto& c : n.caches)
    line(fmt::format("  L{} {}", c.level, c.type),
         fmt::format("{} x {}", format_bytes(c.size, Prefixes::kIec, 4), c.count));
  std::string features;
  for (const auto& [name, on] : n.cpu.features)
    features += fmt::format("{}{} ", on ? "+" : "-", name);
  line("isa", features.empty() ? "(not x86)" : features);
  for (const auto& d : n.pci_devices) {
    std::string extra;
    if (d.pcie_link) extra += fmt::format(", PCIe {}", format_bandwidth(*d.pcie_link, 4));
    if (d.port_speed) extra += fmt::format(", port {}", format_bandwidth_bits(*d.port_speed, 4));
    if (d.kind == "nic") extra += d.rdma ? ", RDMA" : ", no RDMA device";
    std::string os;
    for (const auto& o : d.os_devices) os += (os.empty() ? "" : ",") + o;
    line(fmt::format("pci {}", d.kind), fmt::format("{} {} {} [{}] numa {}{}", d.bus_id, d.vendor,
                                                    d.name, os, d.numa_node, extra));
  }
  if (!n.cuda_status.empty()) line("cuda", n.cuda_status);
  for (const auto& d : n.cuda_devices) {
    line(fmt::format("cuda {}", d.index),
         fmt::format("{}, sm_{}{}, {} SMs, {}, {} MHz, L2 {}, {}-bit bus, {} peak, {}", d.name,
                     d.cc_major, d.cc_minor, d.sms, format_bytes(d.memory, Prefixes::kIec, 4),
                     d.clock_khz / 1000, format_bytes(d.l2_cache, Prefixes::kIec, 4),
                     d.memory_bus_bits, format_bandwidth(d.memory_bandwidth(), 4), d.pci_bus_id));
  }
  for (const auto& [lib, version] : n.versions) line(fmt::format("version {}", lib), version);
  return out;
}

std::string to_cluster_node_yaml(const NodeInfo& n) {
  YAML::Emitter y;
  y << YAML::Comment(fmt::format(
      "Node description written by `cobench sysinfo --cluster-node` on {}. Datasheet values "
      "that discovery cannot see (peak FLOP/s, scale-up bandwidth) belong in the cluster file.",
      n.host));
  y << YAML::BeginMap << YAML::Key << "node" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << n.host;
  y << YAML::Key << "cpu" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "model" << YAML::Value << n.cpu.model;
  y << YAML::Key << "sockets" << YAML::Value << n.cpu.sockets;
  y << YAML::Key << "cores" << YAML::Value << n.cpu.cores;
  y << YAML::Key << "threads" << YAML::Value << n.cpu.threads;
  y << YAML::Key << "numa_nodes" << YAML::Value << n.numa_nodes.size();
  y << YAML::Key << "memory_capacity" << YAML::Value
    << format_bytes(n.total_memory, Prefixes::kIec, 9);
  y << YAML::EndMap;
  y << YAML::Key << "gpus_per_node" << YAML::Value << n.cuda_devices.size();
  if (!n.cuda_devices.empty()) {
    const CudaDevice& d = n.cuda_devices.front();
    y << YAML::Key << "gpu" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << d.name;
    y << YAML::Key << "compute_capability" << YAML::Value
      << fmt::format("{}.{}", d.cc_major, d.cc_minor);
    y << YAML::Key << "sms" << YAML::Value << d.sms;
    y << YAML::Key << "hbm_capacity" << YAML::Value << format_bytes(d.memory, Prefixes::kIec, 9);
    y << YAML::Key << "hbm_bandwidth" << YAML::Value << format_bandwidth(d.memory_bandwidth(), 9);
    y << YAML::EndMap;
  }
  // Fabric NICs only: those with an RDMA device; the others are named in a comment.
  int nics = 0;
  std::optional<Bandwidth> nic_speed;
  std::string left_out;
  for (const auto& d : n.pci_devices) {
    if (d.kind != "nic") continue;
    if (!d.rdma) {
      std::string os;
      for (const auto& o : d.os_devices) os += (os.empty() ? "" : ",") + o;
      left_out += fmt::format("{}{} [{}]", left_out.empty() ? "" : "; ", d.bus_id, os);
      continue;
    }
    ++nics;
    if (d.port_speed && (!nic_speed || *d.port_speed > *nic_speed)) nic_speed = d.port_speed;
  }
  if (!left_out.empty())
    y << YAML::Newline
      << YAML::Comment(fmt::format("NICs without an RDMA device, not counted: {}", left_out));
  y << YAML::Key << "nics_per_node" << YAML::Value << nics;
  if (nic_speed)
    y << YAML::Key << "nic_speed" << YAML::Value << format_bandwidth_bits(*nic_speed, 9);
  y << YAML::EndMap << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

}  // namespace cobench::sysinfo
