// SPDX-License-Identifier: Apache-2.0
#include "core/machine_identity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace cobench {
namespace {

using nlohmann::json;

std::string text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_integer()) return std::to_string(j.get<std::int64_t>());
  if (j.is_number()) return fmt::format("{:.6g}", j.get<double>());
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  return "";
}

// "a; b; c" of the sorted entries.
std::string joined(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

std::string gib(const json& bytes) {
  return bytes.is_number() ? fmt::format("{:.0f} GiB", bytes.get<double>() / (1ull << 30)) : "";
}

std::string gbit(const json& bytes_per_s) {
  return bytes_per_s.is_number() ? fmt::format("{:.0f} Gb/s", bytes_per_s.get<double>() * 8 / 1e9)
                                 : "";
}

// Field name -> how a difference reads (the CPU model and GPUs as compare has always said them).
std::string describe(const std::string& field) {
  static const std::map<std::string, std::string> names = {{"cpu.vendor", "CPU vendor"},
                                                           {"cpu.model", "CPU model"},
                                                           {"cpu.family", "CPU family"},
                                                           {"cpu.model_number", "CPU model number"},
                                                           {"cpu.stepping", "CPU stepping"},
                                                           {"cpu.features", "CPU ISA features"},
                                                           {"cpu.sockets", "CPU sockets"},
                                                           {"cpu.cores", "CPU cores"},
                                                           {"cpu.threads", "CPU threads"},
                                                           {"gpus", "GPUs"},
                                                           {"nics", "NICs"}};
  const auto it = names.find(field);
  return it == names.end() ? field : it->second;
}

}  // namespace

MachineIdentity machine_identity(const json& s) {
  MachineIdentity id;
  if (!s.is_object()) return id;
  if (s.contains("host") && s["host"].is_string()) id.label = s["host"].get<std::string>();
  if (s.contains("cpu") && s["cpu"].is_object()) {
    const json& cpu = s["cpu"];
    for (const char* k :
         {"vendor", "model", "family", "model_number", "stepping", "sockets", "cores", "threads"})
      if (cpu.contains(k) && !text(cpu[k]).empty())
        id.fields[std::string("cpu.") + k] = text(cpu[k]);
    if (cpu.contains("features") && cpu["features"].is_object()) {
      std::vector<std::string> on;
      for (const auto& [name, v] : cpu["features"].items())
        if (v.is_boolean() && v.get<bool>()) on.push_back(name);
      id.fields["cpu.features"] = on.empty() ? "none" : joined(on);
    }
    id.complete = id.fields.count("cpu.family") > 0;
  }
  // GPUs: the CUDA devices, else the GPUs on PCI (a machine without a driver).
  std::vector<std::string> gpus;
  if (s.contains("cuda_devices") && s["cuda_devices"].is_array())
    for (const auto& d : s["cuda_devices"])
      if (d.is_object() && d.contains("name") && d["name"].is_string()) {
        std::string g = d["name"].get<std::string>();
        if (d.contains("compute_capability")) g += " cc " + text(d["compute_capability"]);
        if (d.contains("sms")) g += ", " + text(d["sms"]) + " SMs";
        if (d.contains("memory_bytes")) g += ", " + gib(d["memory_bytes"]);
        gpus.push_back(g);
      }
  std::vector<std::string> nics;
  if (s.contains("pci_devices") && s["pci_devices"].is_array())
    for (const auto& d : s["pci_devices"]) {
      if (!d.is_object() || !d.contains("name") || !d["name"].is_string()) continue;
      const std::string kind = d.value("kind", std::string());
      if (kind == "gpu" && (!s.contains("cuda_devices") || s["cuda_devices"].empty()))
        gpus.push_back(d["name"].get<std::string>());
      if (kind == "nic") {
        std::string n = d["name"].get<std::string>();
        if (d.contains("port_speed_bytes_per_s")) {
          const std::string rate = gbit(d["port_speed_bytes_per_s"]);
          if (!rate.empty()) n += " at " + rate;
        }
        nics.push_back(n);
      }
    }
  // A snapshot that describes the node (it has its PCI devices) and lists no GPU has none.
  const bool described = s.contains("pci_devices") && s["pci_devices"].is_array();
  if (!gpus.empty() || described)
    id.fields["gpus"] = gpus.empty() ? "none" : fmt::format("{} ({})", gpus.size(), joined(gpus));
  if (!nics.empty() || described)
    id.fields["nics"] = nics.empty() ? "none" : fmt::format("{} ({})", nics.size(), joined(nics));
  if (id.fields.empty()) return id;
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bits
  for (const auto& [k, v] : id.fields)
    for (const char c : k + "=" + v + "\n") {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
  id.key = fmt::format("{:016x}", h);
  return id;
}

std::vector<std::string> identity_differences(const MachineIdentity& a, const MachineIdentity& b) {
  std::vector<std::string> out;
  for (const auto& [field, va] : a.fields) {
    const auto it = b.fields.find(field);
    if (it == b.fields.end() || it->second == va) continue;
    if (field == "gpus")
      out.push_back(fmt::format("GPUs {} (baseline) vs {} (current)", va, it->second));
    else
      out.push_back(
          fmt::format("{} '{}' (baseline) vs '{}' (current)", describe(field), va, it->second));
  }
  return out;
}

}  // namespace cobench
