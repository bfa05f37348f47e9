// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_report.h"

#include <fmt/format.h>

#include "core/stats.h"

namespace cobench::coll::ep {

namespace {

double median_of(const std::vector<double>& v) { return v.empty() ? 0 : summarize(v).median; }

std::string phase_line(const char* phase, const std::vector<double>& times,
                       const std::vector<double>& staging, const std::vector<double>& total,
                       const Traffic& t) {
  const double s = median_of(times);
  auto gbps = [&](double bytes) { return s > 0 ? bytes / s / 1e9 : 0.0; };
  return fmt::format(
      "  {:<9} {:>10.1f} us   network {:>7.2f} GB/s ({:>9.3f} MB)   intra {:>7.2f} GB/s "
      "({:>9.3f} MB)   logical net {:>7.2f} / intra {:>7.2f} GB/s   end to end {:.1f} us "
      "(copies {:.1f} us)\n",
      phase, s * 1e6, gbps(t.payload.network), t.payload.network / 1e6, gbps(t.payload.intra),
      t.payload.intra / 1e6, gbps(t.logical_network), gbps(t.logical_intra), median_of(total) * 1e6,
      median_of(staging) * 1e6);
}

}  // namespace

std::string format_table(const std::vector<EpResult>& rows, const EpConfig& c,
                         const NodeLayout& layout) {
  std::string out = fmt::format(
      "# EP: {} tokens/rank, hidden {}, {} experts, top-{} of {} groups (<= {}), <= {} nodes, "
      "routing {}, shared expert {}; {} ranks on {} {}node(s)\n"
      "# payload per token copy: dispatch {} B (FP8 + scales), combine {} B ({})\n",
      c.tokens_per_rank, c.hidden, c.num_experts, c.top_k, c.num_groups, c.topk_groups, c.max_nodes,
      to_string(c.routing), c.shared_expert ? "yes" : "no", layout.node_of_rank.size(),
      layout.num_nodes, layout.virtual_nodes ? "virtual " : "", dispatch_payload_bytes(c.hidden),
      combine_payload_bytes(c.combine_format, c.hidden), describe(c.combine_format));
  const EpResult* flat = nullptr;
  const EpResult* hier = nullptr;
  for (const auto& r : rows) {
    out += fmt::format(
        "{}: {} ({} token copies received in all; max rel. error {:.3g}, {:.3g} of the {} "
        "bound)\n",
        r.implementation, r.passed() ? "verified" : "VERIFICATION FAILED", r.received_tokens,
        r.max_rel_error, r.max_error_over_bound, to_string(c.combine_format));
    if (!r.passed()) {
      out += fmt::format("  {} failed checks; {}\n", r.wrong, r.detail);
      continue;
    }
    out += phase_line("dispatch", r.dispatch_s, r.dispatch_staging_s, r.dispatch_total_s,
                      r.dispatch.mean);
    out +=
        phase_line("combine", r.combine_s, r.combine_staging_s, r.combine_total_s, r.combine.mean);
    (r.implementation == "flat" ? flat : hier) = &r;
  }
  if (flat != nullptr && hier != nullptr && flat->dispatch.mean.payload.network > 0)
    out += fmt::format(
        "# network bytes per rank and dispatch: flat {:.3f} MB, hierarchical {:.3f} MB ({:.1f}% "
        "fewer)\n",
        flat->dispatch.mean.payload.network / 1e6, hier->dispatch.mean.payload.network / 1e6,
        100 * (1 - hier->dispatch.mean.payload.network / flat->dispatch.mean.payload.network));
  out += fmt::format(
      "# times: medians of the repetitions, maximum over ranks; GB/s per rank (1e9 B/s) over the "
      "communication stages (count swap + all-to-all-v), not the host pack/unpack or the copies "
      "(end to end includes them); data path: {}\n",
      rows.empty() ? std::string("none") : rows.front().backend + ", " + rows.front().data_path);
  return out;
}

std::vector<results::Record> to_records(const std::vector<EpResult>& rows, const EpConfig& c,
                                        const NodeLayout& layout) {
  std::vector<results::Record> out;
  for (const auto& r : rows)
    for (const bool dispatch : {true, false}) {
      const auto& times = dispatch ? r.dispatch_s : r.combine_s;
      const TrafficStats& t = dispatch ? r.dispatch : r.combine;
      const char* phase = dispatch ? "dispatch" : "combine";
      results::Record rec;
      rec.suite = "ep";
      rec.backend = r.backend == "nccl" ? results::Backend::kNccl : results::Backend::kMpi;
      rec.benchmark =
          fmt::format("{}/{}/tokens:{}/hidden:{}/experts:{}/topk:{}/ranks:{}/nodes:{}", phase,
                      r.implementation, c.tokens_per_rank, c.hidden, c.num_experts, c.top_k,
                      layout.node_of_rank.size(), layout.num_nodes);
      // BF16 combine keeps the names records had before --combine-format existed.
      if (c.combine_format != CombineFormat::kBf16)
        rec.benchmark += fmt::format("/combine_format:{}", to_string(c.combine_format));
      rec.parameters = {
          {"phase", phase},
          {"implementation", r.implementation},
          {"tokens_per_rank", c.tokens_per_rank},
          {"hidden", c.hidden},
          {"experts", c.num_experts},
          {"top_k", c.top_k},
          {"groups", c.num_groups},
          {"topk_groups", c.topk_groups},
          {"max_nodes", c.max_nodes},
          {"routing", to_string(c.routing)},
          {"shared_expert", c.shared_expert},
          {"ranks", layout.node_of_rank.size()},
          {"nodes", layout.num_nodes},
          {"virtual_nodes", layout.virtual_nodes},
          {"combine_format", to_string(c.combine_format)},
          {"payload_format",
           dispatch ? "FP8 E4M3 + an FP32 scale a 128" : describe(c.combine_format)},
          {"payload_bytes_per_token", dispatch ? dispatch_payload_bytes(c.hidden)
                                               : combine_payload_bytes(c.combine_format, c.hidden)},
          {"network_bytes_per_rank", t.mean.payload.network},
          {"intra_bytes_per_rank", t.mean.payload.intra},
          {"network_bytes_max_rank", t.max.payload.network},
          {"wire_network_bytes_per_rank", t.mean.wire.network},
          {"logical_network_bytes_per_rank", t.mean.logical_network},
          {"logical_intra_bytes_per_rank", t.mean.logical_intra},
          {"data_path", r.data_path},
          {"timed", kTimedRegion}};
      if (!layout.virtual_nodes && dispatch) {
        if (r.implementation == "hierarchical" && layout.num_nodes > 1) {
          rec.parameters["model_input"] = "ep.bandwidth.inter_node";
          rec.parameters["model_metric"] = "network_bandwidth";
        } else if (r.implementation == "flat" && layout.num_nodes == 1) {
          rec.parameters["model_input"] = "ep.bandwidth.intra_node";
          rec.parameters["model_metric"] = "intra_bandwidth";
        }
      }
      rec.verification =
          r.passed() ? results::Verification::kPassed : results::Verification::kFailed;
      rec.verification_detail =
          r.passed() ? r.detail : fmt::format("{} failed checks; {}", r.wrong, r.detail);
      rec.extra = {{"max_rel_error", r.max_rel_error},
                   {"max_error_over_bound", r.max_error_over_bound},
                   {"received_token_copies", r.received_tokens}};
      if (!times.empty()) {
        rec.metrics.push_back({"time", "s", times, std::nullopt});
        auto per = [&](double bytes) {
          std::vector<double> v;
          for (double s : times) v.push_back(s > 0 ? bytes / s : 0.0);
          return v;
        };
        rec.metrics.push_back(
            {"network_bandwidth", "B/s", per(t.mean.payload.network), std::nullopt});
        rec.metrics.push_back({"intra_bandwidth", "B/s", per(t.mean.payload.intra), std::nullopt});
        rec.metrics.push_back(
            {"logical_network_bandwidth", "B/s", per(t.mean.logical_network), std::nullopt});
        rec.metrics.push_back(
            {"logical_intra_bandwidth", "B/s", per(t.mean.logical_intra), std::nullopt});
        const auto& staging = dispatch ? r.dispatch_staging_s : r.combine_staging_s;
        const auto& total = dispatch ? r.dispatch_total_s : r.combine_total_s;
        if (!staging.empty()) rec.metrics.push_back({"staging_time", "s", staging, std::nullopt});
        if (!total.empty()) rec.metrics.push_back({"end_to_end_time", "s", total, std::nullopt});
      }
      out.push_back(std::move(rec));
    }
  return out;
}

}  // namespace cobench::coll::ep
