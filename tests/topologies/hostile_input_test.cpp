// SPDX-License-Identifier: Apache-2.0
// Hostile inputs to the topology model (issue 16): integers out of range in cluster and node
// files (overflow, division by zero), Hugging Face config.json files that the YAML model reader
// would refuse, and measured values that are not finite and positive. Each must be one error
// naming the file, where in it and the key, never a crash or a wrong number.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/results.h"
#include "topologies/analysis.h"
#include "topologies/cluster.h"
#include "topologies/fabric_graph.h"
#include "topologies/fabric_report.h"
#include "topologies/fabric_traffic.h"
#include "topologies/hf_config.h"
#include "topologies/measured.h"
#include "topologies/measured_identity.h"
#include "topologies/model_arch.h"
#include "topologies/perf_model.h"
#include "topologies/serving_model.h"
#include "topologies/training_model.h"

#include "tests/test_util.h"

namespace {

using cobench::test::error_of;
using cobench::test::replace;

using namespace cobench;
using namespace cobench::topo;

// ---------------------------------------------------------------------------------------------
// Cluster and node integers.

constexpr const char* kCluster = R"(cluster:
  name: toy
  nodes: 4
  node:
    name: n
    cpu: {model: m, sockets: 2, cores: 64, threads: 128, numa_nodes: 2, memory_capacity: 1 TiB}
    gpus_per_node: 8
    gpu: {name: g, sms: 132, hbm_capacity: 80 GiB, hbm_bandwidth: 3.35 TB/s}
    nics_per_node: 8
    nic_speed: 400 Gb/s
  scale_up: {link: NVLink, domain_gpus: 8, bandwidth_nominal: 200 GB/s,
             bandwidth_achievable: 160 GB/s, latency: 3 us}
  scale_out: {link: InfiniBand, bandwidth_achievable: 40 GB/s, latency_same_leaf: 2.8 us,
              latency_cross_leaf: 3.7 us}
  fabric: {topology: ft2, switch_radix: 64, switch_price_usd: 1000, link_price_usd: 500}
)";

std::string cluster_error(const std::string& yaml) {
  return error_of([&] { load_cluster(config::parse_yaml(yaml, "c.yaml")); });
}

struct BadInput {
  std::string from, to;  // the replacement that makes the good document hostile
  std::string error;     // the whole message
};

TEST(HostileCluster, EveryIntegerHasARange) {
  const std::vector<BadInput> corpus = {
      // SIGFPE once (a product that wrapped to 0 divided by), then negative GPU counts.
      {"gpus_per_node: 8", "gpus_per_node: 576460752303423488",
       "c.yaml:7:20: key 'cluster.node.gpus_per_node': expected an integer from 0 to 1024, got "
       "576460752303423488"},
      {"gpus_per_node: 8", "gpus_per_node: 9223372036854775807",
       "c.yaml:7:20: key 'cluster.node.gpus_per_node': expected an integer from 0 to 1024, got "
       "9223372036854775807"},
      {"gpus_per_node: 8", "gpus_per_node: 99999999999999999999",
       "c.yaml:7:20: key 'cluster.node.gpus_per_node': expected an integer from 0 to 1024, got "
       "99999999999999999999"},
      {"gpus_per_node: 8", "gpus_per_node: -1",
       "c.yaml:7:20: key 'cluster.node.gpus_per_node': expected an integer from 0 to 1024, got -1"},
      {"gpus_per_node: 8", "gpus_per_node: 8.5",
       "c.yaml:7:20: key 'cluster.node.gpus_per_node': expected an integer, got '8.5'"},
      {"gpus_per_node: 8", "gpus_per_node: ~",
       "c.yaml:7:20: key 'cluster.node.gpus_per_node': expected an integer, got null"},
      {"gpus_per_node: 8", "gpus_per_node: [8]",
       "c.yaml:7:20: key 'cluster.node.gpus_per_node': expected an integer, got a list"},
      // 2^61 NICs slipped past the fabric check (the product wrapped).
      {"nics_per_node: 8", "nics_per_node: 2305843009213693952",
       "c.yaml:9:20: key 'cluster.node.nics_per_node': expected an integer from 0 to 1024, got "
       "2305843009213693952"},
      // "vector::reserve" once.
      {"nodes: 4", "nodes: 9223372036854775807",
       "c.yaml:3:10: key 'cluster.nodes': expected an integer from 1 to 100000, got "
       "9223372036854775807"},
      {"nodes: 4", "nodes: 0",
       "c.yaml:3:10: key 'cluster.nodes': expected an integer from 1 to 100000, got 0"},
      {"sockets: 2", "sockets: 4611686018427387904",
       "c.yaml:6:30: key 'cluster.node.cpu.sockets': expected an integer from 1 to 1000000, got "
       "4611686018427387904"},
      {"cores: 64", "cores: 0",
       "c.yaml:6:40: key 'cluster.node.cpu.cores': expected an integer from 1 to 1000000, got 0"},
      {"threads: 128", "threads: 9223372036854775807",
       "c.yaml:6:53: key 'cluster.node.cpu.threads': expected an integer from 1 to 1000000, got "
       "9223372036854775807"},
      {"numa_nodes: 2", "numa_nodes: -2",
       "c.yaml:6:70: key 'cluster.node.cpu.numa_nodes': expected an integer from 1 to 1000000, "
       "got -2"},
      {"sms: 132", "sms: 18446744073709551616",
       "c.yaml:8:25: key 'cluster.node.gpu.sms': expected an integer from 1 to 100000, got "
       "18446744073709551616"},
      {"domain_gpus: 8", "domain_gpus: 9223372036854775807",
       "c.yaml:11:41: key 'cluster.scale_up.domain_gpus': expected an integer from 1 to 100000, "
       "got 9223372036854775807"},
      // radix^3 / 4 endpoints of a three-level fat tree would wrap.
      {"switch_radix: 64", "switch_radix: 4611686018427387904",
       "c.yaml:15:41: key 'cluster.fabric.switch_radix': expected an integer from 4 to 4096, got "
       "4611686018427387904"},
      {"switch_radix: 64", "switch_radix: 2",
       "c.yaml:15:41: key 'cluster.fabric.switch_radix': expected an integer from 4 to 4096, got "
       "2"},
      {"topology: ft2,", "topology: ft2, planes: 4294967296,",
       "c.yaml:15:35: key 'cluster.fabric.planes': expected an integer from 1 to 1024, got "
       "4294967296"},
      // A radix the fabric cannot be built from: located, not a bare internal message.
      {"topology: ft2, switch_radix: 64", "topology: slim-fly, switch_radix: 4",
       "c.yaml:15:11: key 'cluster.fabric': switch radix 4 is too small for a Slim Fly"},
      {"switch_price_usd: 1000", "switch_price_usd: -1000",
       "c.yaml:15:63: key 'cluster.fabric.switch_price_usd': a price must not be negative"},
      {"link_price_usd: 500", "link_price_usd: -5",
       "c.yaml:15:85: key 'cluster.fabric.link_price_usd': a price must not be negative"},
  };
  EXPECT_EQ(load_cluster(config::parse_yaml(kCluster, "c.yaml")).gpus(), 32);
  for (const BadInput& c : corpus) {
    SCOPED_TRACE(c.to);
    EXPECT_EQ(cluster_error(replace(kCluster, c.from, c.to)), c.error);
  }
}

