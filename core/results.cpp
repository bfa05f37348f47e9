// SPDX-License-Identifier: Apache-2.0
#include "core/results.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <tuple>

#include "core/error.h"
#include "core/machine_identity.h"
#include "core/stats.h"

namespace cobench::results {
namespace {

using nlohmann::json;

constexpr std::string_view kBackends[] = {"cpu", "cuda", "mpi", "nccl"};
constexpr std::string_view kVerifications[] = {"passed", "failed", "error", "not_checked"};
// Units of quantities that cannot be negative: a time, a size, a rate, a frequency, a power.
// Dimensionless ("1") and temperature ("C") values may be.
constexpr std::string_view kNonNegativeUnits[] = {"s",   "B",      "B/s", "FLOP",
                                                  "1/s", "FLOP/s", "Hz",  "W"};

// Reads a JSON document strictly: each accessor names the JSON path of what it rejects.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const std::string& path, std::string_view what) const {
    throw Error(fmt::format("{}: {}: {}", source_, path, what));
  }
  const json& object(const json& j, const std::string& path,
                     std::initializer_list<std::string_view> required,
                     std::initializer_list<std::string_view> optional = {}) const {
    if (!j.is_object()) fail(path, fmt::format("expected an object, got {}", j.type_name()));
    for (auto k : required)
      if (!j.contains(k)) fail(path, fmt::format("missing required key '{}'", k));
    for (const auto& [k, v] : j.items()) {
      const bool known = std::find(required.begin(), required.end(), k) != required.end() ||
                         std::find(optional.begin(), optional.end(), k) != optional.end();
      if (!known) fail(path + "." + k, "unknown key");
    }
    return j;
  }
  std::string string(const json& j, const std::string& path) const {
    if (!j.is_string()) fail(path, fmt::format("expected a string, got {}", j.type_name()));
    return j.get<std::string>();
  }
  double number(const json& j, const std::string& path) const {
    if (!j.is_number()) fail(path, fmt::format("expected a number, got {}", j.type_name()));
    const double v = j.get<double>();
    if (!std::isfinite(v)) fail(path, fmt::format("expected a finite number, got {}", v));
    return v;
  }
  template <size_t N>
  std::string one_of(const json& j, const std::string& path,
                     const std::string_view (&choices)[N]) const {
    const std::string s = string(j, path);
    if (std::find(std::begin(choices), std::end(choices), s) == std::end(choices)) {
      std::string list;
      for (auto c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
      fail(path, fmt::format("'{}' is not one of: {}", s, list));
    }
    return s;
  }
  // Statistics agree to 1e-9 of the values' magnitude (`magnitude`): a standard deviation of
  // equal values may be stored as 1e-22 by one summation order and 0 by another.
  void close_to(double stored, double computed, const std::string& path,
                double magnitude = 0) const {
    const double scale = std::max({std::fabs(stored), std::fabs(computed), magnitude, 1e-300});
    if (std::fabs(stored - computed) > 1e-9 * scale)
      fail(path,
           fmt::format("stored {} disagrees with {} computed from the values", stored, computed));
  }

 private:
  std::string source_;
};

template <size_t N>
size_t index_of(const std::string_view (&choices)[N], const std::string& s) {
  return static_cast<size_t>(std::find(std::begin(choices), std::end(choices), s) -
                             std::begin(choices));
}

json metric_to_json(const Metric& m) {
  json j = {{"unit", m.unit}, {"values", m.values}};
  if (!m.values.empty()) {
    const Summary s = summarize(m.values);
    j["median"] = s.median;
    j["min"] = s.min;
    j["max"] = s.max;
    j["mean"] = s.mean;
    j["stddev"] = s.stddev;
    if (m.peak) {
      j["peak"] = {{"name", m.peak->name},
                   {"value", m.peak->value},
                   {"fraction", m.peak->value > 0 ? s.median / m.peak->value : 0.0}};
    }
  } else if (m.peak) {
    j["peak"] = {{"name", m.peak->name}, {"value", m.peak->value}};
  }
  return j;
}

Metric metric_from_json(const Reader& r, const json& j, const std::string& path,
                        const std::string& name) {
  r.object(j, path, {"unit", "values"}, {"median", "min", "max", "mean", "stddev", "peak"});
  Metric m;
  m.name = name;
  m.unit = r.one_of(j["unit"], path + ".unit", kUnits);
  const json& values = j["values"];
  if (!values.is_array()) r.fail(path + ".values", "expected an array of numbers");
  const bool non_negative = std::find(std::begin(kNonNegativeUnits), std::end(kNonNegativeUnits),
                                      m.unit) != std::end(kNonNegativeUnits);
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string vp = fmt::format("{}.values[{}]", path, i);
    m.values.push_back(r.number(values[i], vp));
    if (non_negative && m.values.back() < 0)
      r.fail(vp, fmt::format("{} is negative; a value in '{}' cannot be", m.values.back(), m.unit));
  }
  const bool has_stats = j.contains("median");
  for (auto key : {"min", "max", "mean", "stddev"}) {
    if (j.contains(key) != has_stats)
      r.fail(path, "statistics must be all present (median, min, max, mean, stddev) or none");
  }
  if (has_stats) {
    if (m.values.empty()) r.fail(path + ".median", "statistics without values");
    const Summary s = summarize(m.values);
    for (const auto& [key, v] : {std::pair<const char*, double>{"median", s.median},
                                 {"mean", s.mean},
                                 {"stddev", s.stddev}})
      if (!std::isfinite(v))
        r.fail(path + "." + key,
               "the values' " + std::string(key) + " is beyond the range of a double");
    const double mag = std::max(std::fabs(s.min), std::fabs(s.max));
    r.close_to(r.number(j["median"], path + ".median"), s.median, path + ".median", mag);
    r.close_to(r.number(j["min"], path + ".min"), s.min, path + ".min", mag);
    r.close_to(r.number(j["max"], path + ".max"), s.max, path + ".max", mag);
    r.close_to(r.number(j["mean"], path + ".mean"), s.mean, path + ".mean", mag);
    r.close_to(r.number(j["stddev"], path + ".stddev"), s.stddev, path + ".stddev", mag);
  }
  if (j.contains("peak")) {
    const std::string p = path + ".peak";
    const json& pj = r.object(j["peak"], p, {"name", "value"}, {"fraction"});
    m.peak = Peak{r.string(pj["name"], p + ".name"), r.number(pj["value"], p + ".value")};
    if (m.peak->value <= 0) r.fail(p + ".value", "a peak must be positive");
    // The fraction of peak is drawn and printed: 1e-300 B/s made it inf.
    if (!m.values.empty() && !std::isfinite(summarize(m.values).median / m.peak->value))
      r.fail(p + ".value", fmt::format("{:g} makes the fraction median / peak beyond the range "
                                       "of a double",
                                       m.peak->value));
    if (pj.contains("fraction") && !m.values.empty()) {
      r.close_to(r.number(pj["fraction"], p + ".fraction"),
                 summarize(m.values).median / m.peak->value, p + ".fraction");
    }
  }
  return m;
}

