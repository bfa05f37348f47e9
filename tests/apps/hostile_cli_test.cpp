// SPDX-License-Identifier: Apache-2.0
// Hostile input through the `cobench` command (issue 16): cluster files whose integers overflow,
// Hugging Face config.json files the model reader refuses, measured values that are not finite
// and positive, and numeric options that are not finite numbers in range. An input error exits 1
// naming the file and key, a usage error exits 2 naming the option; nothing dies on a signal.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "tests/command_util.h"
#include "tests/test_util.h"
#include "topologies/data_files.h"

namespace {

namespace fs = std::filesystem;

using cobench::test::CommandResult;
using cobench::test::fresh_dir;
using cobench::test::replace;

CommandResult run(const std::string& args) {
  return cobench::test::run_command(std::string(COBENCH_BINARY) + " " + args);
}

struct Case {
  std::string from, to;  // the replacement that makes a good file hostile
  std::string error;     // what stderr must say after "<file>:"
};

TEST(HostileCli, ClusterIntegersOutOfRangeAreInputErrors) {
  const std::string good =
      cobench::read_file(cobench::topo::find_data_file("clusters", "h100-ib-256"));
  const fs::path dir = fresh_dir("cobench_hostile_cluster");
  const fs::path file = dir / "c.yaml";
  cobench::write_file_atomic_no_overwrite(file, good);
  const CommandResult ok = run("analyze --model deepseek-v3 --cluster " + file.string());
  ASSERT_EQ(ok.status, 0) << ok.out;
  EXPECT_NE(ok.out.find("on 256 GPUs"), std::string::npos) << ok.out;
  const std::vector<Case> corpus = {
      // A SIGFPE once.
      {"gpus_per_node: 8", "gpus_per_node: 576460752303423488",
       "key 'cluster.node.gpus_per_node': expected an integer from 0 to 1024, got "
       "576460752303423488"},
      // "training tokens per day on -32 GPUs" once.
      {"gpus_per_node: 8", "gpus_per_node: 9223372036854775807",
       "key 'cluster.node.gpus_per_node': expected an integer from 0 to 1024, got "
       "9223372036854775807"},
      // Slipped past the fabric check once.
      {"nics_per_node: 8", "nics_per_node: 2305843009213693952",
       "key 'cluster.node.nics_per_node': expected an integer from 0 to 1024, got "
       "2305843009213693952"},
      // "vector::reserve" once.
      {"nodes: 32", "nodes: 9223372036854775807",
       "key 'cluster.nodes': expected an integer from 1 to 100000, got 9223372036854775807"},
      {"switch_radix: 64", "switch_radix: 3037000500",
       "key 'cluster.fabric.switch_radix': expected an integer from 4 to 4096, got 3037000500"},
  };
  int n = 0;
  for (const Case& c : corpus) {
    SCOPED_TRACE(c.to);
    const fs::path bad = dir / ("bad" + std::to_string(n++) + ".yaml");
    cobench::write_file_atomic_no_overwrite(bad, replace(good, c.from, c.to));
    const CommandResult r = run("analyze --model deepseek-v3 --cluster " + bad.string());
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("cobench: " + bad.string() + ":"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(c.error), std::string::npos) << r.out;
  }
  fs::remove_all(dir);
}

// gpus_per_node: 0 is a CPU cluster, valid; what needs GPUs says so at the line that sets it.
TEST(HostileCli, ANodeWithoutGpusIsNamedAtItsLineByWhatNeedsThem) {
  const std::string good =
      cobench::read_file(cobench::topo::find_data_file("clusters", "h100-ib-256"));
  const fs::path dir = fresh_dir("cobench_hostile_no_gpus");
  const fs::path file = dir / "c.yaml";
  cobench::write_file_atomic_no_overwrite(file,
                                          replace(good, "gpus_per_node: 8", "gpus_per_node: 0"));
  const std::string at = file.string() + ":11:20" + ": key 'cluster.node.gpus_per_node': cluster '";
  for (const auto& [args, what] : std::vector<std::pair<std::string, std::string>>{
           {"fabric --traffic all_gather", "the fabric simulator"},
           {"analyze --model deepseek-v3 --target-tokens-per-user 20", "a serving target"},
           {"analyze --model deepseek-v3 --train", "the training prediction"}}) {
    SCOPED_TRACE(args);
    const CommandResult r = run(args + " --cluster " + file.string());
    EXPECT_NE(r.out.find(at), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("has no GPUs (0 a node): " + what + " needs them"), std::string::npos)
        << r.out;
  }
  fs::remove_all(dir);
}

// The same --cluster twice switched to a side-by-side comparison of a cluster with itself, whose
// target read "0 tok/s a user": a usage error naming the option.
TEST(HostileCli, TheSameClusterTwiceIsAUsageError) {
  const CommandResult r =
      run("analyze --model deepseek-v3 --cluster h100-ib-256 --cluster h100-ib-256");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--cluster h100-ib-256 is given twice: a side-by-side comparison takes "
                       "different clusters"),
            std::string::npos)
      << r.out;
  // By name and by path: the same file.
  const CommandResult p =
      run("analyze --model deepseek-v3 --cluster h20-8 --cluster " +
          std::string(COBENCH_TEST_DATA_DIR) + "/../../topologies/clusters/h20-8.yaml");
  EXPECT_EQ(p.status, 2) << p.out;
  EXPECT_NE(p.out.find("is given twice (as h20-8)"), std::string::npos) << p.out;
}

