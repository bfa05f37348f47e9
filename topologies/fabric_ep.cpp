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
// one integer comparison orders by score and then by the lower id, without branches.
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
        group_key_(static_cast<size_t>(groups)),
        top_(static_cast<size_t>(top_k)) {}

  // The token's experts into `out` (k of them, best first).
  void route(SplitMix& rng, std::vector<std::int32_t>& out) {
    constexpr std::uint64_t kLow = 0xffffffffULL;
    for (std::int64_t e = 0; e < experts_; e += 2) {
      const std::uint64_t r = rng.next();
      key_[static_cast<size_t>(e)] = (r & ~kLow) | (~static_cast<std::uint64_t>(e) & kLow);
      if (e + 1 < experts_)
        key_[static_cast<size_t>(e + 1)] = (r << 32) | (~static_cast<std::uint64_t>(e + 1) & kLow);
    }
    for (std::int64_t gi = 0; gi < groups_; ++gi) {
      std::uint64_t best = 0, second = 0;
      const std::uint64_t* k = key_.data() + gi * per_group_;
      for (std::int64_t i = 0; i < per_group_; ++i) {
        const std::uint64_t lo = std::min(best, k[i]);
        best = std::max(best, k[i]);
        second = std::max(second, lo);
      }
      const std::uint64_t score =
          rule_ == GroupScore::kMax || per_group_ < 2 ? best >> 32 : (best >> 32) + (second >> 32);
      group_key_[static_cast<size_t>(gi)] =
          score << kGroupBits | (kGroupMask - static_cast<std::uint64_t>(gi));
    }
    std::partial_sort(group_key_.begin(), group_key_.begin() + m_, group_key_.end(),
                      std::greater<>());
    // The top-k keys by insertion (k is small), best first.
    std::int64_t n = 0;
    for (std::int64_t i = 0; i < m_; ++i) {
      const auto gi =
          static_cast<std::int64_t>(kGroupMask - (group_key_[static_cast<size_t>(i)] & kGroupMask));
      const std::uint64_t* k = key_.data() + gi * per_group_;
      for (std::int64_t e = 0; e < per_group_; ++e) {
        const std::uint64_t key = k[e];
        if (n == k_ && key <= top_[static_cast<size_t>(k_ - 1)]) continue;
        std::int64_t p = n < k_ ? n++ : k_ - 1;
        for (; p > 0 && top_[static_cast<size_t>(p - 1)] < key; --p)
          top_[static_cast<size_t>(p)] = top_[static_cast<size_t>(p - 1)];
        top_[static_cast<size_t>(p)] = key;
      }
    }
    out.resize(static_cast<size_t>(k_));
    for (std::int64_t i = 0; i < k_; ++i)
      out[static_cast<size_t>(i)] = static_cast<std::int32_t>(~top_[static_cast<size_t>(i)] & kLow);
  }

  static constexpr int kGroupBits = 24;  // groups < 2^24; a score sum < 2^33: 57 bits in all
  static constexpr std::uint64_t kGroupMask = (std::uint64_t{1} << kGroupBits) - 1;

 private:
  std::int64_t experts_, groups_, per_group_, m_, k_;
  GroupScore rule_;
  std::vector<std::uint64_t> key_;
  std::vector<std::uint64_t> group_key_;
  std::vector<std::uint64_t> top_;
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
    per_gpu_ = experts / gpus;
    net_.assign(static_cast<size_t>(gpus) * static_cast<size_t>(nodes_), 0);
    nvl_.assign(static_cast<size_t>(gpus) * static_cast<size_t>(gpn_), 0);
    node_seen_.assign(static_cast<size_t>(nodes_), -1);
    gpu_seen_.assign(static_cast<size_t>(gpus), -1);
  }

  void add(std::int32_t src, std::span<const std::int32_t> experts) {
    if (src < 0 || src >= gpus_)
      throw Error(fmt::format("a token of GPU {}: expected 0 to {}", src, gpus_ - 1));
    const std::int32_t n = src / gpn_, l = src % gpn_;
    ++tokens_;
    for (std::int32_t e : experts) {
      if (e < 0 || e >= experts_)
        throw Error(fmt::format("token {} of GPU {} picks expert {}: expected 0 to {}", tokens_ - 1,
                                src, e, experts_ - 1));
      const auto gpu = static_cast<std::int32_t>(e / per_gpu_);
      const std::int32_t m = gpu / gpn_, j = gpu % gpn_;
      if (node_seen_[static_cast<size_t>(m)] != tokens_) {
        node_seen_[static_cast<size_t>(m)] = tokens_;
        ++pairs_;
        if (m != n) {
          ++remote_pairs_;
          ++net_[static_cast<size_t>(src) * static_cast<size_t>(nodes_) + static_cast<size_t>(m)];
        }
      }
      if (gpu_seen_[static_cast<size_t>(gpu)] != tokens_) {
        gpu_seen_[static_cast<size_t>(gpu)] = tokens_;
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
  std::int64_t experts_, per_gpu_ = 1;
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