TEST(HostileCluster, PlainNumbersHaveTheRangeOfQuantitiesWithUnits) {
  // A price of 1e308 USD a GPU-hour printed "inf M$" and 10^302 $ a million tokens, exit 0; a
  // plain number (config::Node::as_double) is now held to units.h's 0 or 1e-30 to 1e30.
  const std::vector<BadInput> corpus = {
      {"switch_price_usd: 1000", "switch_price_usd: 1e308",
       "c.yaml:15:63: key 'cluster.fabric.switch_price_usd': expected 0 or a number of magnitude "
       "1e-30 to 1e+30, got '1e308'"},
      {"link_price_usd: 500", "link_price_usd: 1e-320",
       "c.yaml:15:85: key 'cluster.fabric.link_price_usd': expected 0 or a number of magnitude "
       "1e-30 to 1e+30, got '1e-320'"},
      {"link_price_usd: 500", "link_price_usd: -1e31",
       "c.yaml:15:85: key 'cluster.fabric.link_price_usd': expected 0 or a number of magnitude "
       "1e-30 to 1e+30, got '-1e31'"},
      {"  name: toy\n", "  name: toy\n  gpu_hour_usd: 1e308\n",
       "c.yaml:3:17: key 'cluster.gpu_hour_usd': expected 0 or a number of magnitude 1e-30 to "
       "1e+30, got '1e308'"},
  };
  for (const BadInput& c : corpus) {
    SCOPED_TRACE(c.to);
    EXPECT_EQ(cluster_error(replace(kCluster, c.from, c.to)), c.error);
  }
  // The ends of the range and 0 still read.
  const ClusterSpec ok = load_cluster(config::parse_yaml(
      replace(replace(kCluster, "switch_price_usd: 1000", "switch_price_usd: 1e30"),
              "link_price_usd: 500", "link_price_usd: 0"),
      "c.yaml"));
  EXPECT_EQ(ok.fabric.prices.switch_usd, 1e30);
  EXPECT_EQ(ok.fabric.prices.link_usd, 0);
}

TEST(HostileCluster, TheLargestClusterInRangeCountsExactly) {
  // Every count at its upper bound: the products stay exact (no wrap to negative).
  std::string yaml = replace(kCluster, "nodes: 4", "nodes: 100000");
  yaml = replace(yaml, "gpus_per_node: 8", "gpus_per_node: 1024");
  yaml = replace(yaml, "nics_per_node: 8", "nics_per_node: 1024");
  yaml = replace(yaml, "topology: ft2, switch_radix: 64", "topology: ft3, switch_radix: 4096");
  const ClusterSpec c = load_cluster(config::parse_yaml(yaml, "c.yaml"));
  EXPECT_EQ(c.gpus(), 102'400'000);
  EXPECT_EQ(c.fabric.switch_radix, 4096);
  // A fabric too small for them is refused with the true counts.
  yaml = replace(yaml, "topology: ft3, switch_radix: 4096", "topology: ft2, switch_radix: 4096");
  EXPECT_EQ(cluster_error(yaml),
            "c.yaml:15:11: key 'cluster.fabric': a ft2 of radix 4096 reaches 8388608 endpoints, "
            "fewer than the cluster's 102400000 NICs");
}

