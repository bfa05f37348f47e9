// SPDX-License-Identifier: Apache-2.0
// Pipeline-parallel schedules of one training step, simulated event by event: 1F1B, ZB-H1 (Qi et
// al., "Zero Bubble Pipeline Parallelism", arXiv 2401.10241) and DualPipe (DeepSeek-V3 technical
// report, arXiv 2412.19437, section 3.2.1 and Figure 5; the operation order of the reference
// implementation, github.com/deepseek-ai/DualPipe). Each stage runs its operations in the
// schedule's order; an operation starts when its stage is free and its inputs have arrived.
//
// Conventions (the ZB paper's): F is the forward of one micro-batch on one stage, B its backward
// for inputs (the gradient the previous stage waits for), W its backward for weights (needs only
// its own B). The report's Table 2 writes B for the whole backward, B + W here, so its bubbles
// read, in these terms:
//   1F1B      (PP-1)(F+B+W)        every setting
//   ZB1P      (PP-1)(F+B-W)        micro-batches >= PP and W <= min(F, B)
//   DualPipe  (PP/2-1)(F&B+B-2W)   F = B, W <= F and F+W <= F&B <= F+B+W
//   Interleaved 1F1B  (PP-1)(F+B+W) in chunk times, (PP-1)/v of a stage's F+B+W: Megatron-LM's
//             virtual pipeline (Narayanan et al., "Efficient Large-Scale Language Model Training on
//             GPU Clusters Using Megatron-LM", arXiv 2104.04473, section 2.2.2)
// where the simulation equals them exactly under the conditions named (p2p_s = 0); elsewhere the
// simulation is the answer and the formula an approximation.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace cobench::topo {

enum class PipelineSchedule {
  k1F1B,      ///< PipeDream-flush / Megatron: B and W fused into one backward
  kZB1P,      ///< ZB-H1: W split from B and deferred into the cool-down; 1F1B's memory
  kDualPipe,  ///< bidirectional: two model chunks a stage, micro-batches fed from both ends
  /// Megatron-LM's interleaved 1F1B: v model chunks a stage (virtual stages; stage s holds chunks
  /// s, s + PP, ...), B and W fused; micro-batches a multiple of PP. Its order is Megatron's
  /// forward_backward_pipelining_with_interleaving: 2 (PP - 1 - s) + (v - 1) PP warm-up forwards
  /// (all of them when micro-batches = PP), then one forward and one backward a step. With one
  /// chunk a stage (v = 1) it is 1F1B's order, as Megatron-LM runs a pipeline without virtual
  /// stages (forward_backward_pipelining_without_interleaving).
  kInterleaved1F1B
};
const char* to_string(PipelineSchedule s);
/// "1f1b", "zb1p", "dualpipe" or "interleaved"; throws cobench::Error naming the others.
PipelineSchedule parse_pipeline_schedule(const std::string& name);

struct PipelineSetting {
  PipelineSchedule schedule = PipelineSchedule::k1F1B;
  int stages = 1;  ///< the PP degree
  /// Micro-batches of one step. DualPipe: both directions together, half fed from each end; an
  /// even number >= 2 x stages (the reference implementation's constraint).
  int micro_batches = 1;
  /// Interleaved 1F1B: model chunks a stage holds (v); f_s, b_s and w_s are then one chunk's.
  int virtual_stages = 1;
  double f_s = 0;    ///< F: forward of one micro-batch on one stage (one chunk for DualPipe)
  double b_s = 0;    ///< B: backward for inputs
  double w_s = 0;    ///< W: backward for weights
  double p2p_s = 0;  ///< sending activations or gradients to the adjacent stage
  /// DualPipe's F&B: a forward chunk of one micro-batch overlapped with the full backward (B + W)
  /// chunk of another. Unset: f_s + b_s + w_s (nothing gained by the overlap).
  std::optional<double> overlapped_fb_s;
  /// Each stage's own times, where stages differ (a whole-layer split, the LM heads on one
  /// stage): `stages` of them, each replacing f_s, b_s, w_s and overlapped_fb_s on its stage.
  /// Empty: every stage takes those. p2p_s is the same for every stage.
  struct StageTimes {
    double f_s = 0, b_s = 0, w_s = 0;
    double fb_s = 0;  ///< DualPipe's F&B on the stage (f_s + b_s + w_s where nothing overlaps)
  };
  std::vector<StageTimes> stage_times;
  /// Activations one micro-batch keeps on each position of the pipeline (stages x v of them;
  /// position c x PP + s is chunk c of stage s; DualPipe's direction 1 runs stage s at position
  /// PP - 1 - s), for PipelineResult::stage_peak_activation_bytes. Empty: not counted.
  std::vector<double> position_activation_bytes;
  /// false: the result's stage_ops are left empty and the simulation reuses its thread's buffers
  /// (a sweep of many settings); every other field is the same.
  bool keep_operations = true;
};

