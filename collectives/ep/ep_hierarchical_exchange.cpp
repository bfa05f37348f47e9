// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_hierarchical_exchange.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace cobench::coll::ep {

HierarchicalExchange::HierarchicalExchange(const EpConfig& c, Communicator& world,
                                           const NodeLayout& layout)
    : EpExchange(c, world, layout) {
  COBENCH_CHECK(layout.uniform(),
                "hierarchical dispatch needs the same number of ranks on every node");
  node_ = world.split(layout.node, layout.local_rank);
  rail_ = world.split(layout.local_rank, layout.node);
  rail_remote_.assign(static_cast<std::size_t>(layout.num_nodes), true);
  node_remote_.assign(static_cast<std::size_t>(layout.ranks_per_node[layout.node]), false);
}

StageTimes HierarchicalExchange::dispatch_records(const Routing& mine, const std::byte* payloads,
                                                  TrafficMeter& traffic) {
  StageTimes t = send_over_rail(mine, payloads);
  t += forward_in_node();
  traffic.add_stage(rail_stage_.send_counts, rail_stage_.recv_counts, rail_remote_, layout_.node);
  traffic.add_stage(node_stage_.send_counts, node_stage_.recv_counts, node_remote_,
                    layout_.local_rank);
  return t;
}

StageTimes HierarchicalExchange::send_over_rail(const Routing& mine, const std::byte* payloads) {
  const int ranks = world_.size();
  const std::size_t bytes = dispatch_record_.bytes();
  auto node_of = [&](int e) { return layout_.node_of_rank[rank_of_expert(c_, ranks, e)]; };
  std::vector<std::size_t> counts(static_cast<std::size_t>(layout_.num_nodes), 0);
  std::size_t own = 0;
  for_each_destination(mine, node_of, [&](int, int n) {
    n == layout_.node ? ++own : ++counts[static_cast<std::size_t>(n)];
  });
  rail_stage_.plan_send(counts, bytes);
  own_records_.resize(own * bytes);
  std::size_t own_fill = 0;
  for_each_destination(mine, node_of, [&](int t, int n) {
    std::byte* slot =
        n == layout_.node
            ? own_records_.data() + own_fill++ * bytes
            : rail_stage_.send.data() + rail_stage_.next_slot(static_cast<std::size_t>(n)) * bytes;
    write_record(slot, mine, t, payloads);
  });
  const StageTimes t = rail_stage_.exchange(*rail_, bytes);

  held_.clear();
  for (std::size_t i = 0; i < own; ++i) held_.push_back(own_records_.data() + i * bytes);
  held_own_ = own;
  for (std::size_t i = 0; i < rail_stage_.received; ++i)
    held_.push_back(rail_stage_.recv.data() + i * bytes);
  return t;
}

StageTimes HierarchicalExchange::forward_in_node() {
  const int ranks = world_.size();
  const std::size_t bytes = dispatch_record_.bytes();
  std::vector<int> dest(static_cast<std::size_t>(c_.top_k));
  // Calls fn(held index, local rank) once per local rank holding one of the record's experts.
  auto for_each_forward = [&](auto&& fn) {
    for (std::size_t h = 0; h < held_.size(); ++h) {
      int seen_n = 0;
      for (int j = 0; j < c_.top_k; ++j) {
        // A record that crossed the network names its experts: one out of range was corrupted
        // in transit, and is refused here rather than indexing past the layout.
        const int e = DispatchRecordLayout::expert(held_[h], j);
        if (e < 0 || e >= c_.num_experts)
          throw Error(fmt::format(
              "a dispatch record received over the rail names expert {}: expected 0 to {} "
              "(corrupted in transit)",
              e, c_.num_experts - 1));
        const int r = rank_of_expert(c_, ranks, e);
        if (layout_.node_of_rank[r] != layout_.node) continue;
        if (std::find(dest.begin(), dest.begin() + seen_n, r) != dest.begin() + seen_n) continue;
        dest[static_cast<std::size_t>(seen_n++)] = r;
        fn(h, layout_.local_rank_of_rank[r]);
      }
    }
  };
  std::vector<std::size_t> counts(node_remote_.size(), 0);
  for_each_forward([&](std::size_t, int l) { ++counts[static_cast<std::size_t>(l)]; });
  node_stage_.plan_send(counts, bytes);
  forward_origin_.assign(node_stage_.sent, 0);
  for_each_forward([&](std::size_t h, int l) {
    const std::size_t slot = node_stage_.next_slot(static_cast<std::size_t>(l));
    std::memcpy(node_stage_.send.data() + slot * bytes, held_[h], bytes);
    forward_origin_[slot] = h;
  });
  return node_stage_.exchange(*node_, bytes);
}

StageTimes HierarchicalExchange::combine_records(const std::vector<std::byte>& partials,
                                                 float* out) {
  const auto h = static_cast<std::size_t>(c_.hidden);
  const std::size_t bytes = combine_record_.bytes();
  // Stage 2 back: each forwarded copy's partial returns to this rank; sum per held record.
  StageTimes t = node_stage_.reverse(*node_, partials, combine_recv_, bytes);
  node_sum_.assign(held_.size() * h, 0.0f);
  for (std::size_t slot = 0; slot < node_stage_.sent; ++slot)
    combine_record_.add_values(combine_recv_.data() + slot * bytes,
                               node_sum_.data() + forward_origin_[slot] * h);
  // This rank's own tokens: their node sum is already here.
  for (std::size_t i = 0; i < held_own_; ++i) {
    const float* sum = node_sum_.data() + i * h;
    float* dst = out + static_cast<std::size_t>(DispatchRecordLayout::token(held_[i])) * h;
    for (std::size_t j = 0; j < h; ++j) dst[j] += sum[j];
  }
  // Stage 1 back: one node sum (encoded in the combine format) per token that crossed the network.
  const std::size_t remote = held_.size() - held_own_;
  rail_back_send_.resize(remote * bytes);
  for (std::size_t i = 0; i < remote; ++i) {
    std::byte* rec = rail_back_send_.data() + i * bytes;
    CombineRecordLayout::write_header(rec, DispatchRecordLayout::token(held_[held_own_ + i]));
    combine_record_.write_values(rec, node_sum_.data() + (held_own_ + i) * h);
  }
  t += rail_stage_.reverse(*rail_, rail_back_send_, rail_back_recv_, bytes);
  add_returned(rail_back_recv_.data(), rail_stage_.sent, out);
  return t;
}

}  // namespace cobench::coll::ep
