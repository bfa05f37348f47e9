// SPDX-License-Identifier: Apache-2.0
// The NCCL backend: device buffers on this rank's GPU (local rank modulo the visible devices),
// one CUDA stream, the NCCL unique id broadcast over MPI (as nccl-tests does), and the control
// plane (timings, verification counts) over MPI. Built when CUDA and NCCL are found; on a machine
// without a GPU the constructor throws with the CUDA runtime's reason.
#pragma once

#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

#include <memory>

#include "collectives/mpi_communicator.h"

namespace cobench::coll {

class NcclCommunicator final : public Communicator {
 public:
  /// Over the ranks of `comm`; `local_rank` picks the GPU.
  NcclCommunicator(MPI_Comm comm, int local_rank);
  ~NcclCommunicator() override;

  int rank() const override { return control_.rank(); }
  int size() const override { return control_.size(); }
  std::string_view backend() const override { return "nccl"; }
  MemoryKind memory_kind() const override { return MemoryKind::kDevice; }
  int device() const { return device_; }

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
  void synchronize() override;

  void barrier() override { control_.barrier(); }
  double max_over_ranks(double v) override { return control_.max_over_ranks(v); }
  std::int64_t sum_over_ranks(std::int64_t v) override { return control_.sum_over_ranks(v); }
  std::vector<double> max_over_ranks(const std::vector<double>& v) override {
    return control_.max_over_ranks(v);
  }
  std::vector<std::int64_t> all_gather_values(std::int64_t v) override {
    return control_.all_gather_values(v);
  }
  std::vector<std::string> all_gather_strings(const std::string& s) override {
    return control_.all_gather_strings(s);
  }
  std::unique_ptr<Communicator> split(int color, int key) override;

 private:
  MpiCommunicator control_;
  int device_ = 0;
  int local_rank_ = 0;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

/// NCCL's type for `t`.
ncclDataType_t nccl_type(DataType t);

}  // namespace cobench::coll
