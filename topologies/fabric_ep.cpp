// SPDX-License-Identifier: Apache-2.0
// EP dispatch and combine traffic: node-limited routing of each token, DeepEP's two-stage
// forwarding aggregated into flows, and their simulation (fabric_ep.h).
#include "topologies/fabric_ep.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

#include "core/ep_payload.h"
#include "core/error.h"
#include "core/parallel_for.h"
#include "topologies/ep_group_sampler.h"

namespace cobench::topo {
namespace {

// routing.h's rule for one token with i.i.d. uniform scores (32-bit; ties go to the lower id):
// group scores (the best score, or the sum of the two best), the best M groups, the top-k
// experts among theirs. Each expert is one 64-bit key, its score above its complemented id, so
// one integer comparison orders by score and then by the lower id, without branches; keys are
// distinct and above 0.
//
// The work is in three passes over a token's E keys, each free of data-dependent branches where
// it can be: (1) the draws become keys; (2) each group's best and second keys (conditional moves;
// a branch here mispredicts on every new maximum); (3) the top-k, seeded with the chosen groups'
// best and second keys, after which only keys above the seeds' k-th can still enter: they are
// gathered without a branch and inserted. The top-k of a set of distinct keys does not depend on
// the order they are visited in, so the experts (and the draws) are those of a plain insertion
// over the chosen groups.
class TokenRouter {
 public:
  TokenRouter(std::int64_t experts, std::int64_t groups, std::int64_t groups_per_token,
              std::int64_t top_k, GroupScore rule)
      : experts_(experts),
        groups_(groups),
        per_group_(experts / groups),
        m_(groups_per_token),
        k_(top_k),
        rule_(rule),
        key_(static_cast<size_t>(experts)),
        best_(static_cast<size_t>(groups)),
        second_(static_cast<size_t>(groups)),
        group_key_(static_cast<size_t>(groups)),
        top_(static_cast<size_t>(top_k)),
        survivors_(static_cast<size_t>(experts)) {}

  // The token's experts into `out` (k of them, best first).
  void route(SplitMix64& rng, std::vector<std::int32_t>& out) {
    constexpr std::uint64_t kLow = 0xffffffffULL;
    // Locals, not members: the stores through the key arrays could alias them otherwise, and the
    // compiler would reload them on every iteration.
    const std::int64_t experts = experts_, groups = groups_, per_group = per_group_, m = m_, k = k_;
    std::uint64_t* const key = key_.data();
    std::uint64_t* const best = best_.data();
    std::uint64_t* const second = second_.data();
    std::uint64_t* const group_key = group_key_.data();
    std::uint64_t* const top = top_.data();

    // (1) Two 32-bit scores a draw, in expert order.
    SplitMix64 r = rng;
    std::int64_t e = 0;
    for (; e + 1 < experts; e += 2) {
      const std::uint64_t x = r.next();
      key[e] = (x & ~kLow) | (~static_cast<std::uint64_t>(e) & kLow);
      key[e + 1] = (x << 32) | (~static_cast<std::uint64_t>(e + 1) & kLow);
    }
    if (e < experts) key[e] = (r.next() & ~kLow) | (~static_cast<std::uint64_t>(e) & kLow);
    rng = r;

    // (2) Each group's best and second keys (0 for no second), and its score.
    for (std::int64_t gi = 0; gi < groups; ++gi) {
      const std::uint64_t* g = key + gi * per_group;
      std::uint64_t b = 0, s = 0;
      for (std::int64_t i = 0; i < per_group; ++i) {
        const std::uint64_t x = g[i];
        const std::uint64_t lo = x < b ? x : b;
        b = x < b ? b : x;
        s = s < lo ? lo : s;
      }
      best[gi] = b;
      second[gi] = s;
      const std::uint64_t score =
          rule_ == GroupScore::kMax || per_group < 2 ? b >> 32 : (b >> 32) + (s >> 32);
      group_key[gi] = score << kGroupBits | (kGroupMask - static_cast<std::uint64_t>(gi));
    }
    std::partial_sort(group_key, group_key + m, group_key + groups, std::greater<>());

    // (3) The top-k by insertion (k is small), best first; `cutoff` is the k-th key once there
    // are k, below which no key can enter.
    std::int64_t n = 0;
    std::uint64_t cutoff = 0;
    auto insert = [&](std::uint64_t x) {
      std::int64_t p = n < k ? n++ : k - 1;
      for (; p > 0 && top[p - 1] < x; --p) top[p] = top[p - 1];
      top[p] = x;
      if (n == k) cutoff = top[k - 1];
    };
    auto chosen = [&](std::int64_t i) {
      return static_cast<std::int64_t>(kGroupMask - (group_key[i] & kGroupMask));
    };
    for (std::int64_t i = 0; i < m; ++i) {
      const std::int64_t gi = chosen(i);
      if (best[gi] > cutoff) insert(best[gi]);
      if (per_group >= 2 && second[gi] > cutoff) insert(second[gi]);
    }
    // The other keys of the chosen groups: those at or above a group's lowest seed are the
    // seeds themselves (keys are distinct), those at or below the cutoff cannot enter.
    std::uint64_t* const survivors = survivors_.data();
    std::int64_t count = 0;
    for (std::int64_t i = 0; i < m; ++i) {
      const std::int64_t gi = chosen(i);
      const std::uint64_t seed = per_group >= 2 ? second[gi] : best[gi];
      const std::uint64_t* g = key + gi * per_group;
      for (std::int64_t j = 0; j < per_group; ++j) {
        const std::uint64_t x = g[j];
        survivors[count] = x;
        count += static_cast<std::int64_t>((x > cutoff) & (x < seed));
      }
    }
    for (std::int64_t i = 0; i < count; ++i)
      if (survivors[i] > cutoff) insert(survivors[i]);

    out.resize(static_cast<size_t>(k));
    for (std::int64_t i = 0; i < k; ++i)
      out[static_cast<size_t>(i)] = static_cast<std::int32_t>(~top[i] & kLow);
  }