// A node without NICs is a valid file (one node, or NVLink only) until something needs the
// network: then the error names the file and line that set it, not only the cluster.
TEST(HostileCluster, NoNicsIsRefusedWhereTheNetworkIsNeededAtItsLine) {
  const ClusterSpec c = load_cluster(
      config::parse_yaml(replace(kCluster, "nics_per_node: 8", "nics_per_node: 0"), "c.yaml"));
  EXPECT_EQ(error_of([&] { FabricGraph g(c); }),
            "c.yaml:9:20: key 'cluster.node.nics_per_node': cluster 'toy': node.nics_per_node is "
            "0; a ft2 fabric needs >= 1");
  Op dispatch;
  dispatch.kind = OpKind::kDispatch;
  dispatch.comm_out_bytes = 1e6;
  EXPECT_EQ(error_of([&] { PerfModel::roofline(c).comm(dispatch, 32, false); }),
            "c.yaml:9:20: key 'cluster.node.nics_per_node': cluster 'toy': EP traffic across "
            "scale-up domains needs node.nics_per_node >= 1");
}

// ---------------------------------------------------------------------------------------------
// Models: the Hugging Face reader accepts exactly what the YAML reader accepts.

constexpr const char* kLlamaJson = R"({
  "architectures": ["LlamaForCausalLM"],
  "vocab_size": 32000,
  "hidden_size": 4096,
  "num_hidden_layers": 32,
  "num_attention_heads": 32,
  "num_key_value_heads": 8,
  "intermediate_size": 14336
})";

constexpr const char* kLlamaYaml = R"(model:
  name: llama
  vocab_size: 32000
  hidden_size: 4096
  num_layers: 32
  attention: {kind: gqa, num_heads: 32, num_kv_heads: 8, head_dim: 128}
  dense_intermediate: 14336
)";

constexpr const char* kDeepseekJson = R"({
  "architectures": ["DeepseekV3ForCausalLM"],
  "vocab_size": 129280,
  "hidden_size": 7168,
  "num_hidden_layers": 61,
  "num_attention_heads": 128,
  "q_lora_rank": 1536,
  "kv_lora_rank": 512,
  "qk_nope_head_dim": 128,
  "qk_rope_head_dim": 64,
  "v_head_dim": 128,
  "first_k_dense_replace": 3,
  "intermediate_size": 18432,
  "n_routed_experts": 256,
  "n_shared_experts": 1,
  "num_experts_per_tok": 8,
  "moe_intermediate_size": 2048,
  "n_group": 8,
  "topk_group": 4,
  "num_nextn_predict_layers": 1
})";

constexpr const char* kDeepseekYaml = R"(model:
  name: v3
  vocab_size: 129280
  hidden_size: 7168
  num_layers: 61
  attention: {kind: mla, num_heads: 128, q_lora_rank: 1536, kv_lora_rank: 512,
              qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128}
  dense_layers: 3
  dense_intermediate: 18432
  moe: {routed_experts: 256, shared_experts: 1, top_k: 8, expert_intermediate: 2048, groups: 8,
        groups_per_token: 4}
  mtp_modules: 1
)";

std::string hf_error(const std::string& json) {
  return error_of([&] { load_hf_config(config::parse_json(json, "c.json")); });
}

std::string yaml_error(const std::string& yaml) {
  return error_of([&] { load_model_yaml(config::parse_yaml(yaml, "m.yaml")); });
}

// One bad value given to both readers: both refuse it, each at its own key, with one message.
struct BadModel {
  std::string hf_from, hf_to, hf_error;        // the whole config.json message
  std::string yaml_from, yaml_to, yaml_where;  // "m.yaml:L:C: key '...'", then the same message
};

void expect_both_refuse(const char* hf, const char* yaml, const std::vector<BadModel>& corpus) {
  for (const BadModel& c : corpus) {
    SCOPED_TRACE(c.hf_to);
    const std::string e = hf_error(replace(hf, c.hf_from, c.hf_to));
    EXPECT_EQ(e, c.hf_error);
    // The YAML reader says the same after its own location and key.
    const std::string what = c.hf_error.substr(c.hf_error.find("': ") + 3);
    EXPECT_EQ(yaml_error(replace(yaml, c.yaml_from, c.yaml_to)), c.yaml_where + ": " + what);
  }
}

TEST(HostileModel, ReadersAgreeOnTheGoodFiles) {
  const ModelArch hf = load_hf_config(config::parse_json(kLlamaJson, "c.json"));
  const ModelArch yaml = load_model_yaml(config::parse_yaml(kLlamaYaml, "m.yaml"));
  EXPECT_EQ(hf.attention.head_dim, yaml.attention.head_dim);
  EXPECT_EQ(hf.attention.num_kv_heads, 8);
  EXPECT_EQ(hf.dense_layers, yaml.dense_layers);
  const ModelArch ds = load_hf_config(config::parse_json(kDeepseekJson, "c.json"));
  const ModelArch ds_yaml = load_model_yaml(config::parse_yaml(kDeepseekYaml, "m.yaml"));
  EXPECT_EQ(ds.moe->groups, ds_yaml.moe->groups);
  EXPECT_EQ(ds.moe->groups_per_token, 4);
  EXPECT_EQ(ds.attention.mla->kv_lora_rank, ds_yaml.attention.mla->kv_lora_rank);
}

// An empty name titled reports " on " and ended messages with nothing (a helper's sweep).
TEST(HostileModel, NamesAreNotEmpty) {
  const std::string model = yaml_error(replace(kDeepseekYaml, "name: v3", "name: \"\""));
  EXPECT_NE(model.find("m.yaml:2:9: key 'model.name': expected a name, got an empty string"),
            std::string::npos)
      << model;
  const std::string cluster = cluster_error(replace(kCluster, "name: toy", "name: '  '"));
  EXPECT_NE(cluster.find("key 'cluster.name': expected a name, got an empty string"),
            std::string::npos)
      << cluster;
}

