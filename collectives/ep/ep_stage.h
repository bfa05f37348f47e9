// SPDX-License-Identifier: Apache-2.0
// One all-to-all-v step of the EP exchange (per-peer record counts and the buffers), and the
// copies of a token it sends (one per distinct destination).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/ep/ep_routing.h"

namespace cobench::coll::ep {

struct ExchangeStage {
  std::vector<std::size_t> send_counts, send_displs, recv_counts, recv_displs;
  std::vector<std::byte> send, recv;
  std::vector<std::size_t> filled;     // per peer, by next_slot
  std::size_t sent = 0, received = 0;  // records

  /// Sizes `send` for counts[p] records to peer p, in peer order.
  void plan_send(const std::vector<std::size_t>& counts, std::size_t record_bytes);
  /// The next free send slot (record index) of peer p's, filling them in order after plan_send.
  std::size_t next_slot(std::size_t p) { return send_displs[p] + filled[p]++; }
  /// Swaps the counts (inside the timed region, as DeepEP's layout step), then the records.
  void exchange(Communicator& comm, std::size_t record_bytes);
  /// The reverse exchange: `back_send` holds one record per received record (same order);
  /// `back_recv` gets one per sent record, in send order.
  void reverse(Communicator& comm, const std::vector<std::byte>& back_send,
               std::vector<std::byte>& back_recv, std::size_t record_bytes) const;
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
