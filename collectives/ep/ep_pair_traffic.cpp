// SPDX-License-Identifier: Apache-2.0
// Per-pair EP traffic from every rank's routing (ep_pair_traffic.h).
#include "collectives/ep/ep_pair_traffic.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "collectives/ep/ep_record.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace cobench::coll::ep {

std::vector<PairBytes> pair_traffic(const EpConfig& c, const NodeLayout& layout, bool hierarchical,
                                    bool dispatch, const PlanProgress& progress) {
  const int ranks = static_cast<int>(layout.node_of_rank.size());
  if (ranks > kMaxPairTrafficRanks)
    throw Error(fmt::format("a traffic matrix of {} ranks: at most {} are planned", ranks,
                            kMaxPairTrafficRanks));
  if (hierarchical && !layout.uniform())
    throw Error("a hierarchical plan needs nodes of equal rank counts");
  validate(c, ranks);
  const auto n = static_cast<std::size_t>(ranks);
  // Records a pair, counted by every source's thread at once.
  const auto count = std::make_unique<std::atomic<std::uint32_t>[]>(n * n);
  auto add = [&](int from, int to) {
    if (from != to)
      count[static_cast<std::size_t>(from) * n + static_cast<std::size_t>(to)].fetch_add(
          1, std::memory_order_relaxed);
  };
  // Record from -> to in the dispatch, or its return in the combine.
  auto record = [&](int from, int to) { dispatch ? add(from, to) : add(to, from); };
  auto node = [&](int r) { return layout.node_of_rank[static_cast<std::size_t>(r)]; };
  auto local = [&](int r) { return layout.local_rank_of_rank[static_cast<std::size_t>(r)]; };
  // rank_at[m x per_node + l]: the rank of local index l on node m (hosts may interleave ranks).
  const int per_node = layout.ranks_per_node.front();
  std::vector<int> rank_at(static_cast<std::size_t>(layout.num_nodes) *
                           static_cast<std::size_t>(per_node));
  for (int r = 0; r < ranks; ++r)
    rank_at[static_cast<std::size_t>(node(r) * per_node + local(r))] = r;
  const RoutingSource source(c, layout);
  std::atomic<int> done{0};
  parallel_for(ranks, thread_count(0), [&](int w, std::int64_t i) {
    const int src = static_cast<int>(i);
    const Routing routing = source.rank(src);
    std::vector<int> dest, reached;  // a token's destination ranks, and nodes sent to
    for (int t = 0; t < routing.tokens; ++t) {
      dest.clear();
      const int* experts = routing.experts_of(t);
      for (int j = 0; j < routing.top_k; ++j) {
        const int d = rank_of_expert(c, ranks, experts[j]);
        if (dest.empty() || dest.back() != d) dest.push_back(d);  // experts ascend
      }
      if (!hierarchical) {
        for (int d : dest) record(src, d);
        continue;
      }
      // Node m's forwarder of src: its rank with src's local index; one record a node.
      reached.clear();
      for (int d : dest) {
        const int m = node(d);
        const int forwarder = rank_at[static_cast<std::size_t>(m * per_node + local(src))];
        if (m != node(src) && std::find(reached.begin(), reached.end(), m) == reached.end()) {
          reached.push_back(m);
          record(src, forwarder);
        }
        record(forwarder, d);
      }
    }
    const int now = ++done;
    if (w == 0 && progress) progress(now, ranks);
  });
  const double bytes = static_cast<double>(dispatch ? DispatchRecordLayout(c).bytes()
                                                    : CombineRecordLayout(c).bytes());
  std::vector<PairBytes> out;
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < n; ++b)
      if (const std::uint32_t k = count[a * n + b].load(std::memory_order_relaxed); k > 0)
        out.push_back({static_cast<int>(a), static_cast<int>(b), k * bytes});
  return out;
}

std::string traffic_file_text(const std::vector<PairBytes>& pairs, const std::string& header) {
  std::string text;
  std::size_t start = 0;
  while (start < header.size()) {
    const std::size_t end = std::min(header.find('\n', start), header.size());
    text += fmt::format("# {}\n", header.substr(start, end - start));
    start = end + 1;
  }
  for (const PairBytes& p : pairs) text += fmt::format("{} {} {:.0f}\n", p.src, p.dst, p.bytes);
  return text;
}

}  // namespace cobench::coll::ep
