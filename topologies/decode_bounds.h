// SPDX-License-Identifier: Apache-2.0
// Lower bounds on decode time per output token for a model on a cluster, per layer and
// micro-batch on one device (docs/model.md, "Section 2.3.2"):
//   ep_all_to_all     dispatch + combine bytes over the NIC (EP across nodes) or the scale-up
//                     link (EP inside a node), plus two latencies
//   memory_bandwidth  attention weights, the device's experts and the KV it reads, over HBM
//   compute           expert FLOPs at the FP8 peak, attention at the BF16 peak
// With full overlap the largest binds. On a node without GPUs, activated weights and KV over
// memory bandwidth bound a single sequence. Plain arithmetic: the frontier sweep calls it for
// every configuration.
#pragma once

#include <string>

#include "topologies/cluster.h"
#include "topologies/model_arch.h"
#include "topologies/model_params.h"

namespace cobench::topo {

/// How a step overlaps its work (docs/model.md, "Schedules"):
///   kSequential     compute and the EP all-to-all one after the other;
///   kTwoMicroBatch  DeepSeek's dual micro-batch overlap, simulated on one compute and one
///                   communication stream: one micro-batch computes while another communicates,
///                   with the gaps that the dependencies leave;
///   kFullOverlap    every layer takes micro_batches x the longer side: the ideal that DeepSeek's
///                   5-stage decode pipeline works towards (and the roofline's schedule);
///   kFiveStage      DeepSeek's decode pipeline (open-infra-index day 6) as SGLang implements it
///                   (its "deepseek_blog_decode" strategy): 2 micro-batches, each layer cut into
///                   stages that the compute stream runs in turn, one micro-batch 2 stages
///                   behind the other (five_stage_schedule, serving_model.h).
enum class Schedule { kSequential, kTwoMicroBatch, kFullOverlap, kFiveStage };
const char* to_string(Schedule s);
/// "overlap" | "five-stage" | "full" | "sequential" (the --schedule names); throws naming them.
Schedule parse_schedule(const std::string& name);

struct DecodeSetting {
  /// Query tokens a device holds in one decode step, all micro-batches together (the paper's
  /// EP bound: 2 micro-batches of 32). With MTP each sequence contributes 1 + mtp_depth.
  double tokens_per_device = 64;
  double context_tokens = 4096;  ///< KV length each token attends to
  double weight_bytes = 1;       ///< FP8 weights
  double kv_bytes = 2;           ///< BF16 cache
  /// The weight GEMMs run on BF16 inputs at the BF16 peak (no activation quantization, a BF16
  /// dispatch), instead of DeepSeek-V3's FP8 recipe (--gemm-precision bf16).
  bool bf16_gemms = false;
  double micro_batches = 2;
  double seq_len_train = 4096;
  double train_mfu = 0.3894;     ///< for training throughput on any cluster: the paper's causal MFU
  double ep_degree = 0;          ///< devices the experts spread over; 0: the whole cluster
  double redundant_experts = 0;  ///< expert copies beyond the routed ones (slots = routed + these)
  /// Tensor-parallel degree of attention, dense FFNs and the head (experts stay expert-parallel);
  /// the tp devices of a group hold the same tokens, so each is credited 1/tp of them.
  double tp = 1;
  Schedule schedule = Schedule::kTwoMicroBatch;
  double mtp_depth = 0;          ///< draft tokens a step (multi-token prediction)
  double mtp_acceptance = 0.85;  ///< of each draft token (the paper: 80-90%)
  // Prefill.
  double prefill_tokens_per_device = 16384;  ///< new tokens a device computes in a step
  double prompt_tokens = 0;                  ///< a request's prompt; 0: context_tokens
  double cache_hit = 0;  ///< fraction of prompt tokens whose KV comes from the cache
  /// The format of the EP combine's token copies (core/ep_payload.h: bf16, e4m3, e5m2, e5m6,
  /// logfmt8, logfmt10); DeepSeek-V3 sends BF16.
  std::string combine_format = "bf16";
  /// Routing: false, every device gets exactly its share of the token copies (the
  /// "absolutely balanced" routing of DeepSeek's profiles); true, each copy lands on a device at
  /// random with that share as its expectation (what perfect EPLB leaves of real traffic), and
  /// the busiest device sets the pace (expert_load_factor).
  bool random_routing = false;
  double prefill_ep = 0;  ///< EP degree of prefill; 0: ep_degree
};

struct DecodeBounds {
  double comm_s = 0;     ///< per MoE (else dense) layer and micro-batch
  double memory_s = 0;   ///< per MoE (else dense) layer and micro-batch (CPU node: per token)
  double compute_s = 0;  ///< per MoE (else dense) layer and micro-batch
  const char* binding = "memory_bandwidth";
  double tpot_s = 0;  ///< time per output token of one sequence: step / accepted tokens
  double tokens_per_s_per_user = 0;  ///< 1 / tpot
  double tokens_per_s_per_device = 0;
  bool over_nics = false;  ///< the all-to-all crosses nodes
  Bandwidth link;          ///< the all-to-all's bandwidth
};

DecodeBounds decode_bounds(const ModelArch& m, const ParamBreakdown& p, const ClusterSpec& c,
                           const DecodeSetting& s);

}  // namespace cobench::topo
