// SPDX-License-Identifier: Apache-2.0
#include "core/gbench_convert.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "core/error.h"

namespace cobench::results {
namespace {

using nlohmann::json;

// Entry fields that describe a run rather than measure it; kept verbatim per repetition.
constexpr std::string_view kDescriptive[] = {"name",
                                             "family_index",
                                             "per_family_instance_index",
                                             "run_name",
                                             "run_type",
                                             "repetitions",
                                             "repetition_index",
                                             "threads",
                                             "time_unit",
                                             "label",
                                             "error_occurred",
                                             "error_message",
                                             "aggregate_name",
                                             "aggregate_unit",
                                             "skipped",
                                             "skip_message"};
constexpr std::string_view kTimeFields[] = {"real_time", "cpu_time"};

bool is_descriptive(std::string_view key) {
  return std::find(std::begin(kDescriptive), std::end(kDescriptive), key) != std::end(kDescriptive);
}

double seconds_per(std::string_view time_unit, std::string_view source) {
  if (time_unit == "ns") return 1e-9;
  if (time_unit == "us") return 1e-6;
  if (time_unit == "ms") return 1e-3;
  if (time_unit == "s") return 1.0;
  throw Error(fmt::format("{}: unknown Google Benchmark time_unit '{}'", source, time_unit));
}

// "BM_Gemm/m:128/k:64/8/real_time" -> {m: 128, k: 64, arg2: 8, real_time: true}
json parameters_of(std::string_view run_name) {
  json params = json::object();
  size_t index = 0;
  size_t start = run_name.find('/');
  while (start != std::string_view::npos) {
    const size_t end = run_name.find('/', start + 1);
    std::string_view seg = run_name.substr(
        start + 1, end == std::string_view::npos ? std::string_view::npos : end - start - 1);
    std::string key = fmt::format("arg{}", index);
    std::string_view value = seg;
    if (auto colon = seg.find(':'); colon != std::string_view::npos) {
      key = std::string(seg.substr(0, colon));
      value = seg.substr(colon + 1);
    }
    long long integer = 0;
    double real = 0;
    if (auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), integer);
        ec == std::errc() && p == value.data() + value.size()) {
      params[key] = integer;
    } else if (auto [q, ec2] = std::from_chars(value.data(), value.data() + value.size(), real);
               ec2 == std::errc() && q == value.data() + value.size()) {
      params[key] = real;
    } else if (value == seg && !seg.empty() && seg.find(':') == std::string_view::npos &&
               !std::isdigit(static_cast<unsigned char>(seg[0]))) {
      params[std::string(seg)] = true;  // a flag such as real_time or manual_time
    } else {
      params[key] = std::string(value);
    }
    ++index;
    start = end;
  }
  return params;
}

// The entry's `cobench` object (microbench/bench_metadata.h), checked; nullptr when it has none.
const json* metadata_of(const json& e, std::string_view source, size_t pos) {
  if (!e.contains("cobench")) return nullptr;
  const json& m = e["cobench"];
  const std::string at = fmt::format("{}: benchmarks[{}].cobench", source, pos);
  if (!m.is_object()) throw Error(at + ": expected an object");
  auto string_field = [&](const char* key) {
    if (m.contains(key) && !m[key].is_string())
      throw Error(fmt::format("{}.{}: expected a string", at, key));
  };
  for (const char* key : {"verification_detail", "model_input", "model_metric"}) string_field(key);
  if (m.contains("verification") && m["verification"] != "passed" && m["verification"] != "failed")
    throw Error(fmt::format("{}.verification: {} is not \"passed\" or \"failed\"", at,
                            m["verification"].dump()));
  if (m.contains("reference_error") && !m["reference_error"].is_number())
    throw Error(at + ".reference_error: expected a number");
  if (m.contains("parameters")) {
    if (!m["parameters"].is_object()) throw Error(at + ".parameters: expected an object");
    for (const auto& [k, v] : m["parameters"].items())
      if (!v.is_number() && !v.is_string() && !v.is_boolean())
        throw Error(fmt::format("{}.parameters.{}: expected a number, string or boolean", at, k));
  }
  if (m.contains("peaks")) {
    if (!m["peaks"].is_array()) throw Error(at + ".peaks: expected an array");
    for (size_t i = 0; i < m["peaks"].size(); ++i) {
      const json& p = m["peaks"][i];
      if (!p.is_object() || !p.contains("metric") || !p["metric"].is_string() ||
          !p.contains("name") || !p["name"].is_string() || !p.contains("value") ||
          !p["value"].is_number() || !(p["value"].get<double>() > 0))
        throw Error(
            fmt::format("{}.peaks[{}]: expected {{\"metric\": string, \"name\": string, "
                        "\"value\": a positive number}}",
                        at, i));
    }
  }
  return &m;
}

