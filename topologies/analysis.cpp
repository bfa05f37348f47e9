// SPDX-License-Identifier: Apache-2.0
#include "topologies/analysis.h"

#include <fmt/format.h>

#include "core/error.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "topologies/decode_bounds.h"
#include "topologies/economics.h"
#include "topologies/model_params.h"
#include "topologies/perf_model.h"
#include "topologies/serving_model.h"

namespace cobench::topo {
namespace {

// A combine in another format than BF16: what the step gains over BF16 if the codec were free,
// and the codec rate at which the gain is used up (encode before the send, decode after it,
// none of it overlapped: the break-even a fused codec has to beat).
template <class Row>
void combine_format_rows(const Row& in, nlohmann::json& inference, const ModelArch& m,
                         const ClusterSpec& c, const DecodeSetting& s, const PerfModel& perf,
                         const ServingPrediction& decode) {
  DecodeSetting bf16 = s;
  bf16.combine_format = "bf16";
  const ServingPrediction base = predict_decode(m, c, bf16, perf);
  const double saved_s = base.step_s - decode.step_s;
  nlohmann::json j = {{"format", s.combine_format},
                      {"step_s_bf16", base.step_s},
                      {"saved_s_per_step", saved_s},
                      {"values_per_step", decode.combine_values}};
  in("inference.combine.saved_s",
     fmt::format("combine in {}: step time saved against BF16 (codec free)", s.combine_format),
     saved_s * 1e3, "ms",
     fmt::format("step {:.4g} ms against {:.4g} ms with BF16 combine ({:+.1f}%)",
                 decode.step_s * 1e3, base.step_s * 1e3, 100 * (decode.step_s / base.step_s - 1)));
  if (saved_s > 0 && decode.combine_values > 0) {
    const double rate = decode.combine_values / saved_s;
    j["break_even_values_per_s"] = rate;
    in("inference.combine.break_even_values_per_s",
       "combine codec break-even: values encoded and decoded a second, per GPU", rate / 1e9,
       "G values/s",
       fmt::format("its {:.3g} M values a step must be encoded and decoded in the {:.3g} ms "
                   "saved; a slower codec loses",
                   decode.combine_values / 1e6, saved_s * 1e3));
  }
  inference["combine"] = j;
}

struct Bound {
  const char* name;
  double seconds_per_layer_step;  // one layer, one micro-batch
};

TopologySize fabric_size(const ClusterSpec& c) {
  const std::int64_t k = c.fabric.switch_radix;
  switch (c.fabric.kind) {
    case FabricKind::kFatTree2:
    case FabricKind::kMultiRail:
      return fat_tree_2(k);
    case FabricKind::kMultiPlaneFatTree:
      return multi_plane_fat_tree(k, c.fabric.planes);
    case FabricKind::kFatTree3:
      return fat_tree_3(k);
    case FabricKind::kSlimFly:
      return slim_fly(k);
    case FabricKind::kDragonfly:
      return dragonfly(k);
    case FabricKind::kNone:
      break;
  }
  return {"none", 0, 0, 0, 0, 0, "no scale-out fabric"};
}

}  // namespace

Analysis analyze(const ModelArch& m, const ClusterSpec& datasheet, const DecodeSetting& s,
                 const MeasuredInputs* measured, const MeasuredTables* tables) {
  Analysis a;
  Report& r = a.report;
  r.title = fmt::format("{} on {}", m.name, datasheet.name);
  auto row = [&r](std::string section, std::string key, std::string quantity, double value,
                  std::string unit, std::string note = "") {
    r.rows.push_back({std::move(section), std::move(key), std::move(quantity), std::nullopt, value,
                      std::move(unit), 0, std::move(note), false});
  };

  // Inputs: measured values replace the datasheet's; both are reported.
  ClusterSpec c = datasheet;
  const std::vector<InputComparison> changed =
      measured ? apply_measured(c, *measured) : std::vector<InputComparison>{};
  a.json["inputs"] = nlohmann::json::array();
  for (const InputComparison& in : changed) {
    a.json["inputs"].push_back({{"input", in.input},
                                {"datasheet", in.datasheet},
                                {"measured", in.measured},
                                {"source", in.source},
                                {"used", "measured"}});
    const std::string unit = measured_input_unit(in.input);
    row("inputs (measured values replace the datasheet's)", "inputs." + in.input,
        fmt::format("{}: datasheet {}, measured", in.input,
                    in.datasheet > 0 ? format_quantity(in.datasheet, unit)
                                     : std::string("not in the datasheet")),
        in.measured, unit, in.source);
  }
  auto driven_by = [&changed](const std::string& bound) {
    std::string which;
    for (const std::string& in : inputs_of_bound(bound))
      for (const InputComparison& c2 : changed)
        if (c2.input == in) which += (which.empty() ? "" : ", ") + in;
    return which.empty() ? std::string("datasheet values") : "measured " + which;
  };
  const ParamBreakdown p = count_params(m);
  const double kv_token = kv_bytes_per_token(m, s.kv_bytes).value;

  // Memory: weights and KV cache in the cluster's HBM (or the CPU node's memory).
  const bool gpu = c.node.gpus_per_node > 0 && c.node.gpu;
  const double memory_per_device =
      gpu ? c.node.gpu->hbm_capacity.value : (c.node.cpu ? c.node.cpu->memory_capacity.value : 0);
  const double devices = gpu ? static_cast<double>(c.gpus()) : static_cast<double>(c.nodes);
  const double weights = p.total() * s.weight_bytes;
  const double free_bytes = std::max(0.0, memory_per_device * devices - weights);
  const double kv_tokens = free_bytes / kv_token;
  const double kv_sequences = s.context_tokens > 0 ? kv_tokens / s.context_tokens : 0;
  a.json["memory"] = {{"params_total", p.total()},
                      {"params_active", p.active()},
                      {"params_active_non_embedding", p.active_non_embedding()},
                      {"weight_bytes", weights},
                      {"kv_bytes_per_token", kv_token},
                      {"kv_capacity_tokens", kv_tokens},
                      {"kv_capacity_sequences", kv_sequences}};
  const std::pair<const char*, double> parts[] = {{"embedding", p.embedding},
                                                  {"lm_head", p.lm_head},
                                                  {"attention", p.attention},
                                                  {"norms", p.norms},
                                                  {"dense_ffn", p.dense_ffn},
                                                  {"shared_experts", p.shared_experts},
                                                  {"routed_experts", p.routed_experts},
                                                  {"routed_experts_active", p.routed_active},
                                                  {"router", p.router}};
  for (const auto& [name, value] : parts) a.json["memory"]["params"][name] = value;
  a.json["model_shape"] = {{"attention", std::string(to_string(m.attention.kind))},
                           {"layers", m.num_layers},
                           {"hidden_size", m.hidden_size},
                           {"dense_layers", m.dense_layers}};
  if (m.moe)
    a.json["model_shape"]["moe"] = {{"routed_experts", m.moe->routed_experts},
                                    {"shared_experts", m.moe->shared_experts},
                                    {"top_k", m.moe->top_k},
                                    {"groups", m.moe->groups},
                                    {"groups_per_token", m.moe->groups_per_token}};
  row("memory", "memory.params_total", "parameters, total", p.total(), "params");
  row("memory", "memory.params_active", "parameters, activated per token", p.active(), "params");
  for (const auto& [name, value] : parts)
    if (value > 0)
      row("memory", fmt::format("memory.params.{}", name), fmt::format("  of which {}", name),
          value, "params");
  row("memory", "memory.kv_bytes_per_token",
      fmt::format("KV cache per token ({}, {} B elements)", to_string(m.attention.kind),
                  s.kv_bytes),
      kv_token / 1e3, "KB");
  row("memory", "memory.kv_capacity_tokens",
      fmt::format("KV tokens that fit next to {:.1f} B weights at {} B/param", p.total() / 1e9,
                  s.weight_bytes),
      kv_tokens, "tokens", weights > memory_per_device * devices ? "the weights do not fit" : "");
  row("memory", "memory.kv_capacity_sequences",
      fmt::format("concurrent sequences of {:.0f} tokens", s.context_tokens), kv_sequences, "seqs");

  // Compute: training FLOPs per token.
  const double train = train_flops_per_token(m, s.seq_len_train, FlopConvention::kExactCausal);
  a.json["compute"] = {{"train_flops_per_token", train},
                       {"convention", "exact-causal"},
                       {"seq_len", s.seq_len_train}};
  row("compute", "compute.train_flops_per_token",
      fmt::format("training FLOPs per token at {:.0f} (exact-causal)", s.seq_len_train),
      train / 1e9, "GFLOP");
  if (gpu && c.node.gpu->peak_bf16) {
    // Training throughput at an assumed MFU against the BF16 peak (default: the paper's 38.94%).
    const double tokens_per_s =
        static_cast<double>(c.gpus()) * c.node.gpu->peak_bf16->value * s.train_mfu / train;
    const double gpu_hours_per_t = 1e12 / tokens_per_s * static_cast<double>(c.gpus()) / 3600.0;
    a.json["compute"]["train_mfu"] = s.train_mfu;
    a.json["compute"]["train_tokens_per_day"] = tokens_per_s * 86400;
    a.json["compute"]["train_gpu_hours_per_trillion_tokens"] = gpu_hours_per_t;
    row("compute", "compute.train_tokens_per_day",
        fmt::format("training tokens per day on {} GPUs at {:.2f}% MFU", c.gpus(),
                    100 * s.train_mfu),
        tokens_per_s * 86400, "tokens");
    row("compute", "compute.train_gpu_hours_per_trillion_tokens", "GPU-hours per trillion tokens",
        gpu_hours_per_t / 1e3, "K GPU-h");
    if (c.gpu_hour_usd) {
      a.json["compute"]["train_usd_per_trillion_tokens"] = gpu_hours_per_t * *c.gpu_hour_usd;
      row("compute", "compute.train_usd_per_trillion_tokens", "training cost per trillion tokens",
          gpu_hours_per_t * *c.gpu_hour_usd / 1e6, "M$");
    }
  }

  // Inference: the prediction from the operation model, the roofline bound beside it.
  std::set<std::string> measured_names;
  for (const InputComparison& in : changed) measured_names.insert(in.input);
  // A GPU without a FLOP peak (a node discovered by sysinfo, no GEMM measured) gets no
  // prediction: the report says what is missing.
  const bool priced = !gpu || c.node.gpu->peak_fp8 || c.node.gpu->peak_bf16;
  const DecodeBounds d = priced ? decode_bounds(m, p, c, s) : DecodeBounds{};
  nlohmann::json inference = {{"tpot_s", d.tpot_s},
                              {"tokens_per_s", d.tokens_per_s_per_user},
                              {"tokens_per_s_per_device", d.tokens_per_s_per_device},
                              {"binding_bound", d.binding},
                              {"binding_bound_driven_by", driven_by(d.binding)},
                              {"tokens_per_device", s.tokens_per_device},
                              {"context_tokens", s.context_tokens}};
  std::optional<ServingPrediction> decode, prefill;
  std::optional<PerfModel> perf;
  if (!gpu) {
    inference["binding_bound"] = "memory";
    inference["binding_bound_driven_by"] = driven_by("memory");
    row("inference", "inference.tpot_s",
        "decode time per token: activated weights + KV over memory bandwidth", d.tpot_s * 1e3, "ms",
        d.tpot_s > 0 ? "" : "node.cpu.memory_bandwidth is not given");
    row("inference", "inference.tokens_per_s", "tokens per second (batch 1)",
        d.tokens_per_s_per_user, "tok/s");
  } else if (!priced) {
    inference["feasible"] = false;
    inference["missing"] = "node.gpu.peak_flops";
    row("inference", "inference.missing", "no prediction: the GPU has no FLOP peak", 0, "",
        "give node.gpu.peak_flops in the cluster file, or --measured GEMM results "
        "(gpu.peak_flops.fp8 / bf16)");
  } else {
    perf.emplace(c, find_published_perf(c), measured_names);
    if (tables && !tables->empty()) {
      perf->use_measured(*tables);
      nlohmann::json t = {{"gemm_fp8_shapes", tables->gemm_fp8.size()}};
      if (!tables->gemm_fp8.empty()) {
        t["gemm_fp8_source"] = tables->gemm_source;
        row("inference", "inference.measured.gemm_fp8",
            "measured FP8 GEMM shapes (replace the published table)",
            static_cast<double>(tables->gemm_fp8.size()), "shapes", tables->gemm_source);
      }
      if (tables->mla_decode_flop_per_s && tables->mla_decode_bytes_per_s) {
        t["mla_decode_flop_per_s"] = *tables->mla_decode_flop_per_s;
        t["mla_decode_bytes_per_s"] = *tables->mla_decode_bytes_per_s;
        t["mla_decode_source"] = tables->mla_source;
        row("inference", "inference.measured.mla_decode",
            fmt::format("measured MLA decode ceilings: {:.4g} B/s and",
                        *tables->mla_decode_bytes_per_s),
            *tables->mla_decode_flop_per_s / 1e12, "TFLOP/s", tables->mla_source);
      }
      inference["measured_tables"] = t;
    }
    decode = predict_decode(m, c, s, *perf, /*detail=*/true);
    prefill = predict_prefill(m, c, s, *perf, /*detail=*/false);
    const std::string in = "inference";
    const double hbm_gb = decode->hbm_bytes / 1e9;
    row(in, "inference.device_bytes",
        fmt::format(
            "a device holds: weights ({}) + KV of {:.4g} sequences x {:.0f} tokens",
            m.moe ? fmt::format("{} expert slots over EP {:.0f}", decode->expert_slots, decode->ep)
                  : fmt::format("TP {:.0f}", s.tp),
            s.tokens_per_device / (1 + s.mtp_depth), s.context_tokens),
        decode->device_bytes / 1e9, "GB",
        decode->feasible ? fmt::format("fits in {:.4g} GB of HBM", hbm_gb)
                         : fmt::format("DOES NOT FIT in {:.4g} GB of HBM: no prediction", hbm_gb));
    inference["feasible"] = decode->feasible;
    inference["device_bytes"] = decode->device_bytes;
    inference["hbm_bytes"] = decode->hbm_bytes;
    inference["ep_degree"] = decode->ep;
    inference["expert_slots"] = decode->expert_slots;
    inference["micro_batches"] = s.micro_batches;
    inference["schedule"] = to_string(s.schedule);
    inference["mtp_depth"] = s.mtp_depth;
    inference["mtp_acceptance"] = s.mtp_acceptance;
    inference["perf_file"] = perf->published().file;
    inference["bound"] = {{"tpot_s", d.tpot_s},
                          {"tokens_per_s", d.tokens_per_s_per_user},
                          {"tokens_per_s_per_device", d.tokens_per_s_per_device}};
    const std::array<Bound, 3> bounds{
        {{"ep_all_to_all", d.comm_s}, {"memory_bandwidth", d.memory_s}, {"compute", d.compute_s}}};
    for (const Bound& b : bounds) {
      inference["bounds_s_per_layer_step"][b.name] = b.seconds_per_layer_step;
      row(in, fmt::format("inference.bounds.{}", b.name),
          fmt::format("roofline: {} per {} layer and micro-batch",
                      m.moe || std::string(b.name) != "ep_all_to_all" ? b.name : "tp_all_reduce",
                      m.moe ? "MoE" : "dense"),
          b.seconds_per_layer_step * 1e6, "us");
    }
    row(in, "inference.bound.tpot_s",
        fmt::format("roofline: time per output token ({} binds)", d.binding), d.tpot_s * 1e3, "ms",
        fmt::format("{:.0f} tokens a device in {:.0f} micro-batches, context {:.0f}, EP {:.0f}; "
                    "datasheet peaks, nominal links, full overlap; driven by {}",
                    s.tokens_per_device, s.micro_batches, s.context_tokens, decode->ep,
                    driven_by(d.binding)));
    if (decode->feasible) {
      nlohmann::json ops = nlohmann::json::array();
      for (const OpTiming& t : decode->ops)
        ops.push_back({{"layer", t.layer},
                       {"op", t.name},
                       {"kind", t.kind},
                       {"form", t.form},
                       {"seconds_per_step", t.per_step_s},
                       {"source", t.source}});
      inference["prediction"] = {{"tpot_s", decode->tpot_s},
                                 {"step_s", decode->step_s},
                                 {"tokens_per_s", decode->tokens_per_s_per_user},
                                 {"tokens_per_s_per_device", decode->tokens_per_s_per_device},
                                 {"compute_s", decode->compute_s},
                                 {"comm_s", decode->comm_s},
                                 {"binding", decode->binding},
                                 {"ops", ops}};
      for (const OpTiming& t : decode->ops)
        row(in, fmt::format("inference.op.{}.{}", t.layer, t.name),
            fmt::format("  {} {} ({}{}{}) [{}]", t.layer, t.name, t.kind,
                        t.form.empty() ? "" : ": ", t.form, t.source),
            t.per_step_s * 1e3, "ms");
      row(in, "inference.prediction.tpot_s",
          fmt::format("predicted time per output token ({}, {} binds)", to_string(s.schedule),
                      decode->binding),
          decode->tpot_s * 1e3, "ms",
          fmt::format(
              "step {:.4g} ms: compute {:.4g} ms, EP all-to-all {:.4g} ms; MTP depth {:.0f}",
              decode->step_s * 1e3, decode->compute_s * 1e3, decode->comm_s * 1e3, s.mtp_depth));
      row(in, "inference.prediction.tokens_per_s", "predicted tokens per second per sequence",
          decode->tokens_per_s_per_user, "tok/s");
      row(in, "inference.prediction.tokens_per_s_per_device", "predicted output tokens/s per GPU",
          decode->tokens_per_s_per_device, "tok/s",
          fmt::format("{:.4g} sequences a GPU", decode->sequences_per_device));
      if (s.combine_format != "bf16")
        combine_format_rows(
            [&](std::string key, std::string quantity, double value, std::string unit,
                std::string note) { row(in, key, quantity, value, unit, note); },
            inference, m, c, s, *perf, *decode);
    }
    if (prefill->feasible) {
      inference["prefill"] = {{"tokens_per_s_per_device", prefill->tokens_per_s_per_device},
                              {"step_s", prefill->step_s},
                              {"compute_s", prefill->compute_s},
                              {"compute_sm_share", prefill->compute_sm_share},
                              {"comm_s", prefill->comm_s},
                              {"binding", prefill->binding},
                              {"ep_degree", prefill->ep},
                              {"cache_hit", s.cache_hit},
                              {"chunk_tokens", s.prefill_tokens_per_device}};
      row(in, "inference.prefill.tokens_per_s_per_device",
          fmt::format(
              "predicted prefill input tokens/s per GPU (prompt {:.0f}, {:.0f}% cache hits)",
              s.prompt_tokens > 0 ? s.prompt_tokens : s.context_tokens, 100 * s.cache_hit),
          prefill->tokens_per_s_per_device, "tok/s",
          fmt::format("{:.0f} new tokens a GPU a step, EP {:.0f}, {} binds; step {:.3g} s "
                      "(compute {:.3g} on {:.0f}% of the SMs, all-to-all {:.3g})",
                      s.prefill_tokens_per_device, prefill->ep, prefill->binding, prefill->step_s,
                      prefill->compute_s, 100 * prefill->compute_sm_share, prefill->comm_s));
    } else {
      const double prompt = s.prompt_tokens > 0 ? s.prompt_tokens : s.context_tokens;
      row(in, "inference.prefill.device_bytes",
          fmt::format("prefill: a device holds weights + KV of {:.4g} prompt(s) of {:.0f} tokens",
                      std::max(1.0, s.prefill_tokens_per_device /
                                        std::max(1.0, prompt * (1 - s.cache_hit))),
                      prompt),
          prefill->device_bytes / 1e9, "GB",
          fmt::format("DOES NOT FIT in {:.4g} GB of HBM: no prefill prediction",
                      prefill->hbm_bytes / 1e9));
    }
    inference["prefill_feasible"] = prefill->feasible;
  }
  a.json["inference"] = inference;

  // Economics: $ per million tokens and the speed-versus-cost frontier (GPU clusters with a price).
  if (gpu && c.gpu_hour_usd && decode && decode->feasible) {
    const double price = *c.gpu_hour_usd;
    // The prefill's roofline: the same operations at the datasheet peaks, fully overlapped.
    const ServingPrediction prefill_roof = predict_prefill(m, c, s, PerfModel::roofline(c));
    const double prefill_bound = prefill_roof.tokens_per_s_per_device;
    const double prefill_pred = prefill->feasible ? prefill->tokens_per_s_per_device : 0;
    const Frontier f = cost_frontier(m, c, s, 256, &*perf, /*coarse=*/true);
    nlohmann::json points = nlohmann::json::array();
    for (const FrontierPoint& pt : f.points)
      points.push_back({{"tokens_per_s_per_user", pt.tokens_per_s_per_user},
                        {"usd_per_million_output", pt.usd_per_million_output},
                        {"tokens_per_device", pt.tokens_per_device},
                        {"ep_degree", pt.ep_degree},
                        {"binding_bound", pt.binding}});
    a.json["economics"] = {{"gpu_hour_usd", price},
                           {"decode_usd_per_million_output",
                            usd_per_million_tokens(price, decode->tokens_per_s_per_device)},
                           {"frontier", points},
                           {"frontier_configurations", f.evaluated}};
    if (prefill->feasible) {  // a prompt that does not fit has no speed and no price
      a.json["economics"]["prefill_tokens_per_s_per_gpu"] = prefill_pred;
      a.json["economics"]["prefill_bound_tokens_per_s_per_gpu"] = prefill_bound;
      a.json["economics"]["prefill_usd_per_million_input"] =
          usd_per_million_tokens(price, prefill_pred);
    }
    const std::string e = "economics";
    row(e, "economics.decode_usd_per_million_output",
        fmt::format("decode: $ per million output tokens ({:.0f} tokens a device, predicted)",
                    s.tokens_per_device),
        usd_per_million_tokens(price, decode->tokens_per_s_per_device), "$");
    if (prefill->feasible) {
      row(e, "economics.prefill_bound_tokens_per_s_per_gpu",
          fmt::format(
              "prefill roofline: input tokens/s per GPU (prompt {:.0f}, {:.0f}% cache hits)",
              s.prompt_tokens > 0 ? s.prompt_tokens : s.context_tokens, 100 * s.cache_hit),
          prefill_bound, "tok/s", "the prediction's operations at the datasheet peaks, overlapped");
      row(e, "economics.prefill_usd_per_million_input",
          "prefill: $ per million input tokens (predicted)",
          usd_per_million_tokens(price, prefill_pred), "$");
    }
    row(e, "economics.frontier_configurations",
        "frontier: configurations swept (1-256 sequences a micro-batch x EP of whole nodes, "
        "x1.25 steps)",
        static_cast<double>(f.evaluated), "");
    const size_t step = std::max<size_t>(1, f.points.size() / 6);
    for (size_t i = 0; i < f.points.size(); i += step) {
      const FrontierPoint& pt = f.points[i];
      row(e, "economics.frontier",
          fmt::format("frontier: {:.1f} tok/s per user (batch {:.0f}, EP {:.0f}, {})",
                      pt.tokens_per_s_per_user, pt.tokens_per_device, pt.ep_degree, pt.binding),
          pt.usd_per_million_output, "$/M out");
    }
  }

  // Network: the cluster's fabric.
  const TopologySize t = fabric_size(c);
  const double cost = cost_usd(t, c.fabric.prices);
  a.json["network"] = {{"topology", std::string(to_string(c.fabric.kind))},
                       {"endpoints", t.endpoints},
                       {"switches", t.switches},
                       {"links", t.links},
                       {"cost_usd", cost},
                       {"note", t.note}};
  if (c.fabric.kind == FabricKind::kNone) {
    // Nothing to count or price: one row that says so, not a column of zeros.
    row("network", "network.nodes", "nodes (no scale-out fabric)", static_cast<double>(c.nodes),
        c.nodes == 1 ? "node" : "nodes", t.note);
  } else {
    row("network", "network.endpoints", fmt::format("{} endpoints", to_string(c.fabric.kind)),
        static_cast<double>(t.endpoints), "", t.note);
    row("network", "network.switches", "switches", static_cast<double>(t.switches), "");
    row("network", "network.links", "links", static_cast<double>(t.links), "");
    row("network", "network.cost_usd", "cost", cost / 1e6, "M$");
  }
  const std::int64_t nics = c.nodes * c.node.nics_per_node;
  if (c.fabric.switch_radix > 0 && nics > 0) {
    const TopologySize best = cheapest_fit(nics, c.fabric.switch_radix, c.fabric.prices);
    a.json["network"]["cheapest_fit"] = {{"topology", best.name},
                                         {"endpoints", best.endpoints},
                                         {"cost_usd", cost_usd(best, c.fabric.prices)},
                                         {"note", best.note}};
    row("network", "network.cheapest_fit",
        fmt::format("cheapest topology for {} NICs at radix {}: {}", nics, c.fabric.switch_radix,
                    best.name),
        cost_usd(best, c.fabric.prices) / 1e6, "M$", best.note);
  }
  a.json["model"] = m.name;
  a.json["cluster"] = c.name;
  return a;
}

}  // namespace cobench::topo
