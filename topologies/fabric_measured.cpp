// SPDX-License-Identifier: Apache-2.0
#include "topologies/fabric_measured.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/results_io.h"
#include "core/stats.h"
#include "core/units.h"
#include "topologies/measured_identity.h"

namespace cobench::topo {

BusbwEstimate estimate_busbw(const std::vector<CollPoint>& points, double size_bytes) {
  COBENCH_CHECK(!points.empty() && size_bytes > 0, "a busbw estimate needs points and a size");
  BusbwEstimate e;
  // The first size at or above the simulated one.
  const auto hi =
      std::lower_bound(points.begin(), points.end(), size_bytes,
                       [](const CollPoint& p, double bytes) { return p.bytes < bytes; });
  if (hi != points.end() && hi->bytes == size_bytes) {
    e.method = "exact";
    e.used = {*hi};
  } else if (hi == points.begin() || hi == points.end()) {
    // Outside the measured sizes: the nearest end, not an extrapolation.
    e.method = "nearest";
    e.used = {hi == points.end() ? points.back() : points.front()};
  } else {
    const CollPoint& lo = *(hi - 1);
    // log(busbw) linear in log(bytes) between the two sizes around the simulated one.
    const double t = std::log(size_bytes / lo.bytes) / std::log(hi->bytes / lo.bytes);
    e.method = "interpolated (log-log)";
    e.used = {lo, *hi};
    e.busbw_bytes_per_s =
        std::exp(std::log(lo.busbw_bytes_per_s) +
                 t * (std::log(hi->busbw_bytes_per_s) - std::log(lo.busbw_bytes_per_s)));
    return e;
  }
  e.busbw_bytes_per_s = e.used.front().busbw_bytes_per_s;
  return e;
}

void collect_coll_points(const results::Results& r, const std::string& source,
                         MeasuredCollective& into, const ClusterSpec* cluster) {
  for (std::size_t i = 0; i < r.records.size(); ++i) {
    const results::Record& rec = r.records[i];
    const nlohmann::json& p = rec.parameters;
    if (rec.suite != "collectives" || !p.contains("collective") || !p.contains("ranks") ||
        !p.contains("bytes")) {
      ++into.other_suites;
      continue;
    }
    const std::string where = fmt::format("{}: $.records[{}] ({})", source, i, rec.benchmark);
    if (!p["collective"].is_string())
      throw Error(fmt::format("{}: parameters.collective: expected a string", where));
    if (!p["ranks"].is_number() || !(p["ranks"].get<double>() > 0))
      throw Error(fmt::format("{}: parameters.ranks: expected a number above 0", where));
    // nccl-tests' sweeps and cobench_coll's start at 0 bytes: a record of no bytes is valid, and
    // has no bus bandwidth to compare.
    if (!p["bytes"].is_number() || !(p["bytes"].get<double>() >= 0))
      throw Error(fmt::format("{}: parameters.bytes: expected a number >= 0", where));
    if (p["collective"].get<std::string>() != into.collective ||
        p["ranks"].get<double>() != static_cast<double>(into.ranks)) {
      ++into.left_out_other;
      continue;
    }
    const auto m = std::find_if(rec.metrics.begin(), rec.metrics.end(),
                                [](const results::Metric& x) { return x.name == "busbw"; });
    if (m == rec.metrics.end() || m->values.empty() || p["bytes"].get<double>() == 0) {
      ++into.left_out_no_busbw;
      continue;
    }
    if (rec.verification != results::Verification::kPassed) {
      ++into.left_out_unverified;
      continue;
    }
    if (cluster) {
      const std::string mismatch = link_mismatch(r, rec, *cluster);
      if (!mismatch.empty())
        throw Error(
            fmt::format("{}: a measurement of another link class: {}; give --measured-as "
                        "link to compare it with cluster '{}' on purpose",
                        where, mismatch, cluster->name));
    }
    if (m->unit != "B/s")
      throw Error(fmt::format("{}: metrics.busbw: expected unit B/s, got '{}'", where, m->unit));
    const double busbw = summarize(m->values).median;
    if (!is_model_quantity(busbw))
      throw Error(fmt::format("{}: metrics.busbw: expected a median from {:g} to {:g} B/s, got {}",
                              where, kMinQuantity, kMaxQuantity, busbw));
    ++into.records_used;
    into.points.push_back(
        {p["bytes"].get<double>(), busbw, fmt::format("{}: {}", source, rec.benchmark)});
  }
}

MeasuredCollective measured_collective(const std::vector<std::string>& paths,
                                       const std::string& collective, std::int64_t ranks,
                                       double size_bytes, const ClusterSpec* cluster) {
  MeasuredCollective m;
  m.collective = collective;
  m.ranks = ranks;
  m.size_bytes = size_bytes;
  for (const std::string& f : measured_files(paths)) {
    collect_coll_points(results::read(f), f, m, cluster);
    m.files.push_back(f);
  }
  // One point a size: the best (highest) median busbw of the records at it.
  std::sort(m.points.begin(), m.points.end(), [](const CollPoint& a, const CollPoint& b) {
    return a.bytes != b.bytes ? a.bytes < b.bytes : a.busbw_bytes_per_s > b.busbw_bytes_per_s;
  });
  m.points.erase(
      std::unique(m.points.begin(), m.points.end(),
                  [](const CollPoint& a, const CollPoint& b) { return a.bytes == b.bytes; }),
      m.points.end());
  if (m.found()) m.estimate = estimate_busbw(m.points, size_bytes);
  return m;
}

void add_measured(Report& rep, const MeasuredCollective& m,
                  const std::vector<SimulatedBusbw>& simulated) {
  const std::string size = format_bytes(Bytes(m.size_bytes));
  const std::string section =
      fmt::format("Measured (cobench_coll): {} at {} ranks, {} results file(s)", m.collective,
                  m.ranks, m.files.size());
  auto row = [&](std::string key, std::string quantity, double v, std::string unit,
                 std::string note = "") {
    rep.rows.push_back({section, std::move(key), std::move(quantity), std::nullopt, v,
                        std::move(unit), 0, std::move(note), false});
  };
  nlohmann::json j = {{"source", m.files},
                      {"collective", m.collective},
                      {"ranks", m.ranks},
                      {"size_bytes", m.size_bytes},
                      {"records_used", m.records_used},
                      {"records_left_out", m.left_out_other},
                      {"records_failed_or_unchecked", m.left_out_unverified},
                      {"records_without_busbw", m.left_out_no_busbw},
                      {"records_of_other_suites", m.other_suites},
                      {"busbw_bytes_per_s", nullptr},
                      {"method", nullptr},
                      {"sizes_used_bytes", nlohmann::json::array()},
                      {"simulated_busbw_bytes_per_s_by_routing", nlohmann::json::object()},
                      {"ratio_by_routing", nlohmann::json::object()}};
  for (const SimulatedBusbw& s : simulated)
    j["simulated_busbw_bytes_per_s_by_routing"][s.routing] = s.busbw_bytes_per_s;
  if (m.found()) {
    const BusbwEstimate& e = m.estimate;
    std::string how;
    if (e.method == "exact") {
      how = fmt::format("exact: {}", e.used.front().source);
    } else if (e.used.size() == 2) {
      how = fmt::format("{} between {} ({:.4g} GB/s) and {} ({:.4g} GB/s)", e.method,
                        format_bytes(Bytes(e.used[0].bytes)), e.used[0].busbw_bytes_per_s / 1e9,
                        format_bytes(Bytes(e.used[1].bytes)), e.used[1].busbw_bytes_per_s / 1e9);
    } else {
      how = fmt::format("nearest: {}, outside the measured sizes {} to {} (not extrapolated)",
                        format_bytes(Bytes(e.used.front().bytes)),
                        format_bytes(Bytes(m.points.front().bytes)),
                        format_bytes(Bytes(m.points.back().bytes)));
    }
    row("measured.busbw", fmt::format("measured busbw at {} (median of repetitions)", size),
        e.busbw_bytes_per_s / 1e9, "GB/s", how);
    for (const SimulatedBusbw& s : simulated) {
      const double ratio = e.busbw_bytes_per_s / s.busbw_bytes_per_s;
      row("measured.ratio." + s.routing,
          fmt::format("measured / simulated busbw, {} routing", s.routing), ratio, "x",
          fmt::format("simulated {:.4g} GB/s", s.busbw_bytes_per_s / 1e9));
      j["ratio_by_routing"][s.routing] = ratio;
    }
    j["busbw_bytes_per_s"] = e.busbw_bytes_per_s;
    j["method"] = e.method;
    for (const CollPoint& p : e.used) j["sizes_used_bytes"].push_back(p.bytes);
    row("measured.records_used", "records used (passed, with busbw)",
        static_cast<double>(m.records_used), "",
        fmt::format("{} size(s) measured, {} to {}", m.points.size(),
                    format_bytes(Bytes(m.points.front().bytes)),
                    format_bytes(Bytes(m.points.back().bytes))));
  } else {
    row("measured.records_used",
        fmt::format("no passed {} record at {} ranks: nothing to compare", m.collective, m.ranks),
        0, "");
  }
  std::string more;
  auto also = [&](std::int64_t n, const char* what) {
    if (n > 0) more += fmt::format("{}{} {}", more.empty() ? "also left out: " : ", ", n, what);
  };
  also(m.left_out_unverified, "failed or unchecked");
  also(m.left_out_no_busbw, "without busbw (timing baselines, 0 B)");
  also(m.other_suites, "not cobench_coll's");
  row("measured.records_left_out", "records of other collectives or rank counts left out",
      static_cast<double>(m.left_out_other), "", more);
  rep.extra["measured"] = std::move(j);
}

}  // namespace cobench::topo
