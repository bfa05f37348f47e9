// SPDX-License-Identifier: Apache-2.0
// EP dispatch and combine over a Communicator (host buffers), in two implementations:
//   flat          one all-to-all-v over every rank: a token goes once to each rank holding one
//                 of its experts, and each such rank returns one BF16 partial sum;
//   hierarchical  DeepEP's normal mode: one copy per destination node over the network, to the
//                 rank with the same local index there (the "rail" communicator), which forwards
//                 it inside its node (the node communicator) to the ranks holding its experts;
//                 combine reverses it, the forwarding rank adding its node's partial sums (FP32,
//                 then BF16) before the one copy crosses the network back.
// Each exchange first swaps per-peer counts (an all-to-all of integers, as DeepEP's layout step),
// inside the timed region. A dispatched record is
//   [int32 source rank][int32 token][top_k int32 experts][top_k float weights][payload]
// and a combine record [int32 token][int32 0][H BF16 values].
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "collectives/communicator.h"
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

struct RecordView {
  int source_rank = 0;
  int token = 0;
  const int* experts = nullptr;
  const float* weights = nullptr;
  const std::byte* payload = nullptr;
};

class EpExchange {
 public:
  EpExchange(const EpConfig& c, Communicator& world, const NodeLayout& layout, bool hierarchical);
  ~EpExchange();

  /// Sends this rank's tokens (routing `mine`, payloads [T][dispatch_payload_bytes]).
  void dispatch(const Routing& mine, const std::byte* payloads);
  std::size_t received() const;
  RecordView record(std::size_t i) const;
  /// Where the BF16 partial sum for received record i goes (H values), before combine().
  std::uint16_t* partial(std::size_t i);
  /// Returns the partials to the tokens' ranks; out [T][H] = the sum of each token's partials.
  void combine(float* out);

  const Traffic& dispatch_traffic() const { return dispatch_traffic_; }
  const Traffic& combine_traffic() const { return combine_traffic_; }
  bool hierarchical() const { return hierarchical_; }

 private:
  struct Stage;
  void dispatch_flat(const Routing& mine, const std::byte* payloads);
  void dispatch_hierarchical(const Routing& mine, const std::byte* payloads);
  void combine_flat(float* out);
  void combine_hierarchical(float* out);
  void write_record(std::byte* dst, const Routing& mine, int t, const std::byte* payloads) const;

  EpConfig c_;
  Communicator& world_;
  NodeLayout layout_;
  bool hierarchical_;
  std::unique_ptr<Communicator> node_, rail_;
  std::size_t record_bytes_, combine_bytes_, payload_bytes_;
  std::unique_ptr<Stage> flat_, rail_stage_, node_stage_;
  std::vector<const std::byte*> held_;       ///< hierarchical: records this rank forwards
  std::size_t held_own_ = 0;                 ///< of which this rank's own tokens (first)
  std::vector<std::size_t> forward_origin_;  ///< node-stage send slot -> held index
  std::vector<float> node_sum_;              ///< [held][H]
  std::vector<std::byte> own_records_;       ///< this rank's tokens bound for its own node
  std::vector<std::byte> combine_send_, combine_recv_, rail_back_send_, rail_back_recv_;
  Traffic dispatch_traffic_, combine_traffic_;
  int tokens_ = 0;
};

}  // namespace cobench::coll::ep