  static constexpr int kGroupBits = 24;  // groups < 2^24; a score sum < 2^33: 57 bits in all
  static constexpr std::uint64_t kGroupMask = (std::uint64_t{1} << kGroupBits) - 1;

 private:
  std::int64_t experts_, groups_, per_group_, m_, k_;
  GroupScore rule_;
  std::vector<std::uint64_t> key_;
  std::vector<std::uint64_t> best_, second_;  ///< per group
  std::vector<std::uint64_t> group_key_;
  std::vector<std::uint64_t> top_;
  std::vector<std::uint64_t> survivors_;  ///< keys that may still enter the top-k
};

// Counts of token copies: network per (source GPU, destination node), NVLink per (forwarding
// GPU, local index of the destination), and the pair totals. The network counts are kept sparse,
// per source GPU by node (a dense GPUs x nodes table is 268 MB at 16,384 GPUs, one a thread):
// a source's tokens count into a dense per-node row while it is open, and its nonzero entries
// are kept, in node order, when another source comes (close()); a source that comes again is
// merged in.
class Accumulator {
 public:
  Accumulator(const FabricGraph& g, std::int32_t gpus, std::int64_t experts)
      : gpus_(gpus), gpn_(g.gpus_per_node()), nodes_(gpus / g.gpus_per_node()), experts_(experts) {
    if (gpus < 2 || gpus > g.gpus() || gpus % gpn_ != 0)
      throw Error(
          fmt::format("EP over {} GPUs: expected whole nodes of {} GPUs, 2 to {} GPUs in all", gpus,
                      gpn_, g.gpus()));
    if (experts < gpus || experts % gpus != 0)
      throw Error(fmt::format(
          "{} experts do not spread evenly over {} GPUs: expected a multiple of the GPUs", experts,
          gpus));
    // The expert -> GPU -> (node, local index) maps, looked up once per expert of a token rather
    // than divided out: E + 2 G small integers.
    const std::int64_t per_gpu = experts / gpus;
    expert_gpu_.resize(static_cast<size_t>(experts));
    for (std::int64_t e = 0; e < experts; ++e)
      expert_gpu_[static_cast<size_t>(e)] = static_cast<std::int32_t>(e / per_gpu);
    gpu_node_.resize(static_cast<size_t>(gpus));
    gpu_local_.resize(static_cast<size_t>(gpus));
    for (std::int32_t gpu = 0; gpu < gpus; ++gpu) {
      gpu_node_[static_cast<size_t>(gpu)] = gpu / gpn_;
      gpu_local_[static_cast<size_t>(gpu)] = gpu % gpn_;
    }
    net_.resize(static_cast<size_t>(gpus));
    open_row_.assign(static_cast<size_t>(nodes_), 0);
    nvl_.assign(static_cast<size_t>(gpus) * static_cast<size_t>(gpn_), 0);
    node_seen_.assign(static_cast<size_t>(nodes_), -1);
    gpu_seen_.assign(static_cast<size_t>(gpus), -1);
  }

