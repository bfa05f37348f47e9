// SPDX-License-Identifier: Apache-2.0
// When one rank's gradients are reduced for ZeRO-1, its data-parallel traffic overlapped with the
// end of its pipeline where the schedule allows (the training step model, training_model.h): a
// group of weights (a pipeline position's) may have its gradients reduce-scattered as soon as its
// last backward ends, while the rank still computes the backwards of its other positions.
#pragma once

#include <vector>

namespace cobench::topo {

/// Weights of one rank whose gradients become final together (a pipeline position's).
struct GradientGroup {
  double ready_s = 0;           ///< when its gradients are final
  double reduce_scatter_s = 0;  ///< their reduce-scatter over the ranks holding the same weights
};

/// When a rank's gradients are reduced: each group's reduce-scattered from when they are final,
/// one group after another over the rank's links, the earliest first, and not before the rank's
/// pipeline ends. The update of any rank waits for every rank's (the global gradient norm clips
/// them), then the all-gather of its updated weights (training_model.cpp). Throws
/// cobench::Error on negative or non-finite times.
double gradients_reduced_s(std::vector<GradientGroup> groups, double pipeline_end_s);

}  // namespace cobench::topo