TEST(HostileModel, StandardAttentionOutOfRange) {
  expect_both_refuse(
      kLlamaJson, kLlamaYaml,
      {
          // SIGFPE once: hidden_size / num_attention_heads.
          {"\"num_attention_heads\": 32", "\"num_attention_heads\": 0",
           "c.json:6:26: key 'num_attention_heads': expected an integer from 1 to 16777216, got 0",
           "num_heads: 32", "num_heads: 0", "m.yaml:6:37: key 'model.attention.num_heads'"},
          {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 0",
           "c.json:7:26: key 'num_key_value_heads': expected an integer from 1 to 16777216, got 0",
           "num_kv_heads: 8", "num_kv_heads: 0", "m.yaml:6:55: key 'model.attention.num_kv_heads'"},
          {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 7",
           "c.json:7:26: key 'num_key_value_heads': 32 heads cannot be shared evenly by 7 kv heads",
           "num_kv_heads: 8", "num_kv_heads: 7", "m.yaml:6:55: key 'model.attention.num_kv_heads'"},
          {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 64",
           "c.json:7:26: key 'num_key_value_heads': 32 heads cannot be shared evenly by 64 kv "
           "heads",
           "num_kv_heads: 8", "num_kv_heads: 64",
           "m.yaml:6:55: key 'model.attention.num_kv_heads'"},
          // "-nan us" once.
          {"\"num_hidden_layers\": 32", "\"num_hidden_layers\": 0",
           "c.json:5:24: key 'num_hidden_layers': expected an integer from 1 to 16777216, got 0",
           "num_layers: 32", "num_layers: 0", "m.yaml:5:15: key 'model.num_layers'"},
          // "inf B tokens/day" once.
          {"\"hidden_size\": 4096", "\"hidden_size\": 0",
           "c.json:4:18: key 'hidden_size': expected an integer from 1 to 16777216, got 0",
           "hidden_size: 4096", "hidden_size: 0", "m.yaml:4:16: key 'model.hidden_size'"},
          {"\"hidden_size\": 4096", "\"hidden_size\": 4611686018427387904",
           "c.json:4:18: key 'hidden_size': expected an integer from 1 to 16777216, got "
           "4611686018427387904",
           "hidden_size: 4096", "hidden_size: 4611686018427387904",
           "m.yaml:4:16: key 'model.hidden_size'"},
          {"\"vocab_size\": 32000", "\"vocab_size\": -1",
           "c.json:3:17: key 'vocab_size': expected an integer from 1 to 16777216, got -1",
           "vocab_size: 32000", "vocab_size: -1", "m.yaml:3:15: key 'model.vocab_size'"},
          {"\"intermediate_size\": 14336", "\"intermediate_size\": 0",
           "c.json:8:24: key 'intermediate_size': 32 dense layers need a dense intermediate size",
           "dense_intermediate: 14336", "dense_intermediate: 0",
           "m.yaml:7:23: key 'model.dense_intermediate'"},
      });
}

TEST(HostileModel, NullAndDerivedValuesSayWhatIsWrong) {
  // Not "expected a string".
  EXPECT_EQ(hf_error(replace(kLlamaJson, "\"hidden_size\": 4096", "\"hidden_size\": null")),
            "c.json:4:18: key 'hidden_size': expected an integer, got null");
  EXPECT_EQ(hf_error(replace(kLlamaJson, "\"hidden_size\": 4096", "\"hidden_size\": 4096.5")),
            "c.json:4:18: key 'hidden_size': expected an integer, got '4096.5'");
  EXPECT_EQ(hf_error(replace(kLlamaJson, "\"hidden_size\": 4096", "\"hidden_size\": {}")),
            "c.json:4:18: key 'hidden_size': expected an integer, got a map");
  // head_dim is absent and hidden_size / num_attention_heads would be 0 (16 / 32).
  EXPECT_EQ(hf_error(replace(kLlamaJson, "\"hidden_size\": 4096", "\"hidden_size\": 16")),
            "c.json:4:18: key 'hidden_size': 16 is not a multiple of the 32 attention heads "
            "(num_attention_heads), and there is no head_dim to say the head size");
  // A null that stands for "absent" still takes the default (DeepSeek-V2-Lite's q_lora_rank).
  EXPECT_EQ(load_hf_config(config::parse_json(replace(kDeepseekJson, "\"q_lora_rank\": 1536",
                                                      "\"q_lora_rank\": null"),
                                              "c.json"))
                .attention.mla->q_lora_rank,
            0);
}

