// SPDX-License-Identifier: Apache-2.0
// One all-to-all-v step of the EP exchange (per-peer record counts and the buffers), and the
// copies of a token it sends (one per distinct destination).
//
// The records are packed and unpacked on the host (`send`, `recv`); the communication runs on
// buffers the Communicator allocated (device memory under NCCL, host memory under MPI) and touches
// them only through the Communicator: copy_from_host, the count swap (all_to_all) and the records'
// all_to_allv, synchronize, copy_to_host. The stage times two parts separately (StageTimes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/ep/ep_routing.h"

namespace cobench::coll::ep {

/// Seconds a stage spent, on this rank's clock.
struct StageTimes {
  /// The count swap (counts copied in, all_to_all, synchronize, copied out: 4 B per peer each
  /// way) and the records' all_to_allv up to synchronize().
  double communication_s = 0;
  /// Copying the packed records into the communicator's send buffer and the received ones out.
  double staging_s = 0;
  StageTimes& operator+=(const StageTimes& o) {
    communication_s += o.communication_s;
    staging_s += o.staging_s;
    return *this;
  }
};

/// A buffer in a communicator's memory that grows to the largest size asked of it; allocated and
/// released by one communicator (the first one reserve() is given).
class StageBuffer {
 public:
  StageBuffer() = default;
  ~StageBuffer();
  StageBuffer(const StageBuffer&) = delete;
  StageBuffer& operator=(const StageBuffer&) = delete;
  /// At least `bytes` (a valid pointer also for 0 bytes).
  std::byte* reserve(Communicator& comm, std::size_t bytes);

 private:
  Communicator* comm_ = nullptr;
  void* p_ = nullptr;
  std::size_t capacity_ = 0;
};

struct ExchangeStage {
  std::vector<std::size_t> send_counts, send_displs, recv_counts, recv_displs;
  std::vector<std::byte> send, recv;   // host: packed before exchange(), unpacked after
  std::vector<std::size_t> filled;     // per peer, by next_slot
  std::size_t sent = 0, received = 0;  // records

  /// Sizes `send` for counts[p] records to peer p, in peer order.
  void plan_send(const std::vector<std::size_t>& counts, std::size_t record_bytes);
  /// The next free send slot (record index) of peer p's, filling them in order after plan_send.
  std::size_t next_slot(std::size_t p) { return send_displs[p] + filled[p]++; }
  /// Swaps the counts (inside the timed region, as DeepEP's layout step), then the records, on
  /// `comm`'s buffers; `recv` holds the received records afterwards.
  StageTimes exchange(Communicator& comm, std::size_t record_bytes);
  /// The reverse exchange: `back_send` holds one record per received record (same order);
  /// `back_recv` gets one per sent record, in send order. The same communicator as exchange().
  StageTimes reverse(Communicator& comm, const std::vector<std::byte>& back_send,
                     std::vector<std::byte>& back_recv, std::size_t record_bytes);

 private:
  StageBuffer counts_out_, counts_in_, send_buf_, recv_buf_, back_send_buf_, back_recv_buf_;
};

/// Calls fn(t, d) for each token t of `r` and each distinct d = dest(expert) over its experts
/// (in first-seen order): the copies of the token a stage sends, one per destination.
template <class Dest, class Fn>
void for_each_destination(const Routing& r, Dest dest, Fn fn) {
  std::vector<int> buffer(static_cast<std::size_t>(r.top_k));
  int* const seen = buffer.data();
  for (int t = 0; t < r.tokens; ++t) {
    int n = 0;
    for (int j = 0; j < r.top_k; ++j) {
      const int v = dest(r.experts_of(t)[j]);
      if (std::find(seen, seen + n, v) == seen + n) seen[n++] = v;
    }
    for (int i = 0; i < n; ++i) fn(t, seen[i]);
  }
}

}  // namespace cobench::coll::ep