  void add(std::int32_t src, std::span<const std::int32_t> experts) {
    if (src < 0 || src >= gpus_)
      throw Error(fmt::format("a token of GPU {}: expected 0 to {}", src, gpus_ - 1));
    const std::int32_t n = src / gpn_, l = src % gpn_;
    if (src != open_src_) {
      close();
      open_src_ = src;
    }
    const std::int64_t token = tokens_++;  // a local: the stores below could alias the member
    for (std::int32_t e : experts) {
      if (e < 0 || e >= experts_)
        throw Error(fmt::format("token {} of GPU {} picks expert {}: expected 0 to {}", token, src,
                                e, experts_ - 1));
      const std::int32_t gpu = expert_gpu_[static_cast<size_t>(e)];
      const std::int32_t m = gpu_node_[static_cast<size_t>(gpu)];
      const std::int32_t j = gpu_local_[static_cast<size_t>(gpu)];
      if (node_seen_[static_cast<size_t>(m)] != token) {
        node_seen_[static_cast<size_t>(m)] = token;
        ++pairs_;
        if (m != n) {
          ++remote_pairs_;
          if (open_row_[static_cast<size_t>(m)]++ == 0) open_nodes_.push_back(m);
        }
      }
      if (gpu_seen_[static_cast<size_t>(gpu)] != token) {
        gpu_seen_[static_cast<size_t>(gpu)] = token;
        if (j != l) {
          ++nvl_copies_;
          const std::int64_t relay = std::int64_t{m} * gpn_ + l;
          ++nvl_[static_cast<size_t>(relay) * static_cast<size_t>(gpn_) + static_cast<size_t>(j)];
        }
      }
    }
  }

  /// Keeps the open source's network counts (nonzero, in node order) and clears its row.
  void close() {
    if (open_src_ < 0) return;
    std::sort(open_nodes_.begin(), open_nodes_.end());
    std::vector<NetCount> row;
    row.reserve(open_nodes_.size());
    for (std::int32_t m : open_nodes_) {
      row.push_back({m, open_row_[static_cast<size_t>(m)]});
      open_row_[static_cast<size_t>(m)] = 0;
    }
    open_nodes_.clear();
    add_row(static_cast<size_t>(open_src_), std::move(row));
    open_src_ = -1;
  }

  /// Adds another accumulator's counts (the same fabric and experts; both closed).
  void merge(Accumulator& o) {
    close();
    o.close();
    tokens_ += o.tokens_;
    pairs_ += o.pairs_;
    remote_pairs_ += o.remote_pairs_;
    nvl_copies_ += o.nvl_copies_;
    for (size_t s = 0; s < net_.size(); ++s)
      if (!o.net_[s].empty()) add_row(s, std::move(o.net_[s]));
    for (size_t i = 0; i < nvl_.size(); ++i) nvl_[i] += o.nvl_[i];
  }

