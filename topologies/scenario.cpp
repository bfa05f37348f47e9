// SPDX-License-Identifier: Apache-2.0
#include "topologies/scenario.h"

namespace cobench::topo {
namespace {

double positive(const config::Node& n) {
  const double v = n.as_double();
  if (!(v > 0)) n.fail("must be greater than zero");
  return v;
}

TrainingScenario load_training(const config::Node& node) {
  auto m = node.map({"model", "cluster", "seq_len", "batch_sequences", "tokens", "tokens_per_day",
                     "step_time", "other_gpu_hours"});
  TrainingScenario t;
  t.model = m.required("model").as_string();
  t.cluster = m.required("cluster").as_string();
  t.seq_len = positive(m.required("seq_len"));
  t.batch_sequences = positive(m.required("batch_sequences"));
  t.tokens = positive(m.required("tokens"));
  t.tokens_per_day = positive(m.required("tokens_per_day"));
  auto step = m.required("step_time");
  t.step_time = step.as_seconds();
  if (!(t.step_time.value > 0)) step.fail("must be greater than zero");
  if (auto o = m.optional("other_gpu_hours")) t.other_gpu_hours = o->as_double();
  return t;
}

DecodeScenario load_decode(const config::Node& node) {
  auto m = node.map({"model", "tokens_per_device", "hidden_override", "dispatch_bytes_per_element",
                     "combine_bytes_per_element", "micro_batches", "scale_out_cluster",
                     "scale_up_cluster"});
  DecodeScenario d;
  d.model = m.required("model").as_string();
  d.tokens_per_device = positive(m.required("tokens_per_device"));
  if (auto h = m.optional("hidden_override")) d.hidden_override = positive(*h);
  d.dispatch_bytes_per_element = positive(m.required("dispatch_bytes_per_element"));
  d.combine_bytes_per_element = positive(m.required("combine_bytes_per_element"));
  d.micro_batches = positive(m.required("micro_batches"));
  d.scale_out_cluster = m.required("scale_out_cluster").as_string();
  d.scale_up_cluster = m.required("scale_up_cluster").as_string();
  return d;
}

ProductionScenario load_production(const config::Node& node) {
  auto m =
      node.map({"cluster", "nodes_average", "input_tokens_per_day", "output_tokens_per_day",
                "input_tokens_per_s_per_node", "output_tokens_per_s_per_node", "prompt_tokens"});
  ProductionScenario p;
  p.cluster = m.required("cluster").as_string();
  p.nodes_average = positive(m.required("nodes_average"));
  p.input_tokens_per_day = positive(m.required("input_tokens_per_day"));
  p.output_tokens_per_day = positive(m.required("output_tokens_per_day"));
  p.input_tokens_per_s_per_node = positive(m.required("input_tokens_per_s_per_node"));
  p.output_tokens_per_s_per_node = positive(m.required("output_tokens_per_s_per_node"));
  p.prompt_tokens = positive(m.required("prompt_tokens"));
  return p;
}

LocalScenario load_local(const config::Node& node) {
  auto m = node.map({"model", "cluster", "weight_bytes"});
  return {m.required("model").as_string(), m.required("cluster").as_string(),
          positive(m.required("weight_bytes"))};
}

}  // namespace

Scenario load_scenario(const config::Node& root) {
  auto m = root.map({"scenario"})
               .required("scenario")
               .map({"name", "training", "decode", "production", "local"});
  Scenario s;
  s.name = m.required("name").as_string();
  s.training = load_training(m.required("training"));
  s.decode = load_decode(m.required("decode"));
  s.production = load_production(m.required("production"));
  s.local = load_local(m.required("local"));
  return s;
}

}  // namespace cobench::topo
