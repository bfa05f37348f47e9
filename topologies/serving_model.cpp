// SPDX-License-Identifier: Apache-2.0
#include "topologies/serving_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>

#include "core/error.h"
#include "topologies/model_params.h"

namespace cobench::topo {
namespace {

// `share`: the fraction of SMs compute kernels have while the layer's communication kernels run
// beside them (PerfModel::compute_share); 1 where nothing overlaps.
LayerStages layer_cost(const LayerOps& l, const PerfModel& perf, double ep, bool prefill,
                       double share, const char* layer, double repeat,
                       std::vector<OpTiming>* detail) {
  LayerStages cost;
  if (perf.is_roofline()) {
    // The bound: each side at its ideal rate, bytes and FLOPs of the whole layer overlapped.
    double flops_s = 0, bytes = 0;
    for (std::size_t i = 0; i < l.size; ++i) {
      const Op& op = l.ops[i];
      if (is_comm(op.kind)) {
        cost.dispatch_s += perf.comm(op, ep, prefill).seconds;
        continue;
      }
      // FLOPs at the precision's peak (a GEMM op's time at zero bytes), bytes at HBM rate.
      Op flops_only = op;
      flops_only.bytes = 0;
      flops_s += perf.compute(flops_only, prefill).seconds;
      bytes += op.bytes;
    }
    Op bytes_only;
    bytes_only.kind = OpKind::kMemory;
    bytes_only.bytes = bytes;
    cost.pre_s = std::max(flops_s, perf.compute(bytes_only, prefill).seconds);
    return cost;
  }
  // Communication before the first compute that follows communication is the dispatch stage
  // (an EP dispatch, a TP all-reduce), compute after it the middle stage, communication after
  // that the combine stage.
  // Compute shares the SMs only with communication that moves bytes (EP1 prefill moves none).
  bool communicated = false, middle = false, has_comm = false, attention_seen = false;
  for (std::size_t i = 0; i < l.size; ++i)
    has_comm = has_comm ||
               (is_comm(l.ops[i].kind) && l.ops[i].comm_up_bytes + l.ops[i].comm_out_bytes > 0);
  const double slowdown = has_comm ? 1 / share : 1;
  for (std::size_t i = 0; i < l.size; ++i) {
    const Op& op = l.ops[i];
    const bool comm = is_comm(op.kind);
    OpTime t = comm ? perf.comm(op, ep, prefill) : perf.compute(op, prefill);
    if (!comm) t.seconds *= slowdown;
    if (comm) {
      (middle ? cost.combine_s : cost.dispatch_s) += t.seconds;
      communicated = true;
    } else if (communicated) {
      cost.mid_s += t.seconds;
      if (std::string_view(op.name).starts_with("moe.shared")) cost.shared_s += t.seconds;
      middle = true;
    } else {
      cost.pre_s += t.seconds;
      attention_seen = attention_seen || op.kind == OpKind::kAttention;
      if (!attention_seen) cost.prepare_s += t.seconds;
    }
    if (detail)
      detail->push_back(
          {layer, op.name, to_string(op.kind), op.form, t.seconds * repeat, to_string(t.source)});
  }
  return cost;
}

// Communication kernels run beside compute only when micro-batches overlap.
double overlap_share(const DecodeSetting& s, const PerfModel& perf, bool prefill) {
  return s.schedule != Schedule::kSequential && s.micro_batches > 1 ? perf.compute_share(prefill)
                                                                    : 1;
}

struct Step {
  double time_s = 0, work_s = 0, comm_s = 0;
  double combine_values = 0;  // values the step's combines send
};

double step_time(const std::vector<LayerStages>& layers, double micro_batches, Schedule s,
                 bool roofline) {
  double t = 0;
  if (!roofline && s == Schedule::kTwoMicroBatch && micro_batches > 1 &&
      micro_batches == std::floor(micro_batches) && micro_batches <= 64)
    return list_schedule(layers, static_cast<int>(micro_batches));
  if (!roofline && s == Schedule::kFiveStage) return five_stage_schedule(layers);
  const bool overlap = roofline || (s != Schedule::kSequential && micro_batches > 1);
  for (const LayerStages& l : layers)
    t += l.count * micro_batches *
         (overlap ? std::max(l.work_s(), l.comm_s()) : l.work_s() + l.comm_s());
  return t;
}

// Dense layers, MoE layers and the LM head of one step; `detail` receives per-step op times.
Step run_step(const ModelArch& m, const ServingShape& sh, const DecodeSetting& s,
              const PerfModel& perf, const char* prefix, std::vector<OpTiming>* detail,
              bool only_one_layer = false) {
  const StepOps ops = step_ops(m, sh);
  Step st;
  const double mb = s.micro_batches;
  const double share = overlap_share(s, perf, sh.prefill);
  std::vector<LayerStages> layers;
  auto add = [&](const LayerOps& l, double count) {
    if (count <= 0 || l.size == 0) return;
    LayerStages c = layer_cost(l, perf, sh.ep, sh.prefill, share, prefix[0] ? prefix : l.name,
                               count * mb, detail);
    c.count = count;
    layers.push_back(c);
    st.work_s += count * mb * c.work_s();
    st.comm_s += count * mb * c.comm_s();
    for (std::size_t i = 0; i < l.size; ++i)
      if (l.ops[i].kind == OpKind::kCombine) st.combine_values += count * mb * l.ops[i].comm_values;
  };
  if (only_one_layer) {
    // The MTP module: its projection, one transformer block (MoE where the model has experts)
    // and the head.
    add(mtp_projection_ops(m, sh), 1);
    add(m.moe ? ops.moe : ops.dense, 1);
  } else {
    add(ops.dense, ops.dense.count);
    add(ops.moe, ops.moe.count);
  }
  add(ops.lm_head, 1);
  st.time_s = step_time(layers, mb, s.schedule, perf.is_roofline());
  return st;
}

// The busiest device's share under random routing (1 when balanced): its token copies of one
// micro-batch, tokens x top-k, over the EP group.
double expert_load(const ModelArch& m, const DecodeSetting& s, const ServingShape& sh) {
  if (!s.random_routing || !m.moe) return 1;
  return expert_load_factor(sh.tokens / sh.tp * static_cast<double>(m.moe->top_k), sh.ep);
}

ServingShape base_shape(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& s, double ep,
                        std::string_view ep_option = "--ep") {
  ServingShape sh;
  sh.weight_bytes = s.weight_bytes;
  sh.gemm_precision = s.bf16_gemms ? OpPrecision::kBf16 : OpPrecision::kFp8;
  sh.kv_bytes = s.kv_bytes;
  sh.combine = find_ep_wire_format(s.combine_format);
  if (!sh.combine)
    throw Error(fmt::format("unknown combine format '{}': expected {}", s.combine_format,
                            ep_wire_format_names()));
  sh.ep = ep;
  sh.expert_slots = m.moe ? expert_slots(m, c, ep, s.redundant_experts, ep_option) : 0;
  sh.domain_gpus = static_cast<double>(c.scale_up.domain_gpus > 0 ? c.scale_up.domain_gpus
                                                                  : c.node.gpus_per_node);
  sh.tp = s.tp;
  if (!(s.tp >= 1 && std::floor(s.tp) == s.tp))
    throw Error(fmt::format("--tp: TP degree must be a whole number >= 1, got {}", s.tp));
  if (std::fmod(static_cast<double>(m.attention.num_heads), s.tp) != 0)
    throw Error(fmt::format("--tp {0}: TP {0} does not divide the {1} attention heads of {2}", s.tp,
                            m.attention.num_heads, m.name));
  if (s.tp > sh.domain_gpus)
    throw Error(
        fmt::format("--tp {0}: TP {0} spans more than one scale-up domain of {1} GPUs: not modeled",
                    s.tp, sh.domain_gpus));
  return sh;
}

double ep_of(const ClusterSpec& c, double ep) {
  return ep > 0 ? ep : static_cast<double>(c.gpus());
}

void check_peaks(const ClusterSpec& c, const PerfModel& perf) {
  if (!perf.has_peaks())
    throw Error(
        fmt::format("{}cluster '{}': the serving prediction needs node.gpu.peak_flops (bf16, "
                    "and fp8 where the GPU has FP8 tensor cores) and hbm_bandwidth, "
                    "from the cluster file or measured",
                    c.node.gpu_at.empty() ? "" : c.node.gpu_at + ": ", c.name));
}

void check_setting(const DecodeSetting& s) {
  auto positive = [](double v, const char* what) {
    if (!(std::isfinite(v) && v > 0))
      throw Error(fmt::format("{} must be a finite number > 0, got {}", what, v));
  };
  positive(s.tokens_per_device, "tokens a device");
  positive(s.micro_batches, "micro-batches");
  positive(s.weight_bytes, "weight bytes");
  positive(s.kv_bytes, "KV bytes");
  if (!(std::isfinite(s.context_tokens) && s.context_tokens >= 0))
    throw Error(fmt::format("context must be a finite number >= 0, got {}", s.context_tokens));
  if (!(s.mtp_depth >= 0 && s.mtp_depth <= 8 && std::floor(s.mtp_depth) == s.mtp_depth))
    throw Error(fmt::format("MTP depth must be a whole number 0 to 8, got {}", s.mtp_depth));
  if (!(s.mtp_acceptance >= 0 && s.mtp_acceptance <= 1))
    throw Error(fmt::format("MTP acceptance must be in [0, 1], got {}", s.mtp_acceptance));
  if (s.schedule == Schedule::kFiveStage && s.micro_batches != 2)
    throw Error(
        fmt::format("the five-stage schedule overlaps 2 micro-batches, got {}", s.micro_batches));
  if (!(s.cache_hit >= 0 && s.cache_hit < 1))
    throw Error(fmt::format("cache hit fraction must be in [0, 1), got {}", s.cache_hit));
}

// `sequences`: those the device's TP group holds. MLA's latent cache is replicated across a TP
// group; GQA's KV heads are split (at least one a device).
void fill_memory(const ModelArch& m, const ClusterSpec& c, const ServingShape& sh, double sequences,
                 double kv_tokens, double kv_bytes, ServingPrediction& p) {
  const double kv_heads = static_cast<double>(m.attention.num_kv_heads);
  const double kv_share =
      m.attention.mla || kv_heads <= 0 ? 1.0 : std::max(1.0, kv_heads / sh.tp) / kv_heads;
  // An MTP module caches one more layer's KV.
  const double layers = static_cast<double>(m.num_layers);
  const double kv_layers = (layers + sh.mtp_modules) / layers;
  p.device_bytes = device_weight_bytes(m, sh) + sequences * kv_tokens *
                                                    kv_bytes_per_token(m, kv_bytes).value *
                                                    kv_share * kv_layers;
  p.hbm_bytes = c.node.gpu->hbm_capacity.value;
  p.feasible = p.device_bytes <= p.hbm_bytes;
}

}  // namespace

std::vector<std::int64_t> ep_sweep(const ClusterSpec& c, std::int64_t unit) {
  std::vector<std::int64_t> out;
  unit = std::max<std::int64_t>(1, unit);
  const std::int64_t total = c.gpus();
  for (std::int64_t n = 1; n <= 256 && n * unit <= total; ++n) out.push_back(n * unit);
  for (double ep = 256.0 * static_cast<double>(unit) * 1.25; ep < static_cast<double>(total);
       ep *= 1.25) {
    const std::int64_t e = static_cast<std::int64_t>(ep) / unit * unit;
    if (e > out.back()) out.push_back(e);
  }
  if (out.empty() || out.back() != total) out.push_back(total);
  return out;
}

double list_schedule(const std::vector<LayerStages>& layers, int micro_batches) {
  std::vector<double> ready(static_cast<size_t>(micro_batches), 0.0), arrived(ready);
  double compute = 0, link = 0;
  for (const LayerStages& l : layers) {
    for (double n = 0; n < l.count; ++n) {
      const bool comm = l.comm_s() > 0;
      for (size_t i = 0; i < ready.size(); ++i) {
        compute = std::max(compute, ready[i]) + l.pre_s;
        arrived[i] = comm ? (link = std::max(link, compute) + l.dispatch_s) : compute;
      }
      for (size_t i = 0; i < ready.size(); ++i) {
        compute = std::max(compute, arrived[i]) + l.mid_s;
        ready[i] = comm ? (link = std::max(link, compute) + l.combine_s) : compute;
      }
    }
  }
  return *std::max_element(ready.begin(), ready.end());
}

double five_stage_schedule(const std::vector<LayerStages>& layers) {
  // One micro-batch's stages in order: compute, and the messages sent and awaited.
  struct Stage {
    double compute_before = 0;
    double dispatch_s = -1;  // >= 0: send a dispatch of this length
    bool wait_dispatch = false;
    double compute_after = 0;
    double combine_s = -1;  // >= 0: send a combine of this length
    bool wait_combine = false;
  };
  std::vector<Stage> program;
  for (const LayerStages& l : layers)
    for (double n = 0; n < l.count; ++n) {
      if (l.comm_s() <= 0) {  // a layer without traffic (a dense layer, the head): one stage
        program.push_back({l.pre_s + l.mid_s});
        continue;
      }
      program.push_back({l.prepare_s});                                     // S0 attention part 1
      program.push_back({l.pre_s - l.prepare_s});                           // S1 attention part 2
      program.push_back({0, l.dispatch_s, false, l.shared_s});              // S2 dispatch, shared
      program.push_back({0, -1, true, l.mid_s - l.shared_s, l.combine_s});  // S3 experts
      program.push_back({0, -1, false, 0, -1, true});                       // S4 combine
    }
  double compute = 0, link = 0;
  double dispatch_arrives[2] = {0, 0}, combine_arrives[2] = {0, 0};
  auto run = [&](int mb, const Stage& st) {
    compute += st.compute_before;
    if (st.dispatch_s >= 0) dispatch_arrives[mb] = link = std::max(link, compute) + st.dispatch_s;
    if (st.wait_dispatch) compute = std::max(compute, dispatch_arrives[mb]);
    compute += st.compute_after;
    if (st.combine_s >= 0) combine_arrives[mb] = link = std::max(link, compute) + st.combine_s;
    if (st.wait_combine) compute = std::max(compute, combine_arrives[mb]);
  };
  constexpr std::size_t kDelta = 2;  // B runs this many stages behind A
  const std::size_t n = program.size();
  for (std::size_t k = 0; k < n + kDelta; ++k) {
    if (k < n) run(0, program[k]);
    if (k >= kDelta) run(1, program[k - kDelta]);
  }
  return std::max(compute, link);
}

Schedule parse_schedule(const std::string& name) {
  if (name == "overlap") return Schedule::kTwoMicroBatch;
  if (name == "five-stage") return Schedule::kFiveStage;
  if (name == "full") return Schedule::kFullOverlap;
  if (name == "sequential") return Schedule::kSequential;
  throw Error(
      fmt::format("unknown schedule '{}': expected overlap, five-stage, full or sequential", name));
}

const char* to_string(Schedule s) {
  switch (s) {
    case Schedule::kSequential:
      return "sequential";
    case Schedule::kTwoMicroBatch:
      return "two-micro-batch overlap";
    case Schedule::kFullOverlap:
      return "full overlap";
    case Schedule::kFiveStage:
      return "five-stage pipeline";
  }
  return "?";
}

double expert_load_factor(double copies_mean, double devices) {
  if (!(devices > 1 && copies_mean > 0)) return 1;
  const double p = (devices - 0.375) / (devices + 0.25);
  // Phi^-1(p) by bisection on Phi(x) = erfc(-x / sqrt 2) / 2 (increasing); p < 1, so x < 9.
  double lo = 0, hi = 9;
  for (int i = 0; i < 80; ++i) {
    const double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  const double z = (lo + hi) / 2;
  return 1 + z * std::sqrt(copies_mean * (1 - 1 / devices)) / copies_mean;
}

double decode_token_unit(const DecodeSetting& s) { return s.micro_batches * (1 + s.mtp_depth); }

// Routed + redundant; without stated redundancy a degree above the routed experts holds one a
// GPU, the rest as copies.
static double slots_of(const ModelArch& m, double ep, double redundant) {
  const double routed = static_cast<double>(m.moe->routed_experts);
  return redundant > 0 ? routed + redundant : std::max(routed, ep);
}

bool expert_slots_fit(const ModelArch& m, double ep, double redundant) {
  if (!m.moe) return true;
  if (!(ep >= 1 && std::floor(ep) == ep)) return false;
  return std::fmod(slots_of(m, ep, redundant), ep) == 0;
}

double expert_slots(const ModelArch& m, const ClusterSpec& c, double ep, double redundant,
                    std::string_view ep_option) {
  if (!m.moe) return 0;
  if (!(std::isfinite(redundant) && redundant >= 0 && std::floor(redundant) == redundant))
    throw Error(fmt::format("redundant experts must be a whole number >= 0, got {}", redundant));
  if (!(ep >= 1 && std::floor(ep) == ep))
    throw Error(fmt::format("{}: EP degree must be a whole number >= 1, got {}", ep_option, ep));
  if (ep > static_cast<double>(c.gpus()))
    throw Error(
        fmt::format("{}: EP degree {} exceeds the cluster's {} GPUs", ep_option, ep, c.gpus()));
  const double slots = slots_of(m, ep, redundant);
  if (std::fmod(slots, ep) != 0)
    throw Error(fmt::format(
        "{} routed + {} redundant experts do not divide evenly among {} GPUs (give "
        "{} and --redundant-experts so that they do: DeepSeek serves EP144 with "
        "256 + 32)",
        m.moe->routed_experts, slots - static_cast<double>(m.moe->routed_experts), ep, ep_option));
  return slots;
}

ServingPrediction predict_decode(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& s,
                                 const PerfModel& perf, bool detail) {
  check_setting(s);
  // The drafts run the model's own MTP module (DeepSeek-V3's one, reused at every depth); a model
  // without one would be credited tokens from a block it does not have.
  if (s.mtp_depth > 0 && m.mtp_modules == 0)
    throw Error(
        fmt::format("--mtp-depth {}: {} has no multi-token-prediction module (mtp_modules: 0 "
                    "in its model file)",
                    s.mtp_depth, m.name));
  if (c.node.gpus_per_node == 0 || !c.node.gpu) throw_no_gpus(c, "the serving prediction");
  check_peaks(c, perf);
  const double unit = decode_token_unit(s);
  if (std::fmod(s.tokens_per_device, unit) != 0)
    throw Error(fmt::format(
        "--tokens-per-device {} does not split into --micro-batches {} of whole sequences of {} "
        "query token(s) each (1 + --mtp-depth): give a multiple of {}",
        s.tokens_per_device, s.micro_batches, 1 + s.mtp_depth, unit));
  ServingPrediction p;
  p.ep = ep_of(c, s.ep_degree);
  ServingShape sh = base_shape(m, c, s, p.ep);
  p.expert_slots = sh.expert_slots;
  const double query_per_seq = 1 + s.mtp_depth;
  sh.tokens = s.tokens_per_device / s.micro_batches;
  sh.expert_load = expert_load(m, s, sh);
  sh.sequences = sh.tokens / query_per_seq;
  sh.context = s.context_tokens;
  sh.mtp_modules = s.mtp_depth > 0 ? 1 : 0;  // DeepSeek reuses its one module at every depth
  p.sequences_per_device = s.tokens_per_device / query_per_seq / s.tp;
  fill_memory(m, c, sh, s.tokens_per_device / query_per_seq, s.context_tokens, s.kv_bytes, p);

  std::vector<OpTiming>* d = detail ? &p.ops : nullptr;
  Step step = run_step(m, sh, s, perf, "", d);
  if (s.mtp_depth > 0) {
    // The draft: depth sequential passes of the MTP module, one token a sequence each.
    ServingShape draft = sh;
    draft.tokens = sh.sequences;
    draft.expert_load = expert_load(m, s, draft);
    std::vector<OpTiming> draft_ops;
    const Step one = run_step(m, draft, s, perf, "MTP draft", d ? &draft_ops : nullptr, true);
    for (OpTiming& t : draft_ops) {
      t.per_step_s *= s.mtp_depth;
      p.ops.push_back(t);
    }
    step.time_s += s.mtp_depth * one.time_s;
    step.work_s += s.mtp_depth * one.work_s;
    step.comm_s += s.mtp_depth * one.comm_s;
    step.combine_values += s.mtp_depth * one.combine_values;
  }
  p.step_s = step.time_s;
  p.compute_s = step.work_s;
  p.comm_s = step.comm_s;
  p.combine_values = step.combine_values;
  p.binding = step.comm_s <= step.work_s ? "compute" : m.moe ? "ep_all_to_all" : "tp_all_reduce";
  // Accepted tokens a sequence a step: the verified token and each draft token while every
  // earlier one was accepted.
  double accepted = 1, chain = 1;
  for (int i = 0; i < static_cast<int>(s.mtp_depth); ++i) accepted += (chain *= s.mtp_acceptance);
  p.tpot_s = p.step_s / accepted;
  p.tokens_per_s_per_user = accepted / p.step_s;
  p.tokens_per_s_per_device = p.sequences_per_device * accepted / p.step_s;
  return p;
}

ServingPrediction predict_prefill(const ModelArch& m, const ClusterSpec& c,
                                  const DecodeSetting& setting, const PerfModel& perf,
                                  bool detail) {
  check_setting(setting);
  // The five-stage pipeline is decode's; prefill keeps the two-micro-batch overlap (SGLang's
  // prefill strategy, tbo_delta_stages = 0).
  DecodeSetting s = setting;
  if (s.schedule == Schedule::kFiveStage) s.schedule = Schedule::kTwoMicroBatch;
  if (!(std::isfinite(s.prefill_tokens_per_device) && s.prefill_tokens_per_device > 0))
    throw Error(
        fmt::format("prefill tokens a device must be > 0, got {}", s.prefill_tokens_per_device));
  if (c.node.gpus_per_node == 0 || !c.node.gpu) throw_no_gpus(c, "the serving prediction");
  check_peaks(c, perf);
  ServingPrediction p;
  p.ep = ep_of(c, s.prefill_ep > 0 ? s.prefill_ep : s.ep_degree);
  ServingShape sh = base_shape(m, c, s, p.ep, s.prefill_ep > 0 ? "--prefill-ep" : "--ep");
  p.expert_slots = sh.expert_slots;
  const double prompt = s.prompt_tokens > 0 ? s.prompt_tokens : s.context_tokens;
  if (!(prompt >= 1)) throw Error("prefill needs a prompt of at least one token");
  const double new_per_seq = std::max(1.0, prompt * (1 - s.cache_hit));
  sh.prefill = true;
  sh.node_dedup = true;
  sh.tokens = s.prefill_tokens_per_device / s.micro_batches;
  sh.expert_load = expert_load(m, s, sh);
  sh.sequences = sh.tokens / new_per_seq;
  sh.context = prompt - new_per_seq;  // the cached prefix
  p.sequences_per_device = s.prefill_tokens_per_device / new_per_seq / s.tp;
  // A prompt longer than a step's chunk is prefilled over several steps (chunked prefill), and
  // its whole KV stays resident meanwhile: the device holds at least one prompt's KV.
  fill_memory(m, c, sh, std::max(1.0, s.prefill_tokens_per_device / new_per_seq), prompt,
              s.kv_bytes, p);
  const Step step = run_step(m, sh, s, perf, "", detail ? &p.ops : nullptr);
  p.compute_sm_share = step.comm_s > 0 ? overlap_share(s, perf, true) : 1;
  p.step_s = step.time_s;
  p.compute_s = step.work_s;
  p.comm_s = step.comm_s;
  p.binding = step.comm_s <= step.work_s ? "compute" : m.moe ? "ep_all_to_all" : "tp_all_reduce";
  p.tokens_per_s_per_device = p.sequences_per_device * prompt / p.step_s;
  return p;
}

}  // namespace cobench::topo