  EpTraffic traffic(EpDirection d, double hidden) {
    close();
    EpTraffic t;
    t.direction = d;
    t.gpus = gpus_;
    t.payload_bytes = d == EpDirection::kDispatch ? ep_dispatch_payload_bytes(hidden)
                                                  : ep_combine_payload_bytes(hidden);
    t.tokens = tokens_;
    t.token_node_pairs = pairs_;
    t.remote_token_node_pairs = remote_pairs_;
    t.nvlink_copies = nvl_copies_;
    t.nic_bytes.assign(static_cast<size_t>(gpus_), 0.0);
    const bool dispatch = d == EpDirection::kDispatch;
    size_t network = 0;
    for (const auto& row : net_) network += row.size();
    t.flows.reserve(network + static_cast<size_t>(gpus_) * static_cast<size_t>(gpn_));
    for (std::int32_t s = 0; s < gpus_; ++s)
      for (const NetCount& nc : net_[static_cast<size_t>(s)]) {
        const std::int32_t peer = nc.node * gpn_ + s % gpn_;
        const double bytes = static_cast<double>(nc.copies) * t.payload_bytes;
        t.flows.push_back(dispatch ? Flow{s, peer, bytes} : Flow{peer, s, bytes});
        t.nic_bytes[static_cast<size_t>(dispatch ? s : peer)] += bytes;
      }
    t.network_flows = static_cast<std::int64_t>(t.flows.size());
    for (std::int32_t r = 0; r < gpus_; ++r)
      for (std::int32_t j = 0; j < gpn_; ++j) {
        const std::int64_t c =
            nvl_[static_cast<size_t>(r) * static_cast<size_t>(gpn_) + static_cast<size_t>(j)];
        if (c == 0) continue;
        const std::int32_t peer = (r / gpn_) * gpn_ + j;
        const double bytes = static_cast<double>(c) * t.payload_bytes;
        t.flows.push_back(dispatch ? Flow{r, peer, bytes} : Flow{peer, r, bytes});
      }
    return t;
  }

 private:
  struct NetCount {
    std::int32_t node;
    std::int64_t copies;
  };
  // Adds a sorted row to source s's (a merge by node when it has one).
  void add_row(size_t s, std::vector<NetCount>&& row) {
    std::vector<NetCount>& kept = net_[s];
    if (kept.empty()) {
      kept = std::move(row);
      return;
    }
    std::vector<NetCount> merged;
    merged.reserve(kept.size() + row.size());
    size_t i = 0, j = 0;
    while (i < kept.size() || j < row.size()) {
      if (j == row.size() || (i < kept.size() && kept[i].node < row[j].node))
        merged.push_back(kept[i++]);
      else if (i == kept.size() || row[j].node < kept[i].node)
        merged.push_back(row[j++]);
      else {
        merged.push_back({kept[i].node, kept[i].copies + row[j].copies});
        ++i, ++j;
      }
    }
    kept = std::move(merged);
  }

  std::int32_t gpus_, gpn_, nodes_;
  std::int64_t experts_;
  std::vector<std::int32_t> expert_gpu_, gpu_node_, gpu_local_;
  std::int64_t tokens_ = 0, pairs_ = 0, remote_pairs_ = 0, nvl_copies_ = 0;
  std::vector<std::vector<NetCount>> net_;  ///< per source GPU, by node, nonzero
  std::int32_t open_src_ = -1;
  std::vector<std::int64_t> open_row_;  ///< per node: the open source's copies
  std::vector<std::int32_t> open_nodes_;
  std::vector<std::int64_t> nvl_;
  std::vector<std::int64_t> node_seen_, gpu_seen_;
};

void check_hidden(double hidden) {
  if (!std::isfinite(hidden) || hidden < 1 || hidden != std::floor(hidden))
    throw Error(fmt::format("hidden size {}: expected a whole number >= 1", hidden));
}

}  // namespace

std::string_view to_string(EpDirection d) {
  return d == EpDirection::kDispatch ? "EP dispatch" : "EP combine";
}

double EpTraffic::network_bytes() const {
  return std::accumulate(nic_bytes.begin(), nic_bytes.end(), 0.0);
}

EpTraffic ep_traffic_from_routes(const FabricGraph& g, std::int32_t gpus, std::int64_t experts,
                                 double hidden, EpDirection direction,
                                 std::span<const EpTokenRoute> tokens) {
  check_hidden(hidden);
  Accumulator acc(g, gpus, experts);
  for (const EpTokenRoute& t : tokens) {
    std::vector<std::int32_t> sorted(t.experts);
    std::sort(sorted.begin(), sorted.end());
    if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end())
      throw Error(fmt::format("a token of GPU {} picks expert {} twice", t.src_gpu, *dup));
    acc.add(t.src_gpu, t.experts);
  }
  return acc.traffic(direction, hidden);
}

