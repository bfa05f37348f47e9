// SPDX-License-Identifier: Apache-2.0
#include "topologies/node_spec.h"

#include <fmt/format.h>

namespace cobench::topo {
namespace {

CpuSpec load_cpu(const config::Node& node) {
  auto m = node.map({"model", "sockets", "cores", "threads", "numa_nodes", "memory_capacity",
                     "memory_bandwidth"});
  CpuSpec c;
  c.model = m.required("model").as_string();
  c.sockets = m.required("sockets").as_int_in(1, kMaxCpuCount);
  c.cores = m.required("cores").as_int_in(1, kMaxCpuCount);
  c.threads = m.required("threads").as_int_in(1, kMaxCpuCount);
  c.numa_nodes = m.required("numa_nodes").as_int_in(1, kMaxCpuCount);
  auto cap = m.required("memory_capacity");
  c.memory_capacity = cap.as_positive_bytes();
  if (auto bw = m.optional("memory_bandwidth")) c.memory_bandwidth = bw->as_positive_bandwidth();
  return c;
}

GpuSpec load_gpu(const config::Node& node) {
  auto m = node.map({"name", "compute_capability", "sms", "hbm_capacity", "hbm_bandwidth",
                     "peak_flops", "pcie_bandwidth", "kernel_gap"});
  GpuSpec g;
  g.name = m.required("name").as_name();
  if (auto cc = m.optional("compute_capability")) g.compute_capability = cc->as_string();
  if (auto sms = m.optional("sms")) g.sms = sms->as_int_in(1, kMaxSms);
  auto cap = m.required("hbm_capacity");
  g.hbm_capacity = cap.as_positive_bytes();
  auto bw = m.required("hbm_bandwidth");
  g.hbm_bandwidth = bw.as_positive_bandwidth();
  if (auto peaks = m.optional("peak_flops")) {
    auto p = peaks->map({"fp8", "bf16", "fp32"});
    if (auto v = p.optional("fp8")) g.peak_fp8 = v->as_positive_flop_rate();
    if (auto v = p.optional("bf16")) g.peak_bf16 = v->as_positive_flop_rate();
    if (auto v = p.optional("fp32")) g.peak_fp32 = v->as_positive_flop_rate();
  }
  if (auto pcie = m.optional("pcie_bandwidth")) g.pcie_bandwidth = pcie->as_positive_bandwidth();
  if (auto gap = m.optional("kernel_gap")) g.kernel_gap = gap->as_positive_seconds();
  return g;
}

}  // namespace

NodeSpec load_node_spec(const config::Node& node) {
  auto m = node.map({"name", "cpu", "gpus_per_node", "gpu", "nics_per_node", "nic_speed",
                     "storage_read_bandwidth"});
  NodeSpec s;
  s.name = m.required("name").as_name();
  if (auto cpu = m.optional("cpu")) s.cpu = load_cpu(*cpu);
  auto gpus = m.required("gpus_per_node");
  s.gpus_per_node = gpus.as_int_in(0, kMaxGpusPerNode);
  const config::Location at = gpus.location();
  s.gpus_per_node_at = fmt::format("{}:{}:{}: key '{}'", at.file, at.line, at.column, gpus.path());
  if (auto g = m.optional("gpu")) {
    s.gpu = load_gpu(*g);
    const config::Location gpu_at = g->location();
    s.gpu_at =
        fmt::format("{}:{}:{}: key '{}'", gpu_at.file, gpu_at.line, gpu_at.column, g->path());
  }
  if (s.gpus_per_node > 0 && !s.gpu) gpus.fail("a node with GPUs needs a 'gpu' section");
  auto nics = m.required("nics_per_node");
  s.nics_per_node = nics.as_int_in(0, kMaxNicsPerNode);
  const config::Location nics_at = nics.location();
  s.nics_per_node_at =
      fmt::format("{}:{}:{}: key '{}'", nics_at.file, nics_at.line, nics_at.column, nics.path());
  if (auto speed = m.optional("nic_speed")) s.nic_speed = speed->as_positive_bandwidth();
  if (auto bw = m.optional("storage_read_bandwidth"))
    s.storage_read_bandwidth = bw->as_positive_bandwidth();
  return s;
}

NodeSpec load_node_file(const config::Node& root) {
  return load_node_spec(root.map({"node"}).required("node"));
}

}  // namespace cobench::topo