Record record_from_json(const Reader& r, const json& j, const std::string& path) {
  r.object(j, path, {"suite", "benchmark", "backend", "parameters", "metrics", "verification"},
           {"extra"});
  Record rec;
  rec.suite = r.string(j["suite"], path + ".suite");
  rec.benchmark = r.string(j["benchmark"], path + ".benchmark");
  // The two name the record in compare, history and the dashboard: an empty one names nothing.
  if (rec.suite.empty()) r.fail(path + ".suite", "expected a name, got ''");
  if (rec.benchmark.empty()) r.fail(path + ".benchmark", "expected a name, got ''");
  rec.backend = static_cast<Backend>(
      index_of(kBackends, r.one_of(j["backend"], path + ".backend", kBackends)));
  const json& params = j["parameters"];
  if (!params.is_object()) r.fail(path + ".parameters", "expected an object");
  for (const auto& [k, v] : params.items()) {
    if (!v.is_number() && !v.is_string() && !v.is_boolean())
      r.fail(path + ".parameters." + k, "expected a number, string or boolean");
    if (v.is_number()) r.number(v, path + ".parameters." + k);
  }
  rec.parameters = params;
  const json& metrics = j["metrics"];
  if (!metrics.is_object()) r.fail(path + ".metrics", "expected an object of metrics");
  for (const auto& [k, v] : metrics.items())
    rec.metrics.push_back(metric_from_json(r, v, path + ".metrics." + k, k));
  const std::string vp = path + ".verification";
  const json& ver = r.object(j["verification"], vp, {"status"}, {"detail", "reference_error"});
  rec.verification = static_cast<Verification>(
      index_of(kVerifications, r.one_of(ver["status"], vp + ".status", kVerifications)));
  if (ver.contains("detail")) rec.verification_detail = r.string(ver["detail"], vp + ".detail");
  if (ver.contains("reference_error")) {
    rec.reference_error = r.number(ver["reference_error"], vp + ".reference_error");
    if (*rec.reference_error < 0)
      r.fail(vp + ".reference_error", "a relative error cannot be negative");
  }
  if (j.contains("extra")) {
    if (!j["extra"].is_object()) r.fail(path + ".extra", "expected an object");
    rec.extra = j["extra"];
  }
  return rec;
}