// A CPU cluster's analysis is the local deployment's: GPU parallelism options would be ignored.
TEST(HostileCli, GpuOptionsOnACpuClusterAreRefused) {
  const CommandResult r = run("analyze --model deepseek-v3 --cluster cpu-local --ep 8");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--ep applies to GPU clusters: cluster 'Local AI PC"), std::string::npos)
      << r.out;
  EXPECT_EQ(run("analyze --model deepseek-v3 --cluster cpu-local").status, 0);
}

// Results files that never end (/dev/zero) hung validate, compare, from-gbench and
// --measured: refused at once, exit 1, naming the file.
TEST(HostileCli, ResultsReadersRefuseFilesThatNeverEnd) {
  for (const std::string args :
       {"results validate /dev/zero", "compare /dev/zero /dev/zero",
        "analyze --model deepseek-v3 --cluster h100-ib-256 --measured /dev/zero"}) {
    SCOPED_TRACE(args);
    const CommandResult r = run(args);
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("'/dev/zero': not a regular file (a device, FIFO or socket)"),
              std::string::npos)
        << r.out;
  }
  const CommandResult h = run("history /dev/zero");
  EXPECT_EQ(h.status, 1) << h.out;
  EXPECT_NE(h.out.find("/dev/zero: not a results file or a directory of them"), std::string::npos)
      << h.out;
}