struct Group {
  std::string run_name;
  std::vector<std::pair<size_t, const json*>> iterations;  // (position, entry)
  std::vector<std::pair<size_t, const json*>> aggregates;
};

// The first repetition's typed metadata sets the model input, the shape parameters and the
// peaks. The name's `model_input:` and `model_metric:` segments are dropped: with metadata, only
// its fields say what feeds the model.
void apply_metadata(Record& rec, const Group& g) {
  const json* md = nullptr;
  for (const auto& [pos, e] : g.iterations)
    if (e->contains("cobench")) {
      md = &(*e)["cobench"];
      break;
    }
  if (!md) return;
  rec.parameters.erase("model_input");
  rec.parameters.erase("model_metric");
  if (md->contains("parameters"))
    for (const auto& [k, v] : (*md)["parameters"].items()) rec.parameters[k] = v;
  if (md->contains("model_input")) rec.parameters["model_input"] = (*md)["model_input"];
  if (md->contains("model_metric")) rec.parameters["model_metric"] = (*md)["model_metric"];
  if (md->contains("peaks"))
    for (const json& p : (*md)["peaks"])
      for (Metric& m : rec.metrics)
        if (m.name == p["metric"].get<std::string>())
          m.peak = Peak{p["name"].get<std::string>(), p["value"].get<double>()};
}

}  // namespace

std::string_view counter_unit(std::string_view name) {
  if (name == "bytes_per_second" || name.ends_with("_bytes_per_s")) return "B/s";
  if (name == "items_per_second" || name.ends_with("_per_second")) return "1/s";
  if (name.ends_with("_flop_per_s")) return "FLOP/s";
  if (name.ends_with("_flop")) return "FLOP";
  if (name.ends_with("_bytes")) return "B";
  if (name.ends_with("_s")) return "s";
  return "1";
}

