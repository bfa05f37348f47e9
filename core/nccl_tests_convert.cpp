// SPDX-License-Identifier: Apache-2.0
#include "core/nccl_tests_convert.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace cobench::results {
namespace {

using nlohmann::json;

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw Error(fmt::format("{}: {}: {}", source_, path, what));
  }
  const json& member(const json& j, const std::string& path, const char* key) const {
    if (!j.is_object()) fail(path, "expected an object");
    if (!j.contains(key))
      fail(path, fmt::format("no key '{}' (is this nccl-tests -J output?)", key));
    return j[key];
  }
  // A number; nccl-tests writes a NaN as the string "nan".
  double number(const json& j, const std::string& path) const {
    if (j.is_number()) return j.get<double>();
    if (j.is_string() && j.get<std::string>() == "nan")
      return std::numeric_limits<double>::quiet_NaN();
    fail(path, fmt::format("expected a number, got {}", j.dump()));
  }
  std::int64_t integer(const json& j, const std::string& path) const {
    if (j.is_number_integer()) return j.get<std::int64_t>();
    if (j.is_string()) {  // "root" is written as a padded string, "    -1"
      const std::string s = j.get<std::string>();
      std::size_t used = 0;
      try {
        const long long v = std::stoll(s, &used);
        if (s.find_first_not_of(' ', used) == std::string::npos) return v;
      } catch (const std::exception&) {
      }
    }
    fail(path, fmt::format("expected an integer, got {}", j.dump()));
  }
  std::string string(const json& j, const std::string& path) const {
    if (!j.is_string()) fail(path, fmt::format("expected a string, got {}", j.dump()));
    return j.get<std::string>();
  }

 private:
  std::string_view source_;
};

// One placement of one result line.
struct Sample {
  std::string benchmark;
  json parameters;
  std::vector<double> time_s, alg, bus;
  Verification verification = Verification::kNotChecked;
  double wrong = 0;
  std::string detail;
};

