// SPDX-License-Identifier: Apache-2.0
// CPU, NUMA, cache and PCI discovery through hwloc.
#include <fmt/format.h>
#include <hwloc.h>

#include <fstream>
#include <memory>

#include "core/error.h"
#include "core/sysinfo/sysinfo.h"

namespace cobench::sysinfo {
namespace {

using Topology = std::unique_ptr<hwloc_topology, decltype(&hwloc_topology_destroy)>;

Topology load_topology() {
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) throw Error("hwloc_topology_init failed");
  Topology topo(raw, &hwloc_topology_destroy);
  hwloc_topology_set_io_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  hwloc_topology_set_icache_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_ALL);
  // GPUs are asked through the CUDA runtime; the accelerator and display plugins add nothing
  // but start-up time (the GL one probes X displays) and, for OpenCL, leaks in the ICD loader.
  for (const char* plugin : {"opencl", "gl", "cuda", "nvml", "rsmi", "levelzero"})
    hwloc_topology_set_components(raw, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, plugin);
  if (hwloc_topology_load(raw) != 0) throw Error("hwloc_topology_load failed");
  return topo;
}

std::string info(hwloc_obj_t obj, const char* key) {
  const char* v = obj ? hwloc_obj_get_info_by_name(obj, key) : nullptr;
  return v ? v : "";
}

int count(hwloc_topology_t t, hwloc_obj_type_t type) {
  const int n = hwloc_get_nbobjs_by_type(t, type);
  return n > 0 ? n : 0;
}

// NIC port speed from sysfs: Ethernet reports Mb/s in /sys/class/net/<if>/speed, InfiniBand
// "400 Gb/sec (4X NDR)" in /sys/class/infiniband/<dev>/ports/1/rate.
std::optional<Bandwidth> port_speed(const std::string& os_device, hwloc_obj_osdev_type_t type) {
  if (type == HWLOC_OBJ_OSDEV_NETWORK) {
    std::ifstream in("/sys/class/net/" + os_device + "/speed");
    long mbit = -1;
    if (in >> mbit && mbit > 0) return Bandwidth(static_cast<double>(mbit) * 1e6 / 8.0);
  } else if (type == HWLOC_OBJ_OSDEV_OPENFABRICS) {
    std::ifstream in("/sys/class/infiniband/" + os_device + "/ports/1/rate");
    double gbit = 0;
    if (in >> gbit && gbit > 0) return Bandwidth(gbit * 1e9 / 8.0);
  }
  return std::nullopt;
}

int numa_of(hwloc_topology_t t, hwloc_obj_t obj) {
  hwloc_obj_t ancestor = hwloc_get_non_io_ancestor_obj(t, obj);
  if (!ancestor || !ancestor->nodeset) return -1;
  // Nodesets hold NUMA OS indexes; the first is the closest node of a single-node ancestor.
  return hwloc_bitmap_first(ancestor->nodeset);
}

void discover_caches(hwloc_topology_t t, NodeInfo& n) {
  const std::pair<hwloc_obj_type_t, int> levels[] = {{HWLOC_OBJ_L1CACHE, 1},
                                                     {HWLOC_OBJ_L1ICACHE, 1},
                                                     {HWLOC_OBJ_L2CACHE, 2},
                                                     {HWLOC_OBJ_L3CACHE, 3},
                                                     {HWLOC_OBJ_L4CACHE, 4}};
  for (auto [type, level] : levels) {
    const int k = count(t, type);
    if (k == 0) continue;
    hwloc_obj_t first = hwloc_get_obj_by_type(t, type, 0);
    std::string kind = first->attr->cache.type == HWLOC_OBJ_CACHE_DATA          ? "data"
                       : first->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instruction"
                                                                                : "unified";
    n.caches.push_back({level, kind, Bytes(static_cast<double>(first->attr->cache.size)), k});
  }
}

void discover_pci(hwloc_topology_t t, NodeInfo& n) {
  for (hwloc_obj_t obj = hwloc_get_next_pcidev(t, nullptr); obj;
       obj = hwloc_get_next_pcidev(t, obj)) {
    const auto& pci = obj->attr->pcidev;
    const unsigned cls = pci.class_id;
    std::string kind;
    if ((cls == 0x0300 || cls == 0x0302) && pci.vendor_id == 0x10de) kind = "gpu";
    if (cls == 0x0302) kind = "gpu";       // 3D controllers: compute GPUs
    if ((cls >> 8) == 0x02) kind = "nic";  // Ethernet, InfiniBand, fabric
    if (kind.empty()) continue;
    PciDevice d;
    d.kind = kind;
    d.bus_id = fmt::format("{:04x}:{:02x}:{:02x}.{:x}", pci.domain, pci.bus, pci.dev, pci.func);
    d.vendor = info(obj, "PCIVendor");
    if (d.vendor.empty()) d.vendor = fmt::format("0x{:04x}", pci.vendor_id);
    d.name = info(obj, "PCIDevice");
    if (d.name.empty()) d.name = fmt::format("0x{:04x}", pci.device_id);
    d.numa_node = numa_of(t, obj);
    if (pci.linkspeed > 0) d.pcie_link = Bandwidth(static_cast<double>(pci.linkspeed) * 1e9);
    for (hwloc_obj_t os = obj->io_first_child; os; os = os->next_sibling) {
      if (os->type != HWLOC_OBJ_OS_DEVICE || !os->name) continue;
      d.os_devices.push_back(os->name);
      if (os->attr->osdev.type == HWLOC_OBJ_OSDEV_OPENFABRICS) d.rdma = true;
      if (!d.port_speed) d.port_speed = port_speed(os->name, os->attr->osdev.type);
    }
    n.pci_devices.push_back(std::move(d));
  }
}

}  // namespace

void discover_hwloc(NodeInfo& n) {
  Topology topo = load_topology();
  hwloc_topology_t t = topo.get();
  hwloc_obj_t package = hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0);
  n.cpu.model = info(package, "CPUModel");
  n.cpu.vendor = info(package, "CPUVendor");
  n.cpu.sockets = count(t, HWLOC_OBJ_PACKAGE);
  n.cpu.cores = count(t, HWLOC_OBJ_CORE);
  n.cpu.threads = count(t, HWLOC_OBJ_PU);
  for (int i = 0; i < count(t, HWLOC_OBJ_NUMANODE); ++i) {
    hwloc_obj_t node = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(i));
    const double bytes = static_cast<double>(node->attr->numanode.local_memory);
    n.numa_nodes.push_back({static_cast<int>(node->os_index), Bytes(bytes)});
  }
  discover_caches(t, n);
  discover_pci(t, n);
  const unsigned api = hwloc_get_api_version();
  n.versions["hwloc"] = fmt::format("{} (API {}.{})", HWLOC_VERSION, api >> 16, (api >> 8) & 0xff);
}

}  // namespace cobench::sysinfo
