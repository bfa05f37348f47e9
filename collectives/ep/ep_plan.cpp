// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_plan.h"

#include <algorithm>
#include <atomic>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "collectives/ep/ep_record.h"
#include "core/parallel_for.h"

namespace cobench::coll::ep {

TrafficAccount::TrafficAccount(const EpConfig& c, const NodeLayout& layout, std::vector<int> ranks,
                               bool hierarchical, bool dispatch)
    : c_(c),
      layout_(layout),
      ranks_(std::move(ranks)),
      hierarchical_(hierarchical),
      dispatch_(dispatch),
      counts_(ranks_.size()),
      index_of_rank_(layout.node_of_rank.size(), -1),
      accounted_node_(static_cast<std::size_t>(layout.num_nodes), 0) {
  for (std::size_t i = 0; i < ranks_.size(); ++i) {
    const auto r = static_cast<std::size_t>(ranks_[i]);
    index_of_rank_[r] = static_cast<int>(i);
    accounted_node_[static_cast<std::size_t>(layout.node_of_rank[r])] = 1;
  }
}

void TrafficAccount::add(int src, const Routing& routing) {
  const int all_ranks = static_cast<int>(layout_.node_of_rank.size());
  auto node = [&](int r) { return layout_.node_of_rank[static_cast<std::size_t>(r)]; };
  auto local = [&](int r) { return layout_.local_rank_of_rank[static_cast<std::size_t>(r)]; };
  std::vector<int> dest(static_cast<std::size_t>(routing.top_k));
  std::vector<int> nodes(dest.size());
  const bool src_accounted = index_of_rank_[static_cast<std::size_t>(src)] >= 0;
  for (int t = 0; t < routing.tokens; ++t) {
    // Distinct destination ranks (ascending: experts are, and ranks hold consecutive experts)
    // and nodes of the token.
    const int* experts = routing.experts_of(t);
    std::size_t nd = 0, nn = 0;
    for (int j = 0; j < routing.top_k; ++j) {
      const int d = rank_of_expert(c_, all_ranks, experts[j]);
      if (nd == 0 || dest[nd - 1] != d) dest[nd++] = d;
    }
    bool touches = src_accounted;
    for (std::size_t i = 0; i < nd; ++i) {
      nodes[nn++] = node(dest[i]);
      touches = touches || accounted_node_[static_cast<std::size_t>(nodes[nn - 1])] != 0;
    }
    if (!touches) continue;  // reaches no accounted rank's node, and no accounted rank sent it
    std::sort(nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(nn));
    nn = static_cast<std::size_t>(
        std::unique(nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(nn)) -
        nodes.begin());
    auto has_node = [&](int n) {
      return std::binary_search(nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(nn), n);
    };
    for (std::size_t i = 0; i < ranks_.size(); ++i) {
      const int rank = ranks_[i];
      const int me_node = node(rank);
      Counts& k = counts_[i];
      const bool mine =
          std::binary_search(dest.begin(), dest.begin() + static_cast<std::ptrdiff_t>(nd), rank);
      k.received += mine;
      if (src == rank) k.logical_network += static_cast<double>(nn);
      if (!hierarchical_) {
        if (dispatch_ && src == rank)
          for (std::size_t j = 0; j < nd; ++j) {
            if (dest[j] == rank) continue;
            (node(dest[j]) != me_node ? k.network : k.intra) += 1;
          }
        if (!dispatch_ && mine && src != rank) (node(src) != me_node ? k.network : k.intra) += 1;
        continue;
      }
      // Hierarchical: the forwarder of (src, t) on node n is the rank there with src's local
      // index.
      const bool here = has_node(me_node);
      const bool forwards = here && local(src) == local(rank);
      if (dispatch_) {
        if (src == rank) k.network += static_cast<double>(nn - (here ? 1 : 0));
        if (forwards)
          for (std::size_t j = 0; j < nd; ++j)
            if (dest[j] != rank && node(dest[j]) == me_node) k.intra += 1;
      } else {
        if (forwards && node(src) != me_node) k.network += 1;
        if (mine && !forwards) k.intra += 1;
      }
    }
  }
}

void TrafficAccount::add(const TrafficAccount& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    counts_[i].network += other.counts_[i].network;
    counts_[i].intra += other.counts_[i].intra;
    counts_[i].logical_network += other.counts_[i].logical_network;
    counts_[i].received += other.counts_[i].received;
  }
}

