// SPDX-License-Identifier: Apache-2.0
#include "topologies/kv_reload.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "topologies/data_files.h"
#include "topologies/kv_reload_report.h"
#include "topologies/model_params.h"

#include "tests/test_util.h"

namespace {

using cobench::test::error_of;
using cobench::test::replace;

using namespace cobench;
using namespace cobench::topo;

// One node of 8 GPUs with round numbers: 2000 / 1000 TFLOP/s, 50 GB/s PCIe, 40 GB/s storage.
constexpr const char* kCluster = R"(cluster:
  name: test
  nodes: 1
  node:
    name: n
    gpus_per_node: 8
    gpu:
      name: G
      hbm_capacity: 80 GiB
      hbm_bandwidth: 3.35 TB/s
      peak_flops: {fp8: 2000 TFLOPS, bf16: 1000 TFLOPS}
      pcie_bandwidth: 50 GB/s
    nics_per_node: 8
    storage_read_bandwidth: 40 GB/s
)";

ClusterSpec cluster(const std::string& text) {
  return load_cluster(config::parse_yaml(text, "c.yaml"));
}

// N where f changes sign on [lo, hi] (f(lo) != 0), by bisection: the second implementation of
// break_even.
double bisect(const std::function<double(double)>& f, double lo, double hi) {
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (f(lo) < 0) == (f(mid) < 0) ? lo = mid : hi = mid;
  }
  return 0.5 * (lo + hi);
}

TEST(KvReload, BytesPerTokenByFormat) {
  const ModelArch v3 = load_model("deepseek-v3");
  const ModelArch qwen = load_model("qwen2.5-72b");
  // Paper Table 1: 61 layers x (512 + 64) x 2 B = 70,272 B.
  EXPECT_EQ(kv_cache_bytes_per_token(v3, KvCacheFormat::kBf16).value, 70272.0);
  // FlashMLA FP8: 512 e4m3 + 4 FP32 scales + 64 BF16 RoPE = 656 B a layer, x 61 = 40,016 B.
  EXPECT_EQ(kv_cache_bytes_per_token(v3, KvCacheFormat::kFp8).value, 40016.0);
  // GQA: 80 layers x 2 x 8 KV heads x 128 x 2 B = 327,680 B; FP8 half of it.
  EXPECT_EQ(kv_cache_bytes_per_token(qwen, KvCacheFormat::kBf16).value, 327680.0);
  EXPECT_EQ(kv_cache_bytes_per_token(qwen, KvCacheFormat::kFp8).value, 163840.0);
}

TEST(KvReload, PrefillFlopsOfDeepSeekV3ByHand) {
  const ModelArch v3 = load_model("deepseek-v3");
  // Activated non-embedding parameters, by hand:
  //   attention a layer: q 7168x1536 + 1536 + 1536x128x192 = 48,760,320; kv 7168x576 + 512 +
  //     512x128x256 = 20,906,496; o 128x128x7168 = 117,440,512; 187,107,328 x 61 layers
  //     = 11,413,547,008
  //   norms 61 x 2 x 7168 + 7168 = 881,664; dense FFN 3 x 3 x 7168 x 18432 = 1,189,085,184
  //   58 MoE layers: shared 58 x 3 x 7168 x 2048 = 2,554,331,136; 8 routed 20,434,649,088;
  //     router 58 x (7168 x 256 + 256) = 106,445,312
  //   total 35,698,939,392
  // Causal attention: 2 x 128 heads x (192 + 128) x N/2 x 61 layers = 2,498,560 N a token.
  const double n = 4096;
  EXPECT_DOUBLE_EQ(prefill_flops(v3, n), n * 2 * 35698939392.0 + n * n * 2498560.0);
}

