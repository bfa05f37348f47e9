// SPDX-License-Identifier: Apache-2.0
#include "topologies/measured.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"
#include "core/stats.h"
#include "core/units.h"
#include "topologies/measured_tables.h"

namespace cobench::topo {
namespace {

struct InputKind {
  std::string_view name;
  std::string_view unit;
  bool higher_is_better;
};

constexpr std::array<InputKind, 12> kInputs{{{"gpu.peak_flops.fp8", "FLOP/s", true},
                                             {"gpu.peak_flops.bf16", "FLOP/s", true},
                                             {"gpu.peak_flops.fp32", "FLOP/s", true},
                                             {"gpu.hbm_bandwidth", "B/s", true},
                                             {"cpu.memory_bandwidth", "B/s", true},
                                             {"ep.bandwidth.inter_node", "B/s", true},
                                             {"ep.bandwidth.intra_node", "B/s", true},
                                             {"pcie.h2d_bandwidth", "B/s", true},
                                             {"storage.read_bandwidth", "B/s", true},
                                             {"latency.inter_node", "s", false},
                                             {"latency.intra_node", "s", false},
                                             {"gpu.kernel_gap", "s", false}}};

const InputKind* find_input(std::string_view name) {
  for (const InputKind& k : kInputs)
    if (k.name == name) return &k;
  return nullptr;
}

// Every input is a bandwidth, a FLOP rate or a latency: a value that is not finite and
// greater than zero would turn a bound into inf or negative, so the record is refused.
void check_values(const results::Metric& metric, const std::string& source, const std::string& path,
                  std::string_view input) {
  for (size_t k = 0; k < metric.values.size(); ++k) {
    const double v = metric.values[k];
    if (!std::isfinite(v) || v <= 0)
      throw Error(
          fmt::format("{}: {}.values[{}]: model input '{}' must be finite and greater than "
                      "zero ({}), got {}",
                      source, path, k, input, metric.unit, v));
    // As a value with a unit in a cluster file (units.h): 1e-300 B/s would print "inf us".
    if (!is_model_quantity(v))
      throw Error(
          fmt::format("{}: {}.values[{}]: model input '{}' must be from {:g} to {:g} ({}), "
                      "got {}",
                      source, path, k, input, kMinQuantity, kMaxQuantity, metric.unit, v));
  }
}

}  // namespace

MeasuredInputs measured_inputs(const results::Results& r, const std::string& source) {
  MeasuredInputs out;
  for (size_t i = 0; i < r.records.size(); ++i) {
    const results::Record& rec = r.records[i];
    if (!rec.parameters.contains("model_input")) continue;
    const std::string path = fmt::format("$.records[{}].parameters.model_input", i);
    if (!rec.parameters["model_input"].is_string())
      throw Error(fmt::format("{}: {}: expected a string", source, path));
    const std::string name = rec.parameters["model_input"].get<std::string>();
    if (is_table_input(name)) continue;  // measured_tables() reads those
    const InputKind* kind = find_input(name);
    if (!kind) {
      std::string known;
      for (const InputKind& k : kInputs) known += (known.empty() ? "" : ", ") + std::string(k.name);
      known += std::string(", ") + kTableInputs;
      throw Error(
          fmt::format("{}: {}: unknown model input '{}'; known: {}", source, path, name, known));
    }
    if (rec.verification != results::Verification::kPassed) continue;
    const results::Metric* metric = nullptr;
    if (rec.parameters.contains("model_metric")) {
      // The record names the metric that measures the input (records with several in a unit).
      const auto& wanted = rec.parameters["model_metric"];
      const std::string mpath = fmt::format("$.records[{}].parameters.model_metric", i);
      if (!wanted.is_string()) throw Error(fmt::format("{}: {}: expected a string", source, mpath));
      for (const results::Metric& m : rec.metrics)
        if (m.name == wanted.get<std::string>()) metric = &m;
      if (!metric || metric->unit != kind->unit || metric->values.empty())
        throw Error(fmt::format("{}: {}: no metric '{}' in {} with values for model input '{}'",
                                source, mpath, wanted.get<std::string>(), kind->unit, name));
    } else {
      for (const results::Metric& m : rec.metrics) {
        if (m.unit != kind->unit || m.values.empty()) continue;
        if (metric)
          throw Error(fmt::format(
              "{}: $.records[{}]: several metrics in {} for model input '{}'; name one with "
              "parameters.model_metric",
              source, i, kind->unit, name));
        metric = &m;
      }
    }
    if (!metric)
      throw Error(fmt::format("{}: $.records[{}]: no metric in {} for model input '{}'", source, i,
                              kind->unit, name));
    check_values(*metric, source, fmt::format("$.records[{}].metrics.{}", i, metric->name), name);
    const double value = summarize(metric->values).median;
    auto it = out.find(name);
    const bool better = it == out.end() || (kind->higher_is_better ? value > it->second.value
                                                                   : value < it->second.value);
    if (better) out[name] = {value, fmt::format("{}: {}", source, rec.benchmark)};
  }
  return out;
}

std::vector<InputComparison> apply_measured(ClusterSpec& c, const MeasuredInputs& m) {
  std::vector<InputComparison> changed;
  auto apply = [&](const std::string& name, auto get, auto set) {
    auto it = m.find(name);
    if (it == m.end()) return;
    changed.push_back({name, get(), it->second.value, it->second.source});
    set(it->second.value);
  };
  if (c.node.gpu) {
    GpuSpec& g = *c.node.gpu;
    auto opt = [](const std::optional<FlopRate>& f) { return f ? f->value : 0.0; };
    apply(
        "gpu.peak_flops.fp8", [&] { return opt(g.peak_fp8); },
        [&](double v) { g.peak_fp8 = FlopRate(v); });
    apply(
        "gpu.peak_flops.bf16", [&] { return opt(g.peak_bf16); },
        [&](double v) { g.peak_bf16 = FlopRate(v); });
    apply(
        "gpu.peak_flops.fp32", [&] { return opt(g.peak_fp32); },
        [&](double v) { g.peak_fp32 = FlopRate(v); });
    apply(
        "gpu.hbm_bandwidth", [&] { return g.hbm_bandwidth.value; },
        [&](double v) { g.hbm_bandwidth = Bandwidth(v); });
    apply(
        "pcie.h2d_bandwidth", [&] { return g.pcie_bandwidth ? g.pcie_bandwidth->value : 0.0; },
        [&](double v) { g.pcie_bandwidth = Bandwidth(v); });
    apply(
        "gpu.kernel_gap", [&] { return g.kernel_gap ? g.kernel_gap->value : 0.0; },
        [&](double v) { g.kernel_gap = Seconds(v); });
  }
  if (c.node.cpu) {
    CpuSpec& cpu = *c.node.cpu;
    apply(
        "cpu.memory_bandwidth",
        [&] { return cpu.memory_bandwidth ? cpu.memory_bandwidth->value : 0.0; },
        [&](double v) { cpu.memory_bandwidth = Bandwidth(v); });
  }
  // A measured EP bandwidth is what the all-to-all achieves a GPU: it replaces the achievable
  // one (per NIC: times GPUs per NIC); the nominal rises to it if the measurement beats it.
  const double gpus_per_nic =
      c.node.nics_per_node > 0
          ? static_cast<double>(c.node.gpus_per_node) / static_cast<double>(c.node.nics_per_node)
          : 1.0;
  apply(
      "ep.bandwidth.inter_node",
      [&] { return c.scale_out.bandwidth_achievable.value / gpus_per_nic; },
      [&](double v) {
        c.scale_out.bandwidth_achievable = Bandwidth(v * gpus_per_nic);
        if (!c.node.nic_speed || c.node.nic_speed->value < v * gpus_per_nic)
          c.node.nic_speed = Bandwidth(v * gpus_per_nic);
      });
  apply(
      "storage.read_bandwidth",
      [&] { return c.node.storage_read_bandwidth ? c.node.storage_read_bandwidth->value : 0.0; },
      [&](double v) { c.node.storage_read_bandwidth = Bandwidth(v); });
  apply(
      "ep.bandwidth.intra_node", [&] { return c.scale_up.bandwidth_achievable.value; },
      [&](double v) {
        c.scale_up.bandwidth_achievable = Bandwidth(v);
        if (c.scale_up.bandwidth_nominal.value < v) c.scale_up.bandwidth_nominal = Bandwidth(v);
      });
  apply(
      "latency.inter_node", [&] { return c.scale_out.latency_cross_leaf.value; },
      [&](double v) { c.scale_out.latency_cross_leaf = Seconds(v); });
  apply(
      "latency.intra_node", [&] { return c.scale_up.latency.value; },
      [&](double v) { c.scale_up.latency = Seconds(v); });
  return changed;
}

std::string measured_input_unit(const std::string& input) {
  const InputKind* k = find_input(input);
  return k ? std::string(k->unit) : std::string();
}

void merge_measured(MeasuredInputs& into, const MeasuredInputs& from) {
  for (const auto& [name, value] : from) {
    auto it = into.find(name);
    const InputKind* kind = find_input(name);
    const bool higher = kind ? kind->higher_is_better : true;
    if (it == into.end() ||
        (higher ? value.value > it->second.value : value.value < it->second.value))
      into[name] = value;
  }
}

std::vector<std::string> inputs_of_bound(const std::string& bound) {
  if (bound == "ep_all_to_all")
    return {"ep.bandwidth.inter_node", "ep.bandwidth.intra_node", "latency.inter_node",
            "latency.intra_node"};
  if (bound == "memory_bandwidth") return {"gpu.hbm_bandwidth"};
  if (bound == "compute") return {"gpu.peak_flops.fp8", "gpu.peak_flops.bf16"};
  if (bound == "memory") return {"cpu.memory_bandwidth"};
  if (bound == "kv_reload.host") return {"pcie.h2d_bandwidth"};
  if (bound == "kv_reload.storage") return {"storage.read_bandwidth", "pcie.h2d_bandwidth"};
  if (bound == "kv_recompute") return {"gpu.peak_flops.fp8", "gpu.peak_flops.bf16"};
  return {};
}

}  // namespace cobench::topo