Verification worse(Verification a, Verification b) {
  auto rank = [](Verification v) {
    switch (v) {
      case Verification::kError:
        return 3;
      case Verification::kFailed:
        return 2;
      case Verification::kPassed:
        return 1;
      case Verification::kNotChecked:
        return 0;
    }
    return 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace

std::string collective_of_nccl_test(std::string_view binary) {
  if (const auto slash = binary.find_last_of('/'); slash != std::string_view::npos)
    binary.remove_prefix(slash + 1);
  std::string name(binary);
  if (name.ends_with("_perf")) name.resize(name.size() - 5);
  if (name == "alltoall") return "all_to_all";
  if (name == "sendrecv") return "send_recv";
  return name;
}

Results from_nccl_tests(const json& doc, RunHeader header, std::string_view source) {
  const Reader r(source);
  if (!doc.is_object()) r.fail("$", "expected an object (nccl-tests -J output)");
  const json& version = r.member(doc, "$", "version");
  if (!version.is_number_integer() || version.get<int>() != 2)
    r.fail("$.version", fmt::format("nccl-tests JSON version {} is not supported (2 is: "
                                    "nccl-tests 2.17 and later)",
                                    version.dump()));
  const json& args = r.member(doc, "$", "args");
  if (!args.is_array() || args.empty()) r.fail("$.args", "expected the command line, a list");
  const std::string collective = collective_of_nccl_test(r.string(args[0], "$.args[0]"));
  const json& config = r.member(doc, "$", "config");
  const std::int64_t threads =
      r.integer(r.member(config, "$.config", "nthreads"), "$.config.nthreads");
  const std::int64_t gpus = r.integer(r.member(config, "$.config", "ngpus"), "$.config.ngpus");
  const json& devices = r.member(config, "$.config", "devices");
  if (!devices.is_array() || devices.empty())
    r.fail("$.config.devices", "expected a list of the processes' devices");
  std::set<std::string> hosts;
  std::vector<std::string> host_order;
  json cuda = json::array();
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const std::string p = fmt::format("$.config.devices[{}]", i);
    const std::string host = r.string(r.member(devices[i], p, "hostname"), p + ".hostname");
    if (hosts.insert(host).second) host_order.push_back(host);
    cuda.push_back({{"name", r.string(r.member(devices[i], p, "device_info"), p + ".device_info")},
                    {"index", r.integer(r.member(devices[i], p, "device"), p + ".device")},
                    {"host", host}});
    if (devices[i].contains("device_hex") && devices[i]["device_hex"].is_string())
      cuda.back()["pci_bus_id"] = devices[i]["device_hex"];
  }
  if (threads < 1 || gpus < 1) r.fail("$.config", "nthreads and ngpus must be at least 1");
  const std::int64_t ranks = static_cast<std::int64_t>(devices.size()) * threads * gpus;
  const std::int64_t nodes = static_cast<std::int64_t>(hosts.size());

  Results out;
  out.run = std::move(header);
  out.run.host = host_order.front();
  out.run.sysinfo = {{"host", host_order.front()},
                     {"hosts", host_order},
                     {"cuda_devices", cuda},
                     {"source", "nccl-tests JSON; only what it records"}};
  if (doc.contains("nccl_version") && doc["nccl_version"].is_number_integer()) {
    const int v = doc["nccl_version"].get<int>();  // NCCL_VERSION_CODE: X * 10000 + Y * 100 + Z
    out.run.library_versions["nccl"] = fmt::format("{}.{}.{}", v / 10000, (v / 100) % 100, v % 100);
  }
  out.run.environment = json::object();  // the run's, not the converting machine's
  if (doc.contains("env") && doc["env"].is_array())
    for (const json& e : doc["env"]) {
      if (!e.is_string()) continue;
      const std::string s = e.get<std::string>();
      const auto eq = s.find('=');
      if (eq != std::string::npos && s.starts_with("NCCL_"))
        out.run.environment[s.substr(0, eq)] = s.substr(eq + 1);
    }
  json extra = {{"args", args}, {"config", config}};
  for (const char* key :
       {"start_time", "end_time", "out_of_bounds", "average_bus_bandwidth", "errors"})
    if (doc.contains(key)) extra[key] = doc[key];
  out.run.extra["nccl_tests"] = extra;
  out.run.extra["converted_from"] = std::string(source);

  const json& rows = r.member(doc, "$", "results");
  if (!rows.is_array()) r.fail("$.results", "expected a list");
  // Fields that name a record only where the file holds several values of them.
  std::set<std::string> types, redops;
  std::set<std::int64_t> roots;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string p = fmt::format("$.results[{}]", i);
    types.insert(r.string(r.member(rows[i], p, "type"), p + ".type"));
    redops.insert(r.string(r.member(rows[i], p, "redop"), p + ".redop"));
    roots.insert(r.integer(r.member(rows[i], p, "root"), p + ".root"));
  }

  std::vector<Sample> samples;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    const std::string p = fmt::format("$.results[{}]", i);
    const std::int64_t bytes = r.integer(r.member(row, p, "size"), p + ".size");
    const std::int64_t count = r.integer(r.member(row, p, "count"), p + ".count");
    if (bytes < 0 || count < 0) r.fail(p, "size and count must not be negative");
    const std::string type = r.string(row["type"], p + ".type");
    const std::string redop = r.string(row["redop"], p + ".redop");
    const std::int64_t root = r.integer(row["root"], p + ".root");
    for (const char* placement : {"out_of_place", "in_place"}) {
      if (!row.contains(placement) || row[placement].is_null()) continue;
      const std::string q = p + "." + placement;
      const json& body = row[placement];
      if (!body.is_object()) r.fail(q, "expected an object or null");
      const bool cpu_timer = body.contains("cpu_time");
      const double time_us =
          r.number(r.member(body, q, cpu_timer ? "cpu_time" : "time"), q + ".time");
      const double alg = r.number(r.member(body, q, "alg_bw"), q + ".alg_bw");
      const double bus = r.number(r.member(body, q, "bus_bw"), q + ".bus_bw");
      const json& nwrong = r.member(body, q, "nwrong");
      std::string name = fmt::format("{}/bytes:{}/{}", collective, bytes, placement);
      if (types.size() > 1) name += "/type:" + type;
      if (redops.size() > 1) name += "/redop:" + redop;
      if (roots.size() > 1) name += fmt::format("/root:{}", root);
      auto [it, fresh] = index.emplace(name, samples.size());
      if (fresh) {
        Sample s;
        s.benchmark = name;
        s.parameters = {{"collective", collective}, {"bytes", bytes},
                        {"count", count},           {"type", type},
                        {"redop", redop},           {"root", root},
                        {"placement", placement},   {"ranks", ranks},
                        {"nodes", nodes},           {"source", "nccl-tests"}};
        if (cpu_timer) s.parameters["timer"] = "cpu";
        samples.push_back(std::move(s));
      }
      Sample& s = samples[it->second];
      const bool finite = std::isfinite(time_us) && std::isfinite(alg) && std::isfinite(bus) &&
                          time_us > 0 && alg >= 0 && bus >= 0;
      if (!finite) {
        s.verification = Verification::kError;
        s.detail = fmt::format("{}: time {} us, algbw {} GB/s, busbw {} GB/s: not a measurement", q,
                               time_us, alg, bus);
        continue;
      }
      // Per-iteration times (-I) are the repetitions; else the line's average is one.
      std::vector<double> times_us{time_us};
      const std::string per_iter = std::string(placement) + "_per_iter";
      if (row.contains(per_iter) && row[per_iter].is_object() &&
          row[per_iter].contains("times_us") && row[per_iter]["times_us"].is_array() &&
          !row[per_iter]["times_us"].empty()) {
        times_us.clear();
        const json& list = row[per_iter]["times_us"];
        for (std::size_t k = 0; k < list.size(); ++k) {
          const double t = r.number(list[k], fmt::format("{}.{}.times_us[{}]", p, per_iter, k));
          if (!(std::isfinite(t) && t > 0))
            r.fail(fmt::format("{}.{}.times_us[{}]", p, per_iter, k),
                   fmt::format("expected a time > 0, got {}", t));
          times_us.push_back(t);
        }
      }
      for (double t : times_us) {
        s.time_s.push_back(t / 1e6);
        s.alg.push_back(alg * 1e9 * time_us / t);  // bandwidth scales as 1 / time
        s.bus.push_back(bus * 1e9 * time_us / t);
      }
      if (nwrong.is_null()) {
        s.verification = worse(s.verification, Verification::kNotChecked);
      } else {
        const double w = r.number(nwrong, q + ".nwrong");
        if (!(std::isfinite(w) && w >= 0)) {
          s.verification = Verification::kError;
          s.detail = fmt::format("{}.nwrong is {}", q, nwrong.dump());
        } else if (w > 0) {
          s.verification = worse(s.verification, Verification::kFailed);
          s.wrong += w;
        } else {
          s.verification = worse(s.verification, Verification::kPassed);
        }
      }
    }
  }

  // The latency input: the smallest send_recv with data that passed.
  Sample* latency = nullptr;
  for (Sample& s : samples)
    if (s.parameters["collective"] == "send_recv" && s.parameters["placement"] == "out_of_place" &&
        s.parameters["count"].get<std::int64_t>() >= 1 && s.verification == Verification::kPassed &&
        (latency == nullptr || s.parameters["bytes"].get<std::int64_t>() <
                                   latency->parameters["bytes"].get<std::int64_t>()))
      latency = &s;
  if (latency)
    latency->parameters["model_input"] = nodes > 1 ? "latency.inter_node" : "latency.intra_node";

  for (Sample& s : samples) {
    Record rec;
    rec.suite = "collectives";
    rec.benchmark = s.benchmark;
    rec.backend = Backend::kNccl;
    rec.parameters = s.parameters;
    rec.verification = s.verification;
    switch (s.verification) {
      case Verification::kPassed:
        rec.verification_detail = "nccl-tests' own check: 0 wrong elements";
        break;
      case Verification::kFailed:
        rec.verification_detail =
            fmt::format("nccl-tests' own check: {:.0f} wrong elements", s.wrong);
        break;
      case Verification::kNotChecked:
        rec.verification_detail = "nccl-tests ran without validation (-c 0)";
        break;
      case Verification::kError:
        rec.verification_detail = s.detail;
        break;
    }
    if (!s.time_s.empty()) {
      rec.metrics.push_back({"time", "s", s.time_s, std::nullopt});
      rec.metrics.push_back({"algbw", "B/s", s.alg, std::nullopt});
      rec.metrics.push_back({"busbw", "B/s", s.bus, std::nullopt});
    }
    out.records.push_back(std::move(rec));
  }
  return out;
}

}  // namespace cobench::results
