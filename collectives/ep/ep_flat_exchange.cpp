// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_flat_exchange.h"

namespace cobench::coll::ep {

FlatExchange::FlatExchange(const EpConfig& c, Communicator& world, const NodeLayout& layout)
    : EpExchange(c, world, layout) {
  for (const int node : layout.node_of_rank) remote_.push_back(node != layout.node);
}

StageTimes FlatExchange::dispatch_records(const Routing& mine, const std::byte* payloads,
                                          TrafficMeter& traffic) {
  const int ranks = world_.size();
  const std::size_t bytes = dispatch_record_.bytes();
  auto rank_of = [&](int e) { return rank_of_expert(c_, ranks, e); };
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks), 0);
  for_each_destination(mine, rank_of, [&](int, int d) { ++counts[static_cast<std::size_t>(d)]; });
  stage_.plan_send(counts, bytes);
  for_each_destination(mine, rank_of, [&](int t, int d) {
    const std::size_t slot = stage_.next_slot(static_cast<std::size_t>(d));
    write_record(stage_.send.data() + slot * bytes, mine, t, payloads);
  });
  const StageTimes t = stage_.exchange(world_, bytes);
  traffic.add_stage(stage_.send_counts, stage_.recv_counts, remote_, world_.rank());
  return t;
}

StageTimes FlatExchange::combine_records(const std::vector<std::byte>& partials, float* out) {
  const std::size_t bytes = combine_record_.bytes();
  const StageTimes t = stage_.reverse(world_, partials, combine_recv_, bytes);
  add_returned(combine_recv_.data(), stage_.sent, out);
  return t;
}

}  // namespace cobench::coll::ep
