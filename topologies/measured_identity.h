// SPDX-License-Identifier: Apache-2.0
// A measured record applies only to the cluster component it measured (docs/model.md,
// "Measured inputs"). Each model input belongs to one component:
//   gpu   gpu.peak_flops.*, gpu.hbm_bandwidth, pcie.h2d_bandwidth, and the tables gpu.gemm_fp8
//         and gpu.mla_decode (measured_tables.h): the results file's CUDA device
//         must be the cluster's GPU: the same model (h800, h100, b200, ...), compute capability
//         and, where both know it, SM count;
//   host  cpu.memory_bandwidth, storage.read_bandwidth: the same CPU model;
//   link  ep.bandwidth.*, latency.*: measured between the cluster's GPUs over NCCL; a host path
//         (MPI over shared memory or sockets) is another link class, which only a cluster without
//         GPUs has.
// A mismatch is an error naming both identities; `measured_as` (`--measured-as gpu,host,link`
// or `all`) maps a component's records on purpose.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/results.h"
#include "topologies/cluster.h"
#include "topologies/measured.h"
#include "topologies/measured_tables.h"

namespace cobench::topo {

/// The product token of a GPU name: letters then digits ("h800" in "NVIDIA H800 SXM", "gb200",
/// "l40s"), the first token so shaped; "" when none is.
std::string gpu_product(const std::string& name);

/// "gpu", "host" or "link" for a model input name.
std::string component_of_input(const std::string& input);

/// The GPU a results file ran on, "NVIDIA H800 (cc 9.0, 132 SMs)", or "no CUDA device".
std::string results_gpu_identity(const nlohmann::json& sysinfo);
std::string cluster_gpu_identity(const ClusterSpec& c);

/// Why record `rec` of `r` cannot stand for a link of `c` ("" when it can): on a GPU cluster a
/// link is measured over NCCL between GPUs of the cluster's model; a host path (MPI over shared
/// memory or sockets) belongs only to a cluster without GPUs.
std::string link_mismatch(const results::Results& r, const results::Record& rec,
                          const ClusterSpec& c);

/// The results files of `--measured` paths: a file as given, a directory's *.json sorted. Throws
/// cobench::Error naming the path for one that does not exist, cannot be listed or holds none.
std::vector<std::string> measured_files(const std::vector<std::string>& paths);

/// Throws cobench::Error for the first passed, tagged record of `r` whose component differs from
/// the cluster's, unless that component is in `measured_as`.
void check_measured_identity(const results::Results& r, const std::string& source,
                             const ClusterSpec& c, const std::set<std::string>& measured_as);

struct MeasuredData {
  MeasuredInputs inputs;
  MeasuredTables tables;
};

/// The measured inputs and tables of results files and directories (their *.json, sorted), each
/// file checked against `c`, merged (merge_measured, merge_tables).
MeasuredData measured_data_for(const std::vector<std::string>& paths, const ClusterSpec& c,
                               const std::set<std::string>& measured_as);

}  // namespace cobench::topo
