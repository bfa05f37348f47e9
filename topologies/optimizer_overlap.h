// SPDX-License-Identifier: Apache-2.0
// When one rank's ZeRO-1 optimizer step ends, its data-parallel traffic overlapped with the end of
// its pipeline where the schedule allows (the training step model, training_model.h): a group of
// weights (a pipeline position's) may have its gradients reduce-scattered as soon as its last
// backward ends, while the rank still computes the backwards of its other positions.
#pragma once

#include <vector>

namespace cobench::topo {

/// Weights of one rank whose gradients become final together (a pipeline position's).
struct GradientGroup {
  double ready_s = 0;           ///< when its gradients are final
  double reduce_scatter_s = 0;  ///< their reduce-scatter over the ranks holding the same weights
};

/// The end of a rank's optimizer step: each group's gradients reduce-scattered from when they are
/// final, one group after another over the rank's links, the earliest first; then, once all are
/// and the rank's pipeline has ended, `sync_s` (the embedding's gradients summed with their copy
/// on another stage, where there is one), the AdamW update of its shard (it needs every gradient:
/// the global gradient norm clips them) and the all-gather of the updated weights. Throws
/// cobench::Error on negative or non-finite times.
double optimizer_done_s(std::vector<GradientGroup> groups, double pipeline_end_s, double sync_s,
                        double update_s, double all_gather_s);

}  // namespace cobench::topo
