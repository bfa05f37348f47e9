// SPDX-License-Identifier: Apache-2.0
// The flat EP exchange: one all-to-all-v over every rank, a token once to each rank holding one
// of its experts; combine returns one BF16 partial sum per copy.
#pragma once

#include <vector>

#include "collectives/ep/ep_exchange.h"
#include "collectives/ep/ep_stage.h"

namespace cobench::coll::ep {

class FlatExchange final : public EpExchange {
 public:
  FlatExchange(const EpConfig& c, Communicator& world, const NodeLayout& layout);
  bool hierarchical() const override { return false; }

 private:
  StageTimes dispatch_records(const Routing& mine, const std::byte* payloads,
                              TrafficMeter& traffic) override;
  const ExchangeStage& delivery() const override { return stage_; }
  StageTimes combine_records(const std::vector<std::byte>& partials, float* out) override;

  ExchangeStage stage_;
  std::vector<bool> remote_;  ///< per world rank: on another node
  std::vector<std::byte> combine_recv_;
};

}  // namespace cobench::coll::ep
