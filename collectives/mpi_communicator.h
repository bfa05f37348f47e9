// SPDX-License-Identifier: Apache-2.0
// The MPI backend (host buffers) and the MPI process runtime. Processes are started by mpirun or
// srun; there is no other launcher. Communicators return errors (MPI_ERRORS_RETURN) so every
// failed call becomes a cobench::Error naming the call, not an abort without a message.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "collectives/communicator.h"

namespace cobench::coll {

/// Initializes MPI (thread level MULTIPLE, so a watchdog thread may abort the job) unless it
/// already is, and finalizes it at destruction if it initialized it. Sets the error context to
/// "host H rank R".
class MpiRuntime {
 public:
  MpiRuntime(int* argc, char*** argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;
  int thread_level() const { return thread_level_; }

 private:
  bool owns_ = false;
  int thread_level_ = 0;
};

/// Ends every process of the job (MPI_Abort on MPI_COMM_WORLD) with `code`. Safe from any
/// thread once MPI is initialized; the caller prints its message first.
[[noreturn]] void abort_job(int code);

/// True when this process was started by an MPI launcher (mpirun/srun environment variables).
bool started_by_mpi_launcher();

class MpiCommunicator final : public Communicator {
 public:
  /// Wraps a duplicate of `comm` (the caller keeps ownership of `comm`).
  explicit MpiCommunicator(MPI_Comm comm);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string_view backend() const override { return "mpi"; }
  MemoryKind memory_kind() const override { return MemoryKind::kHost; }
  MPI_Comm handle() const { return comm_; }

  void* allocate(std::size_t bytes) override;
  void release(void* p) noexcept override;
  void copy_from_host(void* dst, const void* host_src, std::size_t bytes) override;
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) override;

  void all_reduce(const void* send, void* recv, std::size_t count, DataType t) override;
  void all_gather(const void* send, void* recv, std::size_t count, DataType t) override;
  void reduce_scatter(const void* send, void* recv, std::size_t count, DataType t) override;
  void all_to_all(const void* send, void* recv, std::size_t count, DataType t) override;
  void all_to_allv(const void* send, const std::vector<std::size_t>& send_counts,
                   const std::vector<std::size_t>& send_displs, void* recv,
                   const std::vector<std::size_t>& recv_counts,
                   const std::vector<std::size_t>& recv_displs, DataType t) override;
  void send_recv(const void* send, int send_peer, void* recv, int recv_peer, std::size_t count,
                 DataType t) override;
  void broadcast(const void* send, void* recv, std::size_t count, DataType t, int root) override;
  void reduce(const void* send, void* recv, std::size_t count, DataType t, int root) override;
  void synchronize() override {}

  void barrier() override;
  double max_over_ranks(double v) override;
  std::int64_t sum_over_ranks(std::int64_t v) override;
  std::vector<double> max_over_ranks(const std::vector<double>& v) override;
  std::vector<std::int64_t> all_gather_values(std::int64_t v) override;
  std::vector<std::string> all_gather_strings(const std::string& s) override;
  std::unique_ptr<Communicator> split(int color, int key) override;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

/// The MPI datatype of `t`.
MPI_Datatype mpi_type(DataType t);

/// An element count as MPI's int; throws when it does not fit (MPI-3 counts are int).
int mpi_count(std::size_t count, const char* what);

}  // namespace cobench::coll