TEST(HostileCli, HfConfigsTheYamlReaderWouldRefuseAreInputErrors) {
  const std::string llama =
      cobench::read_file(std::string(COBENCH_TEST_DATA_DIR) + "/hf/llama-3.1-8b.json");
  const std::string deepseek =
      cobench::read_file(std::string(COBENCH_TEST_DATA_DIR) + "/hf/deepseek-v3.json");
  const fs::path dir = fresh_dir("cobench_hostile_hf");
  struct HfCase {
    const std::string& base;
    Case c;
  };
  const std::string qwen3_moe =
      cobench::read_file(std::string(COBENCH_TEST_DATA_DIR) + "/hf/qwen3-30b-a3b.json");
  const std::vector<HfCase> corpus = {
      // Counted, never read: 3, 4 and 2 dense layers, wrong parameters and times, exit 0 once.
      {qwen3_moe,
       {"\"mlp_only_layers\": []", "\"mlp_only_layers\": [\"x\", null]",
        "key 'mlp_only_layers[0]': expected an integer"}},
      {qwen3_moe,
       {"\"mlp_only_layers\": []", "\"mlp_only_layers\": [0, 0]",
        "key 'mlp_only_layers[1]': layer 0 is listed twice"}},
      {qwen3_moe,
       {"\"mlp_only_layers\": []", "\"mlp_only_layers\": [100, 200]",
        "key 'mlp_only_layers[0]': expected an integer from 0 to 47, got 100"}},
      // SIGFPE once.
      {llama,
       {"\"num_attention_heads\": 32", "\"num_attention_heads\": 0",
        "key 'num_attention_heads': expected an integer from 1 to 16777216, got 0"}},
      {deepseek,
       {"\"n_group\": 8", "\"n_group\": 0",
        "key 'n_group': expected an integer from 1 to 16777216, got 0"}},
      // Accepted with wrong numbers once.
      {llama,
       {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 0",
        "key 'num_key_value_heads': expected an integer from 1 to 16777216, got 0"}},
      {llama,
       {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 7",
        "key 'num_key_value_heads': 32 heads cannot be shared evenly by 7 kv heads"}},
      {llama,
       {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 64",
        "key 'num_key_value_heads': 32 heads cannot be shared evenly by 64 kv heads"}},
      {llama,
       {"\"num_hidden_layers\": 32", "\"num_hidden_layers\": 0",
        "key 'num_hidden_layers': expected an integer from 1 to 16777216, got 0"}},
      {llama,
       {"\"hidden_size\": 4096", "\"hidden_size\": 0",
        "key 'hidden_size': expected an integer from 1 to 16777216, got 0"}},
      // "expected a string" once.
      {llama,
       {"\"hidden_size\": 4096", "\"hidden_size\": null",
        "key 'hidden_size': expected an integer, got null"}},
  };
  int n = 0;
  for (const HfCase& hc : corpus) {
    SCOPED_TRACE(hc.c.to);
    const fs::path bad = dir / ("config" + std::to_string(n++) + ".json");
    cobench::write_file_atomic_no_overwrite(bad, replace(hc.base, hc.c.from, hc.c.to));
    const CommandResult r = run("analyze --model " + bad.string() + " --cluster h100-ib-256");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("cobench: " + bad.string() + ":"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(hc.c.error), std::string::npos) << r.out;
  }
  fs::remove_all(dir);
}

TEST(HostileCli, MeasuredValuesMustBeFiniteAndPositive) {
  const std::string fixture = std::string(COBENCH_TEST_DATA_DIR) + "/measured_h800.json";
  const std::string cmd = "analyze --model deepseek-v3 --cluster deepseek-h800-2048 --measured ";
  const CommandResult ok = run(cmd + fixture);
  ASSERT_EQ(ok.status, 0) << ok.out;
  const nlohmann::json good = nlohmann::json::parse(cobench::read_file(fixture));
  struct MeasuredCase {
    std::string input, metric;
    double value;
    std::string error;  // after "$.records[i].metrics.<metric>.values[1]: "
  };
  const std::vector<MeasuredCase> corpus = {
      // Changed the binding bound once. A negative value is refused by the results reader
      // already (as by `cobench results validate`); zero reaches the model's own check.
      {"gpu.hbm_bandwidth", "bandwidth", -2.9e12,
       "-2900000000000 is negative; a value in 'B/s' cannot be"},
      {"gpu.hbm_bandwidth", "bandwidth", 0,
       "model input 'gpu.hbm_bandwidth' must be finite and greater than zero (B/s), got 0"},
      {"ep.bandwidth.inter_node", "busbw", -1, "-1 is negative; a value in 'B/s' cannot be"},
      // A zero latency would win (the lowest is kept) and make the EP bound instant.
      {"latency.inter_node", "latency", 0,
       "model input 'latency.inter_node' must be finite and greater than zero (s), got 0"},
      {"latency.inter_node", "latency", -4e-6, "-4e-06 is negative; a value in 's' cannot be"},
  };
  const fs::path dir = fresh_dir("cobench_hostile_measured");
  int n = 0;
  for (const MeasuredCase& c : corpus) {
    SCOPED_TRACE(c.error);
    nlohmann::json doc = good;
    size_t i = 0;  // the fixture's record of this input
    while (i < doc["records"].size() && doc["records"][i]["parameters"]["model_input"] != c.input)
      ++i;
    ASSERT_LT(i, doc["records"].size()) << "the fixture has no record of " << c.input;
    doc["records"][i]["metrics"][c.metric]["values"][1] = c.value;
    const fs::path bad = dir / ("m" + std::to_string(n++) + ".json");
    cobench::write_file_atomic_no_overwrite(bad, doc.dump(2));
    const CommandResult r = run(cmd + bad.string());
    EXPECT_EQ(r.status, 1) << r.out;
    const std::string where = "cobench: " + bad.string() + ": $.records[" + std::to_string(i) +
                              "].metrics." + c.metric + ".values[1]: ";
    EXPECT_NE(r.out.find(where + c.error), std::string::npos) << r.out;
  }
  fs::remove_all(dir);
}

