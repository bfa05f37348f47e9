// SPDX-License-Identifier: Apache-2.0
// EP dispatch and combine over a Communicator, in two implementations behind one interface
// (make_ep_exchange):
//   flat          (FlatExchange) one all-to-all-v over every rank: a token goes once to each rank
//                 holding one of its experts, and each such rank returns one partial sum (BF16 or
//                 --combine-format's encoding);
//   hierarchical  (HierarchicalExchange) DeepEP's normal mode: one copy per destination node over
//                 the network, to the rank with the same local index there (the "rail"
//                 communicator), which forwards it inside its node (the node communicator) to the
//                 ranks holding its experts; combine reverses it, the forwarding rank adding its
//                 node's partial sums (decoded, summed in FP32, encoded again) before the one copy
//                 crosses the network back.
// Each all-to-all-v stage (ep_stage.h) first swaps per-peer counts (an all-to-all of integers, as
// DeepEP's layout step), inside the timed region. Records are packed and unpacked on the host; the
// stages move them on the communicator's buffers (device memory under NCCL: "host-staged pack,
// device all-to-all-v"), reached only through its copy_from_host/copy_to_host. The records are
// laid out as ep_record.h says; the traffic is counted from the stages' record counts
// (ep_traffic.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/ep/ep_config.h"
#include "collectives/ep/ep_record.h"
#include "collectives/ep/ep_routing.h"
#include "collectives/ep/ep_stage.h"
#include "collectives/ep/ep_traffic.h"
#include "collectives/node_layout.h"

namespace cobench::coll::ep {

/// Which data path an exchange on a communicator of memory kind `k` runs, as the records say it:
/// "host pack, host all-to-all-v" | "host-staged pack, device all-to-all-v".
std::string_view data_path(MemoryKind k);

class EpExchange {
 public:
  virtual ~EpExchange();
  EpExchange(const EpExchange&) = delete;
  EpExchange& operator=(const EpExchange&) = delete;

  /// Sends this rank's tokens (routing `mine`, payloads [T][dispatch_payload_bytes]).
  void dispatch(const Routing& mine, const std::byte* payloads);
  std::size_t received() const;
  RecordView record(std::size_t i) const;
  /// Sets the partial sum for received record i (H values), encoded in the combine
  /// format, before combine().
  void set_partial(std::size_t i, const float* values);
  /// Returns the partials to the tokens' ranks; out [T][H] = the sum of each token's partials.
  void combine(float* out);

  const Traffic& dispatch_traffic() const { return traffic_.dispatch(); }
  const Traffic& combine_traffic() const { return traffic_.combine(); }
  /// The last dispatch's and combine's stage times (summed over their stages).
  const StageTimes& dispatch_times() const { return dispatch_times_; }
  const StageTimes& combine_times() const { return combine_times_; }
  virtual bool hierarchical() const = 0;

 protected:
  EpExchange(const EpConfig& c, Communicator& world, const NodeLayout& layout);

  /// Writes the dispatch record of this rank's token t at `dst`.
  void write_record(std::byte* dst, const Routing& mine, int t, const std::byte* payloads) const;
  /// Adds `n` returned combine records, one after another from `recs`, to out at their tokens.
  void add_returned(const std::byte* recs, std::size_t n, float* out) const;

  const EpConfig c_;
  Communicator& world_;
  const NodeLayout layout_;
  const DispatchRecordLayout dispatch_record_;
  const CombineRecordLayout combine_record_;

 private:
  /// Moves the records to the ranks holding their experts, adding each stage to `traffic`;
  /// returns the stages' times.
  virtual StageTimes dispatch_records(const Routing& mine, const std::byte* payloads,
                                      TrafficMeter& traffic) = 0;
  /// The stage whose receive buffer holds the records delivered to this rank.
  virtual const ExchangeStage& delivery() const = 0;
  /// Returns `partials` (one combine record per received record) to the tokens' ranks, adding
  /// each token's into out (zeroed); returns the stages' times.
  virtual StageTimes combine_records(const std::vector<std::byte>& partials, float* out) = 0;

  TrafficMeter traffic_;
  StageTimes dispatch_times_, combine_times_;
  std::vector<std::byte> combine_send_;  ///< the partials, one combine record per received record
  int tokens_ = 0;
};

/// The flat or hierarchical exchange (hierarchical needs the same number of ranks on every node).
std::unique_ptr<EpExchange> make_ep_exchange(const EpConfig& c, Communicator& world,
                                             const NodeLayout& layout, bool hierarchical);

}  // namespace cobench::coll::ep
