// SPDX-License-Identifier: Apache-2.0
#include "collectives/coll_report.h"

#include <fmt/format.h>

#include <map>
#include <utility>

namespace cobench::coll {

namespace {
std::string cells(const CollResult* r) {
  if (r == nullptr) return fmt::format("{:>10} {:>8} {:>8} {:>7}", "n/a", "", "", "");
  if (!r->passed()) return fmt::format("{:>10} {:>8} {:>8} {:>7}", "-", "-", "-", r->wrong);
  return fmt::format("{:>10.2f} {:>8.2f} {:>8.2f} {:>7}", r->median_time_s * 1e6,
                     r->bandwidth.alg_bytes_per_s / 1e9, r->bandwidth.bus_bytes_per_s / 1e9,
                     r->wrong);
}
}  // namespace

std::string format_table(const std::vector<CollResult>& rows) {
  // Rows of one collective and size, in the order they ran.
  std::vector<std::pair<const CollResult*, const CollResult*>> lines;
  std::map<std::pair<int, std::size_t>, std::size_t> index;
  for (const auto& r : rows) {
    const auto key = std::make_pair(static_cast<int>(r.op), r.counts.bytes);
    auto [it, inserted] = index.emplace(key, lines.size());
    if (inserted) lines.emplace_back(nullptr, nullptr);
    (r.in_place ? lines[it->second].second : lines[it->second].first) = &r;
  }
  std::string out = fmt::format(
      "# {:>14} {:>12} {:>8} {:>15}   {:^36}   {:^36}\n"
      "# {:>14} {:>12} {:>8} {:>15}   {:>10} {:>8} {:>8} {:>7}   {:>10} {:>8} {:>8} {:>7}\n",
      "", "", "", "", "out-of-place", "in-place", "size (B)", "count", "type", "collective",
      "time (us)", "algbw", "busbw", "#wrong", "time (us)", "algbw", "busbw", "#wrong");
  for (const auto& [oop, ip] : lines) {
    const CollResult& any = oop != nullptr ? *oop : *ip;
    out +=
        fmt::format("  {:>14} {:>12} {:>8} {:>15}   {}   {}\n", any.counts.bytes, any.counts.param,
                    to_string(any.type), to_string(any.op), cells(oop), cells(ip));
  }
  out += "# algbw and busbw in GB/s (1e9 B/s); busbw as nccl-tests (doc/PERFORMANCE.md)\n";
  return out;
}

std::vector<results::Record> to_records(const std::vector<CollResult>& rows,
                                        results::Backend backend, const NodeLayout& layout) {
  const CollResult* latency = nullptr;
  for (const auto& r : rows)
    if (r.op == Collective::kSendRecv && !r.in_place && r.counts.param >= 1 && r.passed() &&
        (latency == nullptr || r.counts.bytes < latency->counts.bytes))
      latency = &r;

  std::vector<results::Record> out;
  for (const auto& r : rows) {
    results::Record rec;
    rec.suite = "collectives";
    rec.backend = backend;
    const char* placement = r.in_place ? "in_place" : "out_of_place";
    rec.benchmark = fmt::format("{}/bytes:{}/{}", to_string(r.op), r.counts.bytes, placement);
    rec.parameters = {{"collective", std::string(to_string(r.op))},
                      {"bytes", r.counts.bytes},
                      {"count", r.counts.param},
                      {"type", std::string(to_string(r.type))},
                      {"placement", placement},
                      {"ranks", r.ranks},
                      {"nodes", layout.num_nodes},
                      {"virtual_nodes", layout.virtual_nodes}};
    if (&r == latency && !layout.virtual_nodes)
      rec.parameters["model_input"] =
          layout.num_nodes > 1 ? "latency.inter_node" : "latency.intra_node";
    rec.verification = r.passed() ? results::Verification::kPassed : results::Verification::kFailed;
    rec.verification_detail =
        r.passed() ? "every rank's receive buffer matches its recomputed "
                     "pattern exactly"
                   : fmt::format("{} wrong elements over all ranks; {}", r.wrong, r.detail);
    if (!r.time_s.empty()) {
      rec.metrics.push_back({"time", "s", r.time_s, std::nullopt});
      std::vector<double> alg, bus;
      for (double t : r.time_s) {
        const auto bw = t > 0 ? bus_bandwidth(r.op, r.counts.bytes, t, r.ranks) : BusBandwidth{};
        alg.push_back(bw.alg_bytes_per_s);
        bus.push_back(bw.bus_bytes_per_s);
      }
      rec.metrics.push_back({"algbw", "B/s", alg, std::nullopt});
      rec.metrics.push_back({"busbw", "B/s", bus, std::nullopt});
    }
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace cobench::coll