TEST(HostileModel, MoeAndMlaOutOfRange) {
  expect_both_refuse(
      kDeepseekJson, kDeepseekYaml,
      {
          // SIGFPE once: experts % groups.
          {"\"n_group\": 8", "\"n_group\": 0",
           "c.json:18:14: key 'n_group': expected an integer from 1 to 16777216, got 0",
           "groups: 8", "groups: 0", "m.yaml:10:94: key 'model.moe.groups'"},
          {"\"n_group\": 8", "\"n_group\": 7",
           "c.json:18:14: key 'n_group': 256 routed experts do not divide into 7 groups",
           "groups: 8", "groups: 7", "m.yaml:10:94: key 'model.moe.groups'"},
          {"\"topk_group\": 4", "\"topk_group\": 9",
           "c.json:19:17: key 'topk_group': 9 groups per token exceed the 8 groups",
           "groups_per_token: 4", "groups_per_token: 9",
           "m.yaml:11:27: key 'model.moe.groups_per_token'"},
          {"\"num_experts_per_tok\": 8", "\"num_experts_per_tok\": 300",
           "c.json:16:26: key 'num_experts_per_tok': top-k 300 exceeds the 256 routed experts",
           "top_k: 8", "top_k: 300", "m.yaml:10:56: key 'model.moe.top_k'"},
          // Routing would index past the experts a token may reach.
          {"\"num_experts_per_tok\": 8", "\"num_experts_per_tok\": 200",
           "c.json:16:26: key 'num_experts_per_tok': top-k 200 exceeds the 128 experts of 4 "
           "groups per token",
           "top_k: 8", "top_k: 200", "m.yaml:10:56: key 'model.moe.top_k'"},
          {"\"n_routed_experts\": 256", "\"n_routed_experts\": 0",
           "c.json:14:23: key 'n_routed_experts': expected an integer from 1 to 16777216, got 0",
           "routed_experts: 256", "routed_experts: 0",
           "m.yaml:10:25: key 'model.moe.routed_experts'"},
          {"\"moe_intermediate_size\": 2048", "\"moe_intermediate_size\": -2048",
           "c.json:17:28: key 'moe_intermediate_size': expected an integer from 1 to 16777216, "
           "got -2048",
           "expert_intermediate: 2048", "expert_intermediate: -2048",
           "m.yaml:10:80: key 'model.moe.expert_intermediate'"},
          {"\"first_k_dense_replace\": 3", "\"first_k_dense_replace\": 62",
           "c.json:12:28: key 'first_k_dense_replace': 62 dense layers exceed the 61 layers",
           "dense_layers: 3", "dense_layers: 62", "m.yaml:8:17: key 'model.dense_layers'"},
          {"\"kv_lora_rank\": 512", "\"kv_lora_rank\": 0",
           "c.json:8:19: key 'kv_lora_rank': expected an integer from 1 to 16777216, got 0",
           "kv_lora_rank: 512", "kv_lora_rank: 0",
           "m.yaml:6:75: key 'model.attention.kv_lora_rank'"},
          {"\"num_nextn_predict_layers\": 1", "\"num_nextn_predict_layers\": -1",
           "c.json:20:31: key 'num_nextn_predict_layers': expected an integer from 0 to 16777216, "
           "got -1",
           "mtp_modules: 1", "mtp_modules: -1", "m.yaml:12:16: key 'model.mtp_modules'"},
      });
}

// ---------------------------------------------------------------------------------------------
// Measured values (`cobench analyze --measured`).

results::Results measured(const std::string& input, const std::string& unit,
                          std::vector<double> values) {
  results::Results r;
  results::Record good;  // a good record first: the bad one is found wherever it is
  good.benchmark = "good";
  good.parameters = {{"model_input", "gpu.peak_flops.fp8"}};
  good.verification = results::Verification::kPassed;
  good.metrics = {{"flops", "FLOP/s", {1.5e15}, std::nullopt}};
  r.records.push_back(good);
  results::Record rec;
  rec.benchmark = "bad";
  rec.parameters = {{"model_input", input}};
  rec.verification = results::Verification::kPassed;
  rec.metrics = {{"time", "s", {1e-3}, std::nullopt},
                 {"value", unit, std::move(values), std::nullopt}};
  if (unit == "s") rec.metrics.erase(rec.metrics.begin());
  r.records.push_back(rec);
  return r;
}

TEST(HostileMeasured, NonFiniteZeroOrNegativeValuesAreRefused) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    std::string input, unit;
    std::vector<double> values;
    std::string error;
  };
  const std::vector<Case> corpus = {
      {"gpu.hbm_bandwidth",
       "B/s",
       {2.9e12, -3e12, 2.8e12},
       "m.json: $.records[1].metrics.value.values[1]: model input 'gpu.hbm_bandwidth' must be "
       "finite "
       "and greater than zero (B/s), got -3000000000000"},
      {"gpu.hbm_bandwidth",
       "B/s",
       {0},
       "m.json: $.records[1].metrics.value.values[0]: model input 'gpu.hbm_bandwidth' must be "
       "finite "
       "and greater than zero (B/s), got 0"},
      {"ep.bandwidth.inter_node",
       "B/s",
       {40e9, inf},
       "m.json: $.records[1].metrics.value.values[1]: model input 'ep.bandwidth.inter_node' must "
       "be "
       "finite and greater than zero (B/s), got inf"},
      {"gpu.peak_flops.bf16",
       "FLOP/s",
       {nan},
       "m.json: $.records[1].metrics.value.values[0]: model input 'gpu.peak_flops.bf16' must be "
       "finite and greater than zero (FLOP/s), got nan"},
      {"gpu.peak_flops.fp8",
       "FLOP/s",
       {-1},
       "m.json: $.records[1].metrics.value.values[0]: model input 'gpu.peak_flops.fp8' must be "
       "finite and greater than zero (FLOP/s), got -1"},
      // The lowest latency wins: a zero or negative one would win every time.
      {"latency.inter_node",
       "s",
       {0},
       "m.json: $.records[1].metrics.value.values[0]: model input 'latency.inter_node' must be "
       "finite and greater than zero (s), got 0"},
      {"latency.intra_node",
       "s",
       {-2e-6},
       "m.json: $.records[1].metrics.value.values[0]: model input 'latency.intra_node' must be "
       "finite and greater than zero (s), got -2e-06"},
      {"storage.read_bandwidth",
       "B/s",
       {-inf},
       "m.json: $.records[1].metrics.value.values[0]: model input 'storage.read_bandwidth' must be "
       "finite and greater than zero (B/s), got -inf"},
  };
  for (const Case& c : corpus) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of([&] { measured_inputs(measured(c.input, c.unit, c.values), "m.json"); }),
              c.error);
  }
  // Good values pass, and the median is taken.
  const MeasuredInputs ok =
      measured_inputs(measured("latency.inter_node", "s", {3e-6, 4e-6, 5e-6}), "m.json");
  EXPECT_EQ(ok.at("latency.inter_node").value, 4e-6);
  EXPECT_EQ(ok.at("gpu.peak_flops.fp8").value, 1.5e15);
}

