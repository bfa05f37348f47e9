// SPDX-License-Identifier: Apache-2.0
#include "topologies/node_spec.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

#include "tests/test_util.h"

namespace {

using cobench::test::error_of;
using cobench::test::replace;

using namespace cobench;

constexpr const char* kH800 = R"(node:
  name: h800-node
  cpu: {model: Xeon 8480, sockets: 2, cores: 112, threads: 224, numa_nodes: 2,
        memory_capacity: 2 TiB}
  gpus_per_node: 8
  gpu:
    name: NVIDIA H800
    hbm_capacity: 80 GiB
    hbm_bandwidth: 3.35 TB/s
    peak_flops: {fp8: 1979 TFLOPS, bf16: 989 TFLOPS}
  nics_per_node: 8
  nic_speed: 400 Gb/s
)";

topo::NodeSpec load(const std::string& text) {
  return topo::load_node_file(config::parse_yaml(text, "n.yaml"));
}

std::string node_error(const std::string& text) {
  try {
    load(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

TEST(NodeSpec, ReadsTheDatasheetNode) {
  const topo::NodeSpec n = load(kH800);
  EXPECT_EQ(n.gpus_per_node, 8);
  ASSERT_TRUE(n.gpu.has_value());
  EXPECT_DOUBLE_EQ(n.gpu->hbm_bandwidth.value, 3.35e12);
  EXPECT_DOUBLE_EQ(n.gpu->hbm_capacity.value, 80.0 * 1073741824.0);
  EXPECT_DOUBLE_EQ(n.gpu->peak_bf16->value, 989e12);
  EXPECT_FALSE(n.gpu->peak_fp32.has_value());
  EXPECT_DOUBLE_EQ(n.nic_speed->value, 50e9);
  EXPECT_DOUBLE_EQ(n.cpu->memory_capacity.value, 2.0 * 1099511627776.0);
}

TEST(NodeSpec, BadInputsNameLineAndKey) {
  EXPECT_EQ(node_error(replace(kH800, "nic_speed: 400 Gb/s", "nic_sped: 400 Gb/s")),
            "n.yaml:12:3: key 'node.nic_sped': unknown key (did you mean 'nic_speed'?); accepted "
            "keys here: name, cpu, gpus_per_node, gpu, nics_per_node, nic_speed, "
            "storage_read_bandwidth");
  EXPECT_EQ(node_error(replace(kH800, "3.35 TB/s", "0 TB/s")),
            "n.yaml:9:20: key 'node.gpu.hbm_bandwidth': must be greater than zero");
  EXPECT_EQ(node_error(replace(kH800, "gpus_per_node: 8", "gpus_per_node: -1")),
            "n.yaml:5:18: key 'node.gpus_per_node': expected an integer from 0 to 1024, got -1");
  const std::string no_gpu =
      "node:\n  name: x\n  cpu: {model: m, sockets: 1, cores: 1, threads: 1, "
      "numa_nodes: 1, memory_capacity: 1 GiB}\n  gpus_per_node: 2\n"
      "  nics_per_node: 0\n";
  EXPECT_EQ(node_error(no_gpu),
            "n.yaml:4:18: key 'node.gpus_per_node': a node with GPUs needs a 'gpu' section");
  EXPECT_NE(node_error(replace(kH800, "80 GiB", "80 GiBs")).find("unknown unit 'GiBs'"),
            std::string::npos);
}

TEST(NodeSpec, AKernelGapIsAPositiveTime) {
  // node.gpu.kernel_gap (measured; docs/cluster-format.md): a time with its unit, above zero.
  const std::string with_gap =
      replace(kH800, "    peak_flops: {fp8: 1979 TFLOPS, bf16: 989 TFLOPS}\n",
              "    peak_flops: {fp8: 1979 TFLOPS, bf16: 989 TFLOPS}\n    kernel_gap: 2.5 us\n");
  EXPECT_DOUBLE_EQ(load(with_gap).gpu->kernel_gap->value, 2.5e-6);
  EXPECT_FALSE(load(kH800).gpu->kernel_gap.has_value());
  for (const char* bad : {"0 us", "-1 us", "inf us", "2.5"}) {
    const std::string e = node_error(replace(with_gap, "2.5 us", bad));
    EXPECT_NE(e.find("n.yaml:11:17: key 'node.gpu.kernel_gap'"), std::string::npos)
        << bad << ": " << e;
  }
}

}  // namespace
