// SPDX-License-Identifier: Apache-2.0
// Predicted training step (docs/model.md, "Training step prediction"): the forward F, input
// backward B and weight backward W of one micro-batch on one pipeline stage, built from the
// operations of its layers (serving_ops.h: the prefill shapes of one micro-batch) timed by the
// performance model (perf_model.h); the pipeline schedule simulated over the stages
// (pipeline_schedule.h); the data-parallel gradient and parameter traffic and the optimizer
// update after it. The parts of DeepSeek-V3's Table 4 (1F, 1B, 1W, 1F1B, bubble, optimizer)
// come out of the simulation of the first stage.
//
// What each layer costs, forward and backward, and what it keeps: training_layers.h.
// Tensor parallelism (Megatron-LM with sequence parallelism: Korthikanti et al., "Reducing
// Activation Recomputation in Large Transformer Models", arXiv 2205.05198, section 4.2.2): the
// heads and the FFN columns split over TP, the norms and residuals over the sequence; a layer's
// forward all-gathers the t x hidden BF16 activations before attention and before the FFN and
// reduce-scatters them after each (2 all-gathers + 2 reduce-scatters, each (TP-1)/TP of them
// through every GPU's scale-up link), its backward the same again. Exposed, not overlapped:
// Megatron-LM overlaps them with the GEMMs only under --tp-comm-overlap (Transformer Engine's
// userbuffers), and the Llama 3 paper does not say it did.
// Context parallelism (the Llama 3 paper, arXiv 2407.21783, section 3.3.2): every CP rank holds
// seq / CP tokens of each sequence (2 CP chunks, load-balanced for the causal mask), its GEMMs
// and element-wise work on those, its attention 1/CP of the sequence's; before attention it
// all-gathers the K and V of the sequence, after the backward reduce-scatters their gradients,
// exposed (the paper: the all-gather's latency is on the critical path but small under GQA).
// Precision: kFp8 is DeepSeek-V3's recipe (above); kBf16 every GEMM in BF16 at the BF16 peak
// times the GEMM efficiency of the GPU's perf file, every kept activation in BF16 (Llama 3).
// DualPipe overlaps the EP traffic of one chunk with the computation of another (F&B = the
// longer of the pair's compute, on the SMs communication leaves, and the pair's traffic); 1F1B and
// ZB1P wait for each chunk's own traffic.
#pragma once

#include <string>

#include "topologies/cluster.h"
#include "topologies/model_arch.h"
#include "topologies/perf_model.h"
#include "topologies/pipeline_schedule.h"