TEST(HostileMeasured, ValuesBeyondTheRangeOfAQuantityAreRefused) {
  // 1e-300 B/s of HBM printed "inf us" and 1e300 s of latency 4.31e-303 tokens/s, exit 0: a
  // measured value is held to the range a value with a unit has in a cluster file (units.h).
  struct Case {
    std::string input, unit;
    double value;
    std::string error;
  };
  const std::vector<Case> corpus = {
      {"gpu.hbm_bandwidth", "B/s", 1e-300,
       "m.json: $.records[1].metrics.value.values[0]: model input 'gpu.hbm_bandwidth' must be "
       "from 1e-30 to 1e+30 (B/s), got 1e-300"},
      {"latency.inter_node", "s", 1e300,
       "m.json: $.records[1].metrics.value.values[0]: model input 'latency.inter_node' must be "
       "from 1e-30 to 1e+30 (s), got 1e+300"},
      {"gpu.kernel_gap", "s", 2e30,
       "m.json: $.records[1].metrics.value.values[0]: model input 'gpu.kernel_gap' must be from "
       "1e-30 to 1e+30 (s), got 2e+30"},
  };
  for (const Case& c : corpus) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(error_of([&] { measured_inputs(measured(c.input, c.unit, {c.value}), "m.json"); }),
              c.error);
  }
  // The ends of the range are taken.
  EXPECT_EQ(
      measured_inputs(measured("gpu.kernel_gap", "s", {1e30}), "m.json").at("gpu.kernel_gap").value,
      1e30);
  EXPECT_EQ(measured_inputs(measured("gpu.kernel_gap", "s", {1e-30}), "m.json")
                .at("gpu.kernel_gap")
                .value,
            1e-30);
}

// ---------------------------------------------------------------------------------------------
// Traffic-matrix files (`cobench fabric --traffic FILE`).

TEST(HostileTraffic, PlainByteCountsHaveTheRangeOfSizesWithUnits) {
  // "0 1 1e308" twice summed to inf ("collective size inf bytes", no file or line); "0 1 1e-320"
  // printed algbw 4.941e-324 GB/s with exit 0. A size with a unit was refused already.
  const std::vector<std::pair<std::string, std::string>> corpus = {
      {"0 1 1e308\n", "t.traffic:1:5: BYTES '1e308': expected a size from 1e-30 to 1e+30 B"},
      {"0 1 5\n2 3 1e-320\n",
       "t.traffic:2:5: BYTES '1e-320': expected a size from 1e-30 to 1e+30 B"},
      {"0 1 18446744073709551616e12\n",
       "t.traffic:1:5: BYTES '18446744073709551616e12': expected a size from 1e-30 to 1e+30 B"},
  };
  for (const auto& [text, error] : corpus) {
    SCOPED_TRACE(text);
    EXPECT_EQ(error_of([&] { parse_traffic(text, "t.traffic", 4); }), error);
  }
  // The largest size, on every flow a GPU sends, still sums to a finite number of bytes.
  const Collective c = traffic_matrix(parse_traffic("0 1 1e30\n0 2 1e30\n0 3 1e30\n", "t", 4));
  EXPECT_DOUBLE_EQ(c.size_bytes, 3e30);
}

// ---------------------------------------------------------------------------------------------
// Published performance files (topologies/perf/*.yaml).

TEST(HostilePerf, ARepeatedTableRowIsRefusedAsARepeatedKey) {
  // The lookup took one of two rows of the same shape (or EP degree) silently.
  const std::string perf = R"(perf:
  gpu: g
  efficiency: {gemm_compute: 0.7, gemm_memory: 0.8, attention_compute: 0.6,
               attention_memory: 0.9, memory: 0.8}
  gemm_fp8_wgrad:
    - {in: 7168, out: 2112, tokens: 4096, rate: 920 TFLOPS}
    - {groups: 4, in: 7168, out: 2112, tokens: 4096, rate: 900 TFLOPS}
  ep:
    link: InfiniBand
    nic_speed: 400 Gb/s
    low_latency:
      - {ep: 8, dispatch: 98 GB/s, combine: 127 GB/s}
      - {ep: 16, dispatch: 63 GB/s, combine: 74 GB/s}
)";
  auto error = [](const std::string& yaml) {
    return error_of([&] { load_published_perf(config::parse_yaml(yaml, "p.yaml")); });
  };
  EXPECT_EQ(error(perf), "(nothing thrown)");  // other groups: another shape
  EXPECT_EQ(error(replace(perf, "{groups: 4, in: 7168", "{groups: 1, in: 7168")),
            "p.yaml:7:7: key 'perf.gemm_fp8_wgrad[1]': the same shape as [0]; give each shape "
            "once");
  EXPECT_EQ(error(replace(perf, "{ep: 16,", "{ep: 8,")),
            "p.yaml:13:14: key 'perf.ep.low_latency[1].ep': EP 8 is given already at [0]; give "
            "each EP degree once");
}

TEST(HostileMeasured, AFailedRecordIsStillSkipped) {
  // Failed verification: never used, so its values do not matter.
  results::Results r = measured("gpu.hbm_bandwidth", "B/s", {-1});
  r.records[1].verification = results::Verification::kFailed;
  const MeasuredInputs in = measured_inputs(r, "m.json");
  EXPECT_EQ(in.size(), 1u);
  EXPECT_EQ(in.count("gpu.hbm_bandwidth"), 0u);
}