TEST(HostileCli, NumericOptionsOfCompareAndHistoryMustBeFiniteAndInRange) {
  const std::string file = std::string(COBENCH_TEST_DATA_DIR) + "/measured_h800.json";
  const std::string compare = "compare " + file + " " + file + " ";
  const std::string history = "history " + file + " ";
  struct OptionCase {
    std::string args, error;
  };
  const std::vector<OptionCase> corpus = {
      // Accepted once.
      {compare + "--threshold nan",
       "--threshold: expected a finite number from 0 to 10, got 'nan'"},
      {compare + "--threshold inf",
       "--threshold: expected a finite number from 0 to 10, got 'inf'"},
      {compare + "--threshold -0.5",
       "--threshold: expected a finite number from 0 to 10, got '-0.5'"},
      {compare + "--threshold 1e400",
       "--threshold: expected a finite number from 0 to 10, got '1e400'"},
      {compare + "--alpha nan",
       "--alpha: expected a finite number greater than 0 and at most 1, got 'nan'"},
      {compare + "--alpha 0",
       "--alpha: expected a finite number greater than 0 and at most 1, got '0'"},
      {compare + "--min-repetitions 1e3",
       "--min-repetitions: expected an integer from 1 to 1000000, got '1e3'"},
      {compare + "--min-repetitions nan",
       "--min-repetitions: expected an integer from 1 to 1000000, got 'nan'"},
      {history + "--permutations inf",
       "--permutations: expected an integer from 1 to 1000000, got 'inf'"},
      {history + "--permutations 0",
       "--permutations: expected an integer from 1 to 1000000, got '0'"},
      // Wrapped to 2^64 - 1 once.
      {history + "--seed -1",
       "--seed: expected an integer from 0 to 18446744073709551615, got '-1'"},
      {history + "--seed nan",
       "--seed: expected an integer from 0 to 18446744073709551615, got 'nan'"},
  };
  for (const OptionCase& c : corpus) {
    SCOPED_TRACE(c.args);
    const CommandResult r = run(c.args);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(c.error), std::string::npos) << r.out;
  }
  // Values in range still work.
  const CommandResult ok =
      run(compare + "--threshold 0.2 --alpha 0.01 --min-repetitions 2 --format json");
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_EQ(run(history + "--permutations 10 --seed 18446744073709551615").status, 0);
}

TEST(HostileCli, FabricSeedsAndRepeatedFailuresAreUsageErrors) {
  const std::string data = std::string(COBENCH_TEST_DATA_DIR) + "/fabric/";
  const std::string ft2 = "fabric --cluster " + data + "deepseek-h800-roce-ft2.yaml --gpus 64 ";
  const std::string ft3 = "fabric --cluster " + data + "ft3-radix8-128.yaml --gpus 16 ";
  struct OptionCase {
    std::string args, error;
  };
  const std::vector<OptionCase> corpus = {
      // Wrapped to 2^64 - 1 and ran with exit 0 once (history's --seed was checked already).
      {ft3 + "--seed -1", "--seed: expected an integer from 0 to 18446744073709551615, got '-1'"},
      {ft3 + "--seed 18446744073709551616",
       "--seed: expected an integer from 0 to 18446744073709551615, got '18446744073709551616'"},
      // The same link twice printed "2 failure(s)" for one failed cable, exit 0.
      {ft2 + "--routing static --fail uplink:0:0 --fail uplink:00:0",
       "--fail 'uplink:00:0': every link it names is down already (an earlier --fail); give "
       "each failure once"},
  };
  for (const OptionCase& c : corpus) {
    SCOPED_TRACE(c.args);
    const CommandResult r = run(c.args);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(c.error), std::string::npos) << r.out;
  }
  // Two different links of the same leaf are two failures.
  const CommandResult two = run(ft2 + "--routing static --fail uplink:0:0 --fail uplink:0:1");
  EXPECT_EQ(two.status, 0) << two.out;
  EXPECT_NE(two.out.find("2 failure(s)"), std::string::npos) << two.out;
}

