// SPDX-License-Identifier: Apache-2.0
#include "topologies/training_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/parallel_for.h"

namespace cobench::topo {

namespace {

// A row of `section` with cobench's value and no paper figure.
void add_row(Report& r, const std::string& section, std::string key, std::string quantity, double v,
             std::string unit, std::string note = "") {
  r.rows.push_back({section, std::move(key), std::move(quantity), std::nullopt, v, std::move(unit),
                    0, std::move(note), false});
}

}  // namespace

std::vector<TrainingSweepPoint> training_sweep(const ModelArch& m, const ClusterSpec& c,
                                               const TrainingSetting& base, const PerfModel& perf,
                                               int threads) {
  // The settings first (TP, CP, precision and the interleave stay `base`'s), then their
  // predictions over the threads, kept in this order.
  std::vector<TrainingSetting> settings;
  const double gpus =
      (base.gpus > 0 ? base.gpus : static_cast<double>(c.gpus())) / (base.tp * base.cp);
  const double layers = static_cast<double>(m.num_layers + m.mtp_modules);
  const double routed = m.moe ? static_cast<double>(m.moe->routed_experts) : 1;
  std::vector<PipelineSchedule> schedules{PipelineSchedule::k1F1B, PipelineSchedule::kZB1P,
                                          PipelineSchedule::kDualPipe};
  if (base.virtual_stages > 1) schedules.push_back(PipelineSchedule::kInterleaved1F1B);
  for (double pp = 1; pp <= layers && pp <= gpus; pp *= 2) {
    if (std::fmod(gpus, pp) != 0) continue;
    const double dp = gpus / pp;
    for (double ep = 1; ep <= (m.moe ? std::min(dp, routed) : 1); ep *= 2) {
      if (std::fmod(dp, ep) != 0 || std::fmod(routed, ep) != 0) continue;
      for (double mb : {1.0, 2.0, 4.0}) {
        for (PipelineSchedule sched : schedules) {
          TrainingSetting s = base;
          s.pp = pp, s.ep = ep, s.micro_batch = mb, s.schedule = sched;
          s.virtual_stages = sched == PipelineSchedule::kInterleaved1F1B ? base.virtual_stages : 1;
          settings.push_back(s);
        }
      }
    }
  }
  std::vector<std::optional<TrainingSweepPoint>> points(settings.size());
  parallel_for(std::ssize(settings), thread_count(threads), [&](std::int64_t i) {
    try {
      TrainingSweepPoint pt{settings[i], predict_training(m, c, settings[i], perf), false};
      pt.fits = pt.prediction.state_bytes_per_gpu + pt.prediction.activation_bytes_per_gpu <=
                pt.prediction.hbm_bytes;
      points[i] = std::move(pt);
    } catch (const Error&) {
      // A setting the model refuses (the batch does not split, DualPipe's constraints).
    }
  });
  std::vector<TrainingSweepPoint> out;
  for (auto& pt : points)
    if (pt) out.push_back(std::move(*pt));
  return out;
}

TrainingSetting scenario_setting(const TrainingScenario& t) {
  TrainingSetting s;
  s.pp = t.pp;
  s.ep = t.ep;
  s.seq_len = t.seq_len;
  s.micro_batch = t.micro_batch;
  s.global_batch = t.batch_sequences;
  s.schedule = parse_pipeline_schedule(t.schedule);
  s.tp = t.tp;
  s.cp = t.cp;
  s.virtual_stages = t.interleave;
  s.precision = parse_training_precision(t.precision);
  // Errors name the scenario's keys (under its `parallel` map, or beside it).
  s.names = {"pp",
             "ep",
             "tp",
             "cp",
             "the cluster's GPUs",
             "seq_len",
             "micro_batch",
             "batch_sequences",
             "interleave"};
  return s;
}

TrainingPrediction predict_scenario(const TrainingScenario& t, const ModelArch& m,
                                    const ClusterSpec& c, const PerfModel& perf) {
  try {
    if (!m.moe && t.ep != 1)
      throw Error(fmt::format("ep {} applies to MoE models: {} has no routed experts (ep: 1)", t.ep,
                              m.name));
    return predict_training(m, c, scenario_setting(t), perf);
  } catch (const Error& e) {
    if (t.parallel_at.empty()) throw;
    throw Error(fmt::format("{}: {}", t.parallel_at, e.what()));
  }
}

Report training_report(const ModelArch& m, const ClusterSpec& c, const TrainingSetting& s,
                       const PerfModel& perf, bool sweep) {
  Report r;
  r.title = fmt::format("{} training on {}", m.name, c.name);
  const TrainingPrediction p = predict_training(m, c, s, perf);
  const ChunkTimes& ch = p.chunk;
  std::string section = fmt::format(
      "Step (predicted): PP {:.0f} ({}{}), TP {:.0f}, CP {:.0f}, EP {:.0f}, DP {:.0f}, {} GEMMs, "
      "{:.0f} sequence(s) of {:.0f} tokens a micro-batch, {:.0f} micro-batches a pipeline",
      s.pp, to_string(s.schedule),
      s.virtual_stages > 1 ? fmt::format(", v = {:.0f}", s.virtual_stages) : "", s.tp, s.cp,
      m.moe ? s.ep : 1.0, p.dp, to_string(s.precision), s.micro_batch, s.seq_len, p.micro_batches);
  auto row = [&](std::string key, std::string quantity, double v, std::string unit,
                 std::string note = "") {
    add_row(r, section, std::move(key), std::move(quantity), v, std::move(unit), std::move(note));
  };
  row("train.step_s", "time per step", p.step_s, "s",
      fmt::format("{} binds; against measured runs (docs/model.md, 'Training step prediction') "
                  "this model is 1.3x optimistic on DeepSeek-V3's Table 4 and 0.7x-1.2x of "
                  "Llama 3 405B's TFLOP/s over the unpublished interleave v = 1-8",
                  p.binding));
  row("train.phase_f_s", "first stage: forward chunks (1F)", p.phase_f_s, "s");
  row("train.phase_b_s", "first stage: input-backward chunks (1B)", p.phase_b_s, "s");
  row("train.phase_w_s", "first stage: weight-backward chunks (1W)", p.phase_w_s, "s");
  row("train.phase_fb_s", "first stage: overlapped forward-backward pairs (1F1B)", p.phase_fb_s,
      "s");
  row("train.bubble_s", "first stage: idle (bubble)", p.bubble_s, "s");
  row("train.optimizer_s", "data-parallel traffic and optimizer (opt)", p.optimizer_s, "s",
      fmt::format("after the pipeline's end: ZeRO-1 traffic {:.1f} ms{}, then the AdamW update "
                  "{:.1f} ms; the rank of stage {} ({:.3g} B weights) takes longest at its update "
                  "and all-gather, its rings {:.1f} ms in all (reduce-scatters beside the last "
                  "backwards where the schedule allows)",
                  p.dp_comm_s * 1e3,
                  p.embedding_sync_s > 0
                      ? fmt::format(" (the embedding's gradients summed with their copy on the "
                                    "last stage {:.1f} ms among it)",
                                    p.embedding_sync_s * 1e3)
                      : "",
                  p.update_s * 1e3, p.optimizer_stage, p.optimizer_params / 1e9,
                  p.dp_ring_s * 1e3));
  row("train.chunk.f_s",
      fmt::format(
          "chunk F ({:.3g} layers, {:.3g} MoE{})", ch.layers, ch.moe_layers,
          ch.heads_share > 0 ? fmt::format(", {:.3g} of the LM heads", ch.heads_share) : ""),
      ch.f_s * 1e3, "ms",
      fmt::format("compute {:.2f} ms{}; the chunk of the rank the whole-layer split loads most{}",
                  ch.f_compute_s * 1e3,
                  ch.f_comm_s > 0 ? fmt::format(", all-to-all {:.2f} ms", ch.f_comm_s * 1e3) : "",
                  ch.heads_share > 0
                      ? fmt::format(" (the LM heads' F {:.2f} ms{})", ch.heads_f_s * 1e3,
                                    m.mtp_modules > 0 ? ", the MTP projections' with them" : "")
                      : ""));
  row("train.chunk.b_s", "chunk B", ch.b_s * 1e3, "ms",
      fmt::format("compute {:.2f} ms (recompute {:.2f}), all-to-all {:.2f} ms",
                  ch.b_compute_s * 1e3, ch.recompute_s * 1e3, ch.b_comm_s * 1e3));
  row("train.chunk.w_s", "chunk W", ch.w_s * 1e3, "ms");
  if (s.tp > 1 || s.cp > 1)
    row("train.chunk.tp_cp_comm_s", "chunk TP and CP traffic, in F and again in B (exposed)",
        (ch.tp_comm_s + ch.cp_comm_s) * 1e3, "ms",
        fmt::format("TP all-gathers and reduce-scatters {:.2f} ms, CP K/V all-gather {:.2f} ms",
                    ch.tp_comm_s * 1e3, ch.cp_comm_s * 1e3));
  if (s.schedule == PipelineSchedule::kDualPipe)
    row("train.chunk.fb_s", "chunk F&B (DualPipe)", ch.fb_s * 1e3, "ms",
        fmt::format("compute on {:.0f}% of the SMs beside the all-to-all", 100 * ch.compute_share));
  row("train.tokens_per_day", "training tokens per day", p.tokens_per_day, "tokens");
  row("train.tflops_causal", "TFLOP/s per GPU (causal)", p.tflops_causal / 1e12, "TFLOP/s");
  row("train.tflops_non_causal", "TFLOP/s per GPU (non-causal)", p.tflops_non_causal / 1e12,
      "TFLOP/s");
  row("train.mfu_causal", "MFU against the BF16 peak (causal)", 100 * p.mfu_causal, "%");
  row("train.mfu_non_causal", "MFU against the BF16 peak (non-causal)", 100 * p.mfu_non_causal,
      "%");
  row("train.state_bytes_per_gpu", "weights, gradients and optimizer shard a GPU",
      p.state_bytes_per_gpu / 1e9, "GB",
      fmt::format("the rank of stage {} (of the ranks, the one needing the most memory): {:.3g} B "
                  "weights{}",
                  p.memory_stage, p.params_per_gpu / 1e9,
                  p.pipeline.parameter_copies > 1
                      ? fmt::format(", those of stages {} and {} (DualPipe)", p.memory_stage,
                                    s.pp - 1 - p.memory_stage)
                      : ""));
  row("train.activation_bytes_per_gpu", "activations kept for the backward, at the peak",
      p.activation_bytes_per_gpu / 1e9, "GB",
      fmt::format("{:.2f} GB a chunk x {} chunks in flight on that rank; with the state {:.1f} of "
                  "{:.1f} GB HBM{}",
                  p.activation_bytes_per_chunk / 1e9, p.activation_peak_chunks,
                  (p.state_bytes_per_gpu + p.activation_bytes_per_gpu) / 1e9, p.hbm_bytes / 1e9,
                  p.state_bytes_per_gpu + p.activation_bytes_per_gpu > p.hbm_bytes
                      ? ": does NOT fit"
                      : ""));
  if (!sweep) return r;
  const std::vector<TrainingSweepPoint> pts = training_sweep(m, c, s, perf);
  section = "Fastest configuration (weights, gradients, optimizer state and activations in HBM)";
  const TrainingSweepPoint* best = nullptr;
  for (const TrainingSweepPoint& pt : pts)
    if (pt.fits && (!best || pt.prediction.step_s < best->prediction.step_s)) best = &pt;
  row("train.sweep.configurations", "configurations swept (PP, EP, micro-batch, schedule)",
      static_cast<double>(pts.size()), "");
  if (!best) {
    row("train.sweep.fitting", "configurations that fit", 0, "", "none fits in HBM");
    return r;
  }
  const TrainingSetting& b = best->setting;
  row("train.sweep.step_s", "fastest time per step", best->prediction.step_s, "s",
      fmt::format("PP {:.0f} ({}{}), EP {:.0f}, micro-batch {:.0f}; {} binds", b.pp,
                  to_string(b.schedule),
                  b.virtual_stages > 1 ? fmt::format(", v = {:.0f}", b.virtual_stages) : "", b.ep,
                  b.micro_batch, best->prediction.binding));
  row("train.sweep.tokens_per_day", "its training tokens per day", best->prediction.tokens_per_day,
      "tokens");
  return r;
}

void add_measured_rows(Report& r, const std::set<std::string>& inputs,
                       const MeasuredTables& tables) {
  const std::string section =
      "Measured inputs (replace the cluster file's and the published tables)";
  if (!inputs.empty()) {
    std::string names;
    for (const std::string& n : inputs) names += (names.empty() ? "" : ", ") + n;
    add_row(r, section, "train.measured.inputs", "measured inputs",
            static_cast<double>(inputs.size()), "", names);
  }
  if (!tables.gemm_fp8.empty())
    add_row(r, section, "train.measured.gemm_fp8",
            "measured FP8 GEMM shapes (replace the published table; 1W keeps its wgrad table)",
            static_cast<double>(tables.gemm_fp8.size()), "shapes", tables.gemm_source);
  if (!tables.mla_decode.empty())
    add_row(r, section, "train.measured.mla_decode_shapes",
            "measured MLA decode shapes (decode only: not used here)",
            static_cast<double>(tables.mla_decode.size()), "shapes", tables.mla_source);
}

}  // namespace cobench::topo