TEST(KvReload, DeepSeekV3At4KTokensByHand) {
  // V3, BF16 cache, N = 4096 on kCluster at 50% MFU:
  //   KV bytes        4096 x 70,272 = 287,834,112 B
  //   host reload     287,834,112 / 50e9 + 10 us = 5.75668224 ms + 0.01 ms = 5.76668224 ms
  //   storage reload  40 GB/s / 8 GPUs = 5 GB/s (below PCIe): 57.5668224 ms + 0.1 ms
  //   recompute       4096 x 2 x 35,698,939,392 / (2000e12 x 0.5) = 0.292445711499264 s
  //                 + 4096^2 x 2,498,560 / (1000e12 x 0.5)        = 0.08383776161792 s
  //                                                                = 0.376283473117184 s
  KvReloadSetting s;
  s.prefill_mfu = 0.5;
  const KvReloadReport r =
      kv_reload_report({load_model("deepseek-v3")}, cluster(kCluster), s, {4096});
  ASSERT_EQ(r.models.size(), 1u);
  const KvReloadModelResult& m = r.models[0];
  ASSERT_EQ(m.tiers.size(), 2u);
  EXPECT_EQ(m.tiers[0].tier.name, "host");
  EXPECT_EQ(m.tiers[0].source, "datasheet");
  EXPECT_DOUBLE_EQ(m.tiers[1].tier.bandwidth.value, 5e9);
  const KvReloadPoint& p = m.points.at(0);
  EXPECT_DOUBLE_EQ(p.kv_bytes, 287834112.0);
  EXPECT_NEAR(p.reload_s[0], 5.76668224e-3, 1e-15);
  EXPECT_NEAR(p.reload_s[1], 57.6668224e-3, 1e-14);
  EXPECT_NEAR(p.recompute_s, 0.376283473117184, 1e-13);
  // Reload keeps up down to 287,834,112 B / 0.376283473117184 s = 764.94 MB/s a GPU.
  EXPECT_NEAR(p.tie_bytes_per_s, 764.940e6, 0.001e6);
  EXPECT_NEAR(m.recompute.s_per_token, 71.397878784e-6, 1e-18);
  EXPECT_NEAR(m.recompute.s_per_token_squared, 4.99712e-9, 1e-21);
  // Reload wins from the first token: the break-even lies below one token (latency only).
  EXPECT_EQ(m.tiers[0].break_even.kind, BreakEvenKind::kReloadAbove);
  EXPECT_LT(m.tiers[0].break_even.tokens, 1.0);
  EXPECT_LT(m.tiers[1].break_even.tokens, 2.0);
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["models"][0]["prefixes"][0]["faster"]["storage"], "reload");
  EXPECT_NE(format_text(r).find("4K"), std::string::npos);
}

TEST(KvReload, ClosedFormBreakEvenMatchesBisection) {
  const ModelArch v3 = load_model("deepseek-v3");
  const ClusterSpec c = cluster(kCluster);
  const RecomputeCurve rc = recompute_curve(v3, *c.node.gpu, 0.5);
  const Bytes per_token = kv_cache_bytes_per_token(v3, KvCacheFormat::kBf16);
  for (const auto& [bw, latency] :
       {std::pair{50e9, 10e-6}, std::pair{5e9, 100e-6}, std::pair{0.5e9, 1e-3},
        std::pair{0.1e9, 0.0}, std::pair{0.05e9, 5e-3}}) {
    const ReloadLine line = reload_line(per_token, Bandwidth(bw), Seconds(latency));
    const BreakEven e = break_even(rc, line, 1e9);
    const double direct =
        bisect([&](double n) { return rc.seconds(n) - line.seconds(n); }, 1e-9, 1e9);
    ASSERT_EQ(e.kind, BreakEvenKind::kReloadAbove) << bw;
    EXPECT_NEAR(e.tokens, direct, 1e-9 * direct) << bw;
    // Below N* recompute is faster, above it reload.
    EXPECT_LT(rc.seconds(0.99 * e.tokens), line.seconds(0.99 * e.tokens));
    EXPECT_GT(rc.seconds(1.01 * e.tokens), line.seconds(1.01 * e.tokens));
  }
}

