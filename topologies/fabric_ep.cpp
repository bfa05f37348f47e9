// SPDX-License-Identifier: Apache-2.0
// EP dispatch and combine traffic: node-limited routing of each token, DeepEP's two-stage
// forwarding aggregated into flows, and their simulation (fabric_ep.h).
#include "topologies/fabric_ep.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/ep_payload.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace cobench::topo {
namespace {

// splitmix64: a fast seeded stream; two 32-bit scores a draw.
struct SplitMix {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

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
  void route(SplitMix& rng, std::vector<std::int32_t>& out) {
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
    SplitMix r = rng;
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
// GPU, local index of the destination), and the pair totals.
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
    net_.assign(static_cast<size_t>(gpus) * static_cast<size_t>(nodes_), 0);
    nvl_.assign(static_cast<size_t>(gpus) * static_cast<size_t>(gpn_), 0);
    node_seen_.assign(static_cast<size_t>(nodes_), -1);
    gpu_seen_.assign(static_cast<size_t>(gpus), -1);
  }

  void add(std::int32_t src, std::span<const std::int32_t> experts) {
    if (src < 0 || src >= gpus_)
      throw Error(fmt::format("a token of GPU {}: expected 0 to {}", src, gpus_ - 1));
    const std::int32_t n = src / gpn_, l = src % gpn_;
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
          ++net_[static_cast<size_t>(src) * static_cast<size_t>(nodes_) + static_cast<size_t>(m)];
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

  /// Adds another accumulator's counts (of other GPUs' tokens; the same fabric and experts).
  void merge(const Accumulator& o) {
    tokens_ += o.tokens_;
    pairs_ += o.pairs_;
    remote_pairs_ += o.remote_pairs_;
    nvl_copies_ += o.nvl_copies_;
    for (size_t i = 0; i < net_.size(); ++i) net_[i] += o.net_[i];
    for (size_t i = 0; i < nvl_.size(); ++i) nvl_[i] += o.nvl_[i];
  }

  EpTraffic traffic(EpDirection d, double hidden) const {
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
    for (std::int32_t s = 0; s < gpus_; ++s)
      for (std::int32_t m = 0; m < nodes_; ++m) {
        const std::int64_t c =
            net_[static_cast<size_t>(s) * static_cast<size_t>(nodes_) + static_cast<size_t>(m)];
        if (c == 0) continue;
        const std::int32_t peer = m * gpn_ + s % gpn_;
        const double bytes = static_cast<double>(c) * t.payload_bytes;
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
  std::int32_t gpus_, gpn_, nodes_;
  std::int64_t experts_;
  std::vector<std::int32_t> expert_gpu_, gpu_node_, gpu_local_;
  std::int64_t tokens_ = 0, pairs_ = 0, remote_pairs_ = 0, nvl_copies_ = 0;
  std::vector<std::int64_t> net_, nvl_;
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

EpTraffic ep_traffic(const FabricGraph& g, std::int32_t gpus, const EpTrafficOptions& o,
                     EpDirection direction) {
  check_hidden(o.hidden);
  if (o.tokens_per_gpu < 1)
    throw Error(fmt::format("{} tokens a GPU: expected >= 1", o.tokens_per_gpu));
  Accumulator acc(g, gpus, o.experts);  // checks the GPUs and the experts' spread
  const std::int64_t nodes = gpus / g.gpus_per_node();
  if (o.max_nodes < 1)
    throw Error(fmt::format("at most {} nodes a token: expected >= 1", o.max_nodes));
  RoutingShape shape;
  shape.experts = o.experts;
  shape.groups = nodes;
  shape.groups_per_token = std::min(o.max_nodes, nodes);
  shape.top_k = o.top_k;
  shape.experts_per_gpu = o.experts / gpus;
  shape.group_score = o.group_score;
  if (o.top_k < 1 || o.top_k > o.experts / nodes * shape.groups_per_token)
    throw Error(fmt::format(
        "top-k {}: expected 1 to {} (the experts of the {} node(s) a token may reach, {} a node)",
        o.top_k, o.experts / nodes * shape.groups_per_token, shape.groups_per_token,
        o.experts / nodes));
  // One stream a GPU (its tokens do not depend on how many GPUs come before it, nor on the
  // threads), the GPUs over the threads, each thread counting into its own accumulator.
  const int threads = parallel_workers(gpus, thread_count(0));
  std::vector<Accumulator> part(static_cast<size_t>(threads), acc);
  std::vector<TokenRouter> routers(
      static_cast<size_t>(threads),
      TokenRouter(o.experts, nodes, shape.groups_per_token, o.top_k, o.group_score));
  std::vector<std::vector<std::int32_t>> picked(static_cast<size_t>(threads));
  parallel_for(gpus, threads, [&](int w, std::int64_t src) {
    SplitMix rng{
        SplitMix{o.seed ^ (static_cast<std::uint64_t>(src) * 0xd1b54a32d192ed03ULL)}.next()};
    auto& experts = picked[static_cast<size_t>(w)];
    for (std::int64_t t = 0; t < o.tokens_per_gpu; ++t) {
      routers[static_cast<size_t>(w)].route(rng, experts);
      part[static_cast<size_t>(w)].add(static_cast<std::int32_t>(src), experts);
    }
  });
  for (const Accumulator& p : part) acc.merge(p);
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
