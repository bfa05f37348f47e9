// SPDX-License-Identifier: Apache-2.0
#include "track/history.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_strict.h"
#include "core/machine_identity.h"
#include "core/results_io.h"
#include "core/stats.h"
#include "track/compare.h"

namespace cobench::track {
namespace fs = std::filesystem;
namespace {

// A sort key for ISO 8601 UTC times with or without fractional seconds:
// "2026-11-29T05:30:00Z" sorts before "2026-11-29T05:30:00.5Z".
std::string time_key(std::string t) {
  if (!t.empty() && t.back() == 'Z') t.pop_back();
  std::string fraction;
  if (const auto dot = t.find('.'); dot != std::string::npos) {
    fraction = t.substr(dot + 1);
    t.resize(dot);
  }
  fraction.resize(12, '0');
  return t + "." + fraction;
}

// A *.json file found in a directory: true for a results file (its "schema" names
// cobench.results/...), false for another JSON document; an error for what is not strict JSON at
// all (a truncated or damaged results file must not vanish from a history unnoticed).
bool is_results_file(const fs::path& p) {
  const nlohmann::json doc = parse_json_strict(read_file(p), p.string());
  if (!doc.is_object() || !doc.contains("schema") || !doc["schema"].is_string()) return false;
  return doc["schema"].get<std::string>().starts_with("cobench.results/");
}

// Hidden files and directories (".cobench-run-*" work directories, temporary files) are not
// part of a history.
bool hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

}  // namespace

std::vector<fs::path> find_results_files(const std::vector<std::string>& paths,
                                         std::vector<fs::path>* skipped) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p); it != fs::recursive_directory_iterator();
           ++it) {
        if (hidden(it->path())) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (!it->is_regular_file() || it->path().extension() != ".json") continue;
        if (is_results_file(it->path()))
          files.push_back(it->path());
        else if (skipped != nullptr)
          skipped->push_back(it->path());
      }
    } else if (fs::is_regular_file(p, ec)) {
      files.emplace_back(p);
    } else {
      throw Error(fs::exists(p, ec) ? fmt::format("{}: not a results file or a directory of "
                                                  "them (a device, FIFO or socket)",
                                                  p)
                                    : fmt::format("{}: no such file or directory", p));
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  if (skipped != nullptr) std::sort(skipped->begin(), skipped->end());
  return files;
}

std::vector<HistoryRun> load_history(const std::vector<fs::path>& files) {
  std::vector<HistoryRun> runs;
  for (const auto& f : files) {
    HistoryRun r;
    r.file = f.string();
    r.results = results::read(f);
    r.utc_time = r.results.run.utc_time;
    r.git_commit = r.results.run.git_commit;
    runs.push_back(std::move(r));
  }
  std::stable_sort(runs.begin(), runs.end(), [](const HistoryRun& a, const HistoryRun& b) {
    return std::forward_as_tuple(time_key(a.utc_time), a.file) <
           std::forward_as_tuple(time_key(b.utc_time), b.file);
  });
  // A run is its header (time to the fraction, host, commit, command, sysinfo): two files that
  // hold the same one are a copy, which would count the run twice and weigh its values double in
  // every series. The dashboard refuses the same (scripts/dashboard/data.py).
  auto header = [](const results::Results& r) {
    results::Results h;  // the header alone: its JSON as the file has it
    h.run = r.run;
    return results::to_json(h)["run"];
  };
  for (std::size_t i = 0; i < runs.size(); ++i)
    for (std::size_t j = i + 1; j < runs.size() && runs[j].utc_time == runs[i].utc_time; ++j) {
      const HistoryRun &a = runs[i], &b = runs[j];
      if (header(a.results) == header(b.results))
        throw Error(
            fmt::format("{} holds the same run as {} (host '{}', {}): a copy counts a "
                        "run twice; keep one of them",
                        b.file, a.file, b.results.run.host, b.utc_time));
    }
  return runs;
}

// A --metric that no record of the runs has: a typo there reported "0 series" with exit 0, a
// history that never changes (as `compare --metric` would skip every benchmark). Names the
// metrics the runs do have. (A --benchmark that matches nothing is 0 series, as asked.)
void check_metric_exists(const std::vector<HistoryRun>& runs, const std::string& metric) {
  std::set<std::string> metrics;
  for (const auto& run : runs)
    for (const auto& rec : run.results.records)
      for (const auto& m : rec.metrics) metrics.insert(m.name);
  if (metrics.count(metric) != 0) return;
  std::string list;
  for (const auto& m : metrics) list += (list.empty() ? "" : ", ") + m;
  throw UsageError(
      fmt::format("--metric '{}': no record of the {} run(s) has it; their metrics: {}", metric,
                  runs.size(), list.empty() ? "none" : list));
}