TEST(KvReload, BreakEvenCases) {
  // Reload cheaper per token and no latency: always reload.
  EXPECT_EQ(break_even({2e-6, 1e-9}, {0, 1e-6}, 1e6).kind, BreakEvenKind::kAlwaysReload);
  EXPECT_EQ(break_even({2e-6, 1e-9}, {0, 1e-6}, 1e6).tokens, 0.0);
  // Reload dearer per token, no latency: the attention term wins at N* = (r - a) / c
  // = (5e-6 - 1e-6) / 1e-9 = 4000 tokens.
  const BreakEven quadratic = break_even({1e-6, 1e-9}, {0, 5e-6}, 1e6);
  EXPECT_EQ(quadratic.kind, BreakEvenKind::kReloadAbove);
  EXPECT_NEAR(quadratic.tokens, 4000.0, 1e-9);
  // With 1 ms latency: 1e-9 N^2 - 4e-6 N - 1e-3 = 0, N = (4e-6 + sqrt(16e-12 + 4e-12)) / 2e-9
  // = 2000 + 1000 sqrt(5) = 4236.0680 tokens.
  EXPECT_NEAR(break_even({1e-6, 1e-9}, {1e-3, 5e-6}, 1e6).tokens, 2000 + 1000 * std::sqrt(5.0),
              1e-6);
  // The same beyond a 1000-token range: recompute within it.
  const BreakEven beyond = break_even({1e-6, 1e-9}, {0, 5e-6}, 1000);
  EXPECT_EQ(beyond.kind, BreakEvenKind::kReloadBeyondRange);
  EXPECT_NEAR(beyond.tokens, 4000.0, 1e-9);
  // No attention term (c = 0): linear; a > r gives N* = L / (a - r) = 1e-3 / 1e-6 = 1000.
  EXPECT_NEAR(break_even({2e-6, 0}, {1e-3, 1e-6}, 1e6).tokens, 1000.0, 1e-9);
  const BreakEven never = break_even({1e-6, 0}, {1e-3, 2e-6}, 1e6);
  EXPECT_EQ(never.kind, BreakEvenKind::kNeverReload);
  EXPECT_TRUE(std::isinf(never.tokens));
}

TEST(KvReload, BadInputsAreClearErrors) {
  EXPECT_EQ(error_of([] { reload_line(Bytes(70272), Bandwidth(0), Seconds(0)); }),
            "KV reload: bandwidth must be greater than zero, got 0 B/s");
  EXPECT_EQ(error_of([] { reload_line(Bytes(70272), Bandwidth(1e9), Seconds(-1)); }),
            "KV reload: latency must not be negative, got -1 s");
  const ClusterSpec c = cluster(kCluster);
  EXPECT_EQ(error_of([&] { recompute_curve(load_model("deepseek-v3"), *c.node.gpu, 0); }),
            "KV recompute: MFU must be in (0, 1], got 0");
  // Said at the line of the cluster file that gives the node no GPUs.
  const std::string no_gpus = error_of([] {
    kv_reload_report({load_model("deepseek-v3")}, load_cluster_file("cpu-local"), {}, {1024});
  });
  EXPECT_TRUE(no_gpus.ends_with(
      "cpu-local.yaml:17:20: key 'cluster.node.gpus_per_node': cluster 'Local AI PC (Ryzen AI "
      "Max+ 395, 128 GB)' has no GPUs (0 a node): KV reload against recompute needs them"))
      << no_gpus;
}

