// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_stage.h"

#include <cstdint>

namespace cobench::coll::ep {

namespace {

std::vector<std::size_t> scaled(const std::vector<std::size_t>& v, std::size_t k) {
  std::vector<std::size_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i] * k;
  return out;
}

}  // namespace

void ExchangeStage::plan_send(const std::vector<std::size_t>& counts, std::size_t record_bytes) {
  send_counts = counts;
  send_displs.assign(counts.size(), 0);
  filled.assign(counts.size(), 0);
  sent = 0;
  for (std::size_t p = 0; p < counts.size(); ++p) {
    send_displs[p] = sent;
    sent += counts[p];
  }
  send.resize(sent * record_bytes);
}

void ExchangeStage::exchange(Communicator& comm, std::size_t record_bytes) {
  const auto n = static_cast<std::size_t>(comm.size());
  std::vector<std::int32_t> out(n), in(n);
  for (std::size_t p = 0; p < n; ++p) out[p] = static_cast<std::int32_t>(send_counts[p]);
  comm.all_to_all(out.data(), in.data(), 1, DataType::kInt32);
  recv_counts.assign(n, 0);
  recv_displs.assign(n, 0);
  received = 0;
  for (std::size_t p = 0; p < n; ++p) {
    recv_counts[p] = static_cast<std::size_t>(in[p]);
    recv_displs[p] = received;
    received += recv_counts[p];
  }
  recv.resize(received * record_bytes);
  comm.all_to_allv(send.data(), scaled(send_counts, record_bytes),
                   scaled(send_displs, record_bytes), recv.data(),
                   scaled(recv_counts, record_bytes), scaled(recv_displs, record_bytes),
                   DataType::kUInt8);
}

void ExchangeStage::reverse(Communicator& comm, const std::vector<std::byte>& back_send,
                            std::vector<std::byte>& back_recv, std::size_t record_bytes) const {
  back_recv.resize(sent * record_bytes);
  comm.all_to_allv(back_send.data(), scaled(recv_counts, record_bytes),
                   scaled(recv_displs, record_bytes), back_recv.data(),
                   scaled(send_counts, record_bytes), scaled(send_displs, record_bytes),
                   DataType::kUInt8);
}

}  // namespace cobench::coll::ep
