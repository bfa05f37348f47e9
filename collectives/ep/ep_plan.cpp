// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_plan.h"

#include <algorithm>
#include <set>
#include <string>

#include <fmt/format.h>

namespace cobench::coll::ep {

namespace {

struct Counts {
  double network = 0, intra = 0, logical_network = 0, received = 0;
};

// Ranks and nodes a token reaches.
std::set<int> ranks_of(const EpConfig& c, int ranks, const Routing& r, int t) {
  std::set<int> out;
  for (int j = 0; j < r.top_k; ++j) out.insert(rank_of_expert(c, ranks, r.experts_of(t)[j]));
  return out;
}

}  // namespace

Traffic expected_traffic(const EpConfig& c, const NodeLayout& layout,
                         const std::vector<Routing>& all, int rank, bool hierarchical,
                         bool dispatch) {
  const int ranks = static_cast<int>(all.size());
  auto node = [&](int r) { return layout.node_of_rank[static_cast<std::size_t>(r)]; };
  auto local = [&](int r) { return layout.local_rank_of_rank[static_cast<std::size_t>(r)]; };
  const int me_node = node(rank);
  Counts k;  // in token copies
  for (int src = 0; src < ranks; ++src)
    for (int t = 0; t < all[static_cast<std::size_t>(src)].tokens; ++t) {
      const std::set<int> dest = ranks_of(c, ranks, all[static_cast<std::size_t>(src)], t);
      std::set<int> nodes;
      for (int d : dest) nodes.insert(node(d));
      const bool mine = dest.count(rank) != 0;
      k.received += mine;
      if (src == rank) k.logical_network += static_cast<double>(nodes.size());
      if (!hierarchical) {
        if (dispatch && src == rank)
          for (int d : dest) {
            if (d == rank) continue;
            (node(d) != me_node ? k.network : k.intra) += 1;
          }
        if (!dispatch && mine && src != rank) (node(src) != me_node ? k.network : k.intra) += 1;
        continue;
      }
      // Hierarchical: the forwarder of (src, t) on node n is the rank there with src's local
      // index.
      const bool forwards = nodes.count(me_node) != 0 && local(src) == local(rank);
      if (dispatch) {
        if (src == rank) k.network += static_cast<double>(nodes.size() - nodes.count(me_node));
        if (forwards)
          for (int d : dest)
            if (d != rank && node(d) == me_node) k.intra += 1;
      } else {
        if (forwards && node(src) != me_node) k.network += 1;
        if (mine && !forwards) k.intra += 1;
      }
    }
  const double p = static_cast<double>(dispatch ? dispatch_payload_bytes(c.hidden)
                                                : combine_payload_bytes(c.hidden));
  const double w = dispatch ? 8.0 + 8.0 * c.top_k + p : 8.0 + p;
  Traffic out;
  out.payload = {k.network * p, k.intra * p};
  out.wire = {k.network * w, k.intra * w};
  out.logical_network = k.logical_network * p;
  out.logical_intra = k.received * p;
  return out;
}

}  // namespace cobench::coll::ep

namespace cobench::coll::ep {

std::string plan_report(const EpConfig& c, const NodeLayout& layout, int sample_ranks) {
  const int ranks = static_cast<int>(layout.node_of_rank.size());
  validate(c, ranks);
  const auto all = route_all_ranks(c, layout);
  const int n = std::min(std::max(sample_ranks, 1), ranks);
  Traffic flat, hier;
  for (int r = 0; r < n; ++r) {
    const Traffic f = expected_traffic(c, layout, all, r, false, true);
    const Traffic h = expected_traffic(c, layout, all, r, true, true);
    flat.payload.network += f.payload.network / n;
    flat.payload.intra += f.payload.intra / n;
    hier.payload.network += h.payload.network / n;
    hier.payload.intra += h.payload.intra / n;
    flat.logical_network += f.logical_network / n;
    flat.logical_intra += f.logical_intra / n;
  }
  const double tokens = c.tokens_per_rank,
               p = static_cast<double>(dispatch_payload_bytes(c.hidden));
  // Per token and relative figures only where they are defined (no tokens, no network).
  auto per_token = [&](double bytes) {
    return tokens > 0 ? fmt::format("{:.3f}", bytes / p / tokens) : std::string("-");
  };
  const std::string saving =
      flat.payload.network > 0
          ? fmt::format("hierarchical sends {:.1f}% fewer network bytes",
                        100 * (1 - hier.payload.network / flat.payload.network))
          : std::string("no network bytes either way");
  return fmt::format(
      "# EP plan: {} ranks in {} nodes of {}, {} tokens/rank, {} experts, top-{}, <= {} of {} "
      "groups, <= {} nodes; mean of ranks 0 ... {}\n"
      "  dispatch bytes per rank   network         intra-node\n"
      "  flat                      {:>10.3f} MB   {:>10.3f} MB   ({} copies/token over "
      "the network)\n"
      "  hierarchical              {:>10.3f} MB   {:>10.3f} MB   ({} copies/token over "
      "the network)\n"
      "  {}; a token reaches {} nodes (own included) and {} ranks\n",
      ranks, layout.num_nodes, layout.ranks_per_node.front(), c.tokens_per_rank, c.num_experts,
      c.top_k, c.topk_groups, c.num_groups, c.max_nodes, n - 1, flat.payload.network / 1e6,
      flat.payload.intra / 1e6, per_token(flat.payload.network), hier.payload.network / 1e6,
      hier.payload.intra / 1e6, per_token(hier.payload.network), saving,
      per_token(flat.logical_network), per_token(flat.logical_intra));
}

}  // namespace cobench::coll::ep