TEST(HostileCli, FabricTrafficFileSizesOutOfRangeAreInputErrors) {
  const fs::path dir = fresh_dir("cobench_hostile_traffic");
  const fs::path file = dir / "huge.traffic";
  // Two flows of 1e308 bytes from GPU 0 summed to inf: "collective size inf bytes", no file.
  cobench::write_file_atomic_no_overwrite(file, "0 1 1e308\n0 2 1e308\n");
  const CommandResult r =
      run("fabric --cluster " + std::string(COBENCH_TEST_DATA_DIR) +
          "/fabric/ft3-radix8-128.yaml --gpus 16 --routing static --traffic " + file.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(
      r.out.find(file.string() + ":1:5: BYTES '1e308': expected a size from 1e-30 to 1e+30 B"),
      std::string::npos)
      << r.out;
  fs::remove_all(dir);
}

TEST(HostileCli, AnalyzeRefusesOptionsOfAnotherAnalysis) {
  // Each was accepted and had no effect on the report (exit 0) once.
  const std::string train = "analyze --train --model deepseek-v3 --cluster deepseek-h800-2048 ";
  const std::string serve = "analyze --model deepseek-v3 --cluster deepseek-h800-2048 ";
  struct OptionCase {
    std::string args, error;
  };
  const std::vector<OptionCase> corpus = {
      {train + "--redundant-experts 32",
       "--redundant-experts applies to the serving analysis (--model and --cluster) only, not "
       "--train"},
      {train + "--context 8192",
       "--context applies to the serving analysis (--model and --cluster) only, not --train"},
      {serve + "--pp 4", "--pp applies to --train only, not the serving analysis"},
      {serve + "--seq-len 8192", "--seq-len applies to --train only, not the serving analysis"},
      {serve + "--kv-format fp8",
       "--kv-format applies to --kv-reload only, not the serving analysis"},
      {"analyze --kv-reload --tp 4",
       "--tp applies to --train and the serving analysis only, not --kv-reload"},
      {"analyze --kv-reload --pipeline zb1p",
       "--pipeline applies to --train only, not --kv-reload"},
      {"analyze --paper --schedule sequential",
       "--schedule applies to the serving analysis (--model and --cluster) only, not --paper"},
      {"analyze --kv-reload " + train.substr(8),
       "--train and --kv-reload are separate analyses; give one"},
      {serve + "--measured-as gpu", "--measured-as needs --measured"},
      {train + "--gemm-precision bf16",
       "--gemm-precision applies to the serving analysis (--model and --cluster) only, not "
       "--train"},
  };
  for (const OptionCase& c : corpus) {
    SCOPED_TRACE(c.args);
    const CommandResult r = run(c.args);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(c.error), std::string::npos) << r.out;
  }
  // Each option in its own analysis still runs.
  EXPECT_EQ(run(train + "--pp 8 --seq-len 4096").status, 0);
  EXPECT_EQ(run("analyze --kv-reload --kv-format fp8").status, 0);
  EXPECT_EQ(run(serve + "--gemm-precision bf16").status, 0);
  EXPECT_EQ(run(serve + "--gemm-precision fp16").status, 2);
}

