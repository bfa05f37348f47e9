// SPDX-License-Identifier: Apache-2.0
// The node part of a cluster description (docs/cluster-format.md): what one node holds. The
// topology model reads it from topologies/clusters/*.yaml, and `cobench sysinfo --cluster-node`
// writes it for the machine it runs on. Fields discovery cannot see are optional here; an
// analysis that needs one says which is missing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/units.h"

namespace cobench::topo {

/// The ranges of the node's counts (docs/cluster-format.md): wide enough for any machine,
/// narrow enough that every product the model forms from them stays far inside 64 bits.
inline constexpr std::int64_t kMaxCpuCount = 1'000'000;  ///< sockets, cores, threads, NUMA nodes
inline constexpr std::int64_t kMaxSms = 100'000;
inline constexpr std::int64_t kMaxGpusPerNode = 1024;
inline constexpr std::int64_t kMaxNicsPerNode = 1024;

struct CpuSpec {
  std::string model;
  std::int64_t sockets = 0;
  std::int64_t cores = 0;
  std::int64_t threads = 0;
  std::int64_t numa_nodes = 0;
  Bytes memory_capacity;
  std::optional<Bandwidth> memory_bandwidth;  ///< datasheet or measured; not discovered
};

struct GpuSpec {
  std::string name;
  std::string compute_capability;  ///< "9.0"
  std::optional<std::int64_t> sms;
  Bytes hbm_capacity;
  Bandwidth hbm_bandwidth;
  std::optional<FlopRate> peak_fp8;   ///< dense
  std::optional<FlopRate> peak_bf16;  ///< dense
  std::optional<FlopRate> peak_fp32;
  std::optional<Bandwidth> pcie_bandwidth;  ///< host-to-device, one direction (KV reload)
  /// The time one kernel of a back-to-back chain takes beyond its work (launch, ramp and tail of
  /// an empty kernel in a CUDA graph): measured (cobench_bench_memory_gpu's BM_KernelGap), never
  /// on a datasheet. Added to every GPU operation the serving and training models time.
  std::optional<Seconds> kernel_gap;
};

struct NodeSpec {
  std::string name;
  std::optional<CpuSpec> cpu;  ///< optional in datasheet clusters, always written by sysinfo
  std::int64_t gpus_per_node = 0;
  /// Where a file set gpus_per_node: "<file>:<line>:<col>: key 'cluster.node.gpus_per_node'"
  /// (empty for a node not read from a file), for errors about a node without GPUs.
  std::string gpus_per_node_at;
  std::optional<GpuSpec> gpu;  ///< required when gpus_per_node > 0
  /// Where a file set the gpu section (as gpus_per_node_at), for errors about a value it lacks.
  std::string gpu_at;
  std::int64_t nics_per_node = 0;
  /// Where a file set nics_per_node (as gpus_per_node_at), for errors about a node without NICs.
  std::string nics_per_node_at;
  std::optional<Bandwidth> nic_speed;
  std::optional<Bandwidth> storage_read_bandwidth;  ///< the whole node's, shared by its GPUs
};

/// Reads a `node:` map. Errors name file:line:column and the key.
NodeSpec load_node_spec(const config::Node& node);

/// Reads a document whose top level is `node:` (what `cobench sysinfo --cluster-node` writes).
NodeSpec load_node_file(const config::Node& root);

}  // namespace cobench::topo