// ISO 8601 UTC as the schema's pattern has it: "2026-11-29T05:30:00Z", fractional seconds
// allowed ("2026-11-29T05:30:00.123Z"), nothing else.
bool is_utc_time(std::string_view t) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (t.size() < kShape.size() + 1 || t.back() != 'Z') return false;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t i = 0; i < kShape.size(); ++i)
    if (kShape[i] == 'd' ? !digit(t[i]) : t[i] != kShape[i]) return false;
  const std::string_view rest = t.substr(kShape.size(), t.size() - kShape.size() - 1);
  if (!rest.empty() &&
      (rest.size() < 2 || rest[0] != '.' || !std::all_of(rest.begin() + 1, rest.end(), digit)))
    return false;
  // A date of the calendar: month 13, 30 February or hour 25 sort and print as times but are
  // none (the dashboard could not place them); second 60 is a leap second.
  auto num = [&t](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (t[i] - '0');
    return v;
  };
  const int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return false;
  return num(11, 2) < 24 && num(14, 2) < 60 && num(17, 2) <= 60;
}

RunHeader header_from_json(const Reader& r, const json& j) {
  const std::string p = "$.run";
  r.object(j, p,
           {"cobench_version", "git_commit", "utc_time", "host", "command_line", "build_type",
            "library_versions", "environment", "sysinfo"},
           {"gpu_clocks", "machine", "extra"});
  RunHeader h;
  h.cobench_version = r.string(j["cobench_version"], p + ".cobench_version");
  h.git_commit = r.string(j["git_commit"], p + ".git_commit");
  h.utc_time = r.string(j["utc_time"], p + ".utc_time");
  if (!is_utc_time(h.utc_time))
    r.fail(p + ".utc_time", fmt::format("'{}' is not an ISO 8601 UTC time of the calendar "
                                        "(YYYY-MM-DDTHH:MM:SS[.fraction]Z, year from 0001)",
                                        h.utc_time));
  h.host = r.string(j["host"], p + ".host");
  const json& cmd = j["command_line"];
  if (!cmd.is_array()) r.fail(p + ".command_line", "expected an array of strings");
  for (size_t i = 0; i < cmd.size(); ++i)
    h.command_line.push_back(r.string(cmd[i], fmt::format("{}.command_line[{}]", p, i)));
  h.build_type = r.string(j["build_type"], p + ".build_type");
  if (!j["library_versions"].is_object()) r.fail(p + ".library_versions", "expected an object");
  for (const auto& [k, v] : j["library_versions"].items())
    r.string(v, p + ".library_versions." + k);
  h.library_versions = j["library_versions"];
  if (!j["environment"].is_object()) r.fail(p + ".environment", "expected an object");
  for (const auto& [k, v] : j["environment"].items())
    if (!v.is_null()) r.string(v, p + ".environment." + k);
  h.environment = j["environment"];
  if (!j["sysinfo"].is_object()) r.fail(p + ".sysinfo", "expected an object");
  h.sysinfo = j["sysinfo"];
  if (j.contains("gpu_clocks")) h.gpu_clocks = j["gpu_clocks"];
  if (j.contains("extra")) {
    if (!j["extra"].is_object()) r.fail(p + ".extra", "expected an object");
    h.extra = j["extra"];
  }
  return h;
}

}  // namespace

