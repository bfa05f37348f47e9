// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_traffic.h"

#include "collectives/ep/ep_record.h"
#include "collectives/ep/ep_stage.h"

namespace cobench::coll::ep {

namespace {

// records[p] records of `payload` and `wire` bytes to each peer p but `self`, by link class.
void add_records(Traffic& t, const std::vector<std::size_t>& records,
                 const std::vector<bool>& remote, int self, std::size_t payload, std::size_t wire) {
  for (std::size_t p = 0; p < records.size(); ++p) {
    if (static_cast<int>(p) == self) continue;
    const double n = static_cast<double>(records[p]);
    (remote[p] ? t.payload.network : t.payload.intra) += n * static_cast<double>(payload);
    (remote[p] ? t.wire.network : t.wire.intra) += n * static_cast<double>(wire);
  }
}

}  // namespace

TrafficMeter::TrafficMeter(const EpConfig& c, const NodeLayout& layout)
    : c_(c), node_of_rank_(layout.node_of_rank) {
  const DispatchRecordLayout d(c);
  const CombineRecordLayout k(c);
  dispatch_payload_ = d.payload_bytes();
  dispatch_wire_ = d.bytes();
  combine_payload_ = k.payload_bytes();
  combine_wire_ = k.bytes();
}

void TrafficMeter::start(const Routing& mine) {
  dispatch_ = combine_ = Traffic{};
  const int ranks = static_cast<int>(node_of_rank_.size());
  auto node_of = [&](int e) { return node_of_rank_[rank_of_expert(c_, ranks, e)]; };
  std::size_t copies = 0;  // (token, destination node) pairs
  for_each_destination(mine, node_of, [&](int, int) { ++copies; });
  dispatch_.logical_network = static_cast<double>(copies * dispatch_payload_);
  combine_.logical_network = static_cast<double>(copies * combine_payload_);
}

void TrafficMeter::add_stage(const std::vector<std::size_t>& sent,
                             const std::vector<std::size_t>& received,
                             const std::vector<bool>& remote, int self) {
  add_records(dispatch_, sent, remote, self, dispatch_payload_, dispatch_wire_);
  add_records(combine_, received, remote, self, combine_payload_, combine_wire_);
}

void TrafficMeter::finish(std::size_t delivered) {
  dispatch_.logical_intra = static_cast<double>(delivered * dispatch_payload_);
  combine_.logical_intra = static_cast<double>(delivered * combine_payload_);
}

}  // namespace cobench::coll::ep
