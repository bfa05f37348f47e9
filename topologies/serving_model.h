// SPDX-License-Identifier: Apache-2.0
// Predicted decode and prefill speed of a model on a cluster (docs/model.md, "Serving
// prediction"): the operations of a step (serving_ops.h), each timed by the performance model
// (perf_model.h), put together by the schedule. The same step with the roofline performance
// model (datasheet peaks, nominal links, work and communication fully overlapped) is the bound
// the prediction never beats (decode_bounds.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "topologies/cluster.h"
#include "topologies/decode_bounds.h"
#include "topologies/model_arch.h"
#include "topologies/perf_model.h"
#include "topologies/serving_ops.h"

namespace cobench::topo {

/// Expert slots (routed + redundant) for an EP degree: a degree above the routed experts without
/// stated redundancy holds one expert a GPU, the rest as copies (DeepSeek's EP320). Throws when
/// the slots do not split evenly or the degree exceeds the cluster; the error names
/// `ep_option`, the option that set the degree.
double expert_slots(const ModelArch& m, const ClusterSpec& c, double ep, double redundant,
                    std::string_view ep_option = "--ep");
/// The same as a yes/no, for sweeps.
bool expert_slots_fit(const ModelArch& m, double ep, double redundant);

/// EP degrees a sweep tries: every multiple of `unit` GPUs (a node or a scale-up domain) up to
/// 256 units, then a geometric progression (x1.25, rounded to units) to the whole cluster, which
/// is always included. Bounds a sweep of a 100,000-node cluster to a few hundred degrees.
std::vector<std::int64_t> ep_sweep(const ClusterSpec& c, std::int64_t unit);

/// One layer kind's micro-batch in stages: the compute before the dispatch (attention, router),
/// the dispatch, the compute between dispatch and combine (shared and routed experts), the
/// combine; `count` such layers in a row. A layer without EP traffic is all `pre_s`.
struct LayerStages {
  double pre_s = 0, dispatch_s = 0, mid_s = 0, combine_s = 0;
  /// Of pre_s: the work before the attention core (norm, projections); of mid_s: the shared
  /// experts. The five-stage schedule places them apart.
  double prepare_s = 0, shared_s = 0;
  double count = 1;
  double work_s() const { return pre_s + mid_s; }
  double comm_s() const { return dispatch_s + combine_s; }
};

/// DeepSeek's dual micro-batch overlap on one compute and one communication stream: per layer,
/// each micro-batch's pre-dispatch compute in turn and its dispatch as soon as the link is free;
/// then each one's experts once its dispatch has arrived and its combine after; a micro-batch's
/// next layer starts when its combine is done. Returns when the last micro-batch is done.
double list_schedule(const std::vector<LayerStages>& layers, int micro_batches);

/// The five-stage decode pipeline of two micro-batches A and B on one compute stream and one
/// link: DeepSeek's day-6 design ("the attention layer subdivided into two steps, a 5-stage
/// pipeline") as SGLang's `_compute_moe_deepseek_blog_decode` cuts it (five yields a layer,
/// `tbo_delta_stages = 2`). An MoE layer of a micro-batch is five stages:
///   S0  attention, part 1: the work before the attention core (prepare_s)
///   S1  attention, part 2: the core, output projection, norm, router
///   S2  send the dispatch; the shared experts (shared_s)
///   S3  wait for the dispatch; the routed experts; send the combine
///   S4  wait for the combine
/// A layer without traffic is one stage of compute. The stream runs A's first two stages, then
/// A's next and B's two behind in turn, then B's last two: A's dispatch hides behind its shared
/// experts and B's S0, its combine behind B's S1, and the other way round. A wait holds the
/// stream until its message has arrived; messages share the link one after another. Returns
/// when both are done.
double five_stage_schedule(const std::vector<LayerStages>& layers);

/// The busiest of `devices` devices' load over the mean when `copies_mean` token copies are
/// expected on each and every copy picks its device at random (binomial, approximately normal
/// with variance copies_mean (1 - 1/devices)): 1 + z sigma / mean, z = Blom's estimate of the
/// expected maximum of `devices` standard normals, Phi^-1((n - 0.375) / (n + 0.25)). EP144 with
/// 1088 copies a device: 1.079; two devices of 100: 1.042. 1 for one device or no copies.
double expert_load_factor(double copies_mean, double devices);

/// Decode batches come in whole sequences: micro_batches x (1 + mtp_depth) query tokens a device
/// at least, and tokens_per_device a multiple of it (predict_decode refuses others).
double decode_token_unit(const DecodeSetting& s);

/// One timed operation of a step.
struct OpTiming {
  std::string layer;  ///< "dense layer", "MoE layer", "LM head", "MTP draft"
  std::string name;
  std::string kind;
  std::string form;
  double per_step_s = 0;  ///< all layers of its kind and all micro-batches of one step
  std::string source;     ///< measured, published, datasheet
};

struct ServingPrediction {
  bool feasible = true;
  double device_bytes = 0;          ///< weights + KV one device holds
  double hbm_bytes = 0;             ///< its HBM capacity
  double step_s = 0;                ///< one step: every layer and micro-batch (and the MTP draft)
  double compute_s = 0;             ///< of the step: compute-side work, summed
  double comm_s = 0;                ///< of the step: dispatch + combine, summed
  double combine_values = 0;        ///< of the step: values the device's combines send
  const char* binding = "compute";  ///< the longer side: compute or ep_all_to_all
  /// Prefill: the fraction of SMs its compute kernels have beside the communication kernels
  /// of the other micro-batch (PerfModel::compute_share).
  double compute_sm_share = 1;
  // Decode.
  double tpot_s = 0;  ///< step / accepted tokens a sequence
  double tokens_per_s_per_user = 0;
  double tokens_per_s_per_device = 0;  ///< decode output or prefill input tokens
  double sequences_per_device = 0;
  double ep = 0;
  double expert_slots = 0;
  std::vector<OpTiming> ops;  ///< with `detail`
};

/// Decode with `perf`; `detail` fills the per-operation times.
ServingPrediction predict_decode(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& s,
                                 const PerfModel& perf, bool detail = false);
/// Prefill of prompts of `prompt_tokens` (or `context_tokens`), a `cache_hit` fraction of them
/// served from the KV cache: input tokens (hits included) a second a device.
ServingPrediction predict_prefill(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& s,
                                  const PerfModel& perf, bool detail = false);

}  // namespace cobench::topo