// ---------------------------------------------------------------------------------------------
// Round 2 (issue 16).

// Without head_dim, Hugging Face divides hidden_size by the heads: 4097 / 32 gave head_dim 128
// silently. With head_dim given, hidden_size need not be a multiple (Qwen3: 32 x 128 != 2560).
TEST(HostileModel, AHeadSizeThatHiddenSizeDoesNotGiveIsRefused) {
  EXPECT_EQ(hf_error(replace(kLlamaJson, "\"hidden_size\": 4096", "\"hidden_size\": 4097")),
            "c.json:4:18: key 'hidden_size': 4097 is not a multiple of the 32 attention heads "
            "(num_attention_heads), and there is no head_dim to say the head size");
  const ModelArch m = load_hf_config(config::parse_json(
      replace(kLlamaJson, "\"hidden_size\": 4096", "\"hidden_size\": 4097, \"head_dim\": 128"),
      "c.json"));
  EXPECT_EQ(m.attention.head_dim, 128);
  EXPECT_EQ(m.hidden_size, 4097);
}

// A moe section with every layer dense was read and never used ("0 us per MoE layer").
TEST(HostileModel, AMoeSectionThatNoLayerUsesIsRefused) {
  EXPECT_EQ(yaml_error(replace(kDeepseekYaml, "dense_layers: 3", "dense_layers: 61")),
            "m.yaml:8:17: key 'model.dense_layers': all 61 layers are dense, so the moe section "
            "is never used: give fewer dense layers or no moe section");
  EXPECT_EQ(hf_error(replace(kDeepseekJson, "\"first_k_dense_replace\": 3",
                             "\"first_k_dense_replace\": 61")),
            "c.json:12:28: key 'first_k_dense_replace': all 61 layers are dense, so the moe "
            "section is never used: give fewer dense layers or no moe section");
  // 60 dense layers and one MoE layer is a model.
  EXPECT_EQ(
      load_model_yaml(config::parse_yaml(
                          replace(kDeepseekYaml, "dense_layers: 3", "dense_layers: 60"), "m.yaml"))
          .dense_layers,
      60);
}

// domain_gpus 3 in nodes of 8 changed the EP bound and printed it with exit 0.
TEST(HostileCluster, AScaleUpDomainSplitsNodesEvenlyOrSpansWholeNodes) {
  EXPECT_EQ(cluster_error(replace(kCluster, "domain_gpus: 8", "domain_gpus: 3")),
            "c.yaml:11:41: key 'cluster.scale_up.domain_gpus': a scale-up domain of 3 GPUs neither "
            "splits a node of 8 GPUs evenly nor spans whole nodes (node.gpus_per_node)");
  EXPECT_EQ(cluster_error(replace(kCluster, "domain_gpus: 8", "domain_gpus: 12")),
            "c.yaml:11:41: key 'cluster.scale_up.domain_gpus': a scale-up domain of 12 GPUs "
            "neither splits a node of 8 GPUs evenly nor spans whole nodes (node.gpus_per_node)");
  // NVLink bridges of 2 in a node of 8, and a rack of 4 nodes (32 GPUs), are both valid.
  for (const char* domain : {"domain_gpus: 2", "domain_gpus: 32"}) {
    const ClusterSpec c =
        load_cluster(config::parse_yaml(replace(kCluster, "domain_gpus: 8", domain), "c.yaml"));
    EXPECT_EQ(c.scale_up.domain_gpus, std::stoi(std::string(domain).substr(13)));
  }
}

// A GPU without FLOP peaks: the predictions' refusal points at the file's gpu section, not only
// at the cluster's name.
TEST(HostileCluster, AMissingPeakIsPlacedAtTheGpuSection) {
  const ClusterSpec c = load_cluster(config::parse_yaml(kCluster, "c.yaml"));
  const ModelArch m = load_model_yaml(config::parse_yaml(kDeepseekYaml, "m.yaml"));
  const PerfModel perf(c, find_published_perf(c));
  const std::string serve = error_of([&] { predict_decode(m, c, DecodeSetting{}, perf); });
  EXPECT_NE(serve.find("c.yaml:8:10: key 'cluster.node.gpu': cluster 'toy': the serving "
                       "prediction needs node.gpu.peak_flops"),
            std::string::npos)
      << serve;
  const std::string train = error_of([&] { predict_training(m, c, TrainingSetting{}, perf); });
  EXPECT_NE(train.find("c.yaml:8:10: key 'cluster.node.gpu': cluster 'toy': the training "
                       "prediction needs node.gpu.peak_flops"),
            std::string::npos)
      << train;
}

// A node with no GPUs and no memory bandwidth printed a decode of 0 ms with a note.
TEST(HostileCluster, ANodeWithoutMemoryBandwidthGetsNoDecodeTime) {
  const ClusterSpec c = load_cluster(config::parse_yaml(R"(cluster:
  name: zero
  nodes: 1
  node: {name: n, gpus_per_node: 0, nics_per_node: 0}
)",
                                                        "c.yaml"));
  const Analysis a = analyze(load_model_yaml(config::parse_yaml(kDeepseekYaml, "m.yaml")), c);
  EXPECT_EQ(a.json["inference"]["missing"], "node.cpu.memory_bandwidth");
  EXPECT_TRUE(a.json["inference"]["tpot_s"].is_null());
  EXPECT_TRUE(a.json["inference"]["tokens_per_s"].is_null());
  EXPECT_TRUE(a.json["inference"]["tokens_per_s_per_device"].is_null());
  EXPECT_TRUE(a.json["inference"]["binding_bound"].is_null());
  for (const ReportRow& row : a.report.rows) EXPECT_NE(row.key, "inference.tpot_s") << row.key;
}