EpSampler resolve_ep_sampler(const EpTrafficOptions& o, std::int64_t nodes) {
  if (o.sampler != EpSampler::kAuto) return o.sampler;
  return o.max_nodes < nodes && o.experts > kAllScoresMaxExperts ? EpSampler::kGroupOrder
                                                                 : EpSampler::kAllScores;
}

namespace {

// Checks the options against the fabric and routes each GPU's tokens, GPU by GPU over the
// threads, one seeded stream a GPU (its tokens do not depend on how many GPUs come before it,
// nor on the threads): emit(worker, src, experts) for each token in stream order.
template <class Emit>
void route_tokens(const FabricGraph& g, std::int32_t gpus, const EpTrafficOptions& o, int threads,
                  const Emit& emit) {
  const std::int64_t nodes = gpus / g.gpus_per_node();
  if (o.max_nodes < 1)
    throw Error(fmt::format("at most {} nodes a token: expected >= 1", o.max_nodes));
  const std::int64_t m = std::min(o.max_nodes, nodes);
  if (o.top_k < 1 || o.top_k > o.experts / nodes * m)
    throw Error(fmt::format(
        "top-k {}: expected 1 to {} (the experts of the {} node(s) a token may reach, {} a node)",
        o.top_k, o.experts / nodes * m, m, o.experts / nodes));
  const bool all_scores = resolve_ep_sampler(o, nodes) == EpSampler::kAllScores;
  // A token's work: the all-scores sampler draws a score for every expert, the group-order one
  // scores the experts of the nodes it reaches (and each node). A bound on GPUs x tokens x that
  // (about 20 s on a 2-vCPU VM for the all-scores one) refuses a size that would run for an hour
  // (--experts 16777216 on 256 GPUs) before any token is routed.
  const double per_token = all_scores
                               ? static_cast<double>(o.experts)
                               : static_cast<double>(o.experts / nodes) * static_cast<double>(m) +
                                     static_cast<double>(nodes);
  const double work = static_cast<double>(gpus) * static_cast<double>(o.tokens_per_gpu) * per_token;
  if (work > kMaxScoreDraws)
    throw UsageError(fmt::format(
        "{} GPUs x {} tokens x {:.0f} expert scores a token ({} sampler) = {:.3g}, above the "
        "{:.3g} this routing simulation takes: give fewer --experts, --tokens or --gpus",
        gpus, o.tokens_per_gpu, per_token, all_scores ? "all-scores" : "group-order", work,
        kMaxScoreDraws));
  std::vector<TokenRouter> routers;
  std::vector<GroupOrderSampler> samplers;
  if (all_scores)
    routers.assign(static_cast<size_t>(threads),
                   TokenRouter(o.experts, nodes, m, o.top_k, o.group_score));
  else
    samplers.assign(static_cast<size_t>(threads),
                    GroupOrderSampler(o.experts, nodes, m, o.top_k, o.group_score));
  std::vector<std::vector<std::int32_t>> picked(static_cast<size_t>(threads));
  std::atomic<std::int64_t> routed{0};
  parallel_for(gpus, threads, [&](int w, std::int64_t src) {
    SplitMix64 rng{
        SplitMix64{o.seed ^ (static_cast<std::uint64_t>(src) * 0xd1b54a32d192ed03ULL)}.next()};
    auto& experts = picked[static_cast<size_t>(w)];
    for (std::int64_t t = 0; t < o.tokens_per_gpu; ++t) {
      if (all_scores)
        routers[static_cast<size_t>(w)].route(rng, experts);
      else
        samplers[static_cast<size_t>(w)].route(rng, experts);
      emit(w, static_cast<std::int32_t>(src), experts);
    }
    const std::int64_t done = ++routed;
    if (w == 0 && o.progress) o.progress(done, gpus);
  });
}

void check_tokens(std::int64_t tokens_per_gpu) {
  if (tokens_per_gpu < 1)
    throw Error(fmt::format("{} tokens a GPU: expected >= 1", tokens_per_gpu));
}

}  // namespace