namespace cobench::topo {

enum class TrainingPrecision {
  kFp8,  ///< DeepSeek-V3: FP8 GEMMs (Fprop, Dgrad, Wgrad), BF16 elsewhere
  kBf16  ///< every GEMM in BF16 (Llama 3)
};
const char* to_string(TrainingPrecision p);
/// "fp8" or "bf16"; throws cobench::Error naming them.
TrainingPrecision parse_training_precision(const std::string& name);

/// What a user calls each part of a TrainingSetting, for the errors that name it: the options of
/// `cobench analyze --train` by default, a scenario's `parallel` keys where it came from one.
struct TrainingNames {
  const char* pp = "--pp";
  const char* ep = "--train-ep";
  const char* tp = "--tp";
  const char* cp = "--cp";
  const char* gpus = "--train-gpus";
  const char* seq_len = "--seq-len";
  const char* micro_batch = "--micro-batch";
  const char* global_batch = "--global-batch";
  const char* interleave = "--interleave";
};

struct TrainingSetting {
  double pp = 16;               ///< pipeline stages
  double ep = 64;               ///< expert-parallel degree (inside the data-parallel group)
  double tp = 1;                ///< tensor-parallel degree (inside a scale-up domain), with SP
  double cp = 1;                ///< context-parallel degree
  double gpus = 0;              ///< GPUs of the job (0: the whole cluster); DP = gpus/(PP TP CP)
  double seq_len = 4096;        ///< tokens a sequence
  double micro_batch = 1;       ///< sequences a micro-batch
  double global_batch = 15360;  ///< sequences a step
  PipelineSchedule schedule = PipelineSchedule::kDualPipe;
  double virtual_stages = 1;  ///< interleaved 1F1B: model chunks a stage (v)
  TrainingPrecision precision = TrainingPrecision::kFp8;
  TrainingNames names;  ///< for errors
};

/// One chunk: the layers of one stage (of one of its v model chunks, interleaved) for one
/// micro-batch.
struct ChunkTimes {
  /// Layers a chunk of the rank that paces the pipeline holds (stage_split.h: the heaviest rank
  /// of the split; under DualPipe half of its pair's), MoE ones among them, and the share of the
  /// LM heads it runs (1, 1/2 under DualPipe, 0 on a rank without them).
  double layers = 0, moe_layers = 0, heads_share = 0;
  double f_compute_s = 0, b_compute_s = 0;  ///< on all SMs
  double w_compute_s = 0, recompute_s = 0;  ///< recompute_s is part of b_compute_s
  /// The LM heads of one micro-batch (the main one and one pass a MTP module) and the MTP
  /// modules' projections, F, B and W.
  double heads_f_s = 0, heads_b_s = 0, heads_w_s = 0;
  double f_comm_s = 0, b_comm_s = 0;  ///< EP dispatch + combine of the chunk
  double tp_comm_s = 0;      ///< TP all-gathers + reduce-scatters, in F and again in B (exposed)
  double cp_comm_s = 0;      ///< CP K/V all-gather in F, their gradients' reduce-scatter in B
  double compute_share = 1;  ///< SMs compute has beside communication (DualPipe)
  double f_s = 0, b_s = 0, w_s = 0, fb_s = 0, p2p_s = 0;  ///< what the schedule is given
};

struct TrainingPrediction {
  double dp = 0, micro_batches = 0;  ///< data-parallel degree; micro-batches a pipeline a step
  ChunkTimes chunk;                  ///< a chunk of the rank that paces the pipeline (the heaviest)
  ChunkTimes first_stage;   ///< a chunk of the first stage, whose times Table 4's parts are
  PipelineResult pipeline;  ///< without its operations (stage_ops empty)
  // Table 4's parts: the first stage's time in each kind of operation, its idle time.
  double phase_f_s = 0, phase_b_s = 0, phase_w_s = 0, phase_fb_s = 0, bubble_s = 0;
  /// After the pipeline's end, what the step still takes: every rank's gradients reduced (their
  /// reduce-scatters beside the last backwards where the schedule allows; the embedding's copies
  /// summed), then the update and all-gather of the rank that takes longest at them
  /// (optimizer_stage's, with optimizer_params weights). optimizer_s = dp_comm_s (traffic after
  /// the pipeline's end) + update_s (that rank's AdamW update); dp_ring_s is all of that rank's
  /// rings, the reduce-scatters beside its last backwards included.
  double dp_comm_s = 0, update_s = 0, optimizer_s = 0, dp_ring_s = 0;
  /// The embedding's gradients summed with their copy on the last stage (MTP modules or a tied
  /// head, a pipeline in a line), after the first and last stages have reduced theirs.
  double embedding_sync_s = 0;
  int optimizer_stage = 0;
  double optimizer_params = 0;
  double step_s = 0;
  double tokens_per_day = 0;
  double tflops_causal = 0, tflops_non_causal = 0;  ///< per GPU
  double mfu_causal = 0, mfu_non_causal = 0;        ///< against the BF16 peak
  // The memory of the rank that needs the most (memory_stage; under DualPipe ranks s and PP - 1 -
  // s hold the same).
  int memory_stage = 0;
  double params_per_gpu = 0;       ///< the weights it holds: its layers, the embedding and head's
  double state_bytes_per_gpu = 0;  ///< its weights and gradients, its optimizer shard
  /// What the backward of its micro-batches in flight needs kept (the saved inputs of their
  /// operations, recomputed ones left out) at its peak, of activation_peak_chunks chunks; per
  /// chunk, their average.
  double activation_bytes_per_gpu = 0, activation_bytes_per_chunk = 0;
  int activation_peak_chunks = 0;
  double hbm_bytes = 0;
  const char* binding = "compute";  ///< compute, ep_all_to_all or pipeline_bubble
};

TrainingPrediction predict_training(const ModelArch& m, const ClusterSpec& c,
                                    const TrainingSetting& s, const PerfModel& perf);

}  // namespace cobench::topo
