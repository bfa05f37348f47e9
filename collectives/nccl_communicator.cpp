// SPDX-License-Identifier: Apache-2.0
#include "collectives/nccl_communicator.h"

#include <fmt/format.h>

#include "core/cuda/cuda_check.h"
#include "core/cuda/nccl_check.h"
#include "core/error.h"
#include "core/mpi_check.h"

namespace cobench::coll {

ncclDataType_t nccl_type(DataType t) {
  switch (t) {
    case DataType::kFloat32:
      return ncclFloat32;
    case DataType::kInt32:
      return ncclInt32;
    case DataType::kUInt8:
      return ncclUint8;
  }
  COBENCH_THROW("unknown data type");
}

NcclCommunicator::NcclCommunicator(MPI_Comm comm, int local_rank)
    : control_(comm), local_rank_(local_rank) {
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0)
    COBENCH_THROW(fmt::format("the NCCL backend needs a CUDA device: {}",
                              e != cudaSuccess ? cudaGetErrorString(e) : "none visible"));
  device_ = local_rank % devices;
  COBENCH_CUDA_CHECK(cudaSetDevice(device_));
  ncclUniqueId id{};
  if (control_.rank() == 0) COBENCH_NCCL_CHECK(ncclGetUniqueId(&id));
  COBENCH_MPI_CHECK(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, control_.handle()));
  COBENCH_NCCL_CHECK(ncclCommInitRank(&comm_, control_.size(), id, control_.rank()));
  COBENCH_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}

NcclCommunicator::~NcclCommunicator() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  if (comm_ != nullptr) ncclCommDestroy(comm_);
}

void* NcclCommunicator::allocate(std::size_t bytes) {
  void* p = nullptr;
  COBENCH_CUDA_CHECK(cudaMalloc(&p, std::max<std::size_t>(bytes, 1)));
  return p;
}

void NcclCommunicator::release(void* p) noexcept {
  if (p != nullptr) cudaFree(p);
}

// On the communicator's stream, then waited for: ordered after the NCCL work issued before it
// (a copy out sees its result) and complete before the next NCCL call reads the buffer (a
// cudaMemcpy on the legacy stream from pageable memory may return before its DMA lands, and the
// non-blocking stream does not wait for it).
void NcclCommunicator::copy_from_host(void* dst, const void* host_src, std::size_t bytes) {
  if (bytes == 0) return;
  COBENCH_CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream_));
  COBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void NcclCommunicator::copy_to_host(void* host_dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  COBENCH_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
  COBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void NcclCommunicator::all_reduce(const void* send, void* recv, std::size_t count, DataType t) {
  COBENCH_NCCL_CHECK(ncclAllReduce(send, recv, count, nccl_type(t), ncclSum, comm_, stream_));
}

void NcclCommunicator::all_gather(const void* send, void* recv, std::size_t count, DataType t) {
  COBENCH_NCCL_CHECK(ncclAllGather(send, recv, count, nccl_type(t), comm_, stream_));
}

void NcclCommunicator::reduce_scatter(const void* send, void* recv, std::size_t count, DataType t) {
  COBENCH_NCCL_CHECK(ncclReduceScatter(send, recv, count, nccl_type(t), ncclSum, comm_, stream_));
}

void NcclCommunicator::all_to_all(const void* send, void* recv, std::size_t count, DataType t) {
  COBENCH_NCCL_CHECK(ncclAlltoAll(send, recv, count, nccl_type(t), comm_, stream_));
}

void NcclCommunicator::all_to_allv(const void* send, const std::vector<std::size_t>& send_counts,
                                   const std::vector<std::size_t>& send_displs, void* recv,
                                   const std::vector<std::size_t>& recv_counts,
                                   const std::vector<std::size_t>& recv_displs, DataType t) {
  const std::size_t ts = size_of(t);
  COBENCH_NCCL_CHECK(ncclGroupStart());
  for (int p = 0; p < size(); ++p) {
    const auto i = static_cast<std::size_t>(p);
    if (send_counts[i] != 0)
      COBENCH_NCCL_CHECK(ncclSend(static_cast<const std::byte*>(send) + send_displs[i] * ts,
                                  send_counts[i], nccl_type(t), p, comm_, stream_));
    if (recv_counts[i] != 0)
      COBENCH_NCCL_CHECK(ncclRecv(static_cast<std::byte*>(recv) + recv_displs[i] * ts,
                                  recv_counts[i], nccl_type(t), p, comm_, stream_));
  }
  COBENCH_NCCL_CHECK(ncclGroupEnd());
}

void NcclCommunicator::send_recv(const void* send, int send_peer, void* recv, int recv_peer,
                                 std::size_t count, DataType t) {
  COBENCH_NCCL_CHECK(ncclGroupStart());
  COBENCH_NCCL_CHECK(ncclSend(send, count, nccl_type(t), send_peer, comm_, stream_));
  COBENCH_NCCL_CHECK(ncclRecv(recv, count, nccl_type(t), recv_peer, comm_, stream_));
  COBENCH_NCCL_CHECK(ncclGroupEnd());
}

void NcclCommunicator::broadcast(const void* send, void* recv, std::size_t count, DataType t,
                                 int root) {
  COBENCH_NCCL_CHECK(ncclBroadcast(send, recv, count, nccl_type(t), root, comm_, stream_));
}

void NcclCommunicator::reduce(const void* send, void* recv, std::size_t count, DataType t,
                              int root) {
  COBENCH_NCCL_CHECK(ncclReduce(send, recv, count, nccl_type(t), ncclSum, root, comm_, stream_));
}

void NcclCommunicator::synchronize() { COBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

std::unique_ptr<Communicator> NcclCommunicator::split(int color, int key) {
  MPI_Comm sub = MPI_COMM_NULL;
  COBENCH_MPI_CHECK(MPI_Comm_split(control_.handle(), color, key, &sub));
  auto out = std::make_unique<NcclCommunicator>(sub, local_rank_);
  COBENCH_MPI_CHECK(MPI_Comm_free(&sub));
  return out;
}

}  // namespace cobench::coll
