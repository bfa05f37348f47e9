// SPDX-License-Identifier: Apache-2.0
// The inference section of `cobench analyze`: the roofline bounds and the operation model's
// decode and prefill predictions (docs/model.md, "Predictive serving model").
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>

#include "topologies/analysis_out.h"
#include "topologies/analysis_sections.h"
#include "topologies/decode_bounds.h"
#include "topologies/model_params.h"

namespace cobench::topo {
namespace {

// A combine in another format than BF16: what the step gains over BF16 if the codec were free,
// and the codec rate at which the gain is used up (encode before the send, decode after it,
// none of it overlapped: the break-even a fused codec has to beat).
void combine_format_rows(SectionOut& out, const SectionInputs& in, const PerfModel& perf,
                         const ServingPrediction& decode) {
  const DecodeSetting& s = in.s;
  DecodeSetting bf16 = s;
  bf16.combine_format = "bf16";
  const ServingPrediction base = predict_decode(in.m, in.c, bf16, perf);
  const double saved_s = base.step_s - decode.step_s;
  out.field("combine.format", s.combine_format);
  out.field("combine.step_s_bf16", base.step_s);
  out.field("combine.saved_s_per_step", saved_s);
  out.field("combine.values_per_step", decode.combine_values);
  out.row(
      "combine.saved_s",
      fmt::format("combine in {}: step time saved against BF16 (codec free)", s.combine_format),
      saved_s * 1e3, "ms",
      fmt::format("step {:.4g} ms against {:.4g} ms with BF16 combine ({:+.1f}%)",
                  decode.step_s * 1e3, base.step_s * 1e3, 100 * (decode.step_s / base.step_s - 1)));
  if (saved_s > 0 && decode.combine_values > 0)
    out.quantity("combine.break_even_values_per_s",
                 "combine codec break-even: values encoded and decoded a second, per GPU",
                 decode.combine_values / saved_s, Shown{1, 1e9, "G values/s"},
                 fmt::format("its {:.3g} M values a step must be encoded and decoded in the "
                             "{:.3g} ms saved; a slower codec loses",
                             decode.combine_values / 1e6, saved_s * 1e3));
}

// The decode prediction: per operation, the time per output token, the rates a user and a GPU
// get.
void decode_rows(SectionOut& out, const SectionInputs& in, const ServingPrediction& decode) {
  const DecodeSetting& s = in.s;
  nlohmann::json ops = nlohmann::json::array();
  for (const OpTiming& t : decode.ops)
    ops.push_back({{"layer", t.layer},
                   {"op", t.name},
                   {"kind", t.kind},
                   {"form", t.form},
                   {"seconds_per_step", t.per_step_s},
                   {"source", t.source}});
  out.field("prediction.ops", std::move(ops));
  out.field("prediction.step_s", decode.step_s);
  out.field("prediction.compute_s", decode.compute_s);
  out.field("prediction.comm_s", decode.comm_s);
  out.field("prediction.binding", decode.binding);
  for (const OpTiming& t : decode.ops)
    out.row(fmt::format("op.{}.{}", t.layer, t.name),
            fmt::format("  {} {} ({}{}{}) [{}]", t.layer, t.name, t.kind,
                        t.form.empty() ? "" : ": ", t.form, t.source),
            t.per_step_s * 1e3, "ms");
  out.quantity(
      "prediction.tpot_s",
      fmt::format("predicted time per output token ({}, {} binds)",
                  s.micro_batches > 1 ? to_string(s.schedule) : "one micro-batch, no overlap",
                  decode.binding),
      decode.tpot_s, kShownMs,
      fmt::format("step {:.4g} ms: compute {:.4g} ms, EP all-to-all {:.4g} ms; MTP depth {:.0f}",
                  decode.step_s * 1e3, decode.compute_s * 1e3, decode.comm_s * 1e3, s.mtp_depth));
  out.quantity("prediction.tokens_per_s", "predicted tokens per second per sequence",
               decode.tokens_per_s_per_user, shown_as_is("tok/s"));
  out.quantity("prediction.tokens_per_s_per_device", "predicted output tokens/s per GPU",
               decode.tokens_per_s_per_device, shown_as_is("tok/s"),
               format_quantity(decode.sequences_per_device, "sequences") + " a GPU");
}

// The prefill prediction, or the memory a prompt would need where it does not fit.
void prefill_rows(SectionOut& out, const SectionInputs& in, const ServingPrediction& prefill) {
  const DecodeSetting& s = in.s;
  const double prompt = s.prompt_tokens > 0 ? s.prompt_tokens : s.context_tokens;
  out.field("prefill_feasible", prefill.feasible);
  if (!prefill.feasible) {
    out.row(
        "prefill.device_bytes",
        fmt::format("prefill: a device holds weights + KV of {} of {:.0f} tokens",
                    format_quantity(std::max(1.0, s.prefill_tokens_per_device /
                                                      std::max(1.0, prompt * (1 - s.cache_hit))),
                                    "prompt(s)"),
                    prompt),
        prefill.device_bytes / 1e9, "GB",
        fmt::format("DOES NOT FIT in {:.4g} GB of HBM: no prefill prediction",
                    prefill.hbm_bytes / 1e9));
    return;
  }
  out.field("prefill.step_s", prefill.step_s);
  out.field("prefill.compute_s", prefill.compute_s);
  out.field("prefill.compute_sm_share", prefill.compute_sm_share);
  out.field("prefill.comm_s", prefill.comm_s);
  out.field("prefill.binding", prefill.binding);
  out.field("prefill.ep_degree", prefill.ep);
  out.field("prefill.cache_hit", s.cache_hit);
  out.field("prefill.chunk_tokens", s.prefill_tokens_per_device);
  out.quantity(
      "prefill.tokens_per_s_per_device",
      fmt::format("predicted prefill input tokens/s per GPU (prompt {:.0f}, {:.0f}% cache hits)",
                  prompt, 100 * s.cache_hit),
      prefill.tokens_per_s_per_device, shown_as_is("tok/s"),
      fmt::format("{:.0f} new tokens a GPU a step, EP {:.0f}, {} binds; step {:.3g} s "
                  "(compute {:.3g} on {:.0f}% of the SMs, all-to-all {:.3g})",
                  s.prefill_tokens_per_device, prefill.ep, prefill.binding, prefill.step_s,
                  prefill.compute_s, 100 * prefill.compute_sm_share, prefill.comm_s));
}

// Measured kernel tables that replace the published ones.
void measured_table_rows(SectionOut& out, const MeasuredTables& tables) {
  out.field("measured_tables.gemm_fp8_shapes", tables.gemm_fp8.size());
  if (!tables.gemm_fp8.empty()) {
    out.field("measured_tables.gemm_fp8_source", tables.gemm_source);
    out.row("measured.gemm_fp8", "measured FP8 GEMM shapes (replace the published table)",
            static_cast<double>(tables.gemm_fp8.size()), "shapes", tables.gemm_source);
  }
  if (tables.mla_decode_flop_per_s && tables.mla_decode_bytes_per_s) {
    out.field("measured_tables.mla_decode_flop_per_s", *tables.mla_decode_flop_per_s);
    out.field("measured_tables.mla_decode_bytes_per_s", *tables.mla_decode_bytes_per_s);
    out.field("measured_tables.mla_decode_source", tables.mla_source);
    out.row(
        "measured.mla_decode",
        fmt::format("measured MLA decode ceilings: {:.4g} B/s and", *tables.mla_decode_bytes_per_s),
        *tables.mla_decode_flop_per_s / 1e12, "TFLOP/s", tables.mla_source);
  }
  out.field("measured_tables.mla_decode_shapes", tables.mla_decode.size());
  if (!tables.mla_decode.empty())
    out.row("measured.mla_decode_shapes",
            "measured MLA decode shapes, batch x context (over the published table)",
            static_cast<double>(tables.mla_decode.size()), "shapes", tables.mla_source);
}

struct Bound {
  const char* name;
  double seconds_per_layer_step;  // one layer, one micro-batch
};

}  // namespace

InferenceOutcome inference_section(const SectionInputs& in, Analysis& a) {
  const ModelArch& m = in.m;
  const ClusterSpec& c = in.c;
  const DecodeSetting& s = in.s;
  SectionOut out(a, "inference", "inference");
  InferenceOutcome result;
  std::set<std::string> measured_names;
  for (const InputComparison& x : in.changed) measured_names.insert(x.input);
  // A GPU without a FLOP peak (a node discovered by sysinfo, no GEMM measured) gets no
  // prediction: the report says what is missing.
  const bool gpu = in.gpu();
  const bool priced = !gpu || c.node.gpu->peak_fp8 || c.node.gpu->peak_bf16;
  const DecodeBounds d = priced ? decode_bounds(m, in.p, c, s) : DecodeBounds{};
  out.field("binding_bound", d.binding);
  out.field("binding_bound_driven_by", in.driven_by(d.binding));
  out.field("tokens_per_s_per_device", d.tokens_per_s_per_device);
  out.field("tokens_per_device", gpu ? s.tokens_per_device : 1.0);  // a CPU node: batch 1
  out.field("context_tokens", s.context_tokens);
  // Nothing predicted: no bound, time or rate in the JSON (null, never 0).
  auto no_prediction = [&] {
    out.field("feasible", false);
    for (const char* f : {"binding_bound", "binding_bound_driven_by", "tokens_per_s_per_device",
                          "tpot_s", "tokens_per_s"})
      out.field(f, nullptr);
  };
  if (!gpu) {
    // One node serves the model: its weights and one sequence's KV in the node's memory.
    const double memory = c.node.cpu ? c.node.cpu->memory_capacity.value : 0;
    const double need =
        in.p.total() * s.weight_bytes + kv_bytes_per_token(m, s.kv_bytes).value * s.context_tokens;
    out.field("device_bytes", need);
    if (memory > 0 && need > memory) {
      no_prediction();
      out.quantity("device_bytes",
                   fmt::format("a node holds: weights at {} B a parameter + KV of one sequence of "
                               "{:.0f} tokens",
                               s.weight_bytes, s.context_tokens),
                   need, kShownGb,
                   fmt::format("DOES NOT FIT in {:.4g} GB of memory (node.cpu.memory_capacity): "
                               "no prediction",
                               memory / 1e9));
      return result;
    }
    if (!(d.tpot_s > 0)) {
      // No memory bandwidth (a node without a CPU section, or one without its bandwidth): no
      // time, rather than a decode of 0 ms.
      no_prediction();
      out.field("missing", "node.cpu.memory_bandwidth");
      out.row("missing", "decode predictions made (the node has no memory bandwidth)", 0,
              "predictions",
              "give node.cpu.memory_bandwidth in the cluster file, or --measured host memory "
              "results");
      return result;
    }
    out.field("feasible", true);
    out.field("binding_bound", "memory");
    out.field("binding_bound_driven_by", in.driven_by("memory"));
    out.quantity("tpot_s", "decode time per token: activated weights + KV over memory bandwidth",
                 d.tpot_s, kShownMs);
    out.quantity("tokens_per_s", "tokens per second (batch 1)", d.tokens_per_s_per_user,
                 shown_as_is("tok/s"));
    return result;
  }
  if (!priced) {
    no_prediction();
    out.field("missing", "node.gpu.peak_flops");
    out.row("missing", "decode predictions made (the GPU has no FLOP peak)", 0, "predictions",
            "give node.gpu.peak_flops in the cluster file, or --measured GEMM results "
            "(gpu.peak_flops.fp8 / bf16)");
    return result;
  }
  out.field("tpot_s", d.tpot_s);
  out.field("tokens_per_s", d.tokens_per_s_per_user);
  PerfModel& perf = result.perf.emplace(c, find_published_perf(c), measured_names);
  if (in.tables && !in.tables->empty()) {
    perf.use_measured(*in.tables);
    measured_table_rows(out, *in.tables);
  }
  const ServingPrediction& decode = result.decode.emplace(predict_decode(m, c, s, perf, true));
  const ServingPrediction& prefill = result.prefill.emplace(predict_prefill(m, c, s, perf, false));
  const double hbm_gb = decode.hbm_bytes / 1e9;
  out.quantity(
      "device_bytes",
      fmt::format(
          "a device holds: weights ({}) + KV of {} x {:.0f} tokens",
          m.moe ? fmt::format("{} expert slots over EP {:.0f}", decode.expert_slots, decode.ep)
                : fmt::format("TP {:.0f}", s.tp),
          format_quantity(s.tokens_per_device / (1 + s.mtp_depth), "sequences"), s.context_tokens),
      decode.device_bytes, kShownGb,
      decode.feasible ? fmt::format("fits in {:.4g} GB of HBM", hbm_gb)
                      : fmt::format("DOES NOT FIT in {:.4g} GB of HBM: no prediction", hbm_gb));
  out.field("feasible", decode.feasible);
  out.field("hbm_bytes", decode.hbm_bytes);
  out.field("ep_degree", decode.ep);
  out.field("expert_slots", decode.expert_slots);
  out.field("micro_batches", s.micro_batches);
  out.field("schedule", to_string(s.schedule));
  out.field("mtp_depth", s.mtp_depth);
  out.field("mtp_acceptance", s.mtp_acceptance);
  out.field("perf_file", perf.published().file);
  out.field("bound.tokens_per_s", d.tokens_per_s_per_user);
  out.field("bound.tokens_per_s_per_device", d.tokens_per_s_per_device);
  const std::array<Bound, 3> bounds{
      {{"ep_all_to_all", d.comm_s}, {"memory_bandwidth", d.memory_s}, {"compute", d.compute_s}}};
  for (const Bound& b : bounds) {
    out.field(fmt::format("bounds_s_per_layer_step.{}", b.name), b.seconds_per_layer_step);
    out.row(fmt::format("bounds.{}", b.name),
            fmt::format("roofline: {} per {} layer and micro-batch",
                        m.moe || std::string(b.name) != "ep_all_to_all" ? b.name : "tp_all_reduce",
                        m.moe ? "MoE" : "dense"),
            b.seconds_per_layer_step * 1e6, "us");
  }
  out.quantity(
      "bound.tpot_s", fmt::format("roofline: time per output token ({} binds)", d.binding),
      d.tpot_s, kShownMs,
      fmt::format("{:.0f} tokens a device in {:.0f} micro-batches, context {:.0f}, EP {:.0f}; "
                  "datasheet peaks, nominal links, full overlap; driven by {}",
                  s.tokens_per_device, s.micro_batches, s.context_tokens, decode.ep,
                  in.driven_by(d.binding)));
  if (decode.feasible) {
    decode_rows(out, in, decode);
    if (s.combine_format != "bf16") combine_format_rows(out, in, perf, decode);
  }
  prefill_rows(out, in, prefill);
  return result;
}

}  // namespace cobench::topo
