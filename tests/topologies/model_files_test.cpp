// SPDX-License-Identifier: Apache-2.0
// Bad model, cluster and config.json inputs: one error naming file, line:column and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/config.h"
#include "core/error.h"
#include "topologies/cluster.h"
#include "topologies/data_files.h"
#include "topologies/hf_config.h"
#include "topologies/model_arch.h"

#include "tests/test_util.h"

namespace {

using cobench::test::error_of;
using cobench::test::replace;

using namespace cobench;
using namespace cobench::topo;

std::string model_error(const std::string& yaml) {
  return error_of([&] { load_model_yaml(config::parse_yaml(yaml, "m.yaml")); });
}

constexpr const char* kMoe = R"(model:
  name: toy
  vocab_size: 1000
  hidden_size: 64
  num_layers: 2
  attention: {kind: gqa, num_heads: 8, num_kv_heads: 2, head_dim: 8}
  moe: {routed_experts: 16, top_k: 2, expert_intermediate: 32, groups: 4, groups_per_token: 2}
)";

TEST(ModelFiles, AGoodToyModelLoads) {
  const ModelArch m = load_model_yaml(config::parse_yaml(kMoe, "m.yaml"));
  EXPECT_EQ(m.moe->routed_experts, 16);
  EXPECT_EQ(m.dense_layers, 0);
}

TEST(ModelFiles, BadModelInputs) {
  EXPECT_EQ(model_error(replace(kMoe, "num_layers", "num_layer")),
            "m.yaml:5:3: key 'model.num_layer': unknown key (did you mean 'num_layers'?); "
            "accepted keys here: name, vocab_size, hidden_size, num_layers, tie_embeddings, "
            "attention, dense_layers, dense_intermediate, moe, mtp_modules");
  EXPECT_EQ(model_error(replace(kMoe, "groups: 4", "groups: 3")),
            "m.yaml:7:72: key 'model.moe.groups': 16 routed experts do not divide into 3 groups");
  EXPECT_EQ(model_error(replace(kMoe, "top_k: 2", "top_k: 20")),
            "m.yaml:7:36: key 'model.moe.top_k': top-k 20 exceeds the 16 routed experts");
  EXPECT_EQ(model_error(replace(kMoe, "num_kv_heads: 2", "num_kv_heads: 3")),
            "m.yaml:6:54: key 'model.attention.num_kv_heads': 8 heads cannot be shared evenly by "
            "3 kv heads");
  EXPECT_EQ(model_error(replace(kMoe, "  vocab_size: 1000\n", "")),
            "m.yaml:2:3: key 'model': missing required key 'vocab_size'");
  EXPECT_EQ(model_error(replace(kMoe, "kind: gqa", "kind: sparse")),
            "m.yaml:6:21: key 'model.attention.kind': unknown attention kind 'sparse': expected "
            "mha, gqa, mqa or mla");
}

TEST(ModelFiles, UnsupportedHfArchitecture) {
  const std::string path = std::string(COBENCH_TEST_DATA_DIR) + "/hf/unsupported.json";
  const std::string e = error_of([&] { load_hf_config(config::load_file(path)); });
  EXPECT_EQ(e.rfind(path + ":2:21: key 'architectures[0]': unsupported architecture "
                           "'FalconForCausalLM'; supported: DeepseekV3ForCausalLM",
                    0),
            0u)
      << e;
}

TEST(ModelFiles, UnknownModelNameListsTheKnownOnes) {
  const std::string e = error_of([] { load_model("deepseek-v4"); });
  EXPECT_NE(e.find("unknown model 'deepseek-v4'"), std::string::npos) << e;
  EXPECT_NE(e.find("deepseek-v3"), std::string::npos) << e;
}

constexpr const char* kCluster = R"(cluster:
  name: toy
  nodes: 4
  node:
    name: n
    gpus_per_node: 8
    gpu: {name: g, hbm_capacity: 80 GiB, hbm_bandwidth: 3.35 TB/s}
    nics_per_node: 8
    nic_speed: 400 Gb/s
  scale_out: {link: InfiniBand, bandwidth_achievable: 40 GB/s, latency_same_leaf: 2.8 us,
              latency_cross_leaf: 3.7 us}
  fabric: {topology: ft2, switch_radix: 64}
)";

std::string cluster_error(const std::string& yaml) {
  return error_of([&] { load_cluster(config::parse_yaml(yaml, "c.yaml")); });
}

TEST(ClusterFiles, BadClusterInputs) {
  EXPECT_EQ(load_cluster(config::parse_yaml(kCluster, "c.yaml")).gpus(), 32);
  EXPECT_EQ(cluster_error(replace(kCluster, "bandwidth_achievable: 40 GB/s",
                                  "bandwidth_achievable: -40 GB/s")),
            "c.yaml:10:55: key 'cluster.scale_out.bandwidth_achievable': bad bandwidth '-40 GB/s': "
            "must not be negative");
  EXPECT_EQ(
      cluster_error(
          replace(kCluster, "bandwidth_achievable: 40 GB/s", "bandwidth_achievable: 0 GB/s")),
      "c.yaml:10:55: key 'cluster.scale_out.bandwidth_achievable': must be greater than zero");
  EXPECT_EQ(cluster_error(replace(kCluster, "nodes: 4", "nodes: 300")),
            "c.yaml:12:11: key 'cluster.fabric': a ft2 of radix 64 reaches 2048 endpoints, fewer "
            "than the cluster's 2400 NICs");
  EXPECT_EQ(cluster_error(replace(kCluster, "switch_radix: 64", "switch_radix: 63")),
            "c.yaml:12:41: key 'cluster.fabric.switch_radix': a fat tree needs an even switch "
            "radix");
  EXPECT_NE(cluster_error(replace(kCluster, "400 Gb/s", "400 Gbit")).find("unknown unit 'Gbit'"),
            std::string::npos);
  EXPECT_EQ(cluster_error(replace(kCluster, "topology: ft2", "topology: torus")),
            "c.yaml:12:22: key 'cluster.fabric.topology': unknown fabric 'torus': expected none, "
            "ft2, ft3, mpft, multi-rail, slim-fly or dragonfly");
}

TEST(ClusterFiles, NodeFromASysinfoFile) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / "cobench_node_file";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream(dir / "node.yaml")
        << "node:\n  name: here\n  gpus_per_node: 0\n  nics_per_node: 1\n";
  }
  { std::ofstream(dir / "c.yaml") << "cluster:\n  name: c\n  nodes: 1\n  node_file: node.yaml\n"; }
  EXPECT_EQ(load_cluster(config::load_file(dir / "c.yaml")).node.name, "here");
  {
    std::ofstream(dir / "bad.yaml") << "cluster:\n  name: c\n  nodes: 1\n  node_file: gone.yaml\n";
  }
  const std::string e = error_of([&] { load_cluster(config::load_file(dir / "bad.yaml")); });
  EXPECT_NE(e.find(":4:14: key 'cluster.node_file': no such file"), std::string::npos) << e;
  fs::remove_all(dir);
}

TEST(ClusterFiles, EveryShippedFileLoads) {
  for (const std::string& name : list_data_files("clusters")) {
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(load_cluster_file(name));
  }
  for (const std::string& name : list_data_files("models")) {
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(load_model(name));
  }
  EXPECT_GE(list_data_files("clusters").size(), 6u);
  EXPECT_GE(list_data_files("models").size(), 4u);
}

}  // namespace