Results from_gbench(const json& gbench, RunHeader header, std::string_view suite, Backend backend,
                    std::string_view source) {
  if (!gbench.is_object() || !gbench.contains("benchmarks") || !gbench["benchmarks"].is_array())
    throw Error(fmt::format("{}: not Google Benchmark JSON (no \"benchmarks\" array)", source));
  Results out;
  out.run = std::move(header);
  if (gbench.contains("context")) out.run.extra["gbench_context"] = gbench["context"];

  // Group entries by run_name, in order of first appearance.
  std::vector<Group> groups;
  std::map<std::string, size_t> group_of;
  const json& entries = gbench["benchmarks"];
  for (size_t i = 0; i < entries.size(); ++i) {
    const json& e = entries[i];
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
      throw Error(fmt::format("{}: benchmarks[{}]: expected an entry with a name", source, i));
    const std::string run_name = e.value("run_name", e["name"].get<std::string>());
    auto [it, inserted] = group_of.emplace(run_name, groups.size());
    if (inserted) groups.push_back(Group{run_name, {}, {}});
    Group& g = groups[it->second];
    (e.value("run_type", "iteration") == "aggregate" ? g.aggregates : g.iterations)
        .emplace_back(i, &e);
  }

  for (const Group& g : groups) {
    Record rec;
    rec.suite = suite;
    rec.benchmark = g.run_name;
    rec.backend = backend;
    rec.parameters = parameters_of(g.run_name);
    // A numeric field present in every repetition is a metric; everything else is kept as is.
    std::vector<std::string> metric_keys;
    if (!g.iterations.empty()) {
      for (const auto& [k, v] : g.iterations.front().second->items()) {
        if (is_descriptive(k) || !v.is_number()) continue;
        const bool everywhere = std::all_of(
            g.iterations.begin(), g.iterations.end(),
            [&](const auto& p) { return p.second->contains(k) && (*p.second)[k].is_number(); });
        if (everywhere) metric_keys.push_back(k);
      }
    }
    json kept = json::array();
    for (const std::string& key : metric_keys) {
      const bool is_time =
          std::find(std::begin(kTimeFields), std::end(kTimeFields), key) != std::end(kTimeFields);
      Metric m{key,
               is_time ? "s" : std::string(key == "iterations" ? "1" : counter_unit(key)),
               {},
               std::nullopt};
      for (const auto& [pos, e] : g.iterations) {
        const double scale = is_time ? seconds_per(e->value("time_unit", "ns"), source) : 1.0;
        m.values.push_back((*e)[key].get<double>() * scale);
      }
      rec.metrics.push_back(std::move(m));
    }
    for (const auto& [pos, e] : g.iterations) {
      json fields = json::object();
      for (const auto& [k, v] : e->items())
        if (std::find(metric_keys.begin(), metric_keys.end(), k) == metric_keys.end())
          fields[k] = v;
      // Integers stay integers on the way back (iterations, counters given as integers).
      json integer_keys = json::array();
      for (const std::string& key : metric_keys)
        if ((*e)[key].is_number_integer()) integer_keys.push_back(key);
      kept.push_back({{"position", pos}, {"fields", fields}, {"integer_metrics", integer_keys}});
      const std::string label = e->value("label", "");
      if (const json* md = metadata_of(*e, source, pos)) {
        // Typed metadata: its fields decide; the label and error text are not read.
        const std::string verdict = md->value("verification", "");
        const std::string detail =
            md->value("verification_detail", e->value("error_message", std::string()));
        if (verdict == "failed") {
          rec.verification = Verification::kFailed;
          rec.verification_detail = detail;
        } else if (e->value("error_occurred", false)) {
          if (rec.verification != Verification::kFailed) {
            rec.verification = Verification::kError;
            rec.verification_detail = e->value("error_message", "");
          }
        } else if (verdict == "passed" && rec.verification == Verification::kNotChecked) {
          rec.verification = Verification::kPassed;
          rec.verification_detail = detail;
        }
        if (md->contains("reference_error"))
          rec.reference_error = (*md)["reference_error"].get<double>();
      } else if (e->value("error_occurred", false)) {
        const std::string msg = e->value("error_message", "");
        rec.verification =
            msg.starts_with("verification failed") ? Verification::kFailed : Verification::kError;
        rec.verification_detail = msg;
      } else if (label.starts_with("verified") && rec.verification == Verification::kNotChecked) {
        rec.verification = Verification::kPassed;
        rec.verification_detail = label;
      }
    }
    apply_metadata(rec, g);
    json aggregates = json::array();
    for (const auto& [pos, e] : g.aggregates)
      aggregates.push_back({{"position", pos}, {"entry", *e}});
    rec.extra["gbench"] = {{"repetitions", kept}, {"aggregates", aggregates}};
    out.records.push_back(std::move(rec));
  }
  return out;
}

json to_gbench(const Results& r) {
  std::map<size_t, json> by_position;
  for (const Record& rec : r.records) {
    COBENCH_CHECK(rec.extra.contains("gbench"),
                  fmt::format("record '{}' did not come from Google Benchmark", rec.benchmark));
    const json& g = rec.extra["gbench"];
    const json& reps = g["repetitions"];
    for (size_t i = 0; i < reps.size(); ++i) {
      json entry = reps[i]["fields"];
      const json& integer_keys = reps[i]["integer_metrics"];
      for (const Metric& m : rec.metrics) {
        double v = m.values.at(i);
        if (m.unit == "s" && (m.name == "real_time" || m.name == "cpu_time"))
          v /= seconds_per(entry.value("time_unit", "ns"), rec.benchmark);
        const bool integer =
            std::find(integer_keys.begin(), integer_keys.end(), m.name) != integer_keys.end();
        entry[m.name] = integer ? json(static_cast<long long>(v)) : json(v);
      }
      by_position[reps[i]["position"].get<size_t>()] = std::move(entry);
    }
    for (const json& a : g["aggregates"]) by_position[a["position"].get<size_t>()] = a["entry"];
  }
  json benchmarks = json::array();
  for (auto& [pos, entry] : by_position) benchmarks.push_back(std::move(entry));
  json doc = {{"benchmarks", benchmarks}};
  if (r.run.extra.contains("gbench_context")) doc["context"] = r.run.extra["gbench_context"];
  return doc;
}

}  // namespace cobench::results
