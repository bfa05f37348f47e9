// SPDX-License-Identifier: Apache-2.0
// The `cobench` command as a user runs it: exit codes, output, files, error messages.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/results_io.h"
#include "tests/command_util.h"
#include "tests/sanitized.h"
#include "topologies/node_spec.h"

namespace {

namespace fs = std::filesystem;

using cobench::test::CommandResult;
using cobench::test::fresh_dir;

// Runs `cobench args`; the output holds stdout and, unless `stdout_only`, stderr too.
CommandResult run(const std::string& args, bool stdout_only = false) {
  return cobench::test::run_command(std::string(COBENCH_BINARY) + " " + args, stdout_only);
}

// `cobench args` exits with `status` and says `message`.
void expect_refused(const std::string& args, int status, const std::string& message) {
  SCOPED_TRACE(args);
  const CommandResult r = run(args);
  EXPECT_EQ(r.status, status) << r.out;
  EXPECT_NE(r.out.find(message), std::string::npos) << r.out;
}

TEST(Cli, SysinfoPrintsTheNode) {
  const CommandResult r = run("sysinfo");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("host"), std::string::npos);
  EXPECT_NE(r.out.find("core(s)"), std::string::npos);
  EXPECT_NE(r.out.find("version hwloc"), std::string::npos);
}

TEST(Cli, SysinfoJsonParses) {
  const CommandResult r = run("sysinfo --json", /*stdout_only=*/true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["cpu"]["threads"].get<int>(), 0);
}