// A domain of 64 GPUs on a cluster of 8 (one node) made TP 32 run faster than TP 8, exit 0; 3
// nodes in domains of 16 left a node over.
TEST(HostileCluster, ScaleUpDomainsTileTheCluster) {
  EXPECT_EQ(cluster_error(replace(kCluster, "domain_gpus: 8", "domain_gpus: 64")),
            "c.yaml:11:41: key 'cluster.scale_up.domain_gpus': scale-up domains of 64 GPUs do not "
            "tile the cluster's 32 GPUs (4 nodes x 8): expected a divisor of 32");
  EXPECT_EQ(cluster_error(replace(replace(kCluster, "domain_gpus: 8", "domain_gpus: 16"),
                                  "nodes: 4", "nodes: 3")),
            "c.yaml:11:41: key 'cluster.scale_up.domain_gpus': scale-up domains of 16 GPUs do not "
            "tile the cluster's 24 GPUs (3 nodes x 8): expected a divisor of 24");
}

// ---------------------------------------------------------------------------------------------
// Round 3 (issue 16).

// planes: 4 on a dragonfly or an ft2 was read and changed nothing; one plane is every fabric's.
TEST(HostileCluster, PlanesOnAFabricWithoutPlanesAreRefused) {
  EXPECT_EQ(cluster_error(replace(kCluster, "topology: ft2,", "topology: ft2, planes: 4,")),
            "c.yaml:15:35: key 'cluster.fabric.planes': 4 planes: only an mpft fabric has planes "
            "(this one is ft2)");
  EXPECT_EQ(cluster_error(replace(kCluster, "topology: ft2, switch_radix: 64",
                                  "topology: dragonfly, planes: 2, switch_radix: 64")),
            "c.yaml:15:41: key 'cluster.fabric.planes': 2 planes: only an mpft fabric has planes "
            "(this one is dragonfly)");
  const ClusterSpec one = load_cluster(config::parse_yaml(
      replace(kCluster, "topology: ft2,", "topology: ft2, planes: 1,"), "c.yaml"));
  EXPECT_EQ(one.fabric.planes, 1);
}

// A byte order mark opened a traffic file: "SRC '0': expected a whole GPU id" with the mark
// unseen; a NUL cut the message short; a 100,000-digit field filled the terminal; CR-only line
// ends made one line of "6 field(s)".
TEST(HostileTraffic, AByteOrderMarkOpensAFileAndOtherBytesAreShownEscaped) {
  const std::vector<Flow> flows = parse_traffic(
      "\xEF\xBB\xBF"
      "0 1 5\n2 3 7\n",
      "t.traffic", 4);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].src_gpu, 0);
  EXPECT_EQ(flows[0].dst_gpu, 1);
  EXPECT_DOUBLE_EQ(flows[1].bytes, 7);
  const std::vector<std::pair<std::string, std::string>> corpus = {
      {"0 1 5\n\xEF\xBB\xBF"
       "1 2 5\n",
       "t.traffic:2:1: SRC '\\xef\\xbb\\xbf1': expected a whole GPU id"},
      {std::string("0 1 5\n\x1b[31m1 2 5\n"),
       "t.traffic:2:1: SRC '\\x1b[31m1': expected a whole GPU id"},
      {std::string("0 1 5\n1 2 5\0x\n", 14),
       "t.traffic:2:5: BYTES '5\\x00x': expected a number of bytes or a size (64MiB): not a "
       "size"},
      {"0 1 " + std::string(100, '1') + "\n",
       "t.traffic:1:5: BYTES '" + std::string(64, '1') +
           "... (100 bytes)': expected a size from 1e-30 to 1e+30 B"},
      {"0 1 5\r1 2 5\r",
       "t.traffic:1:6: a carriage return (CR) inside the line: expected lines ending in LF or "
       "CRLF"},
  };
  for (const auto& [text, error] : corpus) {
    SCOPED_TRACE(text);
    EXPECT_EQ(error_of([&] { parse_traffic(text, "t.traffic", 4); }), error);
  }
  // CRLF line ends stay lines.
  EXPECT_EQ(parse_traffic("0 1 5\r\n2 3 5\r\n", "t.traffic", 4).size(), 2u);
}

// --gpus 1 was refused as "groups of 1 ranks at stride 1 do not tile 1 GPUs", naming --group.
TEST(HostileFabric, OneGpuIsRefusedNamingGpus) {
  const ClusterSpec c = load_cluster(config::parse_yaml(kCluster, "c.yaml"));
  FabricRequest r;
  r.gpus = 1;
  EXPECT_EQ(error_of([&] { fabric_report(c, r); }),
            "--gpus 1: traffic needs 2 or more GPUs (0: all 32 of the cluster)");
}

// A directory whose results are in a subdirectory was "no results files (*.json) in it".
TEST(HostileMeasured, ADirectoryWithResultsOnlyInASubdirectorySaysItIsNotSearched) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "cobench_hostile_measured_nested";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "inner");
  std::ofstream(dir / "inner" / "a.json") << "{}";
  EXPECT_EQ(error_of([&] { measured_files({dir.string()}); }),
            dir.string() +
                ": no results files (*.json) in it (its subdirectories are not searched: give "
                "each as --measured)");
  std::filesystem::remove_all(dir);
}

}  // namespace