std::string_view to_string(Backend b) { return kBackends[static_cast<size_t>(b)]; }
std::string_view to_string(Verification v) { return kVerifications[static_cast<size_t>(v)]; }

nlohmann::json to_json(const Results& r) {
  const RunHeader& h = r.run;
  json run = {{"cobench_version", h.cobench_version},
              {"git_commit", h.git_commit},
              {"utc_time", h.utc_time},
              {"host", h.host},
              {"command_line", h.command_line},
              {"build_type", h.build_type},
              {"library_versions", h.library_versions},
              {"environment", h.environment},
              {"sysinfo", h.sysinfo}};
  if (!h.gpu_clocks.is_null()) run["gpu_clocks"] = h.gpu_clocks;
  // The machine the sysinfo describes (its key groups runs in history and the dashboard); derived
  // on every write, so a reader never needs to trust a stored one.
  if (const MachineIdentity id = machine_identity(h.sysinfo); !id.key.empty())
    run["machine"] = {
        {"key", id.key}, {"label", id.label.empty() ? h.host : id.label}, {"fields", id.fields}};
  if (!h.extra.empty()) run["extra"] = h.extra;
  json records = json::array();
  for (const Record& rec : r.records) {
    json metrics = json::object();
    for (const Metric& m : rec.metrics) {
      COBENCH_CHECK(!metrics.contains(m.name),
                    fmt::format("metric '{}' twice in record '{}'", m.name, rec.benchmark));
      metrics[m.name] = metric_to_json(m);
    }
    json ver = {{"status", to_string(rec.verification)}};
    if (!rec.verification_detail.empty()) ver["detail"] = rec.verification_detail;
    if (rec.reference_error) ver["reference_error"] = *rec.reference_error;
    json j = {{"suite", rec.suite},
              {"benchmark", rec.benchmark},
              {"backend", to_string(rec.backend)},
              {"parameters", rec.parameters},
              {"metrics", metrics},
              {"verification", ver}};
    if (!rec.extra.empty()) j["extra"] = rec.extra;
    records.push_back(std::move(j));
  }
  return {{"schema", kSchemaId}, {"run", run}, {"records", records}};
}

Results from_json(const nlohmann::json& doc, std::string_view source) {
  Reader r(source);
  r.object(doc, "$", {"schema", "run", "records"});
  const std::string schema = r.string(doc["schema"], "$.schema");
  if (schema != kSchemaId)
    r.fail("$.schema", fmt::format("unsupported schema '{}', expected '{}'", schema, kSchemaId));
  Results out;
  out.run = header_from_json(r, doc["run"]);
  const json& records = doc["records"];
  if (!records.is_array()) r.fail("$.records", "expected an array");
  // A record is identified by its suite, benchmark and backend: compare, history and the
  // dashboard match records by them, so one file may hold each only once.
  std::map<std::tuple<std::string, std::string, Backend>, size_t> seen;
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string path = fmt::format("$.records[{}]", i);
    out.records.push_back(record_from_json(r, records[i], path));
    const Record& rec = out.records.back();
    const auto [it, fresh] = seen.emplace(std::tie(rec.suite, rec.benchmark, rec.backend), i);
    if (!fresh)
      r.fail(path, fmt::format("duplicate record: suite '{}', benchmark '{}' and backend '{}' are "
                               "those of $.records[{}]",
                               rec.suite, rec.benchmark, to_string(rec.backend), it->second));
  }
  return out;
}

}  // namespace cobench::results