TEST(KvReload, MissingValuesAreNamed) {
  std::string text = replace(kCluster, "      pcie_bandwidth: 50 GB/s\n", "");
  text = replace(text, "    storage_read_bandwidth: 40 GB/s\n", "");
  const KvReloadReport r = kv_reload_report({load_model("deepseek-v3")}, cluster(text), {}, {1024});
  EXPECT_EQ(r.models[0].tiers[0].tier.missing, "node.gpu.pcie_bandwidth");
  EXPECT_EQ(r.models[0].tiers[1].tier.missing, "node.storage_read_bandwidth");
  EXPECT_TRUE(std::isnan(r.models[0].points[0].reload_s[0]));
  EXPECT_NE(format_text(r).find("node.gpu.pcie_bandwidth is not given"), std::string::npos);
  EXPECT_EQ(to_json(r)["models"][0]["tiers"]["storage"]["missing"], "node.storage_read_bandwidth");
  // Without a PCIe value the storage share is not capped: 40 GB/s / 8.
  const ClusterSpec no_pcie = cluster(replace(kCluster, "      pcie_bandwidth: 50 GB/s\n", ""));
  EXPECT_DOUBLE_EQ(reload_tiers(no_pcie, {})[1].bandwidth.value, 5e9);
  // A slow PCIe link caps the storage share: min(5 GB/s, 2 GB/s).
  const ClusterSpec slow = cluster(replace(kCluster, "50 GB/s", "2 GB/s"));
  EXPECT_DOUBLE_EQ(reload_tiers(slow, {})[1].bandwidth.value, 2e9);
}

TEST(KvReload, YamlErrorsNameFileLineColumnAndKey) {
  EXPECT_EQ(error_of([] { cluster(replace(kCluster, "50 GB/s", "0 GB/s")); }),
            "c.yaml:12:23: key 'cluster.node.gpu.pcie_bandwidth': must be greater than zero");
  EXPECT_EQ(error_of([] { cluster(replace(kCluster, "40 GB/s", "40 GB")); }),
            "c.yaml:14:29: key 'cluster.node.storage_read_bandwidth': bad bandwidth '40 GB': "
            "unknown unit 'GB'; accepted units: a data-size unit per second (B/s, GB/s, GiB/s, "
            "TB/s, b/s, Gb/s, ...) or bits as bps, kbps, Mbps, Gbps, Tbps");
  EXPECT_EQ(error_of([] {
              cluster(replace(kCluster, "storage_read_bandwidth", "storage_read_bandwith"));
            }),
            "c.yaml:14:5: key 'cluster.node.storage_read_bandwith': unknown key (did you mean "
            "'storage_read_bandwidth'?); accepted keys here: name, cpu, gpus_per_node, gpu, "
            "nics_per_node, nic_speed, storage_read_bandwidth");
}

TEST(KvReload, MeasuredInputsReplaceTheDatasheet) {
  results::Results res;
  auto add = [&res](const std::string& input, std::vector<double> values) {
    results::Record rec;
    rec.benchmark = "BM_" + input;
    rec.parameters = {{"model_input", input}};
    rec.verification = results::Verification::kPassed;
    rec.metrics.push_back({"bandwidth", "B/s", std::move(values), std::nullopt});
    res.records.push_back(rec);
  };
  add("pcie.h2d_bandwidth", {24e9, 25e9, 26e9});  // median 25 GB/s
  add("storage.read_bandwidth", {3.2e9});
  const MeasuredInputs in = measured_inputs(res, "m.json");
  KvReloadSetting s;
  s.prefill_mfu = 0.5;
  const KvReloadReport r =
      kv_reload_report({load_model("deepseek-v3")}, cluster(kCluster), s, {4096}, &in);
  ASSERT_EQ(r.inputs.size(), 2u);
  const KvReloadModelResult& m = r.models[0];
  EXPECT_DOUBLE_EQ(m.tiers[0].tier.bandwidth.value, 25e9);
  EXPECT_EQ(m.tiers[0].source, "measured pcie.h2d_bandwidth (m.json: BM_pcie.h2d_bandwidth)");
  // 3.2 GB/s a node over 8 GPUs: 0.4 GB/s each; 287,834,112 B / 0.4e9 + 100 us = 0.71968528 s.
  EXPECT_DOUBLE_EQ(m.tiers[1].tier.bandwidth.value, 0.4e9);
  EXPECT_NEAR(m.points[0].reload_s[1], 0.71968528, 1e-12);
  EXPECT_EQ(to_json(r)["models"][0]["prefixes"][0]["faster"]["storage"], "recompute");
  // 287,834,112 B / 25e9 + 10 us = 11.52336448 ms.
  EXPECT_NEAR(m.points[0].reload_s[0], 11.52336448e-3, 1e-15);
}

}  // namespace
