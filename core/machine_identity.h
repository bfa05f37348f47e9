// SPDX-License-Identifier: Apache-2.0
// The hardware a results file was measured on, from its `run.sysinfo` snapshot (`cobench sysinfo
// --json`): the fields that change a measurement (CPU vendor, model name, family, model number
// and stepping, ISA features, sockets, cores and threads; the GPUs with compute capability, SMs
// and memory; the NICs with their port speed) and a stable key, a 64-bit FNV-1a hash of them.
// The host name is only a label: two VMs both called "vm" with different CPUs are different
// machines, the same machine renamed is the same. A snapshot that lacks a field (an older file,
// a machine without GPUs) simply has no such field; comparisons skip fields either side lacks.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cobench {

struct MachineIdentity {
  std::map<std::string, std::string> fields;  ///< "cpu.family" -> "23", "gpus" -> "..."
  std::string key;    ///< 16 hex digits; "" when the snapshot holds no hardware field
  std::string label;  ///< the host name, for people
  /// Whether the snapshot has the CPU family/model/stepping (files before they were recorded
  /// lack them and are keyed by the rest).
  bool complete = false;
};

MachineIdentity machine_identity(const nlohmann::json& sysinfo);

/// One sentence for each field both identities have and that differs, e.g. "CPU family '23'
/// (baseline) vs '25' (current)"; empty when they agree.
std::vector<std::string> identity_differences(const MachineIdentity& baseline,
                                              const MachineIdentity& current);

}  // namespace cobench