enum class PipelineOpKind {
  kForward,          ///< F
  kBackwardInput,    ///< B alone; its W follows later
  kBackwardWeight,   ///< W
  kBackward,         ///< B + W fused, the gradient sent at its end
  kForwardBackward,  ///< DualPipe: F of one micro-batch overlapped with B + W of another
};
constexpr std::size_t kPipelineOpKinds = 5;

/// One operation of a stage, timed.
struct PipelineOp {
  PipelineOpKind kind = PipelineOpKind::kForward;
  int direction = 0;    ///< 0: enters at stage 0; 1 (DualPipe): enters at the last stage
  int micro_batch = 0;  ///< numbered from 0 within its direction
  int chunk = 0;  ///< interleaved 1F1B: the stage's model chunk (virtual stage chunk x PP + s)
  /// kForwardBackward: the backward's micro-batch (direction and micro_batch are the forward's).
  int backward_direction = 0, backward_micro_batch = 0;
  double start_s = 0, end_s = 0;
};

struct PipelineResult {
  double time_s = 0;  ///< from the first operation's start to the last one's end
  /// The pipeline bubble: the largest idle time of a stage within time_s (time_s minus its busy
  /// time), the quantity of Table 2.
  double bubble_s = 0;
  std::vector<double> stage_busy_s;
  /// Each stage's busy time by operation kind (indexed by PipelineOpKind); they add up to its
  /// stage_busy_s.
  std::vector<std::array<double, kPipelineOpKinds>> stage_kind_s;
  /// Peak in-flight activations a stage holds, in units of one micro-batch's activations on one
  /// stage (one chunk): a micro-batch counts from the start of its forward to the end of its W
  /// (or of the fused backward). 1F1B: PP - stage; ZB1P: PP; DualPipe: PP + 1 (micro-batches
  /// >= PP, or >= 2 PP for DualPipe). Interleaved 1F1B counts chunks (1/v of a stage's).
  std::vector<int> stage_peak_activations;
  int peak_activations = 0;  ///< the largest of them
  /// The same peak in bytes, each micro-batch weighted by the position_activation_bytes of the
  /// position it is in flight at (empty where the setting gives none).
  std::vector<double> stage_peak_activation_bytes;
  int parameter_copies = 1;         ///< copies of the stage's weights: 1, DualPipe 2
  std::vector<double> stage_end_s;  ///< each stage's last operation's end
  /// Each position's (stages x v of them, as position_activation_bytes): when its weight
  /// gradients are final, the end of its last W or whole backward on any stage (DualPipe runs a
  /// position on two). The data-parallel reduction of those gradients may start there.
  std::vector<double> position_weights_done_s;
  /// The start of that last W or backward: its layers' weight gradients become final one after
  /// another between it and position_weights_done_s, as the backward runs through them.
  std::vector<double> position_weights_start_s;
  /// Each stage's operations in its order (empty without PipelineSetting::keep_operations).
  std::vector<std::vector<PipelineOp>> stage_ops;
};

/// PipelineResult's in-flight peaks alone: they follow from the schedule's order, not from the
/// times, so nothing is simulated. Throws cobench::Error naming a bad setting.
struct PipelineMemory {
  std::vector<int> stage_peak_activations;
  std::vector<double> stage_peak_activation_bytes;
};
PipelineMemory pipeline_memory(const PipelineSetting& s);

/// Simulates one step's pipeline phase. Throws cobench::Error naming a bad setting.
PipelineResult simulate_pipeline(const PipelineSetting& s);

}  // namespace cobench::topo