// A helper's sweep (issue 15): options the model or cluster has nothing to apply to were
// accepted and changed nothing (exit 0), or printed nonsense ("EP 100000000" on 8 GPUs).
TEST(HostileCli, AnalyzeRefusesOptionsTheModelOrClusterCannotApply) {
  const std::string dense = "analyze --model qwen3-8b --cluster h20-8 ";
  const std::string cpu = "analyze --model deepseek-v2 --cluster cpu-local --weight-bytes 0.5 ";
  struct OptionCase {
    std::string args, error;
  };
  const std::vector<OptionCase> corpus = {
      {dense + "--ep 8", "--ep applies to MoE models: Qwen3-8B has no routed experts"},
      {dense + "--prefill-ep 4", "--prefill-ep applies to MoE models"},
      {dense + "--redundant-experts 5", "--redundant-experts applies to MoE models"},
      {dense + "--routing random", "--routing applies to MoE models"},
      {dense + "--combine-format logfmt8", "--combine-format applies to MoE models"},
      {"analyze --train --model qwen3-8b --cluster h100-ib-256 --pp 4 --train-ep 3",
       "--train-ep applies to MoE models"},
      {cpu + "--tokens-per-device 128",
       "--tokens-per-device applies to GPU clusters: cluster 'Local AI PC (Ryzen AI Max+ 395, 128 "
       "GB)' has no GPUs"},
      {cpu + "--mtp-depth 1", "--mtp-depth applies to GPU clusters"},
      {cpu + "--cache-hit 0.5", "--cache-hit applies to GPU clusters"},
      {cpu + "--mfu 0.9", "--mfu applies to GPU clusters"},
      {"analyze --model deepseek-v3 --cluster deepseek-h800-2048 --mtp-acceptance 0.1",
       "--mtp-acceptance needs --mtp-depth"},
      {"analyze --model deepseek-v3 --cluster deepseek-h800-2048 --target-tokens-per-user 20 "
       "--tokens-per-device 7",
       "--tokens-per-device goes with one --cluster and no --target-*"},
  };
  for (const OptionCase& c : corpus) {
    SCOPED_TRACE(c.args);
    const CommandResult r = run(c.args);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(c.error), std::string::npos) << r.out;
  }
  // The dense model and the CPU cluster still run without them.
  EXPECT_EQ(run(dense).status, 0);
  EXPECT_EQ(run(cpu).status, 0);
}

// The paper scenario's clusters lacking what their rows need: a scale-up cluster without a
// scale-up link printed "inf us" with exit 0; a local deployment on a GPU cluster "prefill needs
// a prompt of at least one token" with no location.
TEST(HostileCli, PaperScenarioClustersNeedTheirLinks) {
  const fs::path dir = fresh_dir("cobench_hostile_scenario");
  fs::copy(cobench::topo::data_dir(), dir / "data", fs::copy_options::recursive);
  const fs::path file = dir / "data" / "scenarios" / "deepseek-v3-paper.yaml";
  const std::string good = cobench::read_file(file);
  auto paper_with = [&](const std::string& from, const std::string& to) {
    fs::remove(file);
    cobench::write_file_atomic_no_overwrite(file, replace(good, from, to));
    return cobench::test::run_command("COBENCH_DATA_DIR=" + (dir / "data").string() + " " +
                                      COBENCH_BINARY + " analyze --paper");
  };
  const CommandResult up =
      paper_with("scale_up_cluster: gb200-nvl72", "scale_up_cluster: cpu-local");
  EXPECT_EQ(up.status, 1) << up.out;
  EXPECT_NE(up.out.find("key 'scenario.decode.scale_up_cluster': cluster 'cpu-local' has no "
                        "scale-up link (scale_up.bandwidth_nominal)"),
            std::string::npos)
      << up.out;
  EXPECT_EQ(up.out.find("inf"), std::string::npos) << up.out;
  const CommandResult local = paper_with("    cluster: cpu-local", "    cluster: h20-8");
  EXPECT_EQ(local.status, 1) << local.out;
  EXPECT_NE(local.out.find("key 'scenario.local.cluster': cluster 'h20-8' has GPUs"),
            std::string::npos)
      << local.out;
  // DeepSeek-V2 at 1 B a weight does not fit the AI PC: no prediction, named at the key (a raw
  // JSON type error once).
  const CommandResult big = paper_with("weight_bytes: 0.5 ", "weight_bytes: 1   ");
  EXPECT_EQ(big.status, 1) << big.out;
  EXPECT_NE(big.out.find("key 'scenario.local.cluster': deepseek-v2 at 1 B a weight gets no "
                         "prediction on cluster 'cpu-local'"),
            std::string::npos)
      << big.out;
}

