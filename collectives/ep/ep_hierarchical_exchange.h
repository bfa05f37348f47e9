// SPDX-License-Identifier: Apache-2.0
// The hierarchical EP exchange (DeepEP's normal mode): one copy of a token per destination node
// over the network, to the rank with the same local index there (the rail communicator), which
// forwards it inside its node (the node communicator) to the ranks holding its experts; combine
// reverses it, the forwarding rank adding its node's partial sums (FP32, then BF16) before the
// one copy crosses the network back.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "collectives/ep/ep_exchange.h"
#include "collectives/ep/ep_stage.h"

namespace cobench::coll::ep {

class HierarchicalExchange final : public EpExchange {
 public:
  /// Needs the same number of ranks on every node; splits `world` into node and rail
  /// communicators (collective).
  HierarchicalExchange(const EpConfig& c, Communicator& world, const NodeLayout& layout);
  bool hierarchical() const override { return true; }

 private:
  StageTimes dispatch_records(const Routing& mine, const std::byte* payloads,
                              TrafficMeter& traffic) override;
  const ExchangeStage& delivery() const override { return node_stage_; }
  StageTimes combine_records(const std::vector<std::byte>& partials, float* out) override;
  /// Stage 1: one copy per other destination node over the rail; this node's copies stay here.
  StageTimes send_over_rail(const Routing& mine, const std::byte* payloads);
  /// Stage 2: every record held for this node to the local ranks holding its experts.
  StageTimes forward_in_node();

  std::unique_ptr<Communicator> node_, rail_;
  ExchangeStage rail_stage_, node_stage_;
  std::vector<bool> rail_remote_;            ///< per rail peer: true (every one on another node)
  std::vector<bool> node_remote_;            ///< per node peer: false
  std::vector<std::byte> own_records_;       ///< this rank's tokens bound for its own node
  std::vector<const std::byte*> held_;       ///< records this rank forwards
  std::size_t held_own_ = 0;                 ///< of which this rank's own tokens (first)
  std::vector<std::size_t> forward_origin_;  ///< node-stage send slot -> held index
  std::vector<float> node_sum_;              ///< [held][H]
  std::vector<std::byte> combine_recv_, rail_back_send_, rail_back_recv_;
};

}  // namespace cobench::coll::ep