std::vector<Series> build_series(const std::vector<HistoryRun>& runs, const HistoryOptions& o) {
  std::regex filter;
  try {
    filter = std::regex(o.benchmark_regex.empty() ? std::string(".*") : o.benchmark_regex);
  } catch (const std::regex_error& e) {
    throw UsageError(fmt::format("invalid --benchmark regular expression '{}': {}",
                                 o.benchmark_regex, e.what()));
  }
  if (!o.metric.empty() && !runs.empty()) check_metric_exists(runs, o.metric);
  // One series per (machine, suite, benchmark, backend, metric, unit); a valid results file
  // holds a (suite, benchmark, backend) once, so each run adds at most one point to a series. A
  // metric whose unit changed between runs is two series: 740 (in 1) after 0.00074 s is no
  // change point.
  using Key =
      std::tuple<std::string, std::string, std::string, results::Backend, std::string, std::string>;
  std::map<Key, Series> by_key;
  for (const auto& run : runs) {
    const std::string key_of_machine = machine_identity(run.results.run.sysinfo).key;
    const std::string machine =
        key_of_machine.empty() ? "host:" + run.results.run.host : key_of_machine;
    std::map<Key, bool> seen;  // records built in memory may repeat: the first is taken
    for (const auto& rec : run.results.records) {
      if (!std::regex_search(rec.benchmark, filter)) continue;
      const results::Metric* m = select_metric(rec, o.metric);
      if (!m || m->values.empty()) continue;
      const Key key{machine, rec.suite, rec.benchmark, rec.backend, m->name, m->unit};
      if (seen[key]) continue;
      seen[key] = true;
      Series& s = by_key[key];
      if (s.points.empty()) {
        s.machine = machine;
        s.suite = rec.suite;
        s.benchmark = rec.benchmark;
        s.backend = rec.backend;
        s.metric = m->name;
        s.unit = m->unit;
      }
      s.points.push_back({run.file, run.utc_time, run.git_commit, summarize(m->values).median});
    }
  }
  std::vector<Series> out;
  for (auto& [key, s] : by_key) {
    std::vector<double> medians;
    for (const auto& p : s.points) medians.push_back(p.median);
    s.change_points = detect_change_points(medians, o.detector);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> mixed_hardware(const std::vector<HistoryRun>& runs) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i < runs.size(); ++i)
    for (const auto& d :
         hardware_differences(runs[0].results.run.sysinfo, runs[i].results.run.sysinfo))
      out.push_back(fmt::format("{} vs {}: {}", runs[0].file, runs[i].file, d));
  return out;
}

nlohmann::json to_json(const std::vector<Series>& series) {
  using nlohmann::json;
  json all = json::array();
  for (const auto& s : series) {
    json points = json::array(), changes = json::array();
    for (const auto& p : s.points)
      points.push_back({{"file", p.file},
                        {"utc_time", p.utc_time},
                        {"git_commit", p.git_commit},
                        {"median", p.median}});
    for (const auto& c : s.change_points) {
      const HistoryPoint& p = s.points.at(c.index);
      changes.push_back({{"index", c.index},
                         {"utc_time", p.utc_time},
                         {"file", p.file},
                         {"git_commit", p.git_commit},
                         {"before_median", c.before_median},
                         {"after_median", c.after_median},
                         {"relative_change", c.relative_change},
                         {"p_value", c.p_value}});
    }
    all.push_back({{"machine", s.machine},
                   {"suite", s.suite},
                   {"benchmark", s.benchmark},
                   {"backend", results::to_string(s.backend)},
                   {"metric", s.metric},
                   {"unit", s.unit},
                   {"points", points},
                   {"change_points", changes}});
  }
  return {{"series", all}};
}

std::string format_text(const std::vector<Series>& series) {
  // The backend is named where one suite and benchmark has series of several backends.
  std::map<std::pair<std::string, std::string>, std::set<results::Backend>> backends;
  for (const auto& s : series) backends[{s.suite, s.benchmark}].insert(s.backend);
  // The machine is named where the history holds several.
  std::set<std::string> machines;
  for (const auto& s : series) machines.insert(s.machine);
  std::string out;
  std::size_t changes = 0;
  for (const auto& s : series) {
    changes += s.change_points.size();
    const std::string backend = backends[{s.suite, s.benchmark}].size() > 1
                                    ? fmt::format(" [{}]", results::to_string(s.backend))
                                    : std::string();
    const std::string machine =
        machines.size() > 1 ? fmt::format(" on machine {}", s.machine) : std::string();
    out += fmt::format("{}/{}{}{} {} ({}): {} runs, {} change point(s)\n", s.suite, s.benchmark,
                       backend, machine, s.metric, s.unit, s.points.size(), s.change_points.size());
    for (const auto& c : s.change_points) {
      const HistoryPoint& p = s.points.at(c.index);
      out +=
          fmt::format("  at run {} {} commit {} ({}): {:.6g} -> {:.6g} {} ({:+.1f}%), p = {:.4f}\n",
                      c.index, p.utc_time, p.git_commit, p.file, c.before_median, c.after_median,
                      s.unit, c.relative_change * 100, c.p_value);
    }
  }
  out += fmt::format("{} series, {} change point(s)\n", series.size(), changes);
  return out;
}

}  // namespace cobench::track
