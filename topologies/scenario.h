// SPDX-License-Identifier: Apache-2.0
// A scenario file (topologies/scenarios/*.yaml): the workloads behind a paper's numbers, a
// training run and a decode setting, naming the model and cluster files they use.
#pragma once

#include <optional>
#include <string>

#include "core/config.h"
#include "core/units.h"

namespace cobench::topo {

struct TrainingScenario {
  std::string model;
  std::string cluster;
  double seq_len = 0;
  double batch_sequences = 0;
  double tokens = 0;           ///< tokens of the whole run
  double tokens_per_day = 0;   ///< measured throughput
  Seconds step_time;           ///< measured step time
  double other_gpu_hours = 0;  ///< stages outside pre-training
  // The parallelism of the run (technical report section 3.2) for the step prediction.
  double pp = 0, ep = 0;
  double micro_batch = 1;         ///< sequences a micro-batch
  std::string schedule;           ///< 1f1b, zb1p, dualpipe or interleaved
  double tp = 1, cp = 1;          ///< tensor- and context-parallel degrees (optional keys)
  double interleave = 1;          ///< model chunks a stage under the interleaved schedule
  std::string precision = "fp8";  ///< fp8 or bf16
  /// Where the `parallel` map is ("file:line:col: key 'path'"), to place the errors of a setting
  /// the training model refuses (a PP that does not divide the GPUs).
  std::string parallel_at;
  /// Table 4's parts of a step: the first stage's forward-only, input-backward-only,
  /// weight-backward-only and overlapped time, its idle time, and the optimizer.
  Seconds phase_f, phase_b, phase_w, phase_fb, bubble, optimizer;
};

struct DecodeScenario {
  std::string model;
  double tokens_per_device = 32;
  std::optional<double> hidden_override;
  double dispatch_bytes_per_element = 1;
  double combine_bytes_per_element = 2;
  double micro_batches = 2;
  std::string scale_out_cluster;
  std::string scale_up_cluster;
  /// Where the file names them ("file:line:col: key 'path'"), for a cluster that lacks the link.
  std::string scale_out_cluster_at, scale_up_cluster_at;
};

/// DeepSeek's profile-data traces (full-load steps): the setup its README states and the
/// per-node rate derived from the trace (LMSYS 2025-05-05 "DeepSeek Profile", InferSim README).
struct ProfileCase {
  double ep = 0;
  double tokens_per_device = 0;  ///< decode: requests a GPU; prefill: new tokens a GPU
  double context_tokens = 0;     ///< decode: KV length; prefill: prompt length
  double tokens_per_s_per_node = 0;
};

struct ProductionScenario {
  std::string cluster;
  double nodes_average = 0;
  double input_tokens_per_day = 0;
  double output_tokens_per_day = 0;
  double input_tokens_per_s_per_node = 0;
  double output_tokens_per_s_per_node = 0;
  double prompt_tokens = 0;
  // Day 6's deployment (its text) and the inputs the prediction takes from elsewhere.
  double decode_ep = 0, decode_redundant_experts = 0, prefill_ep = 0;
  double decode_tokens_per_s_per_user = 0;  ///< the middle of "20-22 tok/s"
  double cache_hit = 0;                     ///< 342B of 608B input tokens
  double mtp_acceptance = 0;                ///< the paper: 80-90%
  double prefill_tokens_per_device = 0;     ///< profile-data: 16K tokens a GPU
  std::string decode_schedule;              ///< day 6: "a 5-stage pipeline" (five-stage)
  bool random_routing = false;              ///< day 6: real traffic (routing: random)
  ProfileCase profile_decode, profile_prefill;
};

struct LocalScenario {
  std::string model;
  std::string cluster;  ///< a cluster without GPUs (its CPU memory serves the weights)
  double weight_bytes = 1;
  std::string cluster_at;  ///< where the file names it, as DecodeScenario's
};

struct Scenario {
  std::string name;
  TrainingScenario training;
  DecodeScenario decode;
  ProductionScenario production;
  LocalScenario local;
};

Scenario load_scenario(const config::Node& root);

}  // namespace cobench::topo