Traffic TrafficAccount::traffic(std::size_t i) const {
  const Counts& k = counts_[i];
  const double p =
      static_cast<double>(dispatch_ ? dispatch_payload_bytes(c_.hidden)
                                    : combine_payload_bytes(c_.combine_format, c_.hidden));
  const double w = static_cast<double>(dispatch_ ? DispatchRecordLayout(c_).bytes()
                                                 : CombineRecordLayout(c_).bytes());
  Traffic out;
  out.payload = {k.network * p, k.intra * p};
  out.wire = {k.network * w, k.intra * w};
  out.logical_network = k.logical_network * p;
  out.logical_intra = k.received * p;
  return out;
}

Traffic expected_traffic(const EpConfig& c, const NodeLayout& layout,
                         const std::vector<Routing>& all, int rank, bool hierarchical,
                         bool dispatch) {
  TrafficAccount account(c, layout, {rank}, hierarchical, dispatch);
  for (std::size_t src = 0; src < all.size(); ++src) account.add(static_cast<int>(src), all[src]);
  return account.traffic(0);
}

}  // namespace cobench::coll::ep

namespace cobench::coll::ep {

std::string plan_report(const EpConfig& c, const NodeLayout& layout, int sample_ranks,
                        const PlanProgress& progress) {
  const int ranks = static_cast<int>(layout.node_of_rank.size());
  validate(c, ranks);
  const int n = std::min(std::max(sample_ranks, 1), ranks);
  std::vector<int> sampled(static_cast<std::size_t>(n));
  std::iota(sampled.begin(), sampled.end(), 0);
  // Every rank's tokens routed once, one rank at a time on each thread, into per-thread accounts
  // of the sampled ranks.
  const RoutingSource source(c, layout);
  const int threads = thread_count(0), workers = parallel_workers(ranks, threads);
  std::vector<TrafficAccount> flat_by(static_cast<std::size_t>(workers),
                                      TrafficAccount(c, layout, sampled, false, true));
  std::vector<TrafficAccount> hier_by(static_cast<std::size_t>(workers),
                                      TrafficAccount(c, layout, sampled, true, true));
  std::atomic<int> done{0};
  parallel_for(ranks, threads, [&](int w, std::int64_t i) {
    const int src = static_cast<int>(i);
    const Routing r = source.rank(src);
    flat_by[static_cast<std::size_t>(w)].add(src, r);
    hier_by[static_cast<std::size_t>(w)].add(src, r);
    const int now = ++done;
    if (w == 0 && progress) progress(now, ranks);
  });
  for (int w = 1; w < workers; ++w) {
    flat_by[0].add(flat_by[static_cast<std::size_t>(w)]);
    hier_by[0].add(hier_by[static_cast<std::size_t>(w)]);
  }
  Traffic flat, hier;
  for (int r = 0; r < n; ++r) {
    const Traffic f = flat_by[0].traffic(static_cast<std::size_t>(r));
    const Traffic h = hier_by[0].traffic(static_cast<std::size_t>(r));
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
      "groups, {}; mean of ranks 0 ... {}\n"
      "  dispatch bytes per rank   network         intra-node\n"
      "  flat                      {:>10.3f} MB   {:>10.3f} MB   ({} copies/token over "
      "the network)\n"
      "  hierarchical              {:>10.3f} MB   {:>10.3f} MB   ({} copies/token over "
      "the network)\n"
      "  {}; a token reaches {} nodes (own included) and {} ranks\n",
      ranks, layout.num_nodes, layout.ranks_per_node.front(), c.tokens_per_rank, c.num_experts,
      c.top_k, c.topk_groups, c.num_groups,
      c.max_nodes > 0 ? fmt::format("<= {} nodes", c.max_nodes) : std::string("any nodes"), n - 1,
      flat.payload.network / 1e6, flat.payload.intra / 1e6, per_token(flat.payload.network),
      hier.payload.network / 1e6, hier.payload.intra / 1e6, per_token(hier.payload.network), saving,
      per_token(flat.logical_network), per_token(flat.logical_intra));
}

}  // namespace cobench::coll::ep