TEST(Cli, SysinfoWritesAResultAndANodeFileButNeverOverwrites) {
  const fs::path dir = fresh_dir("cobench_cli_sysinfo");
  const fs::path result = dir / "sysinfo.json", node = dir / "node.yaml";
  CommandResult r = run("sysinfo --out " + result.string() + " --cluster-node " + node.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const auto read_back = cobench::results::read(result);
  EXPECT_EQ(read_back.run.command_line.at(1), "sysinfo");
  EXPECT_FALSE(read_back.run.sysinfo.empty());
  EXPECT_EQ(cobench::topo::load_node_file(cobench::config::load_file(node)).name,
            read_back.run.host);
  const std::string before = cobench::read_file(result);
  r = run("sysinfo --out " + result.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("refusing to overwrite existing file '" + result.string() + "'"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(cobench::read_file(result), before);
  r = run("results validate " + result.string());
  EXPECT_EQ(r.status, 0) << r.out;
  fs::remove_all(dir);
}

TEST(Cli, ValidateReportsThePathOfABadValue) {
  const fs::path dir = fresh_dir("cobench_cli_validate");
  const fs::path bad = dir / "bad.json";
  cobench::write_file_atomic_no_overwrite(bad, R"({"schema": "cobench.results/1", "records": []})");
  const CommandResult r = run("results validate " + bad.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find(bad.string() + ": $: missing required key 'run'"), std::string::npos)
      << r.out;
  fs::remove_all(dir);
}

TEST(Cli, ConvertsGoogleBenchmarkJson) {
  const fs::path dir = fresh_dir("cobench_cli_gbench");
  const fs::path out = dir / "r.json";
  const std::string in = std::string(COBENCH_TEST_DATA_DIR) + "/gbench_sample.json";
  const CommandResult r =
      run("results from-gbench " + in + " -o " + out.string() + " --suite demo");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto results = cobench::results::read(out);
  ASSERT_FALSE(results.records.empty());
  EXPECT_EQ(results.records[0].suite, "demo");
  EXPECT_TRUE(results.run.extra.contains("gbench_context"));
  const CommandResult bad =
      run("results from-gbench " + in + " -o " + (dir / "x.json").string() + " --backend tpu");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("--backend 'tpu': expected cpu, cuda, mpi or nccl"), std::string::npos)
      << bad.out;
  fs::remove_all(dir);
}

// nccl-tests' -J JSON of two test binaries (tests/data/nccl-tests, 2 nodes of 8 H100s) into one
// results file whose send_recv latency the model takes on a cluster of H100s.
// With the node description on stdout, stdout is only its YAML; --json cannot share it.
TEST(Cli, SysinfoClusterNodeOnStdoutIsOnlyYaml) {
  const CommandResult r = run("sysinfo --cluster-node -", /*stdout_only=*/true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.rfind("# Node description", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find("version hwloc"), std::string::npos) << r.out;  // the report went to stderr
  const CommandResult both = run("sysinfo --cluster-node - --json");
  EXPECT_EQ(both.status, 2) << both.out;
  EXPECT_NE(both.out.find("--json: cannot share stdout with --cluster-node -"), std::string::npos)
      << both.out;
}

TEST(Cli, ConvertsNcclTestsJsonForTheModel) {
  const fs::path dir = fresh_dir("cobench_cli_nccl_tests");
  const fs::path out = dir / "r.json";
  const std::string data = std::string(COBENCH_TEST_DATA_DIR) + "/nccl-tests/";
  const CommandResult r = run("results from-nccl-tests " + data + "all_reduce_perf.json " + data +
                              "sendrecv_perf.json -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("12 records from 2 nccl-tests file(s)"), std::string::npos) << r.out;
  const auto results = cobench::results::read(out);
  EXPECT_EQ(results.run.host, "gpu-node-00");
  EXPECT_FALSE(results.run.environment.contains("AWS_SECRET_ACCESS_KEY"));
  const CommandResult model = run("analyze --model deepseek-v3 --cluster h100-ib-256 --measured " +
                                      out.string() + " --format json",
                                  /*stdout_only=*/true);
  ASSERT_EQ(model.status, 0) << model.out;
  // sendrecv_perf.json's 8-byte line: 18.4 us out of place.
  EXPECT_NE(model.out.find("1.84e-05"), std::string::npos) << model.out;
  // The same test twice in one file set is refused.
  const CommandResult twice = run("results from-nccl-tests " + data + "sendrecv_perf.json " + data +
                                  "sendrecv_perf.json -o " + (dir / "x.json").string());
  EXPECT_EQ(twice.status, 1);
  EXPECT_NE(twice.out.find("is also in an earlier file"), std::string::npos) << twice.out;
  fs::remove_all(dir);
}

TEST(Cli, AnalyzePaperInThreeFormats) {
  const CommandResult text = run("analyze --paper");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("0 unexplained"), std::string::npos) << text.out;
  // Each run computes the whole report again (about 20 s at -O0 under ASan): there the text alone
  // runs end to end. PaperReport.JsonCarriesEveryRow and .TextAndMarkdownCarryEveryRow render the
  // same report in process, Cli.AnalyzeModelOnCluster and MarkdownCli.* take the CLI's --format
  // json and markdown paths, all under the sanitizers too.
  if (cobench::test::kSanitized) return;
  const CommandResult json = run("analyze --paper --format json", /*stdout_only=*/true);
  ASSERT_EQ(json.status, 0);
  EXPECT_GT(nlohmann::json::parse(json.out)["rows"].size(), 50u);
  const CommandResult md = run("analyze --paper --format markdown");
  EXPECT_NE(md.out.find("| quantity | paper | cobench |"), std::string::npos);
}

TEST(Cli, AnalyzeModelOnCluster) {
  const std::string hf = std::string(COBENCH_TEST_DATA_DIR) + "/hf/deepseek-v3.json";
  const CommandResult r =
      run("analyze --model " + hf + " --cluster h200-ib-256 --format json", /*stdout_only=*/true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["memory"]["kv_bytes_per_token"], 70272.0);
  EXPECT_TRUE(j["inference"].contains("binding_bound"));
  const CommandResult bad = run("analyze --model deepseek-v9 --cluster h200-ib-256");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.out.find("unknown model 'deepseek-v9'"), std::string::npos) << bad.out;
  EXPECT_EQ(run("analyze --model deepseek-v3").status, 2);  // no cluster: a usage error
  EXPECT_EQ(run("analyze --paper --format html").status, 2);
}

TEST(Cli, FabricComparesRoutingPolicies) {
  // A ring all-gather over the first 128 GPUs of the 256-GPU multi-rail tree without PXN: its
  // cross-rail flows hash onto the shared spines; ECMP collides (below the NIC rate), static
  // routing (by destination port) and adaptive routing (spread over every spine) do not.
  const CommandResult ok =
      run("fabric --cluster h100-ib-256 --traffic all_gather --gpus 128 --no-pxn --format json",
          /*stdout_only=*/true);
  ASSERT_EQ(ok.status, 0) << ok.out;
  const nlohmann::json j = nlohmann::json::parse(ok.out);
  std::map<std::string, double> v;
  for (const auto& row : j["rows"]) v[row["key"].get<std::string>()] = row["cobench"];
  ASSERT_TRUE(v.count("routing.ecmp.busbw") && v.count("routing.static.busbw") &&
              v.count("routing.adaptive.busbw"))
      << ok.out;
  EXPECT_LT(v["routing.ecmp.busbw"], 0.75 * v["routing.static.busbw"]);
  EXPECT_NEAR(v["routing.adaptive.busbw"], v["routing.static.busbw"],
              1e-9 * v["routing.static.busbw"]);
  EXPECT_GT(v["routing.ecmp.ecmp_collision_fraction"], 0);
  // Bad requests: the value and what was expected.
  const CommandResult big = run("fabric --cluster h100-ib-256 --gpus 9999");
  EXPECT_EQ(big.status, 1) << big.out;
  EXPECT_NE(big.out.find("--gpus 9999 exceeds the cluster's 256 GPUs"), std::string::npos)
      << big.out;
  EXPECT_EQ(run("fabric --cluster h100-ib-256 --traffic broadcast").status, 2);
  const std::string h100 = "fabric --cluster h100-ib-256 ";
  expect_refused(h100 + "--bytes 0B", 2, "--bytes: a whole number of bytes >= 1, got '0B' (0 B)");
  EXPECT_EQ(run("fabric --cluster h100-ib-256 --bytes 12").status, 2);  // no unit
  // Less than a byte, or not whole ones (12 bits): nccl-tests sizes whole bytes.
  expect_refused(h100 + "--bytes 12b", 2,
                 "--bytes: a whole number of bytes >= 1, got '12b' (1.5 B)");
  // A group of one rank, however written, or one GPU: the help's ranges are 0 (all) or 2 and more.
  expect_refused(h100 + "--group 1", 2,
                 "--group: a group is 2 ranks or more (0: all the GPUs), got 1");
  expect_refused(h100 + "--group 01", 2,
                 "--group: a group is 2 ranks or more (0: all the GPUs), got 1");
  expect_refused(h100 + "--gpus 1", 2,
                 "--gpus: a collective needs 2 GPUs or more (0: all the cluster's), got 1");
  for (const char* bad : {"--oversubscription 0.5", "--oversubscription inf", "--finish-window 2",
                          "--finish-window nan", "--stride 0", "--gpus -1"}) {
    const CommandResult r = run(std::string("fabric --cluster h100-ib-256 ") + bad);
    EXPECT_EQ(r.status, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find(std::string(bad).substr(0, std::string(bad).find(' '))), std::string::npos)
        << r.out;
  }
  // Groups that do not tile the cluster's GPUs: an input error naming them; the GPUs another
  // option gives: the options' conflict, a usage error.
  expect_refused(h100 + "--group 7", 1, "groups of 7 ranks at stride 1 do not tile 256 GPUs");
  expect_refused(h100 + "--gpus 16 --stride 2", 2,
                 "groups of 16 (--gpus) ranks at --stride 2 span 32 GPUs, which does not divide "
                 "--gpus 16");
  expect_refused(h100 + "--gpus 16 --group 4 --stride 8", 2,
                 "groups of --group 4 ranks at --stride 8 span 32 GPUs, which does not divide "
                 "--gpus 16");
}

TEST(Cli, FabricFailureReportsEachRoutingsLoss) {
  // The same ring with rail 0's leaf cut from spine 0: static routing's failover puts the dead
  // spine's flows on spine 1, which already had its own: twice the flows, busbw about halved
  // (time x 2 less the latency share); adaptive spreads over 31 spines and loses nothing here.
  const CommandResult ok =
      run("fabric --cluster h100-ib-256 --traffic all_gather --gpus 128 --no-pxn "
          "--fail uplink:r0.0:0 --format json",
          /*stdout_only=*/true);
  ASSERT_EQ(ok.status, 0) << ok.out;
  const nlohmann::json j = nlohmann::json::parse(ok.out);
  std::map<std::string, double> v;
  for (const auto& row : j["rows"]) v[row["key"].get<std::string>()] = row["cobench"];
  EXPECT_EQ(v["fabric.failed_links"], 2);
  EXPECT_NEAR(v["routing.static.busbw"] / v["routing.static.healthy_busbw"], 0.5, 0.01);
  EXPECT_NEAR(v["routing.static.failure_loss"], 50, 1);
  EXPECT_DOUBLE_EQ(v["routing.adaptive.failure_loss"], 0);
  EXPECT_GE(v["routing.ecmp.failure_loss"], 0);
  // A link the fabric lacks: an input error naming the valid range.
  const CommandResult bad = run("fabric --cluster h100-ib-256 --fail uplink:r8.0:0");
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_NE(bad.out.find("--fail 'uplink:r8.0:0': rail 8 is not in the fabric: expected r0 to r7"),
            std::string::npos)
      << bad.out;
  const CommandResult spine = run("fabric --cluster h100-ib-256 --fail uplink:r0.0:32");
  EXPECT_EQ(spine.status, 1) << spine.out;
  EXPECT_NE(spine.out.find("spine '32' is not in the tree: expected 0 to 31"), std::string::npos)
      << spine.out;
  const CommandResult plane = run("fabric --cluster h100-ib-256 --fail plane:0");
  EXPECT_EQ(plane.status, 1) << plane.out;
  EXPECT_NE(plane.out.find("plane:N needs mpft"), std::string::npos) << plane.out;
  // A spec of no known form, or with an empty field, is a usage error, whatever the cluster.
  const CommandResult garbage = run("fabric --cluster h100-ib-256 --fail garbage");
  EXPECT_EQ(garbage.status, 2) << garbage.out;
  EXPECT_NE(garbage.out.find("--fail 'garbage': expected uplink:LEAF:SPINE"), std::string::npos)
      << garbage.out;
  expect_refused("fabric --cluster h100-ib-256 --fail uplink::", 2,
                 "--fail 'uplink::': an empty field: expected uplink:LEAF:SPINE");
}

TEST(Cli, FabricRunsADragonflyAndASlimFly) {
  auto values = [&](const std::string& file, const std::string& args) {
    const CommandResult ok = run("fabric --cluster " + std::string(COBENCH_TEST_DATA_DIR) +
                                     "/fabric/" + file + " " + args + " --format json",
                                 /*stdout_only=*/true);
    EXPECT_EQ(ok.status, 0) << ok.out;
    const nlohmann::json j = nlohmann::json::parse(ok.out);
    std::map<std::string, double> v;
    for (const auto& row : j["rows"]) v[row["key"].get<std::string>()] = row["cobench"];
    return v;
  };
  // tests/data/fabric/dragonfly-radix7-64.yaml: 8 nodes of 8 NICs on 8 groups of 4 routers (2
  // NICs each): node n is group n. The ring all-gather's node-crossing flow of each step leaves
  // router n.3 for group n + 1 through router n.0 (global port 0), and the flow from node n - 1
  // arrives at router n.3 (global port 6) for GPU 0 on router n.0: both on local link
  // n.3 -> n.0 at 20 of its 40 GB/s. 63 steps of 16 MiB at 20 GB/s = 838.861 us, plus 2 x 1.4 us
  // at the NICs and three 0.45 us router links.
  std::map<std::string, double> df = values("dragonfly-radix7-64.yaml", "--traffic all_gather");
  EXPECT_EQ(df["fabric.switches"], 32);
  EXPECT_NEAR(df["routing.static.time_s"], 63 * (16777216 / 20e9 * 1e6 + 2.8 + 1.35), 1e-6);
  EXPECT_NEAR(df["routing.ecmp.time_s"], df["routing.static.time_s"], 1e-6);  // one copy a pair
  // One global link a pair of groups: no flow had a choice, so no collision rows.
  EXPECT_EQ(df.count("routing.ecmp.ecmp_collision_fraction"), 0u);
  EXPECT_EQ(df.count("routing.ecmp.spine_imbalance"), 0u);
  // tests/data/fabric/slim-fly-radix12-200.yaml: q = 5, 50 routers. An all-to-all among the 200
  // GPUs cannot beat each NIC's 40 GB/s: 175 x 1 GiB/200 to other nodes.
  std::map<std::string, double> sf = values("slim-fly-radix12-200.yaml", "--traffic all_to_all");
  EXPECT_EQ(sf["fabric.switches"], 50);
  EXPECT_EQ(sf["fabric.leaf_port_fraction"], 100);
  for (const char* p : {"ecmp", "static", "adaptive"})
    EXPECT_GE(sf[std::string("routing.") + p + ".time_s"], 175 * 1073741824.0 / 200 / 40e9 * 1e6)
        << p;
  const CommandResult fail = run("fabric --cluster " + std::string(COBENCH_TEST_DATA_DIR) +
                                 "/fabric/slim-fly-radix12-200.yaml --fail plane:0");
  EXPECT_EQ(fail.status, 1) << fail.out;
  EXPECT_NE(fail.out.find("link failures are simulated on the fat trees"), std::string::npos)
      << fail.out;
}

TEST(Cli, FabricRunsAThreeLevelFatTree) {
  // tests/data/fabric/ft3-radix8-128.yaml: 16 nodes of 8 GPUs and 8 NICs on the full radix-8
  // FT3 (128 NICs = 8^3/4; 32 leaves, 32 aggregation, 16 cores = 5 x 8^2/4 = 80 switches).
  const std::string cluster = std::string(COBENCH_TEST_DATA_DIR) + "/fabric/ft3-radix8-128.yaml";
  auto values = [&](const std::string& traffic) {
    const CommandResult ok =
        run("fabric --cluster " + cluster + " --traffic " + traffic + " --format json",
            /*stdout_only=*/true);
    EXPECT_EQ(ok.status, 0) << ok.out;
    const nlohmann::json j = nlohmann::json::parse(ok.out);
    std::map<std::string, double> v;
    for (const auto& row : j["rows"]) v[row["key"].get<std::string>()] = row["cobench"];
    return v;
  };
  std::map<std::string, double> a2a = values("all_to_all");
  EXPECT_EQ(a2a["fabric.switches"], 80);
  EXPECT_EQ(a2a["fabric.top_tier_port_fraction"], 100);
  // All-to-all of 1 GiB: each GPU sends 1 GiB/128 = 8 MiB to each of 120 GPUs of other nodes
  // through its NIC (40 GB/s; the leaf, pod and core cuts are wider): 120 x 8 MiB / 40 GB/s
  // = 25165.824 us, plus a cross-pod path's 3.7 + 0.9 us.
  EXPECT_NEAR(a2a["routing.adaptive.time_s"], 25165.824 + 4.6, 1e-6);
  EXPECT_NEAR(a2a["routing.static.time_s"], 25165.824 + 4.6, 1e-6);  // D-mod-K: no collision
  EXPECT_GT(a2a["routing.ecmp.time_s"], 1.1 * a2a["routing.static.time_s"]);
  // Ring all-gather of 1 GiB over 128 ranks: 127 steps of 8 MiB; the node-crossing flow of
  // each step has its NIC to itself (209.7152 us) and the slowest crosses pods (4.6 us).
  std::map<std::string, double> ag = values("all_gather");
  EXPECT_NEAR(ag["routing.adaptive.time_s"], 127 * (209.7152 + 4.6), 1e-6);
  // Leaf 3's cable to aggregation switch 1 down (both directions): its 4 NICs' (node 1's GPUs
  // 4-7) 4 x 120 x 8 MiB to other nodes leave over 3 of its 4 uplinks, and as much arrives over
  // 3 of its 4 downlinks: adaptive takes 4/3 of the NIC-bound time, 33554.432 us + 4.6 us.
  std::map<std::string, double> failed = values("all_to_all --routing adaptive --fail uplink:3:1");
  EXPECT_NEAR(failed["routing.adaptive.time_s"], 4026531840.0 / 120e9 * 1e6 + 4.6, 1e-6);
  // The loss against the healthy 25165.824 + 4.6 us: a quarter, less the latency's share.
  EXPECT_NEAR(failed["routing.adaptive.failure_loss"],
              100 * (1 - (25165.824 + 4.6) / (4026531840.0 / 120e9 * 1e6 + 4.6)), 1e-6);
  // A core cable outside the cluster's 8 pods: an input error naming the range.
  const CommandResult fail = run("fabric --cluster " + cluster + " --fail core:8:0:0");
  EXPECT_EQ(fail.status, 1) << fail.out;
  EXPECT_NE(fail.out.find("pod '8' is not in the fabric: expected 0 to 7"), std::string::npos)
      << fail.out;
}

TEST(Cli, FabricTrafficFile) {
  // tests/data/fabric/two_flows.traffic: 1 GB from GPU 0 to GPU 64 and from 1 to 65 on the
  // multi-rail tree: each flow within its rail's leaf (nodes 0 and 8), alone on its NICs'
  // 40 GB/s: 25 ms plus the same-leaf 2.8 us.
  const std::string data = std::string(COBENCH_TEST_DATA_DIR) + "/fabric/";
  const CommandResult ok = run("fabric --cluster h100-ib-256 --no-pxn --routing static --traffic " +
                                   data + "two_flows.traffic --format json",
                               /*stdout_only=*/true);
  ASSERT_EQ(ok.status, 0) << ok.out;
  const nlohmann::json j = nlohmann::json::parse(ok.out);
  std::map<std::string, double> v;
  for (const auto& row : j["rows"]) v[row["key"].get<std::string>()] = row["cobench"];
  EXPECT_NEAR(v["routing.static.time_s"], 25000 + 2.8, 1e-6);
  // A GPU outside the cluster: file:line:column and the range.
  const CommandResult bad =
      run("fabric --cluster h100-ib-256 --traffic " + data + "bad_gpu.traffic");
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_NE(bad.out.find("bad_gpu.traffic:3:1: SRC GPU 300 is out of range: the simulation holds "
                         "GPUs 0 to 255"),
            std::string::npos)
      << bad.out;
  // --gpus narrows the range; --bytes does not apply to a file (a usage error).
  EXPECT_EQ(
      run("fabric --cluster h100-ib-256 --gpus 32 --traffic " + data + "two_flows.traffic").status,
      1);
  const CommandResult usage =
      run("fabric --cluster h100-ib-256 --bytes 1GiB --traffic " + data + "two_flows.traffic");
  EXPECT_EQ(usage.status, 2) << usage.out;
  EXPECT_NE(usage.out.find("--bytes does not apply to a traffic file"), std::string::npos);
  // A file name with a control character (ESC) is shown escaped in the report's title, as in
  // its errors.
  const fs::path dir = fresh_dir("cobench_cli_fabric_name");
  const fs::path odd = dir /
                       "a\x1b"
                       "b.traffic";
  fs::copy_file(data + "two_flows.traffic", odd);
  const CommandResult named = run("fabric --cluster h100-ib-256 --traffic '" + odd.string() + "'");
  EXPECT_EQ(named.status, 0) << named.out;
  EXPECT_NE(named.out.find("a\\x1bb.traffic (2 flows"), std::string::npos) << named.out;
  EXPECT_EQ(named.out.find('\x1b'), std::string::npos) << named.out;
}

TEST(Cli, FabricEpOptionsOnlyWithEpTraffic) {
  // The EP traffic options (tokens, hidden size, top-k, experts, node limit) shape the tokens'
  // routing and mean nothing to a collective or a traffic file; a collective's size and groups
  // mean nothing to EP traffic, whose flows come from the routing. Either misuse is a usage
  // error (exit 2) that names the option, even at its default value, and prints no report.
  const std::string cluster = "fabric --cluster deepseek-h800-2048 --gpus 16 ";
  struct Misuse {
    const char* traffic;
    const char* option;
    const char* expected;
  };
  const Misuse misuses[] = {
      {"all_gather", "--tokens 4096",
       "--tokens applies to --traffic ep_dispatch or ep_combine only (got --traffic all_gather)"},
      {"reduce_scatter", "--top-k 4", "--top-k applies to --traffic ep_dispatch or ep_combine"},
      {"all_to_all", "--experts 128", "--experts applies to --traffic ep_dispatch or ep_combine"},
      {"all_reduce", "--hidden 4096", "--hidden applies to --traffic ep_dispatch or ep_combine"},
      {"all_gather", "--max-nodes 2", "--max-nodes applies to --traffic ep_dispatch or ep_combine"},
      {"ep_dispatch", "--bytes 1GiB", "--bytes does not apply to --traffic ep_dispatch"},
      {"ep_combine", "--bytes 64MiB", "--bytes does not apply to --traffic ep_combine"},
      {"ep_dispatch", "--group 8", "--group does not apply to --traffic ep_dispatch"},
      {"ep_combine", "--stride 2", "--stride does not apply to --traffic ep_combine"},
      // Channels split a ring's hops: no ring in an all-to-all or EP traffic.
      {"all_to_all", "--channels 4",
       "--channels applies to the ring collectives (all_gather, reduce_scatter, all_reduce) "
       "only (got --traffic all_to_all)"},
      {"ep_dispatch", "--channels 2", "--channels applies to the ring collectives"},
      {"all_gather", "--channels 0", "--channels: expected an integer from 1 to 64, got '0'"},
  };
  for (const Misuse& m : misuses) {
    const std::string args = cluster + "--traffic " + m.traffic + " " + m.option;
    const CommandResult r = run(args);
    EXPECT_EQ(r.status, 2) << args << ": " << r.out;
    EXPECT_NE(r.out.find(m.expected), std::string::npos) << args << ": " << r.out;
    EXPECT_EQ(run(args, /*stdout_only=*/true).out, "") << args;
  }
  // A traffic file is not EP traffic either.
  const std::string file = std::string(COBENCH_TEST_DATA_DIR) + "/fabric/two_flows.traffic";
  const CommandResult on_file = run("fabric --cluster h100-ib-256 --tokens 64 --traffic " + file);
  EXPECT_EQ(on_file.status, 2) << on_file.out;
  EXPECT_NE(on_file.out.find("--tokens applies to --traffic ep_dispatch or ep_combine only"),
            std::string::npos)
      << on_file.out;
  // The same options where they belong run. 16 GPUs = 2 nodes, 16 experts (one a GPU), top-2,
  // both nodes allowed: a token's two experts are a uniform pair of the 16. They share a node
  // with probability 2 x C(8, 2) / C(16, 2) = 56 / 120, so E[nodes] = 2 - 0.4667 = 1.5333; an
  // expert's GPU has the token's local index (no NVLink copy) with probability 2 / 16, so
  // E[NVLink copies] = 2 x 7 / 8 = 1.75. 1024 tokens: standard errors about 0.016 and 0.014.
  const CommandResult ok = run(cluster +
                                   "--traffic ep_dispatch --tokens 64 --top-k 2 --experts 16 "
                                   "--max-nodes 2 --routing static --format json",
                               /*stdout_only=*/true);
  ASSERT_EQ(ok.status, 0) << ok.out;
  const nlohmann::json j = nlohmann::json::parse(ok.out);
  std::map<std::string, double> v;
  for (const auto& row : j["rows"]) v[row["key"].get<std::string>()] = row["cobench"];
  ASSERT_TRUE(v.count("ep.nodes_per_token") && v.count("ep.nvlink_copies_per_token")) << ok.out;
  EXPECT_NEAR(v["ep.nodes_per_token"], 2 - 56.0 / 120, 0.06);
  EXPECT_NEAR(v["ep.nvlink_copies_per_token"], 1.75, 0.08);
}

// A cobench_coll results file written by hand: all_gather at 8 ranks measured at 256 MiB (busbw
// repetitions 19, 20, 21 GB/s out of place, median 20; 15 GB/s in place, so 20 is kept) and at
// 4 GiB (80 GB/s); one failed run at 1 GiB (999 GB/s, never used); all_gather at 16 ranks and
// all_reduce at 8 ranks (other rank count, other collective: left out and counted).
fs::path write_coll_results(const fs::path& dir) {
  using cobench::results::Verification;
  cobench::results::Results r;
  r.run.cobench_version = "0.1.0";
  r.run.git_commit = "test";
  r.run.utc_time = "2026-11-29T05:30:00Z";
  r.run.host = "test";
  r.run.command_line = {"cobench_coll"};
  r.run.build_type = "Release";
  // Measured over NCCL between H100s: the link class of the h100-ib-256 cluster.
  r.run.sysinfo = {
      {"cuda_devices", {{{"name", "NVIDIA H100 80GB HBM3"}, {"compute_capability", "9.0"}}}}};
  auto add = [&](const std::string& coll, int ranks, double bytes, const char* placement,
                 std::vector<double> busbw_gb_per_s, Verification v) {
    cobench::results::Record rec;
    rec.suite = "collectives";
    rec.backend = cobench::results::Backend::kNccl;
    rec.benchmark = fmt::format("{}/bytes:{}/ranks:{}/{}", coll, bytes, ranks, placement);
    rec.parameters = {
        {"collective", coll}, {"bytes", bytes}, {"ranks", ranks}, {"placement", placement}};
    for (double& b : busbw_gb_per_s) b *= 1e9;
    rec.metrics.push_back({"busbw", "B/s", busbw_gb_per_s, std::nullopt});
    rec.verification = v;
    r.records.push_back(std::move(rec));
  };
  const double mib256 = 268435456, gib = 1073741824, gib4 = 4294967296;
  add("all_gather", 8, mib256, "out_of_place", {19, 20, 21}, Verification::kPassed);
  add("all_gather", 8, mib256, "in_place", {15}, Verification::kPassed);
  add("all_gather", 8, gib4, "out_of_place", {80}, Verification::kPassed);
  add("all_gather", 8, gib, "out_of_place", {999}, Verification::kFailed);
  add("all_gather", 16, gib, "out_of_place", {50}, Verification::kPassed);
  add("all_reduce", 8, gib, "out_of_place", {60}, Verification::kPassed);
  const fs::path file = dir / "coll.json";
  cobench::results::write(file, r);
  return file;
}

TEST(Cli, FabricMeasuredBesideTheSimulation) {
  const fs::path dir = fresh_dir("fabric_measured");
  const std::string file = write_coll_results(dir).string();
  // 1 GiB lies halfway between 256 MiB and 4 GiB in log(bytes) (2^28, 2^30, 2^32): log-log
  // interpolation gives sqrt(20 x 80) = 40 GB/s (linear in bytes would give 20 + 60 x 3/15 =
  // 32 GB/s). The ratio is 40 GB/s over each routing's simulated busbw, as the report prints it.
  const std::string base = "fabric --cluster h100-ib-256 --traffic all_gather --gpus 8 ";
  const CommandResult ok = run(base + "--measured " + file + " --format json",
                               /*stdout_only=*/true);
  ASSERT_EQ(ok.status, 0) << ok.out;
  const nlohmann::json j = nlohmann::json::parse(ok.out);
  std::map<std::string, double> v;
  for (const auto& row : j["rows"]) v[row["key"].get<std::string>()] = row["cobench"];
  EXPECT_NEAR(v["measured.busbw"], 40, 1e-9);  // GB/s
  for (const char* p : {"ecmp", "static", "adaptive"}) {
    const double simulated = v[fmt::format("routing.{}.busbw", p)];
    ASSERT_GT(simulated, 0) << p;
    EXPECT_NEAR(v[fmt::format("measured.ratio.{}", p)], 40 / simulated, 1e-9) << p;
    EXPECT_NEAR(j["measured"]["ratio_by_routing"][p].get<double>(), 40 / simulated, 1e-9) << p;
  }
  const nlohmann::json& m = j["measured"];
  EXPECT_NEAR(m["busbw_bytes_per_s"].get<double>(), 40e9, 1e-3);
  EXPECT_EQ(m["method"], "interpolated (log-log)");
  EXPECT_EQ(m["sizes_used_bytes"], nlohmann::json({268435456.0, 4294967296.0}));
  EXPECT_EQ(m["records_used"], 3);                 // both 256 MiB records and the 4 GiB one
  EXPECT_EQ(m["records_left_out"], 2);             // 16 ranks, all_reduce
  EXPECT_EQ(m["records_failed_or_unchecked"], 1);  // the failed 999 GB/s
  EXPECT_EQ(m["source"], nlohmann::json({file}));
  // The text says how the value was read and what was left out.
  const CommandResult text = run(base + "--measured " + file);
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("interpolated (log-log) between 256 MiB (20 GB/s) and 4 GiB (80 GB/s)"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("records of other collectives or rank counts left out"),
            std::string::npos)
      << text.out;
  const CommandResult md = run(base + "--measured " + file + " --format markdown");
  ASSERT_EQ(md.status, 0) << md.out;
  EXPECT_NE(md.out.find("| measured / simulated busbw, ecmp routing |"), std::string::npos)
      << md.out;
  // The rank count is the group's: 16 GPUs in groups of 8 match the 8-rank records. The
  // directory and the file again: every record counted twice, the value the same.
  const CommandResult grouped =
      run("fabric --cluster h100-ib-256 --traffic all_gather --gpus 16 --group 8 --measured " +
              dir.string() + " --measured " + file + " --format json",
          /*stdout_only=*/true);
  ASSERT_EQ(grouped.status, 0) << grouped.out;
  const nlohmann::json g = nlohmann::json::parse(grouped.out)["measured"];
  EXPECT_NEAR(g["busbw_bytes_per_s"].get<double>(), 40e9, 1e-3);
  EXPECT_EQ(g["records_used"], 6);
  EXPECT_EQ(g["records_left_out"], 4);
}

TEST(Cli, FabricMeasuredIdentityAndBadInput) {
  const fs::path dir = fresh_dir("fabric_measured_bad");
  const std::string file = write_coll_results(dir).string();
  // 4 ranks: no record applies; a clear line, not an error, and all six left out and counted.
  const CommandResult none =
      run("fabric --cluster h100-ib-256 --traffic all_gather --gpus 4 --measured " + file);
  ASSERT_EQ(none.status, 0) << none.out;
  EXPECT_NE(none.out.find("no passed all_gather record at 4 ranks: nothing to compare"),
            std::string::npos)
      << none.out;
  const CommandResult none_json = run(
      "fabric --cluster h100-ib-256 --traffic all_gather --gpus 4 --format json --measured " + file,
      /*stdout_only=*/true);
  ASSERT_EQ(none_json.status, 0) << none_json.out;
  const nlohmann::json n = nlohmann::json::parse(none_json.out)["measured"];
  EXPECT_TRUE(n["busbw_bytes_per_s"].is_null());
  EXPECT_EQ(n["records_left_out"], 6);
  EXPECT_TRUE(n["ratio_by_routing"].empty());
  // A file that is not a results file: an input error naming it.
  const fs::path notes = dir / "notes.json";
  cobench::write_file_atomic_no_overwrite(notes, "{\"hello\": 1}\n");
  const CommandResult bad =
      run("fabric --cluster h100-ib-256 --gpus 8 --measured " + notes.string());
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_NE(bad.out.find(notes.string()), std::string::npos) << bad.out;
  // EP traffic and a traffic file have no cobench_coll counterpart: a usage error naming the
  // option.
  const CommandResult ep =
      run("fabric --cluster deepseek-h800-2048 --gpus 16 --traffic ep_dispatch --measured " + file);
  EXPECT_EQ(ep.status, 2) << ep.out;
  EXPECT_NE(ep.out.find("--measured compares with a collective"), std::string::npos) << ep.out;
  const CommandResult tf =
      run("fabric --cluster h100-ib-256 --traffic " + std::string(COBENCH_TEST_DATA_DIR) +
          "/fabric/two_flows.traffic --measured " + file);
  EXPECT_EQ(tf.status, 2) << tf.out;
  EXPECT_NE(tf.out.find("--measured"), std::string::npos) << tf.out;
  // The same H100 file against an H800 cluster: another link class, refused naming both GPUs,
  // unless --measured-as link asks for the comparison.
  const std::string h800 =
      "fabric --cluster deepseek-h800-2048 --traffic all_gather --gpus 8 --measured " + file;
  const CommandResult other = run(h800);
  EXPECT_EQ(other.status, 1) << other.out;
  for (const char* want :
       {"a measurement of another link class", "H100", "H800", "--measured-as link"})
    EXPECT_NE(other.out.find(want), std::string::npos) << want << " in " << other.out;
  const CommandResult as_link = run(h800 + " --measured-as link --format json", true);
  ASSERT_EQ(as_link.status, 0) << as_link.out;
  EXPECT_NEAR(nlohmann::json::parse(as_link.out)["measured"]["busbw_bytes_per_s"].get<double>(),
              40e9, 1e-3);
  EXPECT_EQ(run("fabric --cluster h100-ib-256 --traffic all_gather --measured-as link").status, 2);
}

// --train takes --measured as the serving analysis does: a GPU's measured GEMM table replaces the
// published one (the hand-made H800 file's two shapes change the step), the report says so, and
// a record of another GPU is refused with both names.
TEST(Cli, AnalyzeTrainTakesMeasuredTables) {
  const std::string base = "analyze --train --model deepseek-v3 ";
  const std::string kernels = std::string(COBENCH_TEST_DATA_DIR) + "/measured_h800_kernels.json";
  auto rows = [](const std::string& out) {
    std::map<std::string, double> v;
    const nlohmann::json j = nlohmann::json::parse(out);
    for (const auto& row : j["rows"])
      v[row["key"].get<std::string>()] = row["cobench"].get<double>();
    return v;
  };
  const CommandResult plain =
      run(base + "--cluster deepseek-h800-2048 --format json", /*stdout_only=*/true);
  const CommandResult measured =
      run(base + "--cluster deepseek-h800-2048 --format json --measured " + kernels,
          /*stdout_only=*/true);
  ASSERT_EQ(plain.status, 0) << plain.out;
  ASSERT_EQ(measured.status, 0) << measured.out;
  const auto p = rows(plain.out), m = rows(measured.out);
  ASSERT_EQ(p.count("train.chunk.b_s"), 1u) << plain.out;
  ASSERT_EQ(m.count("train.chunk.b_s"), 1u) << measured.out;
  ASSERT_EQ(m.count("train.measured.gemm_fp8"), 1u) << measured.out;
  EXPECT_EQ(p.count("train.measured.gemm_fp8"), 0u);
  EXPECT_EQ(m.at("train.measured.gemm_fp8"), 2);  // two shapes: the failed record left out
  EXPECT_NE(m.at("train.chunk.b_s"), p.at("train.chunk.b_s"));
  const CommandResult other = run(base + "--cluster h100-ib-256 --measured " + kernels);
  EXPECT_EQ(other.status, 1) << other.out;
  EXPECT_NE(other.out.find("it measured NVIDIA H800"), std::string::npos) << other.out;
  EXPECT_NE(other.out.find("the cluster's GPU is NVIDIA H100 SXM"), std::string::npos) << other.out;
}

// What a GPU session does with gpu-check's output, end to end on the CLI: Google Benchmark JSON
// in the shape cobench_bench_gemm_gpu writes (tests/data/gpu_gemm_gbench.json, by hand: the
// 4096^3 peak at 1300 TFLOPS, the attention output projection and its dgrad at 4096 tokens),
// converted by `results from-gbench`, read by `analyze --measured` for serving and training. The
// conversion here snapshots this machine (no GPU), so the identity check refuses the records
// until --measured-as maps them on purpose.
TEST(Cli, GpuBenchmarkJsonReachesTheModel) {
  const fs::path dir = fresh_dir("cobench_gpu_results");
  const std::string gbench = std::string(COBENCH_TEST_DATA_DIR) + "/gpu_gemm_gbench.json";
  const std::string file = (dir / "gemm_gpu.json").string();
  const CommandResult conv =
      run("results from-gbench " + gbench + " -o " + file + " --suite gemm --backend cuda");
  ASSERT_EQ(conv.status, 0) << conv.out;
  const std::string serve = "analyze --model deepseek-v3 --cluster h100-ib-256 --measured " +
                            dir.string() + " --format json";
  const CommandResult refused = run(serve);
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_NE(refused.out.find("it measured no CUDA device"), std::string::npos) << refused.out;
  const CommandResult ok = run(serve + " --measured-as gpu", /*stdout_only=*/true);
  ASSERT_EQ(ok.status, 0) << ok.out;
  const nlohmann::json j = nlohmann::json::parse(ok.out);
  ASSERT_EQ(j["inputs"].size(), 1u) << j["inputs"];
  EXPECT_EQ(j["inputs"][0]["input"], "gpu.peak_flops.fp8");
  EXPECT_EQ(j["inputs"][0]["measured"].get<double>(), 1300e12);
  EXPECT_EQ(j["inference"]["measured_tables"]["gemm_fp8_shapes"], 2);
  const CommandResult train =
      run("analyze --train --model deepseek-v3 --cluster h100-ib-256 --train-ep 16 --measured " +
              dir.string() + " --measured-as gpu --format json",
          /*stdout_only=*/true);
  ASSERT_EQ(train.status, 0) << train.out;
  const nlohmann::json t = nlohmann::json::parse(train.out);
  double shapes = 0;
  std::string inputs;
  for (const auto& row : t["rows"]) {
    if (row["key"] == "train.measured.gemm_fp8") shapes = row["cobench"].get<double>();
    if (row["key"] == "train.measured.inputs") inputs = row["note"].get<std::string>();
  }
  EXPECT_EQ(shapes, 2);
  EXPECT_EQ(inputs, "gpu.peak_flops.fp8");
  fs::remove_all(dir);
}

TEST(Cli, AnalyzeTrain) {
  // DeepSeek-V3's pre-training setting by default: 120 micro-batches of one sequence a pipeline;
  // the step and its parts in JSON, the sweep's count beside them.
  const std::string base = "analyze --train --model deepseek-v3 --cluster deepseek-h800-2048 ";
  const CommandResult ok = run(base + "--format json", /*stdout_only=*/true);
  ASSERT_EQ(ok.status, 0) << ok.out;
  double step = 0, f = 0, b = 0, w = 0, fb = 0, bubble = 0, opt = 0, swept = 0;
  const nlohmann::json j = nlohmann::json::parse(ok.out);
  for (const auto& row : j["rows"]) {
    const std::string key = row["key"];
    const double v = row["cobench"];
    if (key == "train.step_s") step = v;
    if (key == "train.phase_f_s") f = v;
    if (key == "train.phase_b_s") b = v;
    if (key == "train.phase_w_s") w = v;
    if (key == "train.phase_fb_s") fb = v;
    if (key == "train.bubble_s") bubble = v;
    if (key == "train.optimizer_s") opt = v;
    if (key == "train.sweep.configurations") swept = v;
  }
  EXPECT_GT(step, 0);
  EXPECT_NEAR(f + b + w + fb + bubble + opt, step, 1e-9 * step);
  EXPECT_GT(swept, 100);
  // Settings the model cannot split are input errors with the reason; bad numbers usage errors.
  const CommandResult odd = run(base + "--pp 3");
  EXPECT_EQ(odd.status, 1) << odd.out;
  EXPECT_NE(odd.out.find("--pp 3 does not divide the 2048 GPUs (--train-gpus)"), std::string::npos)
      << odd.out;
  for (const char* bad : {"--pp 0", "--micro-batch nan", "--pipeline gpipe", "--seq-len inf",
                          "--pp 2.5", "--train-ep 1.5", "--global-batch 100.5"}) {
    const CommandResult r = run(base + bad);
    EXPECT_EQ(r.status, 2) << bad << ": " << r.out;
  }
  // Llama 3 405B as Meta trained it (TP8 PP16 DP128, BF16, interleaved): the TP traffic row is
  // there; an interleave that does not divide the stage's 8 layers is an input error.
  const std::string llama =
      "analyze --train --model llama-3.1-405b --cluster meta-h100-roce-16k --tp 8 --pp 16 "
      "--seq-len 8192 --global-batch 2048 --train-precision bf16 --pipeline interleaved ";
  const CommandResult l = run(llama + "--interleave 4");
  EXPECT_EQ(l.status, 0) << l.out;
  EXPECT_NE(l.out.find("TP 8, CP 1, EP 1, DP 128, BF16 GEMMs"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("chunk TP and CP traffic"), std::string::npos) << l.out;
  const CommandResult v3 = run(llama + "--interleave 3");
  EXPECT_EQ(v3.status, 1) << v3.out;
  EXPECT_NE(v3.out.find("--interleave 3 does not divide the 8 layers a stage holds"),
            std::string::npos)
      << v3.out;
  EXPECT_EQ(run(llama + "--train-precision fp16").status, 2);
  EXPECT_EQ(run(llama + "--cp 0").status, 2);
  const CommandResult paper = run("analyze --train --paper");
  EXPECT_EQ(paper.status, 2) << paper.out;  // options that exclude each other
  EXPECT_NE(paper.out.find("--train takes --model and one --cluster"), std::string::npos);
}

TEST(Cli, AnalyzeCombineFormat) {
  const std::string base =
      "analyze --model deepseek-v3 --cluster deepseek-h800-2048 --ep 128 --tokens-per-device 128 ";
  const CommandResult r = run(base + "--combine-format logfmt10 --format json", true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out)["inference"]["combine"];
  EXPECT_EQ(j["format"], "logfmt10");
  EXPECT_GT(j["saved_s_per_step"].get<double>(), 0);
  EXPECT_GT(j["break_even_values_per_s"].get<double>(), 0);
  EXPECT_EQ(run(base + "--combine-format fp4").status, 2);
  EXPECT_EQ(run(base + "--routing sideways").status, 2);
  EXPECT_EQ(run(base + "--schedule six-stage").status, 2);
  // The five-stage pipeline is two micro-batches': another count is a usage error.
  const CommandResult five = run(base + "--schedule five-stage --micro-batches 4");
  EXPECT_EQ(five.status, 2) << five.out;
  EXPECT_NE(five.out.find("--schedule five-stage overlaps 2 micro-batches"), std::string::npos);
}

TEST(Cli, AnalyzeServingOptions) {
  const std::string base = "analyze --model deepseek-v3 --cluster deepseek-h800-2048 ";
  // EP144 needs the redundant experts DeepSeek serves it with: 256 + 32 = 288 = 2 x 144.
  const CommandResult refused = run(base + "--ep 144");
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.out.find("--redundant-experts"), std::string::npos) << refused.out;
  const CommandResult ok =
      run(base + "--ep 144 --redundant-experts 32 --format json", /*stdout_only=*/true);
  ASSERT_EQ(ok.status, 0) << ok.out;
  const auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["inference"]["expert_slots"], 288.0);
  const double overlap = j["inference"]["prediction"]["tpot_s"].get<double>();
  EXPECT_GE(overlap, j["inference"]["bound"]["tpot_s"].get<double>());
  const CommandResult seq = run(base +
                                    "--ep 144 --redundant-experts 32 --schedule sequential "
                                    "--format json",
                                /*stdout_only=*/true);
  ASSERT_EQ(seq.status, 0) << seq.out;
  EXPECT_GT(nlohmann::json::parse(seq.out)["inference"]["prediction"]["tpot_s"].get<double>(),
            overlap);
  // Numbers that are not finite or out of range are usage errors naming the option.
  for (const char* bad : {"--context inf", "--tokens-per-device nan", "--mtp-acceptance 1.5",
                          "--cache-hit 1", "--micro-batches 0", "--schedule zigzag",
                          "--tokens-per-device 1e300", "--prompt 0.5", "--ep 1.5", "--tp 0"}) {
    const CommandResult r = run(base + bad);
    EXPECT_EQ(r.status, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find(std::string(bad).substr(0, std::string(bad).find(' '))), std::string::npos)
        << r.out;
  }
  // --measured takes a directory of results files.
  const fs::path dir =
      fs::temp_directory_path() / ("cobench_measured_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(std::string(COBENCH_TEST_DATA_DIR) + "/measured_h800.json", dir / "a.json");
  const CommandResult m = run(base + "--measured " + dir.string() + " --format json",
                              /*stdout_only=*/true);
  ASSERT_EQ(m.status, 0) << m.out;
  EXPECT_EQ(nlohmann::json::parse(m.out)["inputs"].size(), 3u);
  fs::remove_all(dir);
}

TEST(Cli, AnalyzeKvReloadPricesAPrefixAgainstItsRecompute) {
  const CommandResult r = run("analyze --kv-reload --model deepseek-v3 --prefix-tokens 1024");
  ASSERT_EQ(r.status, 0) << r.out;
  // 1024 tokens x 70,272 B (the paper's MLA KV per token) = 71.96 MB; over the H800 file's
  // 64 GB/s PCIe plus 10 us: 71,958,528 / 64e9 s + 10 us = 1.134 ms.
  EXPECT_NE(r.out.find("70.272 kB a token"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("71.96 MB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1.134 ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("break-even, storage"), std::string::npos) << r.out;
  EXPECT_EQ(run("analyze --kv-reload --kv-format fp4").status, 2);
  const CommandResult bad = run("analyze --kv-reload --prefix-tokens 1024,abc");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("--prefix-tokens: expected a finite number from 1 to 1000000000, "
                         "got 'abc'"),
            std::string::npos)
      << bad.out;
  const CommandResult mfu = run("analyze --kv-reload --prefill-mfu 2");
  EXPECT_EQ(mfu.status, 2);
  EXPECT_NE(mfu.out.find("--prefill-mfu"), std::string::npos) << mfu.out;
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("frobnicate").status, 2);
  EXPECT_EQ(run("sysinfo --jsn").status, 2);
}

TEST(Cli, RunWritesOneVerifiedResultsFileAndAnalyzes) {
  const fs::path dir = fresh_dir("run_model");
  const CommandResult r = run("run --suite model --out " + dir.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("[1/1] model"), std::string::npos) << r.out;  // the progress line
  EXPECT_NE(r.out.find("# Bottleneck analysis: deepseek-v"), std::string::npos) << r.out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u) << "the work directory is removed after a clean run";
  const auto res = cobench::results::read(files[0]);
  ASSERT_GE(res.records.size(), 2u);
  for (const auto& rec : res.records) EXPECT_EQ(rec.suite, "model");
  EXPECT_EQ(res.run.extra["suites"]["model"]["status"], "ran");
  EXPECT_TRUE(res.run.gpu_clocks.contains("start"));
  EXPECT_TRUE(res.run.gpu_clocks.contains("end"));
}

TEST(Cli, RunSkipsWhatThisMachineCannotRunAndSaysWhy) {
  const fs::path dir = fresh_dir("run_skip");
  const CommandResult r = run("run --suite gemm_gpu --no-analysis --build-dir " +
                              (dir / "nothing-built").string() + " --out " + dir.string());
  EXPECT_NE(r.out.find("skip gemm_gpu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("is not built"), std::string::npos) << r.out;
  // Every selected suite skipped: nothing was measured, an error (issue 16), and no empty file.
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("no suite of --suite gemm_gpu can run here (each is skipped above); "
                       "nothing was measured and no results file written"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(fs::is_empty(dir)) << "no results file for a run that measured nothing";
}

TEST(Cli, RunRejectsAnUnknownSuite) {
  const CommandResult r = run("run --suite gemmm");
  EXPECT_EQ(r.status, 2) << r.out;  // a usage error, named by its option
  EXPECT_NE(r.out.find("--suite: unknown suite 'gemmm': expected one of quick, full, model"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("run_suites.cpp"), std::string::npos) << r.out;
}

}  // namespace