// A CPU node whose memory cannot hold the weights printed a decode speed for them.
TEST(HostileCli, ACpuNodeTooSmallForTheWeightsGetsNoPrediction) {
  const CommandResult r = run("analyze --model deepseek-v2 --cluster cpu-local --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  // DeepSeek-V2 at 1 B a parameter: 235.7 GB, over the node's memory.
  EXPECT_EQ(j["inference"]["feasible"], false) << r.out;
  EXPECT_TRUE(j["inference"]["tokens_per_s"].is_null()) << r.out;
  EXPECT_TRUE(j["inference"]["tokens_per_s_per_device"].is_null()) << r.out;
  EXPECT_TRUE(j["inference"]["binding_bound"].is_null()) << r.out;
  EXPECT_GT(j["inference"]["device_bytes"].get<double>(), 235e9);
  const CommandResult text = run("analyze --model deepseek-v2 --cluster cpu-local");
  EXPECT_NE(text.out.find("DOES NOT FIT"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("tokens per second (batch 1)"), std::string::npos) << text.out;
}

// Round 2 (issue 16): classes found by a second hostile sweep.

// from-gbench wrote files that `results validate` then refused (a negative time), and read its
// input with a lax parser (a repeated key kept its last value): what a results file cannot hold
// is refused at the input's benchmark, and nothing is written.
TEST(HostileCli, ConvertersRefuseWhatAResultsFileCannotHold) {
  const std::string good =
      cobench::read_file(std::string(COBENCH_TEST_DATA_DIR) + "/gbench_sample.json");
  const std::string first = "\"real_time\": 8.0278278444743569e+02";
  ASSERT_NE(good.find(first), std::string::npos);
  const fs::path dir = fresh_dir("cobench_hostile_convert");
  const std::vector<Case> corpus = {
      {first, "\"real_time\": -1.0",
       "benchmark 'BM_Triad/n:1024': metrics.real_time.values[0]: -1e-09 is negative; a value "
       "in 's' cannot be"},
      {"\"bytes_per_second\": 3.0762831052001945e+10", "\"bytes_per_second\": -5.0",
       "benchmark 'BM_Triad/n:1024': metrics.bytes_per_second.values[0]: -5 is negative; a "
       "value in 'B/s' cannot be"},
      {first, first + ", \"real_time\": 1.0", "$.benchmarks[0]: repeated key 'real_time'"},
      {first, "\"real_time\": NaN", "not valid JSON: "},
  };
  int n = 0;
  for (const Case& c : corpus) {
    SCOPED_TRACE(c.to);
    const fs::path in = dir / ("g" + std::to_string(n) + ".json");
    const fs::path out = dir / ("out" + std::to_string(n++) + ".json");
    cobench::write_file_atomic_no_overwrite(in, replace(good, c.from, c.to));
    const CommandResult r = run("results from-gbench " + in.string() + " -o " + out.string());
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("cobench: " + in.string() + ": " + c.error), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(out)) << "nothing is written";
  }
  // The good input still converts, and what it writes validates.
  const fs::path out = dir / "good.json";
  const CommandResult ok = run("results from-gbench " + std::string(COBENCH_TEST_DATA_DIR) +
                               "/gbench_sample.json -o " + out.string());
  ASSERT_EQ(ok.status, 0) << ok.out;
  EXPECT_EQ(run("results validate " + out.string()).status, 0);
  fs::remove_all(dir);
}

// A --metric that no record has skipped every benchmark and exited 0: a regression gate that
// never fires. A usage error naming the metrics the files do have.
TEST(HostileCli, AMetricNoRecordHasIsAUsageError) {
  const std::string file = std::string(COBENCH_TEST_DATA_DIR) + "/measured_h800.json";
  struct OptionCase {
    std::string args, error;
  };
  const std::vector<OptionCase> corpus = {
      {"compare " + file + " " + file + " --metric bandwith",
       "--metric 'bandwith': no record of " + file + " or " + file +
           " has it; their metrics: bandwidth, busbw, latency, throughput, time"},
      {"history " + file + " --metric bandwith",
       "--metric 'bandwith': no record of the 1 run(s) has it; their metrics: bandwidth, busbw, "
       "latency, throughput, time"},
      // Exit 1 once.
      {"history " + file + " --benchmark '('", "invalid --benchmark regular expression '('"},
  };
  for (const OptionCase& c : corpus) {
    SCOPED_TRACE(c.args);
    const CommandResult r = run(c.args);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(c.error), std::string::npos) << r.out;
  }
  // A metric some records have still compares and tracks them.
  EXPECT_EQ(run("compare " + file + " " + file + " --metric busbw").status, 0);
  const CommandResult h = run("history " + file + " --metric busbw");
  EXPECT_EQ(h.status, 0) << h.out;
  EXPECT_NE(h.out.find("1 series"), std::string::npos) << h.out;
}

