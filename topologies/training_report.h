// SPDX-License-Identifier: Apache-2.0
// `cobench analyze --train`: the predicted training step of a model on a cluster (training_model.h)
// as a report (text, Markdown, JSON), and a sweep of pipeline depth, expert parallelism,
// micro-batch size and schedule for the fastest configuration whose weights, gradients, optimizer
// state and activations fit in HBM.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "topologies/measured_tables.h"
#include "topologies/report.h"
#include "topologies/scenario.h"
#include "topologies/training_model.h"

namespace cobench::topo {

struct TrainingSweepPoint {
  TrainingSetting setting;
  TrainingPrediction prediction;
  bool fits = false;  ///< state and activation bytes a GPU <= HBM
};

/// Every valid combination of PP (a power of two dividing the GPUs, at most the layers), EP (a
/// power of two dividing DP and the routed experts), micro-batch (1, 2, 4 sequences) and
/// schedule (1F1B, ZB1P, DualPipe), with `base`'s sequence length and global batch; the ones
/// the model refuses (a batch that does not split, DualPipe's constraints) are left out. The
/// points are predicted over `threads` threads (every hardware thread when <= 0), in this order.
std::vector<TrainingSweepPoint> training_sweep(const ModelArch& m, const ClusterSpec& c,
                                               const TrainingSetting& base, const PerfModel& perf,
                                               int threads = 0);

/// The setting a training scenario describes (its `parallel` block, sequence length and batch).
TrainingSetting scenario_setting(const TrainingScenario& t);

/// predict_training of scenario_setting(t); a setting the model refuses (a PP that does not
/// divide the GPUs) is an error at the scenario's `parallel` key.
TrainingPrediction predict_scenario(const TrainingScenario& t, const ModelArch& m,
                                    const ClusterSpec& c, const PerfModel& perf);

/// The report of `s` and, with `sweep`, the fastest configuration that fits.
Report training_report(const ModelArch& m, const ClusterSpec& c, const TrainingSetting& s,
                       const PerfModel& perf, bool sweep = true);

/// Rows saying what `--measured` changed (nothing when both are empty): the inputs that replaced
/// the cluster file's values (apply_measured) and the measured tables that replaced the published
/// ones (PerfModel::use_measured), with their files.
void add_measured_rows(Report& r, const std::set<std::string>& inputs,
                       const MeasuredTables& tables);

}  // namespace cobench::topo
