// SPDX-License-Identifier: Apache-2.0
// The bytes one rank moves in an EP dispatch and its combine, counted from the per-peer record
// counts of the exchange's all-to-all-v stages (each record a stage sends in dispatch comes back
// as one combine record) and, for DeepEP's logical figures, from the routing.
#pragma once

#include <cstddef>
#include <vector>

#include "collectives/ep/ep_config.h"
#include "collectives/ep/ep_routing.h"
#include "collectives/node_layout.h"

namespace cobench::coll::ep {

/// Bytes one rank sends over each link class in one dispatch or combine; self-traffic excluded.
struct LinkBytes {
  double network = 0;  ///< to ranks on other nodes
  double intra = 0;    ///< to other ranks of its node
};

struct Traffic {
  LinkBytes payload;  ///< payload bytes only (FP8 + scales, or BF16), DeepEP's unit
  LinkBytes wire;     ///< including the record headers and routing
  /// DeepEP's "logical" bandwidth counts: one payload per (token, destination node), own node
  /// included (its RDMA figure), and every payload a rank receives, self included (its NVLink
  /// figure).
  double logical_network = 0;
  double logical_intra = 0;
};

/// One rank's dispatch and combine traffic, one dispatch at a time: start(), add_stage() for
/// each stage, finish().
class TrafficMeter {
 public:
  TrafficMeter(const EpConfig& c, const NodeLayout& layout);

  /// Clears both counts and adds DeepEP's logical network bytes of this rank's tokens.
  void start(const Routing& mine);
  /// A stage: sent[p] dispatch records to peer p of its communicator and received[p] from it
  /// (returned in combine); peer p is on another node where remote[p]; peer `self` is skipped.
  void add_stage(const std::vector<std::size_t>& sent, const std::vector<std::size_t>& received,
                 const std::vector<bool>& remote, int self);
  /// DeepEP's logical intra bytes: one payload per record the dispatch delivered here.
  void finish(std::size_t delivered);

  const Traffic& dispatch() const { return dispatch_; }
  const Traffic& combine() const { return combine_; }

 private:
  EpConfig c_;
  std::vector<int> node_of_rank_;
  std::size_t dispatch_payload_, dispatch_wire_, combine_payload_, combine_wire_;
  Traffic dispatch_, combine_;
};

}  // namespace cobench::coll::ep