// "Greater than 0" let 1e-300 through: --mfu 1e-300 printed "inf K GPU-h" with exit 0, and a
// context of 1e-300 tokens failed later without naming the option. Each range starts at the
// least meaningful value.
TEST(HostileCli, TinyPositiveOptionsAreRefusedAtTheirLeastMeaningfulValue) {
  const std::string serve = "analyze --model deepseek-v3 --cluster h100-ib-256 ";
  struct OptionCase {
    std::string args, error;
  };
  const std::vector<OptionCase> corpus = {
      {serve + "--mfu 1e-300", "--mfu: expected a finite number from 0.001 to 1, got '1e-300'"},
      {serve + "--context 1e-300",
       "--context: expected a finite number from 1 to 1000000000, got '1e-300'"},
      {serve + "--context 0.5",
       "--context: expected a finite number from 1 to 1000000000, got '0.5'"},
      {"analyze --kv-reload --prefix-tokens 1e-300",
       "--prefix-tokens: expected a finite number from 1 to 1000000000, got '1e-300'"},
      {"analyze --kv-reload --prefill-mfu 5e-324",
       "--prefill-mfu: expected a finite number from 0.001 to 1, got '5e-324'"},
  };
  for (const OptionCase& c : corpus) {
    SCOPED_TRACE(c.args);
    const CommandResult r = run(c.args);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(c.error), std::string::npos) << r.out;
  }
  const CommandResult ok = run(serve + "--mfu 0.001 --context 1");
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_EQ(ok.out.find(" inf "), std::string::npos) << ok.out;
}

// `cobench run --model F` read F only after every benchmark had run (a minute): refused first.
TEST(HostileCli, RunReadsItsAnalysisInputsBeforeMeasuring) {
  const fs::path dir = fresh_dir("cobench_hostile_run_inputs");
  const fs::path model = dir / "config.json";
  cobench::write_file_atomic_no_overwrite(model, "{\"architectures\": []}");
  const CommandResult r =
      run("run --suite model --model " + model.string() + " --out " + dir.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(model.string() + ":1:19: key 'architectures': expected at least one "
                                        "architecture"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("[1/"), std::string::npos) << "no benchmark ran: " << r.out;
  fs::remove(model);
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

// An empty file said "f.yaml:0:0"; nesting beyond yaml-cpp's limit said "bad file".
TEST(HostileCli, EmptyAndDeeplyNestedFilesSayWhatIsWrong) {
  const fs::path dir = fresh_dir("cobench_hostile_shape");
  struct FileCase {
    std::string name, text, error;
  };
  const std::vector<FileCase> corpus = {
      {"empty.yaml", "", ":1:1: the file is empty (or only comments): expected a map of keys"},
      {"comments.yaml", "# nothing\n\n",
       ":1:1: the file is empty (or only comments): expected a map of keys"},
      {"deep.yaml", "cluster: " + std::string(20000, '[') + std::string(20000, ']') + "\n",
       "YAML syntax error: nested too deeply here (yaml-cpp stops at a few hundred levels"},
  };
  for (const FileCase& c : corpus) {
    SCOPED_TRACE(c.name);
    const fs::path f = dir / c.name;
    cobench::write_file_atomic_no_overwrite(f, c.text);
    const CommandResult r = run("analyze --model deepseek-v3 --cluster " + f.string());
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("cobench: " + f.string()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(c.error), std::string::npos) << r.out;
  }
  fs::remove_all(dir);
}

}  // namespace
