// SPDX-License-Identifier: Apache-2.0
// What one layer costs a training step (training_model.h): the forward F, input backward B and
// weight backward W of its operations (serving_ops.h: the prefill shapes of one micro-batch)
// timed by the performance model (perf_model.h), its weights and the activations its backward
// keeps.
//
// Backward of each operation (stated, not fitted):
//   GEMM       B: the input gradient, the forward's FLOPs on the shape (m, k, n); W: the weight
//              gradient, the same FLOPs on (n, k, m); FP8 where the forward is (DeepSeek's FP8
//              training runs Fprop, Dgrad and Wgrad in FP8).
//   attention  B: 2.5x the forward's FLOPs at the forward's rate (FlashAttention's count).
//   element-wise B: twice the forward's bytes (the saved input and the output gradient read, the
//              input gradient written).
//   recompute  B also reruns the forward of the RMSNorms and of MLA's up-projections (DeepSeek-V3
//              technical report, section 3.3.2).
//   EP         backward traffic mirrors the forward: the gradient before the experts' down
//              projection dispatched in FP8, the one after their up projection combined in BF16
//              (the report, section 3.3.2).
// Activations kept for the backward, as DeepSeek-V3's recipe keeps them (technical report
// 3.3.2-3.3.3): the input of every GEMM at its precision (FP8 for FP8 GEMMs); the output
// projection's input in E5M6, which attention's backward reads as O (MLA's Q, K and V come from
// recomputed up-projections; GQA/MHA keep Q, K, V and O in BF16); SwiGLU's input in FP8 with its
// output recomputed; other element-wise inputs in BF16; the LM head's input, its logits not (the
// loss's gradient is computed as they are).
#pragma once

#include "topologies/perf_model.h"
#include "topologies/serving_ops.h"

namespace cobench::topo {

struct LayerTimes {
  double f = 0, b = 0, w = 0, recompute = 0, f_comm = 0, b_comm = 0;
  double tp_comm = 0;      ///< TP all-gathers + reduce-scatters of the forward (the backward's too)
  double params = 0;       ///< weights of the layer this GPU holds (its experts only)
  double saved_bytes = 0;  ///< activations the layer's backward needs kept
};

/// What layer_times needs beside the operations.
struct LayerContext {
  const PerfModel& perf;
  double ep = 1, tp = 1;
  double tokens = 0, hidden = 0;  ///< the micro-batch's tokens on a GPU (all-gathered under TP)
  bool bf16 = false;
};

/// One micro-batch through the layer's operations: F, B (recomputation included) and W on one
/// GPU, its EP and TP traffic, its weights on the GPU and the activations its backward keeps.
LayerTimes layer_times(const LayerOps& l, const LayerContext& x);

/// The routed experts' weights of a MoE layer on this GPU.
double routed_expert_params(const LayerOps& l);

/// The weights of a MoE layer that every device of a TP group holds whole (serving_ops' moe_ffn
/// runs them on the device's 1/TP of the tokens): the router and the shared experts.
double tp_whole_params(const LayerOps& l);

}  // namespace cobench::topo
