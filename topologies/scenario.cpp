// SPDX-License-Identifier: Apache-2.0
#include "topologies/scenario.h"

#include <fmt/format.h>

#include <initializer_list>
#include <utility>

#include "core/error.h"
#include "topologies/decode_bounds.h"

namespace cobench::topo {
namespace {

// "file:line:col: key 'path'", for errors about a value found valid here but refused later.
std::string where(const config::Node& n) {
  const config::Location at = n.location();
  return fmt::format("{}:{}:{}: key '{}'", at.file, at.line, at.column, n.path());
}

/// Reads each key of `fields`, in order (the first bad one is the error), with `read` into its
/// member of `out`.
template <class T, class V>
void read_fields(const config::MapReader& m, T& out, V (config::Node::*read)() const,
                 std::initializer_list<std::pair<const char*, V T::*>> fields) {
  for (const auto& [key, member] : fields) out.*member = (m.required(key).*read)();
}

TrainingScenario load_training(const config::Node& node) {
  auto m = node.map({"model", "cluster", "seq_len", "batch_sequences", "tokens", "tokens_per_day",
                     "step_time", "other_gpu_hours", "parallel", "phases"});
  TrainingScenario t;
  t.model = m.required("model").as_string();
  t.cluster = m.required("cluster").as_string();
  // Sequences and their tokens are whole numbers.
  t.seq_len = static_cast<double>(m.required("seq_len").as_int_in(1, 1 << 30));
  t.batch_sequences = static_cast<double>(m.required("batch_sequences").as_int_in(1, 1 << 30));
  read_fields(m, t, &config::Node::as_positive_double,
              {{"tokens", &TrainingScenario::tokens},
               {"tokens_per_day", &TrainingScenario::tokens_per_day}});
  t.step_time = m.required("step_time").as_positive_seconds();
  if (auto o = m.optional("other_gpu_hours")) {
    t.other_gpu_hours = o->as_double();
    if (!(t.other_gpu_hours >= 0)) o->fail("expected a number of GPU-hours >= 0");
  }
  const config::Node parallel = m.required("parallel");
  const config::Location at = parallel.location();
  t.parallel_at = fmt::format("{}:{}:{}: key '{}'", at.file, at.line, at.column, parallel.path());
  auto par =
      parallel.map({"pp", "ep", "micro_batch", "schedule", "tp", "cp", "interleave", "precision"});
  t.pp = static_cast<double>(par.required("pp").as_int_in(1, 1 << 20));
  t.ep = static_cast<double>(par.required("ep").as_int_in(1, 1 << 20));
  t.micro_batch = static_cast<double>(par.required("micro_batch").as_int_in(1, 1 << 20));
  const config::Node schedule = par.required("schedule");
  t.schedule = schedule.as_string();
  if (t.schedule != "1f1b" && t.schedule != "zb1p" && t.schedule != "dualpipe" &&
      t.schedule != "interleaved")
    schedule.fail(
        fmt::format("expected 1f1b, zb1p, dualpipe or interleaved, got '{}'", t.schedule));
  if (auto v = par.optional("tp")) t.tp = static_cast<double>(v->as_int_in(1, 1 << 20));
  if (auto v = par.optional("cp")) t.cp = static_cast<double>(v->as_int_in(1, 1 << 20));
  if (auto v = par.optional("interleave"))
    t.interleave = static_cast<double>(v->as_int_in(1, 1 << 20));
  if (auto v = par.optional("precision")) {
    t.precision = v->as_string();
    if (t.precision != "fp8" && t.precision != "bf16")
      v->fail(fmt::format("expected fp8 or bf16, got '{}'", t.precision));
  }
  if (t.interleave > 1 && t.schedule != "interleaved") {
    const config::Node v = *par.optional("interleave");
    v.fail(fmt::format("interleave {} needs schedule: interleaved, got '{}'", t.interleave,
                       t.schedule));
  }
  auto ph = m.required("phases").map(
      {"forward", "backward_input", "backward_weight", "forward_backward", "bubble", "optimizer"});
  read_fields(ph, t, &config::Node::as_positive_seconds,
              {{"forward", &TrainingScenario::phase_f},
               {"backward_input", &TrainingScenario::phase_b},
               {"backward_weight", &TrainingScenario::phase_w},
               {"forward_backward", &TrainingScenario::phase_fb},
               {"bubble", &TrainingScenario::bubble},
               {"optimizer", &TrainingScenario::optimizer}});
  return t;
}

DecodeScenario load_decode(const config::Node& node) {
  auto m = node.map({"model", "tokens_per_device", "hidden_override", "dispatch_bytes_per_element",
                     "combine_bytes_per_element", "micro_batches", "scale_out_cluster",
                     "scale_up_cluster"});
  DecodeScenario d;
  d.model = m.required("model").as_string();
  // Whole numbers: tokens and micro-batches count things, the hidden size is a width.
  d.tokens_per_device = static_cast<double>(m.required("tokens_per_device").as_int_in(1, 1 << 20));
  if (auto h = m.optional("hidden_override"))
    d.hidden_override = static_cast<double>(h->as_int_in(1, 1 << 20));
  read_fields(m, d, &config::Node::as_positive_double,
              {{"dispatch_bytes_per_element", &DecodeScenario::dispatch_bytes_per_element},
               {"combine_bytes_per_element", &DecodeScenario::combine_bytes_per_element}});
  if (auto mb = m.optional("micro_batches"))
    d.micro_batches = static_cast<double>(mb->as_int_in(1, 64));
  const config::Node out = m.required("scale_out_cluster"), up = m.required("scale_up_cluster");
  d.scale_out_cluster = out.as_string();
  d.scale_out_cluster_at = where(out);
  d.scale_up_cluster = up.as_string();
  d.scale_up_cluster_at = where(up);
  return d;
}

ProfileCase load_profile(const config::Node& node) {
  auto m = node.map({"ep", "tokens_per_device", "context_tokens", "tokens_per_s_per_node"});
  return {static_cast<double>(m.required("ep").as_int_in(1, 1 << 20)),
          m.required("tokens_per_device").as_positive_double(),
          m.required("context_tokens").as_positive_double(),
          m.required("tokens_per_s_per_node").as_positive_double()};
}

ProductionScenario load_production(const config::Node& node) {
  auto m = node.map({"cluster", "nodes_average", "input_tokens_per_day", "output_tokens_per_day",
                     "input_tokens_per_s_per_node", "output_tokens_per_s_per_node", "prompt_tokens",
                     "decode_ep", "decode_redundant_experts", "prefill_ep",
                     "decode_tokens_per_s_per_user", "cache_hit", "mtp_acceptance",
                     "prefill_tokens_per_device", "decode_schedule", "routing", "profile_decode",
                     "profile_prefill"});
  ProductionScenario p;
  p.cluster = m.required("cluster").as_string();
  read_fields(
      m, p, &config::Node::as_positive_double,
      {{"nodes_average", &ProductionScenario::nodes_average},
       {"input_tokens_per_day", &ProductionScenario::input_tokens_per_day},
       {"output_tokens_per_day", &ProductionScenario::output_tokens_per_day},
       {"input_tokens_per_s_per_node", &ProductionScenario::input_tokens_per_s_per_node},
       {"output_tokens_per_s_per_node", &ProductionScenario::output_tokens_per_s_per_node}});
  p.prompt_tokens = static_cast<double>(m.required("prompt_tokens").as_int_in(1, 1 << 24));
  p.decode_ep = static_cast<double>(m.required("decode_ep").as_int_in(1, 1 << 20));
  p.decode_redundant_experts =
      static_cast<double>(m.required("decode_redundant_experts").as_int_in(0, 1 << 20));
  p.prefill_ep = static_cast<double>(m.required("prefill_ep").as_int_in(1, 1 << 20));
  p.decode_tokens_per_s_per_user = m.required("decode_tokens_per_s_per_user").as_positive_double();
  auto fraction = [&](const char* key) {
    const config::Node n = m.required(key);
    const double v = n.as_double();
    if (!(v >= 0 && v < 1)) n.fail(fmt::format("expected a fraction in [0, 1), got {}", v));
    return v;
  };
  p.cache_hit = fraction("cache_hit");
  p.mtp_acceptance = fraction("mtp_acceptance");
  p.prefill_tokens_per_device = m.required("prefill_tokens_per_device").as_positive_double();
  {
    const config::Node n = m.required("decode_schedule");
    p.decode_schedule = n.as_string();
    try {
      parse_schedule(p.decode_schedule);
    } catch (const Error& e) {
      n.fail(e.what());
    }
  }
  {
    const config::Node n = m.required("routing");
    const std::string routing = n.as_string();
    if (routing != "balanced" && routing != "random")
      n.fail(fmt::format("expected balanced or random, got '{}'", routing));
    p.random_routing = routing == "random";
  }
  p.profile_decode = load_profile(m.required("profile_decode"));
  p.profile_prefill = load_profile(m.required("profile_prefill"));
  return p;
}

LocalScenario load_local(const config::Node& node) {
  auto m = node.map({"model", "cluster", "weight_bytes"});
  const config::Node cluster = m.required("cluster");
  return {m.required("model").as_string(), cluster.as_string(),
          m.required("weight_bytes").as_positive_double(), where(cluster)};
}

}  // namespace

Scenario load_scenario(const config::Node& root) {
  auto m = root.map({"scenario"})
               .required("scenario")
               .map({"name", "training", "decode", "production", "local"});
  Scenario s;
  s.name = m.required("name").as_name();
  s.training = load_training(m.required("training"));
  s.decode = load_decode(m.required("decode"));
  s.production = load_production(m.required("production"));
  s.local = load_local(m.required("local"));
  return s;
}

}  // namespace cobench::topo
