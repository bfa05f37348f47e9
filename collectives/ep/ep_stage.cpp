// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_stage.h"

#include <chrono>
#include <cstdint>

#include "core/error.h"

namespace cobench::coll::ep {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<std::size_t> scaled(const std::vector<std::size_t>& v, std::size_t k) {
  std::vector<std::size_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i] * k;
  return out;
}

// Moves the host records `from` into `to` through `send_buf` and `recv_buf` (reserved before the
// clock starts): copied in (staging), the all_to_allv up to synchronize() (communication), copied
// out (staging). Counts and displacements are in records of `record_bytes`.
StageTimes move_records(Communicator& comm, const std::vector<std::byte>& from,
                        std::vector<std::byte>& to, StageBuffer& send_buf, StageBuffer& recv_buf,
                        const std::vector<std::size_t>& send_counts,
                        const std::vector<std::size_t>& send_displs,
                        const std::vector<std::size_t>& recv_counts,
                        const std::vector<std::size_t>& recv_displs, std::size_t record_bytes) {
  StageTimes t;
  std::byte* const send_ptr = send_buf.reserve(comm, from.size());
  std::byte* const recv_ptr = recv_buf.reserve(comm, to.size());
  auto t0 = Clock::now();
  comm.copy_from_host(send_ptr, from.data(), from.size());
  t.staging_s += seconds_since(t0);
  t0 = Clock::now();
  comm.all_to_allv(send_ptr, scaled(send_counts, record_bytes), scaled(send_displs, record_bytes),
                   recv_ptr, scaled(recv_counts, record_bytes), scaled(recv_displs, record_bytes),
                   DataType::kUInt8);
  comm.synchronize();
  t.communication_s += seconds_since(t0);
  t0 = Clock::now();
  comm.copy_to_host(to.data(), recv_ptr, to.size());
  t.staging_s += seconds_since(t0);
  return t;
}

}  // namespace

StageBuffer::~StageBuffer() {
  if (comm_ != nullptr) comm_->release(p_);
}

std::byte* StageBuffer::reserve(Communicator& comm, std::size_t bytes) {
  COBENCH_CHECK(comm_ == nullptr || comm_ == &comm,
                "an EP stage buffer is used with one communicator only");
  if (p_ == nullptr || bytes > capacity_) {
    if (p_ != nullptr) comm.release(p_);
    p_ = nullptr;
    comm_ = &comm;
    p_ = comm.allocate(bytes);
    capacity_ = bytes;
  }
  return static_cast<std::byte*>(p_);
}

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

StageTimes ExchangeStage::exchange(Communicator& comm, std::size_t record_bytes) {
  const auto n = static_cast<std::size_t>(comm.size());
  StageTimes t;
  std::vector<std::int32_t> out(n), in(n);
  for (std::size_t p = 0; p < n; ++p) out[p] = static_cast<std::int32_t>(send_counts[p]);
  std::byte* const counts_out = counts_out_.reserve(comm, 4 * n);
  std::byte* const counts_in = counts_in_.reserve(comm, 4 * n);
  auto t0 = Clock::now();
  comm.copy_from_host(counts_out, out.data(), 4 * n);
  comm.all_to_all(counts_out, counts_in, 1, DataType::kInt32);
  comm.synchronize();
  comm.copy_to_host(in.data(), counts_in, 4 * n);
  t.communication_s += seconds_since(t0);
  recv_counts.assign(n, 0);
  recv_displs.assign(n, 0);
  received = 0;
  for (std::size_t p = 0; p < n; ++p) {
    recv_counts[p] = static_cast<std::size_t>(in[p]);
    recv_displs[p] = received;
    received += recv_counts[p];
  }
  recv.resize(received * record_bytes);
  t += move_records(comm, send, recv, send_buf_, recv_buf_, send_counts, send_displs, recv_counts,
                    recv_displs, record_bytes);
  return t;
}

StageTimes ExchangeStage::reverse(Communicator& comm, const std::vector<std::byte>& back_send,
                                  std::vector<std::byte>& back_recv, std::size_t record_bytes) {
  COBENCH_CHECK(back_send.size() == received * record_bytes,
                "the reverse exchange needs one record per received record");
  back_recv.resize(sent * record_bytes);
  return move_records(comm, back_send, back_recv, back_send_buf_, back_recv_buf_, recv_counts,
                      recv_displs, send_counts, send_displs, record_bytes);
}

}  // namespace cobench::coll::ep