std::string_view to_string(EpSampler s) {
  switch (s) {
    case EpSampler::kAuto:
      return "auto";
    case EpSampler::kAllScores:
      return "all scores";
    case EpSampler::kGroupOrder:
      return "group order statistics";
  }
  return "?";
}

std::vector<EpTokenRoute> ep_routes(const FabricGraph& g, std::int32_t gpus,
                                    const EpTrafficOptions& o) {
  check_tokens(o.tokens_per_gpu);
  Accumulator(g, gpus, o.experts);  // checks the GPUs and the experts' spread
  std::vector<EpTokenRoute> routes(static_cast<size_t>(gpus) *
                                   static_cast<size_t>(o.tokens_per_gpu));
  // GPU src's tokens at [src x T, (src + 1) x T), whichever thread routes them.
  std::vector<std::int64_t> next(static_cast<size_t>(gpus));
  route_tokens(g, gpus, o, 1, [&](int, std::int32_t src, const std::vector<std::int32_t>& e) {
    const std::int64_t i = std::int64_t{src} * o.tokens_per_gpu + next[static_cast<size_t>(src)]++;
    routes[static_cast<size_t>(i)] = {src, e};
  });
  return routes;
}

EpTraffic ep_traffic(const FabricGraph& g, std::int32_t gpus, const EpTrafficOptions& o,
                     EpDirection direction) {
  check_hidden(o.hidden);
  check_tokens(o.tokens_per_gpu);
  Accumulator acc(g, gpus, o.experts);  // checks the GPUs and the experts' spread
  // The GPUs over the threads, each thread counting into its own accumulator.
  const int threads = parallel_workers(gpus, thread_count(0));
  std::vector<Accumulator> part(static_cast<size_t>(threads), acc);
  route_tokens(g, gpus, o, threads,
               [&](int w, std::int32_t src, const std::vector<std::int32_t>& experts) {
                 part[static_cast<size_t>(w)].add(src, experts);
               });
  for (Accumulator& p : part) acc.merge(p);
  return acc.traffic(direction, o.hidden);
}

EpTraffic reverse_ep_traffic(const EpTraffic& t, double hidden) {
  check_hidden(hidden);
  EpTraffic r = t;
  const bool to_dispatch = t.direction == EpDirection::kCombine;
  r.direction = to_dispatch ? EpDirection::kDispatch : EpDirection::kCombine;
  r.payload_bytes =
      to_dispatch ? ep_dispatch_payload_bytes(hidden) : ep_combine_payload_bytes(hidden);
  const double scale = r.payload_bytes / t.payload_bytes;
  std::fill(r.nic_bytes.begin(), r.nic_bytes.end(), 0.0);
  for (size_t i = 0; i < r.flows.size(); ++i) {
    Flow& f = r.flows[i];
    f = {f.dst_gpu, f.src_gpu, f.bytes * scale};
    if (static_cast<std::int64_t>(i) < r.network_flows)
      r.nic_bytes[static_cast<size_t>(f.src_gpu)] += f.bytes;
  }
  return r;
}

EpResult simulate_ep(const FabricGraph& g, const EpTraffic& t, const RoutingOptions& routing,
                     const FluidOptions& fluid) {
  EpResult r;
  r.phase = simulate_phase(g, t.flows, routing, nullptr, fluid);
  r.time_s = r.phase.time_s;
  const double gpus = static_cast<double>(t.gpus);
  r.physical_bw_bytes_per_s = t.network_bytes() / gpus / r.time_s;
  r.max_physical_bw_bytes_per_s =
      *std::max_element(t.nic_bytes.begin(), t.nic_bytes.end()) / r.time_s;
  r.logical_bw_bytes_per_s = t.logical_bytes() / gpus / r.time_s;
  return r;
}

}  // namespace cobench::topo
