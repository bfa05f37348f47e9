// SPDX-License-Identifier: Apache-2.0
// The paper's values below are the comparison column only; every cobench value is computed from
// the data files through the model.
#include "topologies/paper_report.h"

#include <fmt/format.h>

#include <cmath>

#include "core/ep_payload.h"
#include "core/error.h"
#include "topologies/analysis.h"
#include "topologies/data_files.h"
#include "topologies/decode_bounds.h"
#include "topologies/economics.h"
#include "topologies/ep_decode.h"
#include "topologies/fabric_ep.h"
#include "topologies/fabric_flows.h"
#include "topologies/model_params.h"
#include "topologies/network_topology.h"
#include "topologies/perf_model.h"
#include "topologies/routing.h"
#include "topologies/scenario.h"
#include "topologies/serving_model.h"
#include "topologies/training_model.h"
#include "topologies/training_report.h"

namespace cobench::topo {
namespace {

constexpr double kBillion = 1e9;

struct Builder {
  Report& report;
  std::string section;
  void row(std::string key, std::string quantity, std::optional<double> paper, double cobench,
           std::string unit, double tolerance, std::string note = "") {
    report.rows.push_back({section, std::move(key), std::move(quantity), paper, cobench,
                           std::move(unit), tolerance, std::move(note), false});
  }
  // A row whose difference from the paper is explained by its note.
  void known(std::string key, std::string quantity, double paper, double cobench, std::string unit,
             double tolerance, std::string note) {
    row(std::move(key), std::move(quantity), paper, cobench, std::move(unit), tolerance,
        std::move(note));
    report.rows.back().known_difference = true;
  }
  void last_known_difference(bool known) { report.rows.back().known_difference = known; }
};

void kv_cache(Report& r) {
  Builder b{r, "Table 1: KV cache per token (BF16, KB = 1000 B)"};
  const double v3 = kv_bytes_per_token(load_model("deepseek-v3")).value;
  const double qwen = kv_bytes_per_token(load_model("qwen2.5-72b")).value;
  const double llama = kv_bytes_per_token(load_model("llama-3.1-405b")).value;
  b.row("kv_bytes_per_token.deepseek_v3", "DeepSeek-V3 (MLA)", 70.272, v3 / 1e3, "KB", 0);
  b.row("kv_bytes_per_token.qwen2_5_72b", "Qwen-2.5 72B (GQA)", 327.680, qwen / 1e3, "KB", 0);
  b.row("kv_bytes_per_token.llama_3_1_405b", "LLaMA-3.1 405B (GQA)", 516.096, llama / 1e3, "KB", 0);
  b.row("kv_ratio.qwen2_5_72b", "Qwen-2.5 72B / DeepSeek-V3", 4.66, qwen / v3, "x", 0.005);
  b.known(
      "kv_ratio.llama_3_1_405b", "LLaMA-3.1 405B / DeepSeek-V3", 7.28, llama / v3, "x", 0.005,
      fmt::format("erratum: the paper prints 7.28x; its own KB values give {:.2f}x", llama / v3));
}

void parameters(Report& r) {
  Builder b{r, "Model size (parameters; MTP modules excluded)"};
  for (auto [name, total, active] :
       {std::tuple{"deepseek-v3", 671.0, 37.0}, std::tuple{"deepseek-v2", 236.0, 21.0}}) {
    const ParamBreakdown p = count_params(load_model(name));
    const std::string id = name == std::string("deepseek-v3") ? "deepseek_v3" : "deepseek_v2";
    b.row("params_total." + id, fmt::format("{} total", name), total * kBillion, p.total(),
          "params", 0.005);
    b.row("params_active." + id, fmt::format("{} activated per token", name), active * kBillion,
          p.active(), "params", 0.03, "counts embedding and LM head; the paper rounds");
  }
}

void train_flops(Report& r, double seq_len) {
  Builder b{r,
            fmt::format("Table 2: training compute per token at sequence length {:.0f}", seq_len)};
  const std::string moe_note =
      "convention exact-causal: 6 x (activated non-embedding + LM head) "
      "+ 3 x causal attention";
  const std::string dense_note = "convention dense-approx: 72 L d^2 + 6 V d (no attention term)";
  for (auto [name, paper] : {std::pair{"deepseek-v2", 155.0}, std::pair{"deepseek-v3", 250.0}}) {
    b.row(fmt::format("train_flops_per_token.{}", name), name, paper,
          train_flops_per_token(load_model(name), seq_len, FlopConvention::kExactCausal) / 1e9,
          "GFLOP", 0.01, moe_note);
  }
  for (auto [name, paper] :
       {std::pair{"qwen2.5-72b", 394.0}, std::pair{"llama-3.1-405b", 2448.0}}) {
    const ModelArch m = load_model(name);
    b.row(fmt::format("train_flops_per_token.{}", name), name, paper,
          train_flops_per_token(m, seq_len, FlopConvention::kDenseApprox) / 1e9, "GFLOP", 0.01,
          dense_note);
    b.known(fmt::format("train_flops_per_token_exact.{}", name),
            fmt::format("{} (exact-causal, not the paper's convention)", name), paper,
            train_flops_per_token(m, seq_len, FlopConvention::kExactCausal) / 1e9, "GFLOP", 0.01,
            "the exact count of the architecture: the paper's dense rows undercount it");
  }
}

void training_run(Report& r, const TrainingScenario& t) {
  Builder b{r, "Table 4 and technical report: training throughput and cost"};
  const ModelArch m = load_model(t.model);
  const ClusterSpec c = load_cluster_file(t.cluster);
  const double gpus = static_cast<double>(c.gpus());
  const double tokens_per_s = t.tokens_per_day / 86400.0;
  b.row("tokens_per_step", "tokens per step = tokens/day x step time / 86400 s",
        t.batch_sequences * t.seq_len, tokens_per_s * t.step_time.value, "tokens", 1e-4,
        "the paper's step is 15360 sequences x 4096 tokens");
  if (!c.node.gpu || !c.node.gpu->peak_bf16)
    throw Error(fmt::format("cluster '{}' needs node.gpu.peak_flops.bf16 for MFU", t.cluster));
  if (!c.gpu_hour_usd) throw Error(fmt::format("cluster '{}' needs gpu_hour_usd", t.cluster));
  const double peak = c.node.gpu->peak_bf16->value;
  for (auto [causal, tflops, mfu] :
       {std::tuple{true, 385.0, 38.94}, std::tuple{false, 432.0, 43.73}}) {
    const auto conv = causal ? FlopConvention::kExactCausal : FlopConvention::kExactNonCausal;
    const double achieved = train_flops_per_token(m, t.seq_len, conv) * tokens_per_s / gpus;
    const std::string kind = causal ? "causal" : "non-causal";
    b.row("tflops_per_gpu." + kind, fmt::format("TFLOP/s per GPU ({})", kind), tflops,
          achieved / 1e12, "TFLOP/s", 0.01);
    b.row("mfu." + kind, fmt::format("MFU against BF16 peak ({})", kind), mfu,
          100 * achieved / peak, "%", 0.01);
  }
  const double gpu_hours_per_t = 1e12 / tokens_per_s * gpus / 3600.0;
  b.row("gpu_hours_per_trillion_tokens", "GPU-hours per trillion tokens", 180.0,
        gpu_hours_per_t / 1e3, "K GPU-h", 0.01);
  const double pretrain = gpu_hours_per_t * t.tokens / 1e12;
  b.row("pretraining_gpu_hours", fmt::format("pre-training GPU-hours ({:.3g} tokens)", t.tokens),
        2664.0, pretrain / 1e3, "K GPU-h", 0.01);
  const double total = pretrain + t.other_gpu_hours;
  b.row("total_gpu_hours", "total GPU-hours (with context extension and post-training)", 2.788,
        total / 1e6, "M GPU-h", 0.01);
  b.row("total_cost_usd", fmt::format("total cost at ${:.2f} per GPU-hour", *c.gpu_hour_usd), 5.576,
        total * *c.gpu_hour_usd / 1e6, "M$", 0.01);
}

// Table 4 predicted by the training step model (training_model.h) from the run's parallelism,
// the H800's published kernel performance and the cluster's links: nothing fitted to Table 4.
void training_step(Report& r, const TrainingScenario& t) {
  Builder b{r, "Table 4 predicted by the training step model"};
  const ModelArch m = load_model(t.model);
  const ClusterSpec c = load_cluster_file(t.cluster);
  const PerfModel perf(c, find_published_perf(c));
  const TrainingSetting s = scenario_setting(t);
  const TrainingPrediction p = predict_scenario(t, m, c, perf);
  const ChunkTimes& ch = p.chunk;
  const std::string chunk = fmt::format(
      "a chunk ({:.3g} layers, {:.3g} MoE, {:.3g} of the LM heads; {:.0f} tokens): F {:.1f} ms "
      "(compute {:.1f}, all-to-all {:.1f}), B {:.1f}, W {:.1f}, F&B {:.1f} ms",
      ch.layers, ch.moe_layers, ch.heads_share, s.micro_batch * s.seq_len, ch.f_s * 1e3,
      ch.f_compute_s * 1e3, ch.f_comm_s * 1e3, ch.b_s * 1e3, ch.w_s * 1e3, ch.fb_s * 1e3);
  const std::string why = fmt::format(
      "optimistic: DeepSeek's trace of an F&B pair (profile-data train.json, 4 MoE layers a "
      "chunk) spans about 129 ms with its compute streams busy 124 ms, against the model's {:.0f} "
      "ms pair (the pacing rank's: {:.3g} layers a chunk, {:.3g} of them MoE) of {:.0f} ms "
      "compute on {:.0f}% of the SMs and {:.0f} ms all-to-all; docs/model.md, 'Training step "
      "prediction'",
      ch.fb_s * 1e3, ch.layers, ch.moe_layers,
      (ch.f_compute_s + ch.b_compute_s + ch.w_compute_s) / ch.compute_share * 1e3,
      100 * ch.compute_share, (ch.f_comm_s + ch.b_comm_s) * 1e3);
  b.known("train.step_s", "time per step, predicted", t.step_time.value, p.step_s, "s", 0.10,
          fmt::format("{} binds; {:.0f} micro-batches a pipeline; {}", p.binding, p.micro_batches,
                      why));
  const ChunkTimes& first = p.first_stage;
  const std::string first_chunk = fmt::format(
      "the first stage shares its rank with the last (DualPipe), the LM heads and the first "
      "layers: a chunk of {:.3g} layers, {:.3g} MoE, {:.3g} of the heads, F {:.1f} ms (compute "
      "{:.1f}, all-to-all {:.1f}), B {:.1f}, W {:.1f}; F and B alone run their all-to-all in "
      "sequence, and its fewer MoE layers send less; the pacing rank's {}",
      first.layers, first.moe_layers, first.heads_share, first.f_s * 1e3, first.f_compute_s * 1e3,
      first.f_comm_s * 1e3, first.b_s * 1e3, first.w_s * 1e3, chunk);
  b.known("train.phase_f_s", "1F: the first stage in forward chunks alone", t.phase_f.value,
          p.phase_f_s, "s", 0.25, first_chunk);
  b.known("train.bubble_s", "bubble: the first stage's idle time", t.bubble.value, p.bubble_s, "s",
          0.25,
          fmt::format("DualPipe's own bubble and the first stage's wait behind any heavier rank "
                      "of the whole-layer split (DeepSeek's split is not published); {}",
                      p.first_stage.fb_s >= p.chunk.fb_s
                          ? "here the first stage's rank is the one that paces the pipeline"
                          : "here a heavier rank paces the pipeline"));
  b.known("train.phase_b_s", "1B: in input-backward chunks alone", t.phase_b.value, p.phase_b_s,
          "s", 0.25, "B alone: compute and its all-to-all in sequence, as F; " + first_chunk);
  b.known("train.phase_w_s", "1W: in weight-backward chunks alone", t.phase_w.value, p.phase_w_s,
          "s", 0.25,
          "W at DeepGEMM's published weight-gradient rates (pull request #95, 0.88-1.09 "
          "PFLOPS), X and dY re-tiled into 128x1 tiles for them (technical report 3.5.2), "
          "each an unfused memory-bound kernel");
  b.known("train.phase_fb_s", "1F1B: in overlapped forward-backward pairs", t.phase_fb.value,
          p.phase_fb_s, "s", 0.25, why);
  b.known(
      "train.optimizer_s", "opt: data-parallel traffic and the optimizer", t.optimizer.value,
      p.optimizer_s, "s", 0.25,
      fmt::format("ZeRO-1 rings at the achievable link rate, each GPU reducing both of its "
                  "DualPipe stages' gradients: {:.0f} ms after the pipeline's end, of {:.0f} ms "
                  "(a position's reduce-scatter starts at its last backward; every update waits "
                  "for every rank's); the AdamW update {:.1f} ms; the rank that takes longest at "
                  "its update and all-gather, stage {}'s: {:.3g} B weights{} (the fullest, stage "
                  "{}'s, {:.3g} B)",
                  p.dp_comm_s * 1e3, p.dp_ring_s * 1e3, p.update_s * 1e3, p.optimizer_stage,
                  p.optimizer_params / 1e9,
                  p.optimizer_stage == 0 || p.optimizer_stage == s.pp - 1
                      ? " with the embedding or the head"
                      : "",
                  p.memory_stage, p.params_per_gpu / 1e9));
  b.known("train.tokens_per_day", "training tokens per day, predicted", t.tokens_per_day,
          p.tokens_per_day, "tokens", 0.10, "from the step time above");
  b.known("train.mfu_causal", "MFU against BF16 peak (causal), predicted", 38.94,
          100 * p.mfu_causal, "%", 0.10, "from the step time above");
}

void ep_decode(Report& r, const DecodeScenario& d) {
  Builder b{r, "Section 2.3.2: decode speed bound of the EP all-to-all"};
  const ModelArch m = load_model(d.model);
  const ClusterSpec out = load_cluster_file(d.scale_out_cluster);
  const ClusterSpec up = load_cluster_file(d.scale_up_cluster);
  auto inputs = [&](Bandwidth bw, std::optional<double> hidden) {
    EpDecodeInputs in = ep_decode_inputs(m, bw);
    in.tokens_per_device = d.tokens_per_device;
    in.dispatch_bytes_per_element = d.dispatch_bytes_per_element;
    in.combine_bytes_per_element = d.combine_bytes_per_element;
    in.micro_batches = d.micro_batches;
    if (hidden) in.hidden = *hidden;
    return in;
  };
  if (!out.node.nic_speed)
    throw Error(fmt::format("{}: cluster '{}' has no node.nic_speed, which the scale-out rows need",
                            d.scale_out_cluster_at, d.scale_out_cluster));
  const Bandwidth ib = *out.node.nic_speed;
  const Bandwidth nvl = up.scale_up.bandwidth_nominal;
  if (!(nvl.value > 0))
    throw Error(fmt::format(
        "{}: cluster '{}' has no scale-up link (scale_up.bandwidth_nominal), which the scale-up "
        "rows need",
        d.scale_up_cluster_at, d.scale_up_cluster));
  const EpDecodeBound at_ib = ep_decode_bound(inputs(ib, d.hidden_override));
  const EpDecodeBound at_nvl = ep_decode_bound(inputs(nvl, d.hidden_override));
  const std::string h = d.hidden_override ? fmt::format("hidden {:.0f}", *d.hidden_override) : "";
  b.row("ep.comm_per_step_s.ib",
        fmt::format("all-to-all time per step, {} GB/s, {}", ib.value / 1e9, h), 120.96,
        at_ib.comm_per_step.value * 1e6, "us", 1e-6);
  b.row("ep.per_layer_s.ib", "time per layer (2 micro-batches)", 241.92,
        at_ib.per_layer.value * 1e6, "us", 1e-6);
  b.row("ep.tpot_s.ib", fmt::format("TPOT ({} layers)", m.num_layers), 14.76,
        at_ib.tpot.value * 1e3, "ms", 0.001);
  b.row("ep.tokens_per_s.ib", "tokens per second", 67, at_ib.tokens_per_s, "tok/s", 0.02,
        "the paper rounds 67.8 down");
  b.row("ep.comm_per_step_s.nvl",
        fmt::format("all-to-all time per step, {} GB/s, {}", nvl.value / 1e9, up.name), 6.72,
        at_nvl.comm_per_step.value * 1e6, "us", 1e-6);
  b.row("ep.tpot_s.nvl", "TPOT, NVL72", 0.82, at_nvl.tpot.value * 1e3, "ms", 0.005);
  b.row("ep.tokens_per_s.nvl", "tokens per second, NVL72", 1200, at_nvl.tokens_per_s, "tok/s", 0.02,
        "the paper says about 1200");
  // Beside the all-to-all bound: the other bounds for the same batch on the H800 cluster.
  DecodeSetting setting;
  setting.tokens_per_device = d.tokens_per_device * d.micro_batches;  // all micro-batches
  setting.micro_batches = d.micro_batches;
  const DecodeBounds all = decode_bounds(m, count_params(m), out, setting);
  b.row("ep.memory_bound_s", "beside it: HBM bound per layer step (same batch, 4096 context)",
        std::nullopt, all.memory_s * 1e6, "us", 0, "weights and KV a device reads, at 3.35 TB/s");
  b.row("ep.compute_bound_s", "beside it: compute bound per layer step", std::nullopt,
        all.compute_s * 1e6, "us", 0, "at the FP8/BF16 datasheet peaks");
  b.row("ep.latency_per_tpot_s", "latency term the paper leaves out: 2 all-to-alls a step",
        std::nullopt,
        2 * d.micro_batches * static_cast<double>(m.num_layers) *
            out.scale_out.latency_cross_leaf.value * 1e3,
        "ms", 0,
        fmt::format(
            "cross-leaf {} each; with it and hidden 7168 the {} bound binds: TPOT {:.2f} ms",
            format_seconds(out.scale_out.latency_cross_leaf, 3), all.binding, all.tpot_s * 1e3));
  if (d.hidden_override) {
    const EpDecodeBound exact = ep_decode_bound(inputs(ib, std::nullopt));
    b.row("ep.tpot_s.ib_exact_hidden",
          fmt::format("TPOT with the model's hidden {}, {} GB/s", m.hidden_size, ib.value / 1e9),
          std::nullopt, exact.tpot.value * 1e3, "ms", 0, "the paper's 7K is 7000");
    EpDecodeInputs scaled = inputs(ib, std::nullopt);
    scaled.dispatch_scales = true;
    b.row("ep.tpot_s.ib_with_scales", "the same with FP8 dispatch scales (4 B per 128)",
          std::nullopt, ep_decode_bound(scaled).tpot.value * 1e3, "ms", 0);
  }
}

void ep_routing(Report& r, const DecodeScenario& d) {
  Builder b{r, "Section 4.3 and report 3.2.2: node-limited routing"};
  const ModelArch m = load_model(d.model);
  const ClusterSpec c = load_cluster_file(d.scale_out_cluster);
  if (!m.moe || !c.node.nic_speed)
    throw Error("node-limited routing needs an MoE model and a cluster with node.nic_speed");
  const double ratio = c.scale_up.bandwidth_achievable / *c.node.nic_speed;
  b.row("routing.nvlink_ib_ratio", "achievable NVLink / IB bandwidth per GPU", 3.2, ratio, "x",
        1e-9);
  b.row("routing.max_experts_per_token",
        fmt::format("experts a token can reach at no extra IB cost ({} nodes x ratio)",
                    m.moe->groups_per_token),
        13, static_cast<double>(m.moe->groups_per_token) * ratio, "experts", 0.02,
        "the report rounds 12.8 to 13");
  // One expert group per node; its experts spread evenly over the node's GPUs.
  const std::int64_t per_group = m.moe->routed_experts / m.moe->groups;
  const std::int64_t gpus_per_node = c.node.gpus_per_node;
  const std::int64_t per_gpu =
      gpus_per_node > 0 && per_group % gpus_per_node == 0 ? per_group / gpus_per_node : 1;
  RoutingShape limited{m.moe->routed_experts, m.moe->groups, m.moe->groups_per_token, m.moe->top_k,
                       per_gpu};
  constexpr std::int64_t kTokens = 4096;
  constexpr std::uint64_t kSeed = 2505;
  const RoutingEstimate est = simulate_routing(limited, kTokens, kSeed);
  b.row("routing.expected_nodes.limited",
        fmt::format("expected nodes a token reaches, at most {} of {}", limited.groups_per_token,
                    limited.groups),
        std::nullopt, est.nodes.mean, "nodes", 0,
        fmt::format("Monte Carlo, {} tokens, seed {}: +/- {:.3f} (1 s.e.)", kTokens, kSeed,
                    est.nodes.std_error));
  b.row("routing.expected_nodes.unlimited", "expected nodes a token reaches, no node limit",
        std::nullopt, expected_nodes_unlimited(limited), "nodes", 0, "exact (hypergeometric)");
  // Traffic a token makes per layer: FP8 dispatch with one FP32 scale per 128 elements, BF16
  // combine; one copy per remote node over the network (its own node is one of the G, uniformly).
  const double hidden = static_cast<double>(m.hidden_size);
  const double dispatch = ep_dispatch_payload_bytes(hidden);
  const double combine = ep_combine_payload_bytes(hidden);
  const double remote = est.nodes.mean * static_cast<double>(limited.groups - 1) /
                        static_cast<double>(limited.groups);
  b.row("traffic.dispatch_bytes", "dispatch bytes per token and destination (FP8 + scales)",
        std::nullopt, dispatch, "B", 0, "FP8 halves the BF16 dispatch (paper 3.2)");
  b.row("traffic.combine_bytes", "combine bytes per token and destination (BF16)", std::nullopt,
        combine, "B", 0);
  b.row("traffic.network_bytes_per_token_layer",
        "network bytes per token and layer, dispatch + combine, node-limited", std::nullopt,
        remote * (dispatch + combine), "B", 0,
        fmt::format("{:.2f} remote nodes x (dispatch + combine)", remote));
  b.row("traffic.network_bytes_per_token_layer.per_expert",
        "the same if every routed expert got its own copy (no node-level dedup)", std::nullopt,
        static_cast<double>(m.moe->top_k) * static_cast<double>(limited.groups - 1) /
            static_cast<double>(limited.groups) * (dispatch + combine),
        "B", 0);
  b.row("routing.expected_gpus.limited",
        fmt::format("expected GPUs a token reaches ({} experts a GPU)", per_gpu), std::nullopt,
        est.gpus.mean, "GPUs", 0,
        fmt::format("Monte Carlo: +/- {:.3f} (1 s.e.)", est.gpus.std_error));
}

void production(Report& r, const ProductionScenario& prod, const std::string& model) {
  Builder b{r, "Production serving (open-infra-index day 6) and serving economics"};
  const ClusterSpec c = load_cluster_file(prod.cluster);
  if (!c.gpu_hour_usd) throw Error(fmt::format("cluster '{}' needs gpu_hour_usd", prod.cluster));
  const double gpus_per_node = static_cast<double>(c.node.gpus_per_node);
  b.row("production.cost_usd_per_day",
        fmt::format("cost per day: {} nodes x {} GPUs x ${}/h x 24 h", prod.nodes_average,
                    gpus_per_node, *c.gpu_hour_usd),
        87072, prod.nodes_average * gpus_per_node * *c.gpu_hour_usd * 24, "$", 1e-9);
  const double prefill_nodes = prod.input_tokens_per_day / 86400 / prod.input_tokens_per_s_per_node;
  const double decode_nodes =
      prod.output_tokens_per_day / 86400 / prod.output_tokens_per_s_per_node;
  b.row("production.nodes_implied",
        "nodes the token counts and per-node rates imply (prefill + decode)", prod.nodes_average,
        prefill_nodes + decode_nodes, "nodes", 0.01,
        fmt::format("{:.1f} prefill + {:.1f} decode", prefill_nodes, decode_nodes));
  const ModelArch m = load_model(model);
  const double bound =
      prefill_tokens_per_s_per_gpu(m, count_params(m), *c.node.gpu, prod.prompt_tokens) *
      gpus_per_node;
  b.row("production.prefill_bound_per_node",
        fmt::format("prefill bound per node, prompt {:.0f}", prod.prompt_tokens), std::nullopt,
        bound, "tok/s", 0,
        fmt::format("production's {:.1f}k tok/s is {:.0f}% of it",
                    prod.input_tokens_per_s_per_node / 1e3,
                    100 * prod.input_tokens_per_s_per_node / bound));
  b.row("production.prefill_usd_per_million_input", "prefill bound: $ per million input tokens",
        std::nullopt, usd_per_million_tokens(*c.gpu_hour_usd, bound / gpus_per_node), "$", 0);
  b.row("production.decode_usd_per_million_output",
        "production decode: $ per million output tokens at 14.8k tok/s per node", std::nullopt,
        usd_per_million_tokens(*c.gpu_hour_usd, prod.output_tokens_per_s_per_node / gpus_per_node),
        "$", 0);
}

// Day 6 predicted from the deployment it describes, with no input fitted to its throughput:
// the published setup (scenarios/deepseek-v3-paper.yaml: EP144 and EP32, 32 redundant experts,
// dual micro-batch overlap, FP8 GEMMs and dispatch, BF16 MLA and combine, average KV 4,989, 20-22
// tok/s a user, 56.3% cache hits), the paper's MTP acceptance, DeepSeek's profile-data prefill
// chunk, and the H800's published kernel performance (topologies/perf/nvidia-h800-sxm.yaml). Day
// 6's figures are 24 h averages over a varying load, so their rows explain their miss; the
// profile rows (full-load steps) are held to 35%: beyond it they count as unexplained.
void production_prediction(Report& r, const ProductionScenario& prod, const std::string& model) {
  Builder b{r, "Open-infra-index day 6 and DeepSeek's profiles predicted by the operation model"};
  const ClusterSpec c = load_cluster_file(prod.cluster);
  const ModelArch m = load_model(model);
  const PerfModel perf(c, find_published_perf(c));
  const double gpus_per_node = static_cast<double>(c.node.gpus_per_node);
  DecodeSetting s;
  s.ep_degree = prod.decode_ep;
  s.redundant_experts = prod.decode_redundant_experts;
  s.context_tokens = prod.prompt_tokens;  // the average KV length a decoded token reads
  s.mtp_depth = 1;
  s.mtp_acceptance = prod.mtp_acceptance;
  s.schedule = parse_schedule(prod.decode_schedule);
  s.random_routing = prod.random_routing;
  // The largest batch that still serves the users' speed.
  ServingPrediction best;
  double best_batch = 0;
  const double unit = decode_token_unit(s);  // whole sequences a micro-batch
  for (double tokens = unit; tokens <= 2048; tokens += unit) {
    s.tokens_per_device = tokens;
    const ServingPrediction p = predict_decode(m, c, s, perf);
    if (!p.feasible || p.tokens_per_s_per_user < prod.decode_tokens_per_s_per_user) break;
    best = p, best_batch = tokens;
  }
  b.row(
      "day6.decode.sequences_per_gpu",
      fmt::format("decode: sequences a GPU at >= {:.0f} tok/s a user (EP{:.0f}, MTP 1 at {:.0f}%)",
                  prod.decode_tokens_per_s_per_user, prod.decode_ep, 100 * prod.mtp_acceptance),
      std::nullopt, best.sequences_per_device, "seqs", 0,
      fmt::format("{:.0f} query tokens a step; {}; {} binds; step {:.3g} ms (compute {:.3g}, "
                  "all-to-all {:.3g})",
                  best_batch, to_string(s.schedule), best.binding, best.step_s * 1e3,
                  best.compute_s * 1e3, best.comm_s * 1e3));
  b.known("day6.decode.tokens_per_s_per_node", "decode: output tokens/s per H800 node, predicted",
          prod.output_tokens_per_s_per_node, best.tokens_per_s_per_device * gpus_per_node, "tok/s",
          0.15,
          fmt::format(
              "not tuned away: a 24 h average over a varying load against a node kept "
              "full at the users' speed; routing {} (the busiest GPU x{:.3f}); EPLB's "
              "own imbalance is not modeled, nor kernel launch gaps (gpu.kernel_gap: none "
              "measured on an H800)",
              s.random_routing ? "at random around perfect EPLB" : "balanced",
              expert_load_factor(best_batch / s.micro_batches * static_cast<double>(m.moe->top_k),
                                 s.ep_degree)));

  DecodeSetting pre;
  pre.prefill_ep = prod.prefill_ep;
  pre.ep_degree = prod.prefill_ep;
  pre.redundant_experts = prod.decode_redundant_experts;
  pre.prefill_tokens_per_device = prod.prefill_tokens_per_device;
  pre.prompt_tokens = prod.prompt_tokens;  // assumed: the average KV length of decode
  pre.cache_hit = prod.cache_hit;
  pre.random_routing = prod.random_routing;
  const ServingPrediction pf = predict_prefill(m, c, pre, perf);
  b.known("day6.prefill.tokens_per_s_per_node",
          fmt::format("prefill: input tokens/s per H800 node ({:.1f}% cache hits), predicted",
                      100 * prod.cache_hit),
          prod.input_tokens_per_s_per_node, pf.tokens_per_s_per_device * gpus_per_node, "tok/s",
          0.15,
          fmt::format("{} binds, step {:.3g} s; not tuned away: a 24 h average against a full "
                      "node; the prompt length is not published (the decode KV average is used)",
                      pf.binding, pf.step_s));

  const ProfileCase& dc = prod.profile_decode;
  DecodeSetting prof;
  prof.ep_degree = dc.ep;
  prof.tokens_per_device = dc.tokens_per_device;
  prof.context_tokens = dc.context_tokens;
  const ServingPrediction pd = predict_decode(m, c, prof, perf);
  // The profile's README describes two micro-batches, not the order of their stages: the
  // five-stage pipeline's prediction is shown beside.
  DecodeSetting prof5 = prof;
  prof5.schedule = Schedule::kFiveStage;
  const double five_stage_node =
      predict_decode(m, c, prof5, perf).tokens_per_s_per_device * gpus_per_node;
  // A profile's per-node rate against the prediction for its setup, within 35%.
  auto profile_row = [&](const char* key, const std::string& setup, const ProfileCase& profile,
                         const ServingPrediction& predicted, std::string note) {
    b.row(key, fmt::format("profile-data {}: tok/s per node", setup), profile.tokens_per_s_per_node,
          predicted.tokens_per_s_per_device * gpus_per_node, "tok/s", 0.35, std::move(note));
  };
  profile_row(
      "profile.decode.tokens_per_s_per_node",
      fmt::format("decode (EP{:.0f}, {:.0f} requests a GPU, KV {:.0f})", dc.ep,
                  dc.tokens_per_device, dc.context_tokens),
      dc, pd,
      fmt::format("two-micro-batch overlap ({:.0f} tok/s with the five-stage pipeline); {} "
                  "binds, step {:.3g} ms (compute {:.3g}, all-to-all {:.3g}); MLA at {}; not "
                  "modeled: kernel launch gaps (gpu.kernel_gap: none measured on an H800), "
                  "DeepEP's fixed cost at small batches (InferSim, with its measured kernel "
                  "tables: +15%)",
                  five_stage_node, pd.binding, pd.step_s * 1e3, pd.compute_s * 1e3, pd.comm_s * 1e3,
                  perf.published().mla_decode_table.empty()
                      ? "FlashMLA's README ceilings"
                      : "InferSim's measured MLA decode table (FlashInfer's kernel)"));
  const ProfileCase& pc = prod.profile_prefill;
  DecodeSetting pp;
  pp.prefill_ep = pc.ep;
  pp.ep_degree = pc.ep;
  pp.prefill_tokens_per_device = pc.tokens_per_device;
  pp.prompt_tokens = pc.context_tokens;
  const ServingPrediction ppf = predict_prefill(m, c, pp, perf);
  profile_row(
      "profile.prefill.tokens_per_s_per_node",
      fmt::format("prefill (EP{:.0f}, {:.0f} tokens a GPU, {:.0f}-token prompts)", pc.ep,
                  pc.tokens_per_device, pc.context_tokens),
      pc, ppf,
      fmt::format("{} binds, step {:.3g} s (compute {:.3g} on {:.0f}% of the SMs, all-to-all "
                  "{:.3g}); not modeled: the kernels above, DeepEP's normal kernels' own speed "
                  "(InferSim: +15%)",
                  ppf.binding, ppf.step_s, ppf.compute_s, 100 * ppf.compute_sm_share, ppf.comm_s));
}

void local_deployment(Report& r, const LocalScenario& l) {
  Builder b{r, "Section 2.2.2: local deployment"};
  DecodeSetting s;
  s.weight_bytes = l.weight_bytes;
  s.context_tokens = 0;  // the bound of the weights alone
  const ClusterSpec c = load_cluster_file(l.cluster);
  if (c.node.gpus_per_node > 0 && c.node.gpu)
    throw Error(
        fmt::format("{}: cluster '{}' has GPUs: the local deployment's cluster serves the "
                    "weights from CPU memory (expected one without GPUs)",
                    l.cluster_at, l.cluster));
  const Analysis a = analyze(load_model(l.model), c, s);
  if (!a.json["inference"]["tokens_per_s"].is_number())
    throw Error(
        fmt::format("{}: {} at {} B a weight gets no prediction on cluster '{}' (its "
                    "weights do not fit, or the node has no memory bandwidth)",
                    l.cluster_at, l.model, l.weight_bytes, l.cluster));
  b.row("local.tokens_per_s",
        fmt::format("{} on {} at {} B a weight", l.model, l.cluster, l.weight_bytes), 20,
        a.json["inference"]["tokens_per_s"].get<double>(), "tok/s", 0.25,
        "activated bytes over memory bandwidth; the paper says \"nearly 20 TPS, or even twice "
        "that\"");
}

// Figs 5 and 6: NCCL all-to-all on the multi-plane fat tree against a multi-rail one, simulated
// flow by flow (fabric_flows.h) on the training cluster and on the same nodes wired as one
// multi-rail tree: "very similar" thanks to PXN (the paper gives no values); and without PXN.
void fabric_figures(Report& r, const ClusterSpec& mpft) {
  Builder b{r, "Figs 5-6: all-to-all on MPFT and MRFT, simulated (1 GiB, fabric_flows.h)"};
  ClusterSpec mrft = mpft;
  mrft.fabric.kind = FabricKind::kMultiRail;
  mrft.fabric.planes = 1;
  const FabricGraph gp(mpft), gr(mrft);
  for (std::int32_t gpus : {32, 64, 128}) {
    const Collective c = all_to_all(rank_groups(gpus, gpus), 1 << 30);
    RoutingOptions pxn;
    RoutingOptions no_pxn;
    no_pxn.pxn = false;
    const double p = simulate_collective(gp, c, pxn).algbw_bytes_per_s / 1e9;
    const double m = simulate_collective(gr, c, pxn).algbw_bytes_per_s / 1e9;
    const double p_no = simulate_collective(gp, c, no_pxn).algbw_bytes_per_s / 1e9;
    b.row(fmt::format("fabric.all_to_all.mpft.{}", gpus),
          fmt::format("{} GPUs: MPFT algbw (ECMP, PXN)", gpus), std::nullopt, p, "GB/s", 0);
    b.row(fmt::format("fabric.all_to_all.mrft.{}", gpus),
          fmt::format("{} GPUs: MRFT algbw (ECMP, PXN)", gpus), std::nullopt, m, "GB/s", 0);
    b.row(fmt::format("fabric.all_to_all.ratio.{}", gpus),
          fmt::format("{} GPUs: MPFT / MRFT", gpus), 1.0, p / m, "x", 0.05,
          "the paper: \"very similar\" (Fig 5 has no values; Fig 6's latency within 1.5%)");
    b.row(fmt::format("fabric.all_to_all.mpft_no_pxn.{}", gpus),
          fmt::format("{} GPUs: MPFT algbw without PXN (ECMP)", gpus), std::nullopt, p_no, "GB/s",
          0,
          "planes are disjoint: a cross-plane flow arrives on the source's plane and crosses the "
          "destination node's NVLink, which (at 160 GB/s a GPU) costs this NIC-bound all-to-all "
          "nothing");
  }
}

// Fig 8: ring all-gather and reduce-scatter at TP 8, 4, 2 on RoCE under ECMP, adaptive and
// static routing. The paper's fabric and the placement of its TP groups are not published. Here:
// the training cluster's 2048 GPUs rewired as one two-level RoCE fat tree (radix 128, RoCE's
// common switch, and Table 5's RoCE latencies, 3.6 us same leaf and 5.6 us across: 32 leaves of
// 64 NICs, 64 spines), every GPU in a TP group whose ranks sit one on each leaf (rank k of a
// group 64 GPUs after rank k - 1: every ring hop crosses the spines), every group at once.
// ECMP's busbw is the mean over 8 hash seeds. All-gather and reduce-scatter send the same ring
// traffic here (the reduction's compute is not modeled): the same numbers.
void fabric_routing_figure(Report& r, const ClusterSpec& training) {
  Builder b{r,
            "Fig 8: ECMP vs adaptive vs static routing, ring all-gather and reduce-scatter on RoCE "
            "(simulated: the training cluster as one radix-128 RoCE FT2, TP ranks one a leaf, 1 "
            "GiB; paper readings approximate)"};
  ClusterSpec roce = training;
  roce.fabric.kind = FabricKind::kFatTree2;
  roce.fabric.planes = 1;
  roce.fabric.switch_radix = 128;  // RoCE switches commonly 128 ports
  roce.scale_out.link = "RoCE";
  roce.scale_out.latency_same_leaf = Seconds(3.6e-6);  // Table 5, RoCE
  roce.scale_out.latency_cross_leaf = Seconds(5.6e-6);
  const FabricGraph g(roce);
  const std::int32_t stride = static_cast<std::int32_t>(roce.fabric.switch_radix / 2);
  constexpr int kSeeds = 8;
  struct Paper {
    std::int32_t tp;
    double ecmp, routed;  // GB/s: ECMP, and adaptive and static (one reading for both)
  };
  // The figure's approximate readings (no numbers in the text).
  const Paper paper[] = {{8, 45, 57}, {4, 83, 103}, {2, 97, 190}};
  for (CollectiveKind kind : {CollectiveKind::kAllGather, CollectiveKind::kReduceScatter}) {
    const std::string coll = kind == CollectiveKind::kAllGather ? "all_gather" : "reduce_scatter";
    for (const Paper& p : paper) {
      const RankGroups groups = rank_groups(g.gpus(), p.tp, stride);
      const Collective c = kind == CollectiveKind::kAllGather
                               ? ring_all_gather(groups, 1 << 30)
                               : ring_reduce_scatter(groups, 1 << 30);
      double ecmp = 0;
      for (int seed = 0; seed < kSeeds; ++seed) {
        RoutingOptions o;
        o.seed = static_cast<std::uint64_t>(seed);
        ecmp += simulate_collective(g, c, o).busbw_bytes_per_s / 1e9 / kSeeds;
      }
      RoutingOptions ar, st;
      ar.policy = RoutingPolicy::kAdaptive;
      st.policy = RoutingPolicy::kStatic;
      const double adaptive = simulate_collective(g, c, ar).busbw_bytes_per_s / 1e9;
      const double fixed = simulate_collective(g, c, st).busbw_bytes_per_s / 1e9;
      const std::string k = fmt::format("fabric.fig8.{}.tp{}.", coll, p.tp);
      const std::string what = fmt::format("{} TP {}: busbw", to_string(kind), p.tp);
      const bool first = kind == CollectiveKind::kAllGather;
      const std::string why =
          first ? "absolute values do not compare: a rank here has one NIC (40 GB/s achievable); "
                  "the paper's setup is not published (its static TP 2 reading exceeds one "
                  "400 Gb/s NIC)"
                : "the same ring traffic as all-gather (the reduction's compute is not modeled)";
      b.known(k + "ecmp", what + " ECMP (mean of 8 seeds)", p.ecmp, ecmp, "GB/s", 0.1, why);
      b.known(k + "adaptive", what + " adaptive", p.routed, adaptive, "GB/s", 0.1,
              "the paper gives one reading for adaptive and static");
      b.known(k + "static", what + " static", p.routed, fixed, "GB/s", 0.1,
              "the paper gives one reading for adaptive and static");
      b.known(k + "ecmp_loss",
              fmt::format("{} TP {}: ECMP busbw lost against static", to_string(kind), p.tp),
              100 * (1 - p.ecmp / p.routed), 100 * (1 - ecmp / fixed), "%", 0.25,
              first ? "the shape holds (ECMP well below, adaptive = static), not the size or the "
                      "trend in TP: each leaf hashes its 64 ring flows onto 64 spines and a ring "
                      "step waits for the most loaded link (4 to 6 flows, balls in bins); NCCL "
                      "splits a ring hop over channels and QPs hashed apart, which evens ECMP "
                      "and is not modeled"
                    : "as all-gather");
    }
  }
}

// Fig 7: DeepEP's dispatch and combine on the MPFT at 16 to 128 GPUs, 4096 tokens a GPU,
// simulated flow by flow (fabric_ep.h): tokens routed under the node-limited rule (256 experts,
// top-8, at most 4 nodes; the figure's setup as DeepEP's README gives it), a copy over the NIC to
// each other node then NVLink inside it. DeepEP's printed bandwidth is logical (it counts the copy
// to the token's own node); the physical NIC rate is beside it. The figure's values are bar
// labels (two sources for 16-64 GPUs, one for 128).
void fabric_ep_figure(Report& r, const ClusterSpec& mpft) {
  Builder b{r,
            "Fig 7: EP dispatch and combine a GPU on MPFT, simulated (4096 tokens a GPU, ECMP; "
            "fabric_ep.h)"};
  const FabricGraph g(mpft);
  struct Paper {
    std::int32_t gpus;
    double dispatch, combine;  // GB/s, logical (DeepEP's)
  };
  const Paper paper[] = {
      {16, 43.05, 42.47}, {32, 58.02, 56.96}, {64, 50.58, 48.54}, {128, 45.34, 41.6}};
  const EpTrafficOptions o;  // 4096 tokens, hidden 7168, top-8 of 256, at most 4 nodes, seed 0
  for (const Paper& p : paper) {
    const EpTraffic dispatch = ep_traffic(g, p.gpus, o, EpDirection::kDispatch);
    const EpTraffic combine = reverse_ep_traffic(dispatch, o.hidden);
    const double remote_share = static_cast<double>(dispatch.remote_token_node_pairs) /
                                static_cast<double>(dispatch.token_node_pairs);
    for (const EpTraffic* t : {&dispatch, &combine}) {
      const bool is_dispatch = t == &dispatch;
      const EpResult res = simulate_ep(g, *t, RoutingOptions{});
      const std::string dir = is_dispatch ? "dispatch" : "combine";
      const std::string k = fmt::format("fabric.fig7.{}.{}.", dir, p.gpus);
      const double paper_logical = is_dispatch ? p.dispatch : p.combine;
      const double logical = res.logical_bw_bytes_per_s / kBillion;
      const double nvlink_bound =
          res.max_physical_bw_bytes_per_s < 0.95 * mpft.scale_out.bandwidth_achievable.value;
      std::string why;
      if (nvlink_bound)
        why = fmt::format(
            "NVLink-bound: {} nodes, so {:.0f}% of a token's copies stay on its own node and every "
            "copy is forwarded over NVLink ({:.2f} a token at 160 GB/s); the NICs idle at {:.1f} "
            "GB/s; the paper's lower value would need NVLink forwarding at {:.0f} GB/s, not 160 "
            "(DeepEP forwards with a few SMs; not modeled)",
            p.gpus / g.gpus_per_node(), 100 * (1 - remote_share),
            static_cast<double>(t->nvlink_copies) / static_cast<double>(t->tokens),
            res.physical_bw_bytes_per_s / kBillion,
            mpft.scale_up.bandwidth_achievable.value / kBillion * paper_logical / logical);
      else
        why = fmt::format(
            "NIC-bound at the cluster's 40 GB/s achievable; logical = physical / {:.3f} (the "
            "share of copies that cross a NIC); the paper's value implies a NIC rate of {:.1f} "
            "GB/s",
            remote_share, paper_logical * remote_share);
      b.row(k + "logical", fmt::format("{} GPUs: {} logical (DeepEP's)", p.gpus, dir),
            paper_logical, logical, "GB/s", 0.15, why);
      b.last_known_difference(std::abs(logical / paper_logical - 1) > 0.15);
      b.row(k + "physical", fmt::format("{} GPUs: {} physical (NIC bytes / time)", p.gpus, dir),
            std::nullopt, res.physical_bw_bytes_per_s / kBillion, "GB/s", 0,
            fmt::format("time {:.0f} us; the busiest NIC {:.2f} GB/s", res.time_s * 1e6,
                        res.max_physical_bw_bytes_per_s / kBillion));
    }
  }
}

void latency(Report& r, const ClusterSpec& c) {
  Builder b{r, "Table 5: link latency (64 B) and latency across each topology"};
  b.row("latency.ib_same_leaf", "InfiniBand, same leaf (cluster file)", 2.8,
        c.scale_out.latency_same_leaf.value * 1e6, "us", 1e-9, "an input: the paper's measurement");
  b.row("latency.ib_cross_leaf", "InfiniBand, cross leaf (cluster file)", 3.7,
        c.scale_out.latency_cross_leaf.value * 1e6, "us", 1e-9);
  b.row("latency.nvlink", "NVLink (cluster file)", 3.33, c.scale_up.latency.value * 1e6, "us",
        1e-9);
  // Cross-leaf traffic crosses 3 switches, same-leaf 1: each extra switch costs half the gap.
  const Seconds per_switch = (c.scale_out.latency_cross_leaf - c.scale_out.latency_same_leaf) / 2.0;
  b.row("latency.per_switch", "latency of one more switch on the path", std::nullopt,
        per_switch.value * 1e6, "us", 0, "(cross-leaf - same-leaf) / 2");
  for (const TopologySize& t : paper_table3(c.fabric.switch_radix)) {
    const Seconds worst = c.scale_out.latency_same_leaf +
                          per_switch * static_cast<double>(t.max_switches_on_path - 1);
    b.row("latency.worst." + t.name,
          fmt::format("{}: farthest endpoints, {} switches on the path", t.name,
                      t.max_switches_on_path),
          std::nullopt, worst.value * 1e6, "us", 0);
  }
}

void topologies(Report& r, const ClusterSpec& c) {
  Builder b{r,
            fmt::format("Table 3: network topologies of radix {} switches", c.fabric.switch_radix)};
  struct Paper {
    double endpoints, switches, links, cost_musd, per_endpoint_kusd;
  };
  const Paper paper[] = {{2048, 96, 2048, 9, 4.39},
                         {16384, 768, 16384, 72, 4.39},
                         {65536, 5120, 131072, 491, 7.5},
                         {32928, 1568, 32928, 146, 4.4},
                         {261632, 16352, 384272, 1522, 5.8}};
  const auto sizes = paper_table3(c.fabric.switch_radix);
  for (size_t i = 0; i < sizes.size(); ++i) {
    const TopologySize& t = sizes[i];
    const double cost = cost_usd(t, c.fabric.prices);
    const bool radix64 = c.fabric.switch_radix == 64;
    auto p = [&](double v) { return radix64 ? std::optional<double>(v) : std::nullopt; };
    b.row("network.endpoints." + t.name, t.name + " endpoints", p(paper[i].endpoints),
          static_cast<double>(t.endpoints), "", 0, t.note);
    b.row("network.switches." + t.name, t.name + " switches", p(paper[i].switches),
          static_cast<double>(t.switches), "", 0);
    b.row("network.links." + t.name, t.name + " links", p(paper[i].links),
          static_cast<double>(t.links), "", 0);
    b.row("network.cost_usd." + t.name, t.name + " cost", p(paper[i].cost_musd), cost / 1e6, "M$",
          0.03);
    b.row("network.cost_per_endpoint_usd." + t.name, t.name + " cost per endpoint",
          p(paper[i].per_endpoint_kusd), cost / static_cast<double>(t.endpoints) / 1e3, "k$", 0.03);
  }
  for (std::int64_t endpoints : {2048, 16384, 32768, 65536, 262144}) {
    const TopologySize best = cheapest_fit(endpoints, c.fabric.switch_radix, c.fabric.prices);
    b.row(fmt::format("network.cheapest_fit.{}", endpoints),
          fmt::format("cheapest for {} endpoints: {}", endpoints, best.name), std::nullopt,
          cost_usd(best, c.fabric.prices) / 1e6, "M$", 0, best.note);
  }
}

}  // namespace

Report paper_report() {
  Report r;
  r.title = "DeepSeek-V3 ISCA 2025 (arXiv 2505.09343) reproduced by cobench";
  const Scenario s =
      load_scenario(config::load_file(find_data_file("scenarios", "deepseek-v3-paper")));
  kv_cache(r);
  parameters(r);
  train_flops(r, s.training.seq_len);
  training_run(r, s.training);
  training_step(r, s.training);
  ep_decode(r, s.decode);
  ep_routing(r, s.decode);
  production(r, s.production, s.decode.model);
  production_prediction(r, s.production, s.decode.model);
  local_deployment(r, s.local);
  const ClusterSpec training_cluster = load_cluster_file(s.training.cluster);
  topologies(r, training_cluster);
  latency(r, training_cluster);
  fabric_figures(r, training_cluster);
  fabric_routing_figure(r, training_cluster);
  fabric_ep_figure(r, training_cluster);
  return r;
}

}  // namespace cobench::topo
