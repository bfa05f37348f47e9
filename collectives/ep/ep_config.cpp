// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_config.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cmath>

#include "core/ep_payload.h"
#include "core/error.h"

namespace cobench::coll::ep {

void validate(const EpConfig& c, int ranks) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw Error(what);
  };
  need(c.tokens_per_rank >= 0, fmt::format("--tokens {} must not be negative", c.tokens_per_rank));
  need(c.hidden > 0 && c.hidden % 128 == 0,
       fmt::format("--hidden {} must be a positive multiple of 128 (one scale per 128 values)",
                   c.hidden));
  need(c.num_experts >= 1 && c.num_experts % ranks == 0,
       fmt::format("--experts {} must be a positive multiple of the {} ranks", c.num_experts,
                   ranks));
  need(c.top_k >= 1 && c.top_k <= c.num_experts,
       fmt::format("--topk {} must be in 1 ... {} (the experts)", c.top_k, c.num_experts));
  need(c.num_groups >= 1 && c.num_experts % c.num_groups == 0,
       fmt::format("--groups {} must divide the {} experts", c.num_groups, c.num_experts));
  need(c.topk_groups >= 1 && c.topk_groups <= c.num_groups,
       fmt::format("--topk-groups {} must be in 1 ... {} (the groups)", c.topk_groups,
                   c.num_groups));
  need(c.topk_groups * (c.num_experts / c.num_groups) >= c.top_k,
       fmt::format("--topk-groups {} groups of {} experts cannot hold --topk {}", c.topk_groups,
                   c.num_experts / c.num_groups, c.top_k));
  need(c.max_nodes >= 0, fmt::format("--max-nodes {} must not be negative", c.max_nodes));
  // A rank holds at least its own tokens' dispatch and combine payloads; more than the host's
  // memory is refused here rather than ending in std::bad_alloc.
  const double own_bytes = static_cast<double>(c.tokens_per_rank) *
                           static_cast<double>(dispatch_payload_bytes(c.hidden) +
                                               combine_payload_bytes(c.combine_format, c.hidden));
  const double host_bytes =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  need(host_bytes <= 0 || own_bytes <= host_bytes,
       fmt::format("--tokens {} x --hidden {}: a rank's own tokens alone take {:.1f} GiB (FP8 "
                   "dispatch and {} combine payloads); this host has {:.1f} GiB",
                   c.tokens_per_rank, c.hidden, own_bytes / (1ull << 30),
                   to_string(c.combine_format), host_bytes / (1ull << 30)));
  need(std::isfinite(c.zipf_exponent) && c.zipf_exponent >= 0,
       fmt::format("--zipf {} must be a finite number, not negative", c.zipf_exponent));
  need(c.routing != RoutingKind::kFile || !c.routing_file.empty(),
       "--routing file needs --routing-file PATH");
  need(c.routing == RoutingKind::kFile || c.routing_file.empty(),
       fmt::format("--routing-file '{}' is read only with --routing file, not --routing {}",
                   c.routing_file, to_string(c.routing)));
}

int tokens_of(const EpConfig& c, int rank, int ranks) {
  if (!c.uneven_tokens || ranks == 1) return c.tokens_per_rank;
  return static_cast<int>(static_cast<long long>(c.tokens_per_rank) * (ranks - 1 - rank) /
                          (ranks - 1));
}

std::size_t dispatch_payload_bytes(int hidden) {
  return static_cast<std::size_t>(ep_dispatch_payload_bytes(hidden));
}

std::size_t combine_payload_bytes(int hidden) {
  return static_cast<std::size_t>(ep_combine_payload_bytes(hidden));
}

RoutingKind parse_routing_kind(const std::string& name) {
  if (name == "uniform") return RoutingKind::kUniform;
  if (name == "zipf") return RoutingKind::kZipf;
  if (name == "file") return RoutingKind::kFile;
  throw Error(fmt::format("unknown routing '{}': expected uniform, zipf or file", name));
}

const char* to_string(RoutingKind k) {
  switch (k) {
    case RoutingKind::kUniform:
      return "uniform";
    case RoutingKind::kZipf:
      return "zipf";
    case RoutingKind::kFile:
      return "file";
  }
  return "?";
}

}  // namespace cobench::coll::ep
