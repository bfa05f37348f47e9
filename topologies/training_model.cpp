// SPDX-License-Identifier: Apache-2.0
#include "topologies/training_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"
#include "topologies/model_params.h"
#include "topologies/optimizer_overlap.h"
#include "topologies/serving_model.h"
#include "topologies/serving_ops.h"
#include "topologies/stage_split.h"
#include "topologies/training_layers.h"

namespace cobench::topo {
namespace {

void check(bool ok, const std::string& what) {
  if (!ok) throw Error(what);
}

bool whole(double v) { return std::isfinite(v) && v >= 1 && std::floor(v) == v; }

// What a training setting makes of a model on a cluster, each part checked.
struct Parallelism {
  double gpus = 0, domain = 0;  ///< GPUs of the job; a scale-up domain's
  double dp = 0, micro_batches = 0, ep = 1;
  double layers_total = 0;  ///< the model's layers and MTP modules
};

// Throws cobench::Error naming what a setting gets wrong, by the option or key a user gave.
Parallelism checked_parallelism(const ModelArch& m, const ClusterSpec& c, const TrainingSetting& s,
                                const PerfModel& perf) {
  if (c.node.gpus_per_node == 0 || !c.node.gpu) throw_no_gpus(c, "the training prediction");
  check(perf.has_peaks(),
        fmt::format("{}cluster '{}': the training prediction needs node.gpu.peak_flops and "
                    "hbm_bandwidth",
                    c.node.gpu_at.empty() ? "" : c.node.gpu_at + ": ", c.name));
  const double gpus = s.gpus > 0 ? s.gpus : static_cast<double>(c.gpus());
  const TrainingNames& name = s.names;
  check(whole(s.pp), fmt::format("{}: PP must be a whole number >= 1, got {}", name.pp, s.pp));
  check(whole(s.tp), fmt::format("{}: TP must be a whole number >= 1, got {}", name.tp, s.tp));
  check(whole(s.cp), fmt::format("{}: CP must be a whole number >= 1, got {}", name.cp, s.cp));
  check(whole(gpus) && gpus <= static_cast<double>(c.gpus()),
        fmt::format("{}: GPUs must be a whole number from 1 to the cluster's {}, got {}", name.gpus,
                    c.gpus(), gpus));
  check(std::fmod(gpus, s.pp) == 0,
        fmt::format("{} {} does not divide the {} GPUs ({})", name.pp, s.pp, gpus, name.gpus));
  check(
      std::fmod(gpus, s.pp * s.tp * s.cp) == 0,
      fmt::format("PP {} x TP {} x CP {} = {} ({}, {}, {}) does not divide the {} GPUs ({})", s.pp,
                  s.tp, s.cp, s.pp * s.tp * s.cp, name.pp, name.tp, name.cp, gpus, name.gpus));
  check(whole(s.seq_len), fmt::format("{}: sequence length must be a whole number >= 1, got {}",
                                      name.seq_len, s.seq_len));
  check(whole(s.micro_batch),
        fmt::format("{}: micro-batch must be a whole number of sequences >= 1, got {}",
                    name.micro_batch, s.micro_batch));
  const double domain = static_cast<double>(c.scale_up.domain_gpus > 0 ? c.scale_up.domain_gpus
                                                                       : c.node.gpus_per_node);
  if (s.tp > 1) {
    const AttentionSpec& a = m.attention;
    check(s.tp <= domain && std::fmod(domain, s.tp) == 0,
          fmt::format("{} {} must divide the {} GPUs of cluster '{}''s scale-up domain (its "
                      "all-gathers and reduce-scatters run there)",
                      name.tp, s.tp, domain, c.name));
    check(std::fmod(static_cast<double>(a.num_heads), s.tp) == 0,
          fmt::format("{} {} does not divide the {} attention heads of {}", name.tp, s.tp,
                      a.num_heads, m.name));
    check(a.mla || std::fmod(static_cast<double>(a.num_kv_heads), s.tp) == 0,
          fmt::format("{} {} does not divide the {} KV heads of {} (Megatron-LM splits whole KV "
                      "groups)",
                      name.tp, s.tp, a.num_kv_heads, m.name));
    check(std::fmod(static_cast<double>(m.dense_intermediate), s.tp) == 0,
          fmt::format("{} {} does not divide the FFN width {} of {}", name.tp, s.tp,
                      m.dense_intermediate, m.name));
  }
  if (s.cp > 1) {
    check(!m.attention.mla,
          fmt::format("{} {}: context parallelism is modelled for GQA/MHA attention (K/V "
                      "all-gathered, Llama 3); {} uses MLA",
                      name.cp, s.cp, m.name));
    check(std::fmod(s.seq_len, 2 * s.cp) == 0,
          fmt::format("{} {} needs the sequence length {} ({}) to split into 2 x CP = {} equal "
                      "chunks (load-balanced causal attention)",
                      name.cp, s.cp, s.seq_len, name.seq_len, 2 * s.cp));
  }
  check(whole(s.virtual_stages),
        fmt::format("{}: virtual stages must be a whole number >= 1, got {}", name.interleave,
                    s.virtual_stages));
  const bool interleaved = s.schedule == PipelineSchedule::kInterleaved1F1B;
  check(s.virtual_stages == 1 || interleaved,
        fmt::format("{} virtual stages a stage need the interleaved schedule, not {}",
                    s.virtual_stages, to_string(s.schedule)));
  Parallelism par;
  par.gpus = gpus;
  par.domain = domain;
  par.dp = gpus / (s.pp * s.tp * s.cp);
  const double layers_total = static_cast<double>(m.num_layers + m.mtp_modules);
  par.layers_total = layers_total;
  check(s.pp <= layers_total,
        fmt::format("{} {} exceeds the {} layers of {} (MTP modules included)", name.pp, s.pp,
                    layers_total, m.name));
  const double stage_layers = std::ceil(layers_total / s.pp);
  check(std::fmod(stage_layers, s.virtual_stages) == 0,
        fmt::format("{} {} does not divide the {} layers a stage holds (ceil({} / PP {}))",
                    name.interleave, s.virtual_stages, stage_layers, layers_total, s.pp));
  check(whole(s.global_batch) && std::fmod(s.global_batch, par.dp * s.micro_batch) == 0,
        fmt::format("the global batch of {} sequences ({}) does not split into micro-batches of "
                    "{} ({}) over DP {}",
                    s.global_batch, name.global_batch, s.micro_batch, name.micro_batch, par.dp));
  par.micro_batches = s.global_batch / (par.dp * s.micro_batch);
  if (m.moe) {
    const double ep = s.ep;
    par.ep = ep;
    check(whole(ep) && std::fmod(par.dp, ep) == 0,
          fmt::format("{} {} must be a whole number dividing DP {} (experts are spread over "
                      "the data-parallel ranks of a stage)",
                      name.ep, s.ep, par.dp));
    const double routed = static_cast<double>(m.moe->routed_experts);
    check(std::fmod(routed, ep) == 0,
          fmt::format("{} {} must divide the {} routed experts of {} (whole experts a GPU; "
                      "training places no redundant experts)",
                      name.ep, s.ep, routed, m.name));
  }

  const bool dualpipe = s.schedule == PipelineSchedule::kDualPipe;
  check(!dualpipe || std::fmod(s.pp, 2) == 0,
        fmt::format("DualPipe needs an even number of pipeline stages (each holds a chunk of each "
                    "direction): {} {}",
                    name.pp, s.pp));
  // The simulation times every operation of every stage: a bound far above real runs
  // (DeepSeek-V3: 16 stages x 120 micro-batches) that keeps one prediction under a second.
  constexpr double kMaxStageMicroBatches = 1 << 20;
  check(par.micro_batches * s.pp * s.virtual_stages <= kMaxStageMicroBatches,
        fmt::format("{} micro-batches (global batch {} / (DP {} x micro-batch {})) on {} stages "
                    "x {} chunks exceed the {:.0f} stage-micro-batches the pipeline simulation "
                    "times: give a smaller {} or a larger {}",
                    par.micro_batches, s.global_batch, par.dp, s.micro_batch, s.pp,
                    s.virtual_stages, kMaxStageMicroBatches, name.global_batch, name.micro_batch));
  check(!dualpipe || (std::fmod(par.micro_batches, 2) == 0 && par.micro_batches >= 2 * s.pp),
        fmt::format("DualPipe needs an even number of micro-batches, at least 2 x PP = {:.0f} "
                    "(half fed from each end); {} {} / (DP {} x {} {}) gives {}",
                    2 * s.pp, name.global_batch, s.global_batch, par.dp, name.micro_batch,
                    s.micro_batch, par.micro_batches));
  return par;
}

}  // namespace

const char* to_string(TrainingPrecision p) {
  return p == TrainingPrecision::kBf16 ? "BF16" : "FP8";
}

TrainingPrecision parse_training_precision(const std::string& name) {
  if (name == "fp8") return TrainingPrecision::kFp8;
  if (name == "bf16") return TrainingPrecision::kBf16;
  throw Error(fmt::format("unknown training precision '{}': expected fp8 or bf16", name));
}

TrainingPrediction predict_training(const ModelArch& m, const ClusterSpec& c,
                                    const TrainingSetting& s, const PerfModel& perf) {
  const Parallelism par = checked_parallelism(m, c, s, perf);
  const double gpus = par.gpus, domain = par.domain, layers_total = par.layers_total, ep = par.ep;
  TrainingPrediction p;
  p.dp = par.dp;
  p.micro_batches = par.micro_batches;

  // One micro-batch on one stage: the prefill shapes of micro_batch sequences of seq_len tokens,
  // seq_len / CP of each on a GPU, attending on average to half the sequence (causal).
  ServingShape sh;
  sh.tokens = s.micro_batch * s.seq_len / s.cp;
  sh.sequences = s.micro_batch;
  sh.context = s.seq_len * (s.cp - 1) / (2 * s.cp);
  sh.prefill = true;
  sh.node_dedup = true;
  sh.ep = ep;
  sh.tp = s.tp;
  sh.expert_slots = m.moe ? expert_slots(m, c, ep, 0, "--train-ep") : 0;
  sh.domain_gpus = domain;
  const StepOps ops = step_ops(m, sh);
  const bool bf16_gemms = s.precision == TrainingPrecision::kBf16;
  const LayerContext ctx{perf, ep, s.tp, sh.tokens, static_cast<double>(m.hidden_size), bf16_gemms};
  const LayerTimes moe = m.moe ? layer_times(ops.moe, ctx) : LayerTimes{};
  const LayerTimes dense = layer_times(ops.dense, ctx);

  const double moe_layers_total =
      m.moe ? static_cast<double>(m.num_layers - m.dense_layers + m.mtp_modules) : 0;
  // The LM head on every token of the micro-batch, in BF16 (technical report 3.3.1 keeps the
  // output head in BF16), and again for each MTP module, which runs its own hidden states through
  // the shared head (report 2.2). Logits for every token, not the last of each sequence.
  // Beside them on the last position, each MTP module's projection of its normalized hidden state
  // and embedding (2d -> d, report 2.2) at the GEMM precision: `tail`, all of it, is what the
  // model runs after its layers (its weights: the projections'; the head's are the vocabulary's).
  const LayerTimes head = layer_times(lm_head_ops(m, sh, sh.tokens), ctx);
  const double heads = 1 + static_cast<double>(m.mtp_modules);
  const LayerTimes mtp_proj =
      m.mtp_modules > 0 ? layer_times(mtp_projection_ops(m, sh), ctx) : LayerTimes{};
  const double mtp = static_cast<double>(m.mtp_modules);
  LayerTimes tail;
  for (double LayerTimes::*field :
       {&LayerTimes::f, &LayerTimes::b, &LayerTimes::w, &LayerTimes::recompute, &LayerTimes::f_comm,
        &LayerTimes::b_comm, &LayerTimes::tp_comm, &LayerTimes::saved_bytes})
    tail.*field = heads * head.*field + mtp * mtp_proj.*field;
  tail.params = mtp * mtp_proj.params;

  double cp_layer_s = 0;      // a layer's CP traffic, forward (and again backward)
  double cp_layer_bytes = 0;  // and the K and V it gathers
  if (s.cp > 1) {
    // The K and V of the micro-batch's sequences (BF16, this GPU's KV heads) all-gathered over
    // the CP ranks, (CP-1)/CP of them through each; the gradients reduce-scattered back. The CP
    // group follows TP (Llama 3's order [TP, CP, PP, DP]): inside the scale-up domain while
    // TP x CP fits, else across it.
    const AttentionSpec& a = m.attention;
    Op kv;
    kv.kind = OpKind::kAllReduce;
    const double bytes = (s.cp - 1) / s.cp * s.micro_batch * s.seq_len * 2 *
                         std::max(1.0, static_cast<double>(a.num_kv_heads) / s.tp) *
                         static_cast<double>(a.head_dim) * 2;
    (s.tp * s.cp <= domain ? kv.comm_up_bytes : kv.comm_out_bytes) = bytes;
    cp_layer_s = perf.comm(kv, ep, /*prefill=*/true).seconds;
    cp_layer_bytes = bytes;  // the gathered K and V are kept for the backward
  }

  // Activations (BF16) to the next stage: over the scale-up links while the pipeline group (TP x
  // CP x PP GPUs in Megatron-LM's order [TP, CP, PP, DP]) fits in one scale-up domain, else over
  // the NIC, a GPU's share of its node's.
  const double nic_share =
      static_cast<double>(c.node.nics_per_node) / static_cast<double>(c.node.gpus_per_node);
  const double out_bw = c.scale_out.bandwidth_achievable.value * nic_share;
  const double up_bw = c.scale_up.bandwidth_achievable.value;
  // The link class a group of `span` consecutive GPUs talks over, checked to have a rate.
  // A group fits a domain when it is no larger and divides it (else some groups straddle two).
  auto link = [&](double span, const char* what) {
    const bool up = span <= domain && std::fmod(domain, span) == 0;
    const double bw = up ? up_bw : out_bw;
    check(bw > 0, fmt::format("cluster '{}': {} {} need {}", c.name, what,
                              up ? "inside one scale-up domain" : "across scale-up domains",
                              up ? "scale_up.bandwidth_achievable"
                                 : "scale_out.bandwidth_achievable and node.nics_per_node"));
    return std::pair{bw, up ? c.scale_up.latency.value : c.scale_out.latency_cross_leaf.value};
  };
  double p2p_s = 0, pp_bw = 0, pp_latency_s = 0;
  if (s.pp > 1) {
    std::tie(pp_bw, pp_latency_s) = link(s.tp * s.cp * s.pp, "pipeline stages");
    // Under sequence parallelism each TP rank sends its 1/TP of them.
    p2p_s = sh.tokens * static_cast<double>(m.hidden_size) * 2 / s.tp / pp_bw + pp_latency_s;
  }
  const bool dualpipe = s.schedule == PipelineSchedule::kDualPipe;
  const double compute_share = dualpipe ? perf.compute_share(true) : 1;

  // A chunk of `dense_n` dense and `moe_n` MoE layers with `heads_n` of the LM heads (averages
  // where a stage's chunks differ): F, B and W with its traffic. TP and CP traffic is exposed,
  // in sequence with the chunk's compute; DualPipe's F&B overlaps the rest.
  auto chunk_of = [&](double dense_n, double moe_n, double heads_n) {
    ChunkTimes t;
    auto sum = [&](double LayerTimes::*field) {
      return dense_n * dense.*field + moe_n * moe.*field + heads_n * tail.*field;
    };
    t.layers = dense_n + moe_n;
    t.moe_layers = moe_n;
    t.heads_share = heads_n;
    t.heads_f_s = tail.f;
    t.heads_b_s = tail.b;
    t.heads_w_s = tail.w;
    t.f_compute_s = sum(&LayerTimes::f);
    t.b_compute_s = sum(&LayerTimes::b);
    t.w_compute_s = sum(&LayerTimes::w);
    t.recompute_s = sum(&LayerTimes::recompute);
    t.f_comm_s = sum(&LayerTimes::f_comm);
    t.b_comm_s = sum(&LayerTimes::b_comm);
    t.tp_comm_s = sum(&LayerTimes::tp_comm);
    t.cp_comm_s = t.layers * cp_layer_s;
    t.compute_share = compute_share;
    t.p2p_s = p2p_s;
    const double tp_cp_s = t.tp_comm_s + t.cp_comm_s;
    t.f_s = t.f_compute_s + t.f_comm_s + tp_cp_s;
    t.b_s = t.b_compute_s + t.b_comm_s + tp_cp_s;
    t.w_s = t.w_compute_s;
    t.fb_s = std::max((t.f_compute_s + t.b_compute_s + t.w_compute_s) / t.compute_share,
                      t.f_comm_s + t.b_comm_s) +
             2 * tp_cp_s;
    return t;
  };
  // The whole-layer split (stage_split.h): each stage's chunks are its positions' layers (under
  // DualPipe its rank pair's, half each; interleaved, its v chunks' average), the LM heads on the
  // last position's. The report's chunk is the heaviest rank's, the one that paces the pipeline.
  // A layer's cost to the split is its time in the schedule: F + B + W with its traffic in
  // sequence (1F1B, ZB1P, interleaved); under DualPipe the longer of its compute on the SMs
  // communication leaves and its all-to-all (the F&B pair's rule, layer by layer).
  auto in_schedule = [&](const ChunkTimes& t) { return dualpipe ? t.fb_s : t.f_s + t.b_s + t.w_s; };
  const int positions = static_cast<int>(s.pp * s.virtual_stages);
  const int stages = static_cast<int>(s.pp);
  SplitCosts costs;
  costs.dense_layers = layers_total - moe_layers_total;
  costs.moe_layers = moe_layers_total;
  costs.dense_s = in_schedule(chunk_of(1, 0, 0));
  costs.moe_s = in_schedule(chunk_of(0, 1, 0));
  costs.heads_s = in_schedule(chunk_of(0, 0, 1));  // every head; they gather no K and V

  PipelineSetting ps;
  ps.schedule = s.schedule;
  ps.stages = stages;
  ps.micro_batches = static_cast<int>(p.micro_batches);
  ps.virtual_stages = static_cast<int>(s.virtual_stages);
  ps.p2p_s = p2p_s;
  ps.keep_operations = false;  // the first stage's time by kind is what the report reads
  // Each position's chunk (dense layers, MoE layers, share of the LM heads): its own layers in a
  // line; under DualPipe half of its pair's, as the schedule runs a pair's chunks.
  std::vector<std::array<double, 3>> position_mix(static_cast<std::size_t>(positions));
  // The positions a stage's rank holds: s, s + PP, ... (interleaved); s and PP - 1 - s (DualPipe).
  auto held_positions = [&](int st) {
    std::vector<int> held;
    for (int k = 0; k < static_cast<int>(s.virtual_stages); ++k) held.push_back(k * stages + st);
    if (dualpipe) held.push_back(stages - 1 - st);
    return held;
  };
  // What a micro-batch keeps for its backward (the saved inputs of its operations, recomputed
  // ones left out; the LM heads' inputs, their logits not: the loss's gradient is computed as
  // they are, as fused cross-entropy kernels do).
  const double dense_kept = dense.saved_bytes + cp_layer_bytes;
  const double moe_kept = moe.saved_bytes + cp_layer_bytes;
  const double heads_kept = tail.saved_bytes;
  // Splits the layers, gives each stage its chunk's times and each position its kept bytes, and
  // counts each stage's peak in flight (from the schedule's order: nothing is simulated yet).
  PipelineMemory peaks;
  auto plan = [&](const SplitCosts& split) {
    std::vector<RankLoad> ranks = split_ranks(split, positions, /*mirrored=*/dualpipe);
    for (const RankLoad& r : ranks) {
      const double share = 1.0 / r.positions;
      const std::array<double, 3> mix{r.dense_layers * share, r.moe_layers * share,
                                      r.heads ? share : 0};
      position_mix[static_cast<std::size_t>(r.position)] = mix;
      if (dualpipe) position_mix[static_cast<std::size_t>(positions - 1 - r.position)] = mix;
    }
    // A stage's chunk in the schedule: the average of its positions' (interleaved; under
    // DualPipe its two positions' are the same).
    ps.stage_times.assign(static_cast<std::size_t>(stages), {});
    for (int st = 0; st < stages; ++st) {
      const std::vector<int> held = held_positions(st);
      std::array<double, 3> mix{};
      for (int pos : held)
        for (std::size_t k = 0; k < 3; ++k)
          mix[k] +=
              position_mix[static_cast<std::size_t>(pos)][k] / static_cast<double>(held.size());
      const ChunkTimes t = chunk_of(mix[0], mix[1], mix[2]);
      if (st == 0) p.first_stage = t;
      ps.stage_times[static_cast<std::size_t>(st)] = {t.f_s, t.b_s, t.w_s, in_schedule(t)};
    }
    ps.position_activation_bytes.clear();
    for (const auto& mix : position_mix)
      ps.position_activation_bytes.push_back(mix[0] * dense_kept + mix[1] * moe_kept +
                                             mix[2] * heads_kept);
    peaks = pipeline_memory(ps);
    return ranks;
  };

  // ZeRO-1 after the last backward, on every rank at once: the gradients reduce-scattered and the
  // parameters all-gathered (BF16, rings over the GPUs holding the same weights, across nodes),
  // and the AdamW update of this GPU's shard from HBM. The step waits for the slowest rank.
  // The CP ranks hold the same weights as the DP ones (Megatron-LM reduces gradients and shards
  // the optimizer over DP x CP).
  // Under TP the router and the shared experts are held whole by every device of the group, and
  // the EP groups are formed of the DP ranks of one TP index: those weights have TP times the
  // replicas of the split ones, and their gradients are reduced over all of them.
  const double replicas = p.dp * s.cp;            // GPUs holding the same split weights
  const double whole_replicas = replicas * s.tp;  // the same router and shared experts
  const double expert_dp = replicas * s.tp / ep;  // the same routed experts
  // DualPipe: ranks s and PP - 1 - s both hold the pair of positions s and PP - 1 - s (the
  // reference implementation's modules[rank] and modules[PP - 1 - rank]), so each weight is on
  // `copies` x the GPUs above and a GPU reduces the gradients of both of its stages.
  const double copies = dualpipe ? 2 : 1;
  // DP is the outer dimension, so the rings are priced at the NIC rate unless every GPU of the
  // step shares one domain (conservative for a ring that stays inside a domain of a larger
  // step, as a TP group's router and shared-expert ring can when DP x CP is 1).
  const bool any_ring = copies * std::max({replicas, whole_replicas, expert_dp}) > 1;
  const double ring_bw = any_ring ? link(gpus, "data-parallel rings").first : 0;
  // Weights a rank holds, by how many GPUs hold each.
  struct Held {
    double split = 0, whole = 0, expert = 0;
    double all() const { return split + whole + expert; }
    Held& operator+=(const Held& o) {
      split += o.split, whole += o.whole, expert += o.expert;
      return *this;
    }
  };
  // The rank's optimizer shard (under DualPipe two stages' weights over twice the GPUs).
  auto shard = [&](const Held& h) {
    return (h.split / replicas + h.whole / whole_replicas + h.expert / expert_dp) / copies;
  };
  // BF16 weights and FP32 gradients of what the rank holds, the FP32 master and BF16 moments of
  // its shard.
  auto state_bytes = [&](const Held& h) { return h.all() * (2 + 4) + 8 * shard(h); };
  // Half of a BF16 ring over the GPUs holding the same weights: the gradients' reduce-scatter, or
  // the updated weights' all-gather.
  auto half_ring_s = [&](const Held& h) {
    auto one = [&](double params, double n) {
      n *= copies;
      return n > 1 ? (n - 1) / n * params * 2 / ring_bw : 0;
    };
    return one(h.split, replicas) + one(h.whole, whole_replicas) + one(h.expert, expert_dp);
  };
  // The embedding (vocab-parallel under TP) on the first position; the head's weights on the
  // last, and a copy of the embedding there where the model has MTP modules (they share it,
  // report 2.2) and the rank does not hold the first, each copy with its own optimizer shard
  // (Megatron-LM's embedding group on the first and last stages); the embedding alone where the
  // model ties its head to it and the rank holds both.
  const double vocab_params =
      static_cast<double>(m.vocab_size) * static_cast<double>(m.hidden_size) / s.tp;
  auto head_copies = [&](bool rank_holds_first) {
    if (m.tie_embeddings) return rank_holds_first ? 0.0 : 1.0;
    return m.mtp_modules > 0 && !rank_holds_first ? 2.0 : 1.0;
  };
  const double routed_layer = m.moe ? routed_expert_params(ops.moe) : 0;
  const double whole_layer = m.moe ? tp_whole_params(ops.moe) : 0;
  const Held dense_held{dense.params, 0, 0};
  const Held moe_held{moe.params - routed_layer - whole_layer, whole_layer, routed_layer};
  // The weights a rank of stage `st` holds, position by position.
  auto held_weights = [&](int st) {
    const std::vector<int> held = held_positions(st);
    const bool first = std::find(held.begin(), held.end(), 0) != held.end();
    std::vector<Held> weights;
    for (int pos : held) {
      const auto& mix = position_mix[static_cast<std::size_t>(pos)];
      const bool last = pos == positions - 1;
      const double vocab = (pos == 0 ? 1 : 0) + (last ? head_copies(first) : 0);
      // The MTP projections run whole on a TP rank (serving_ops' mtp_projection_ops): held by
      // every rank of a TP group, as the router and the shared experts are.
      weights.push_back({mix[0] * dense_held.split + mix[1] * moe_held.split + vocab * vocab_params,
                         mix[1] * moe_held.whole + (last ? tail.params : 0),
                         mix[1] * moe_held.expert});
    }
    return weights;
  };
  // Each rank's memory: the report's is the fullest rank's.
  auto account_memory = [&] {
    for (int st = 0; st < stages; ++st) {
      Held h;
      for (const Held& w : held_weights(st)) h += w;
      const double state = state_bytes(h);
      const std::size_t at = static_cast<std::size_t>(st);
      const double activations = peaks.stage_peak_activation_bytes[at];
      if (st == 0 || state + activations > p.state_bytes_per_gpu + p.activation_bytes_per_gpu) {
        p.memory_stage = st;
        p.params_per_gpu = h.all();
        p.state_bytes_per_gpu = state;
        p.activation_bytes_per_gpu = activations;
        p.activation_peak_chunks = peaks.stage_peak_activations[at];
        p.activation_bytes_per_chunk = activations / std::max(1, p.activation_peak_chunks);
      }
    }
  };
  p.hbm_bytes = c.node.gpu->hbm_capacity.value;
  std::vector<RankLoad> ranks = plan(costs);
  account_memory();
  // Where the fullest rank does not fit, the split weighs memory beside time: each rank's
  // layers' state and kept activations at its peak in flight (the schedule's, whatever the
  // split), the vocabulary's state on its ranks. Not for interleaved stages, whose ranks hold
  // several positions.
  if (p.state_bytes_per_gpu + p.activation_bytes_per_gpu > p.hbm_bytes && s.virtual_stages == 1) {
    SplitMemory& mem = costs.memory;
    mem.capacity_bytes = p.hbm_bytes;
    mem.dense_bytes = state_bytes(dense_held);
    mem.moe_bytes = state_bytes(moe_held);
    mem.dense_kept = dense_kept;
    mem.moe_kept = moe_kept;
    mem.heads_kept = heads_kept;
    mem.first_bytes = state_bytes({vocab_params, 0, 0});
    mem.heads_bytes = state_bytes({head_copies(false) * vocab_params, tail.params, 0});
    mem.both_bytes = state_bytes({(1 + head_copies(true)) * vocab_params, tail.params, 0});
    // A pair's layers count at half the larger peak of its two ranks (each chunk half the pair's).
    const std::vector<int>& peak = peaks.stage_peak_activations;
    for (int pos = 0; pos < positions; ++pos) {
      const std::size_t at = static_cast<std::size_t>(pos);
      mem.in_flight.push_back(dualpipe ? 0.5 * std::max(peak[at], peak[positions - 1 - at])
                                       : peak[at]);
    }
    ranks = plan(costs);
    account_memory();
  }
  ps.position_activation_bytes.clear();  // the account above has the peaks in bytes
  p.pipeline = simulate_pipeline(ps);
  // ZeRO-1 on every rank: its reduce-scatters from when each position's gradients are final
  // (optimizer_overlap.h). Where the first stage's embedding has a copy on the last (MTP modules
  // or a tied head, a pipeline of ranks in a line), Megatron-LM sums their gradients after the
  // data-parallel reduction (finalize_model_grads' embedding all-reduce): 2 ranks, BF16, over the
  // pipeline's link, once both have reduced theirs. Every rank's update waits for all of that
  // (the global gradient norm clips the gradients), then the all-gather of its updated weights:
  // the step ends with the rank whose update and all-gather take longest.
  const bool embedding_group = !dualpipe && stages > 1 && (m.mtp_modules > 0 || m.tie_embeddings);
  p.embedding_sync_s = embedding_group ? vocab_params * 2 / pp_bw + pp_latency_s : 0;
  std::vector<double> reduced_s(static_cast<std::size_t>(stages));
  for (int st = 0; st < stages; ++st) {
    const std::vector<int> held = held_positions(st);
    const std::vector<Held> weights = held_weights(st);
    // Layer by layer, as Megatron-LM's buckets reduce them: a position's weights in equal parts,
    // one a layer (at least one), final at equal steps through its last backward.
    std::vector<GradientGroup> groups;
    for (std::size_t k = 0; k < held.size(); ++k) {
      const std::size_t at = static_cast<std::size_t>(held[k]);
      const double start_s = p.pipeline.position_weights_start_s[at];
      const double done_at_s = p.pipeline.position_weights_done_s[at];
      const auto& mix = position_mix[at];
      const int parts = std::max(1, static_cast<int>(std::ceil(mix[0] + mix[1])));
      const double part_s = half_ring_s(weights[k]) / parts;
      for (int j = 1; j <= parts; ++j)
        groups.push_back({start_s + (done_at_s - start_s) * j / parts, part_s});
    }
    reduced_s[static_cast<std::size_t>(st)] =
        gradients_reduced_s(groups, p.pipeline.stage_end_s[static_cast<std::size_t>(st)]);
  }
  if (embedding_group)
    reduced_s.front() = reduced_s.back() =
        std::max(reduced_s.front(), reduced_s.back()) + p.embedding_sync_s;
  const double all_reduced_s = *std::max_element(reduced_s.begin(), reduced_s.end());
  double done_s = 0;  // the longest update and all-gather
  for (int st = 0; st < stages; ++st) {
    Held h;
    for (const Held& w : held_weights(st)) h += w;
    // Per parameter of the shard: FP32 master read and written (8 B), BF16 moments read and
    // written (8 B, the report keeps them in BF16), the FP32 gradient read (4 B), the BF16
    // weight written (2 B).
    Op update;
    update.kind = OpKind::kMemory;
    update.bytes = 22 * shard(h);
    const double update_s = perf.compute(update, true).seconds;
    const double all_gather_s = half_ring_s(h);
    if (st == 0 || update_s + all_gather_s > done_s) {
      done_s = update_s + all_gather_s;
      p.optimizer_stage = st;
      p.optimizer_params = h.all();
      p.update_s = update_s;
      p.dp_ring_s = 2 * all_gather_s;
      // Every rank's pipeline has ended by all_reduced_s.
      p.dp_comm_s = all_reduced_s - p.pipeline.time_s + all_gather_s;
    }
  }
  p.optimizer_s = p.dp_comm_s + p.update_s;
  const RankLoad& load = heaviest_of(ranks);
  p.chunk = chunk_of(load.dense_layers / load.positions, load.moe_layers / load.positions,
                     load.heads ? 1.0 / load.positions : 0);
  const ChunkTimes& ch = p.chunk;
  auto first_stage_s = [&](PipelineOpKind k) {
    return p.pipeline.stage_kind_s.front()[static_cast<std::size_t>(k)];
  };
  p.phase_f_s = first_stage_s(PipelineOpKind::kForward);
  p.phase_b_s =
      first_stage_s(PipelineOpKind::kBackwardInput) + first_stage_s(PipelineOpKind::kBackward);
  p.phase_w_s = first_stage_s(PipelineOpKind::kBackwardWeight);
  p.phase_fb_s = first_stage_s(PipelineOpKind::kForwardBackward);
  p.bubble_s = p.pipeline.time_s - p.pipeline.stage_busy_s.front();
  p.step_s = p.pipeline.time_s + p.optimizer_s;

  const double tokens_per_step = s.global_batch * s.seq_len;
  p.tokens_per_day = tokens_per_step / p.step_s * 86400;
  const double tokens_per_s_per_gpu = tokens_per_step / p.step_s / gpus;
  p.tflops_causal =
      train_flops_per_token(m, s.seq_len, FlopConvention::kExactCausal) * tokens_per_s_per_gpu;
  p.tflops_non_causal =
      train_flops_per_token(m, s.seq_len, FlopConvention::kExactNonCausal) * tokens_per_s_per_gpu;
  const double bf16 = c.node.gpu->peak_bf16 ? c.node.gpu->peak_bf16->value : 0;
  p.mfu_causal = bf16 > 0 ? p.tflops_causal / bf16 : 0;
  p.mfu_non_causal = bf16 > 0 ? p.tflops_non_causal / bf16 : 0;
  const bool comm_bound = ch.f_comm_s + ch.b_comm_s >
                          (ch.f_compute_s + ch.b_compute_s + ch.w_compute_s) / ch.compute_share;
  p.binding = comm_bound ? "ep_all_to_all" : "compute";
  // The pipeline binds where even its busiest stage idles half the time (a light stage idles
  // behind the heavy ones whatever binds them).
  const double busiest =
      *std::max_element(p.pipeline.stage_busy_s.begin(), p.pipeline.stage_busy_s.end());
  if (p.pipeline.time_s - busiest > 0.5 * p.pipeline.time_s) p.binding = "pipeline_bubble";
  return p;
}

}  // namespace cobench::topo
