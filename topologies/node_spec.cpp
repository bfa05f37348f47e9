// SPDX-License-Identifier: Apache-2.0
#include "topologies/node_spec.h"

namespace cobench::topo {
namespace {

int positive_int(const config::Node& n, bool allow_zero) {
  const auto v = n.as_int();
  if (v < 0 || (!allow_zero && v == 0))
    n.fail(allow_zero ? "expected a count >= 0" : "expected a count >= 1");
  return static_cast<int>(v);
}

template <class Q>
Q positive(const config::Node& n, Q value) {
  if (!(value.value > 0)) n.fail("must be greater than zero");
  return value;
}

CpuSpec load_cpu(const config::Node& node) {
  auto m = node.map({"model", "sockets", "cores", "threads", "numa_nodes", "memory_capacity",
                     "memory_bandwidth"});
  CpuSpec c;
  c.model = m.required("model").as_string();
  c.sockets = positive_int(m.required("sockets"), false);
  c.cores = positive_int(m.required("cores"), false);
  c.threads = positive_int(m.required("threads"), false);
  c.numa_nodes = positive_int(m.required("numa_nodes"), false);
  auto cap = m.required("memory_capacity");
  c.memory_capacity = positive(cap, cap.as_bytes());
  if (auto bw = m.optional("memory_bandwidth"))
    c.memory_bandwidth = positive(*bw, bw->as_bandwidth());
  return c;
}

GpuSpec load_gpu(const config::Node& node) {
  auto m = node.map(
      {"name", "compute_capability", "sms", "hbm_capacity", "hbm_bandwidth", "peak_flops"});
  GpuSpec g;
  g.name = m.required("name").as_string();
  if (auto cc = m.optional("compute_capability")) g.compute_capability = cc->as_string();
  if (auto sms = m.optional("sms")) g.sms = positive_int(*sms, false);
  auto cap = m.required("hbm_capacity");
  g.hbm_capacity = positive(cap, cap.as_bytes());
  auto bw = m.required("hbm_bandwidth");
  g.hbm_bandwidth = positive(bw, bw.as_bandwidth());
  if (auto peaks = m.optional("peak_flops")) {
    auto p = peaks->map({"fp8", "bf16", "fp32"});
    if (auto v = p.optional("fp8")) g.peak_fp8 = positive(*v, v->as_flop_rate());
    if (auto v = p.optional("bf16")) g.peak_bf16 = positive(*v, v->as_flop_rate());
    if (auto v = p.optional("fp32")) g.peak_fp32 = positive(*v, v->as_flop_rate());
  }
  return g;
}

}  // namespace

NodeSpec load_node_spec(const config::Node& node) {
  auto m = node.map({"name", "cpu", "gpus_per_node", "gpu", "nics_per_node", "nic_speed"});
  NodeSpec s;
  s.name = m.required("name").as_string();
  if (auto cpu = m.optional("cpu")) s.cpu = load_cpu(*cpu);
  auto gpus = m.required("gpus_per_node");
  s.gpus_per_node = positive_int(gpus, true);
  if (auto g = m.optional("gpu")) s.gpu = load_gpu(*g);
  if (s.gpus_per_node > 0 && !s.gpu) gpus.fail("a node with GPUs needs a 'gpu' section");
  s.nics_per_node = positive_int(m.required("nics_per_node"), true);
  if (auto speed = m.optional("nic_speed")) s.nic_speed = positive(*speed, speed->as_bandwidth());
  return s;
}

NodeSpec load_node_file(const config::Node& root) {
  return load_node_spec(root.map({"node"}).required("node"));
}

}  // namespace cobench::topo
