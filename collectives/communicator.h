// SPDX-License-Identifier: Apache-2.0
// One interface over the communication backends the benchmarks use: MPI (host buffers) and NCCL
// (device buffers). Collectives follow NCCL's buffer semantics, so one harness drives both:
//   all_reduce      recv[i] = sum over ranks of send[i]                      (count each)
//   all_gather      recv[r * count + i] = send of rank r [i]                 (count per rank)
//   reduce_scatter  recv[i] = sum over ranks of send[rank * count + i]       (count per rank)
//   all_to_all      recv[r * count + i] = send of rank r [rank * count + i]  (count per peer)
//   all_to_allv     per-peer counts and displacements, in elements
//   send_recv       send `count` to one peer while receiving `count` from another
//   broadcast       recv[i] = send of rank root [i] on every rank, the root included (count)
//   reduce          recv[i] = sum over ranks of send[i] on the root; elsewhere recv is unused
// In place is expressed by pointers, as in NCCL: all_reduce, broadcast and reduce with
// send == recv; all_gather with send == recv + rank * count; reduce_scatter with
// recv == send + rank * count.
// A control plane (host values over MPI, whichever the data backend) carries timings and
// verification counts between ranks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cobench::coll {

enum class DataType { kFloat32, kInt32, kUInt8 };
enum class MemoryKind { kHost, kDevice };

std::size_t size_of(DataType t);
std::string_view to_string(DataType t);
/// "float32" | "int32" | "uint8"; throws cobench::Error naming the accepted values.
DataType parse_data_type(std::string_view name);

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string_view backend() const = 0;  ///< "mpi" | "nccl"
  virtual MemoryKind memory_kind() const = 0;

  // Buffers in the backend's memory; `bytes` may be 0.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* p) noexcept = 0;
  virtual void copy_from_host(void* dst, const void* host_src, std::size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* src, std::size_t bytes) = 0;

  // Data plane (sum is the only reduction the benchmarks need).
  virtual void all_reduce(const void* send, void* recv, std::size_t count, DataType t) = 0;
  virtual void all_gather(const void* send, void* recv, std::size_t count, DataType t) = 0;
  virtual void reduce_scatter(const void* send, void* recv, std::size_t count, DataType t) = 0;
  virtual void all_to_all(const void* send, void* recv, std::size_t count, DataType t) = 0;
  virtual void all_to_allv(const void* send, const std::vector<std::size_t>& send_counts,
                           const std::vector<std::size_t>& send_displs, void* recv,
                           const std::vector<std::size_t>& recv_counts,
                           const std::vector<std::size_t>& recv_displs, DataType t) = 0;
  virtual void send_recv(const void* send, int send_peer, void* recv, int recv_peer,
                         std::size_t count, DataType t) = 0;
  virtual void broadcast(const void* send, void* recv, std::size_t count, DataType t, int root) = 0;
  virtual void reduce(const void* send, void* recv, std::size_t count, DataType t, int root) = 0;
  /// Waits until the data-plane work issued so far is complete (device backends).
  virtual void synchronize() = 0;

  // Control plane (host values, blocking).
  virtual void barrier() = 0;
  virtual double max_over_ranks(double v) = 0;
  virtual std::int64_t sum_over_ranks(std::int64_t v) = 0;
  /// Element-wise maximum over ranks of a vector of the same length everywhere.
  virtual std::vector<double> max_over_ranks(const std::vector<double>& v) = 0;
  /// Every rank's value of `v` (index = rank).
  virtual std::vector<std::int64_t> all_gather_values(std::int64_t v) = 0;
  virtual std::vector<std::string> all_gather_strings(const std::string& s) = 0;
  /// Ranks with the same color form a new communicator of the same backend, ordered by key.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;
};

/// Owns a buffer of a communicator's memory kind.
class CommBuffer {
 public:
  CommBuffer(Communicator& comm, std::size_t bytes)
      : comm_(&comm), p_(comm.allocate(bytes)), bytes_(bytes) {}
  ~CommBuffer() { comm_->release(p_); }
  CommBuffer(const CommBuffer&) = delete;
  CommBuffer& operator=(const CommBuffer&) = delete;
  void* get() const { return p_; }
  std::byte* bytes() const { return static_cast<std::byte*>(p_); }
  std::size_t size() const { return bytes_; }

 private:
  Communicator* comm_;
  void* p_;
  std::size_t bytes_;
};

}  // namespace cobench::coll
