// SPDX-License-Identifier: Apache-2.0
#include "topologies/measured_tables.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/stats.h"
#include "core/units.h"

namespace cobench::topo {
namespace {

// The median of the record's one metric in `unit`, if it has one.
std::optional<double> median_in(const results::Record& rec, std::string_view unit,
                                const std::string& source, size_t i) {
  const results::Metric* metric = nullptr;
  for (const results::Metric& m : rec.metrics) {
    if (m.unit != unit || m.values.empty()) continue;
    if (metric)
      throw Error(fmt::format("{}: $.records[{}]: several metrics in {} for a table input", source,
                              i, unit));
    metric = &m;
  }
  if (!metric) return std::nullopt;
  for (size_t k = 0; k < metric->values.size(); ++k) {
    if (!std::isfinite(metric->values[k]) || metric->values[k] <= 0)
      throw Error(
          fmt::format("{}: $.records[{}].metrics.{}.values[{}]: must be finite and "
                      "greater than zero ({}), got {}",
                      source, i, metric->name, k, unit, metric->values[k]));
    if (!is_model_quantity(metric->values[k]))  // as a value with a unit (units.h)
      throw Error(fmt::format(
          "{}: $.records[{}].metrics.{}.values[{}]: must be from {:g} to {:g} "
          "({}), got {}",
          source, i, metric->name, k, kMinQuantity, kMaxQuantity, unit, metric->values[k]));
  }
  return summarize(metric->values).median;
}

double shape_parameter(const results::Record& rec, const char* key, const std::string& source,
                       size_t i, bool required, const char* input = "gpu.gemm_fp8") {
  if (!rec.parameters.contains(key)) {
    if (!required) return 1;
    throw Error(
        fmt::format("{}: $.records[{}].parameters: model input '{}' needs the "
                    "shape parameter '{}'",
                    source, i, input, key));
  }
  const auto& v = rec.parameters[key];
  if (!v.is_number() || !(v.get<double>() >= 1) || !std::isfinite(v.get<double>()))
    throw Error(
        fmt::format("{}: $.records[{}].parameters.{}: expected a number >= 1", source, i, key));
  return v.get<double>();
}

}  // namespace

bool is_table_input(std::string_view name) {
  return name == "gpu.gemm_fp8" || name == "gpu.mla_decode";
}

MeasuredTables measured_tables(const results::Results& r, const std::string& source) {
  MeasuredTables t;
  for (size_t i = 0; i < r.records.size(); ++i) {
    const results::Record& rec = r.records[i];
    if (!rec.parameters.contains("model_input") || !rec.parameters["model_input"].is_string())
      continue;
    const std::string name = rec.parameters["model_input"].get<std::string>();
    if (!is_table_input(name) || rec.verification != results::Verification::kPassed) continue;
    if (name == "gpu.gemm_fp8") {
      const std::optional<double> rate = median_in(rec, "FLOP/s", source, i);
      if (!rate)
        throw Error(
            fmt::format("{}: $.records[{}]: no metric in FLOP/s for model input "
                        "'gpu.gemm_fp8'",
                        source, i));
      GemmPoint p;
      p.m = shape_parameter(rec, "m", source, i, true);
      p.n = shape_parameter(rec, "n", source, i, true);
      p.k = shape_parameter(rec, "k", source, i, true);
      p.groups = shape_parameter(rec, "groups", source, i, false);
      p.flops_per_s = *rate;
      if (t.gemm_source.empty()) t.gemm_source = source;
      MeasuredTables one;
      one.gemm_fp8.push_back(p);
      merge_tables(t, one);
    } else {
      const std::optional<double> flops = median_in(rec, "FLOP/s", source, i);
      const std::optional<double> bw = median_in(rec, "B/s", source, i);
      if (!flops && !bw)
        throw Error(
            fmt::format("{}: $.records[{}]: no metric in FLOP/s or B/s for model input "
                        "'gpu.mla_decode'",
                        source, i));
      if (t.mla_source.empty()) t.mla_source = source;
      MeasuredTables one;
      one.mla_decode_flop_per_s = flops;
      one.mla_decode_bytes_per_s = bw;
      // A record that names its shape is also a point of the MLA table: its time from the
      // FLOP/s it reports and the FLOPs of that shape, else from its B/s and the BF16 cache it
      // read. Older records without one give ceilings only.
      const bool shaped = rec.parameters.contains("batch") || rec.parameters.contains("context");
      if (shaped) {
        AttentionPoint p;
        p.batch = shape_parameter(rec, "batch", source, i, true, "gpu.mla_decode");
        p.context = shape_parameter(rec, "context", source, i, true, "gpu.mla_decode");
        const double cached = p.batch * p.context;
        p.seconds =
            flops ? 2 * kMlaRecordHeads * (2 * kMlaRecordLatent + kMlaRecordRope) * cached / *flops
                  : cached * (kMlaRecordLatent + kMlaRecordRope) * 2 / *bw;
        one.mla_decode.push_back(p);
      }
      merge_tables(t, one);
    }
  }
  return t;
}

void merge_tables(MeasuredTables& into, const MeasuredTables& from) {
  for (const GemmPoint& p : from.gemm_fp8) {
    auto same = std::find_if(into.gemm_fp8.begin(), into.gemm_fp8.end(), [&](const GemmPoint& q) {
      return q.m == p.m && q.n == p.n && q.k == p.k && q.groups == p.groups;
    });
    if (same == into.gemm_fp8.end()) {
      into.gemm_fp8.push_back(p);
    } else {
      same->flops_per_s = std::max(same->flops_per_s, p.flops_per_s);
    }
  }
  if (into.gemm_source.empty()) into.gemm_source = from.gemm_source;
  for (const AttentionPoint& p : from.mla_decode) {
    auto same = std::find_if(
        into.mla_decode.begin(), into.mla_decode.end(),
        [&](const AttentionPoint& q) { return q.batch == p.batch && q.context == p.context; });
    if (same == into.mla_decode.end()) {
      into.mla_decode.push_back(p);
    } else {
      same->seconds = std::min(same->seconds, p.seconds);
    }
  }
  auto best = [](std::optional<double>& a, const std::optional<double>& b) {
    if (b && (!a || *b > *a)) a = b;
  };
  best(into.mla_decode_flop_per_s, from.mla_decode_flop_per_s);
  best(into.mla_decode_bytes_per_s, from.mla_decode_bytes_per_s);
  if (into.mla_source.empty()) into.mla_source = from.mla_source;
}

void raise_fp8_peak(ClusterSpec& c, const MeasuredTables& t,
                    std::vector<InputComparison>& changed) {
  if (!c.node.gpu || t.gemm_fp8.empty()) return;
  double fastest = 0;
  for (const GemmPoint& p : t.gemm_fp8) fastest = std::max(fastest, p.flops_per_s);
  GpuSpec& g = *c.node.gpu;
  const double peak = g.peak_fp8 ? g.peak_fp8->value : 0;
  if (fastest <= peak) return;
  g.peak_fp8 = FlopRate(fastest);
  const std::string input = "gpu.peak_flops.fp8";
  const std::string source = t.gemm_source + " (its fastest GEMM shape)";
  for (InputComparison& x : changed) {
    if (x.input != input) continue;
    x.measured = fastest;
    x.source = source;
    return;
  }
  changed.push_back({input, peak, fastest, source});
}

}  // namespace cobench::topo
