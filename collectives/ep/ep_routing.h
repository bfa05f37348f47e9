// SPDX-License-Identifier: Apache-2.0
// Token routing for the EP benchmark, recomputable by every rank from (seed, rank, token):
//   uniform  expert keys log(u), u uniform in (0, 1) from a hash: every expert equally likely;
//   zipf     keys log(u) (e + 1)^s: top-k by key samples experts without replacement with
//            probability proportional to 1 / (e + 1)^s (Efraimidis-Spirakis), skewing load
//            toward low-numbered experts;
//   file     one line per token of the whole job, rank 0's tokens first, then rank 1's, ...;
//            top_k distinct expert ids separated by spaces; '#' starts a comment.
// Uniform and zipf apply DeepSeek-V3's limits: keep the `topk_groups` groups with the largest
// sum of their two best keys, then the `max_nodes` nodes ranked the same way, then the top_k
// experts by key. Gate weights come from the hash (0.5 ... 1.5, normalized to sum 1).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collectives/ep/ep_config.h"
#include "collectives/node_layout.h"

namespace cobench::coll::ep {

struct Routing {
  int tokens = 0;
  int top_k = 0;
  std::vector<int> expert;    ///< [token][top_k], ascending within a token
  std::vector<float> weight;  ///< [token][top_k], summing to 1 within a token
  const int* experts_of(int t) const { return expert.data() + static_cast<std::size_t>(t) * top_k; }
  const float* weights_of(int t) const {
    return weight.data() + static_cast<std::size_t>(t) * top_k;
  }
};

/// The rank holding expert `e`.
inline int rank_of_expert(const EpConfig& c, int ranks, int e) {
  return e / (c.num_experts / ranks);
}

/// Every rank's routing (index = rank), for `layout.node_of_rank.size()` ranks.
std::vector<Routing> route_all_ranks(const EpConfig& c, const NodeLayout& layout);

/// The same routing one rank at a time, for plans that need not hold every rank's at once (a
/// routing file is read whole up front). `rank` may be called from several threads.
class RoutingSource {
 public:
  RoutingSource(const EpConfig& c, const NodeLayout& layout);
  Routing rank(int r) const;

 private:
  struct Tables;
  EpConfig c_;
  int ranks_ = 0;
  std::shared_ptr<const Tables> tables_;
  std::vector<Routing> from_file_;
};

/// Routing from a routing file's text; errors name `source` and the line. With `node_of_rank`
/// (one entry a rank) a line whose experts sit on more than `c.max_nodes` nodes is refused.
std::vector<Routing> routing_from_text(const std::string& text, const std::string& source,
                                       const EpConfig& c, int ranks,
                                       const std::vector<int>* node_of_rank = nullptr);

}  // namespace cobench::coll::ep
