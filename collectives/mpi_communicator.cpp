// SPDX-License-Identifier: Apache-2.0
#include "collectives/mpi_communicator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/mpi_check.h"

namespace cobench::coll {

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  int initialized = 0;
  COBENCH_MPI_CHECK(MPI_Initialized(&initialized));
  if (!initialized) {
    COBENCH_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &thread_level_));
    owns_ = true;
  } else {
    COBENCH_MPI_CHECK(MPI_Query_thread(&thread_level_));
  }
  COBENCH_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  int rank = 0;
  COBENCH_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  char host[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  COBENCH_MPI_CHECK(MPI_Get_processor_name(host, &length));
  set_error_context(fmt::format("host {} rank {}", std::string(host, length), rank));
}

MpiRuntime::~MpiRuntime() {
  if (!owns_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void abort_job(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this satisfies [[noreturn]] if it ever did
}

bool started_by_mpi_launcher() {
  for (const char* v :
       {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_PROCID", "MV2_COMM_WORLD_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

MPI_Datatype mpi_type(DataType t) {
  switch (t) {
    case DataType::kFloat32:
      return MPI_FLOAT;
    case DataType::kInt32:
      return MPI_INT32_T;
    case DataType::kUInt8:
      return MPI_UINT8_T;
  }
  COBENCH_THROW("unknown data type");
}

int mpi_count(std::size_t count, const char* what) {
  if (count > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    COBENCH_THROW(fmt::format("{}: {} elements exceed MPI's int count ({}); use smaller sizes",
                              what, count, std::numeric_limits<int>::max()));
  return static_cast<int>(count);
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm) {
  COBENCH_MPI_CHECK(MPI_Comm_dup(comm, &comm_));
  COBENCH_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  COBENCH_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  COBENCH_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (comm_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm_);
}

void* MpiCommunicator::allocate(std::size_t bytes) {
  // 4 KiB alignment: whole pages, as a registered (pinned) buffer would be.
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + 4095) / 4096 * 4096;
  void* p = std::aligned_alloc(4096, rounded);
  if (p == nullptr) COBENCH_THROW(fmt::format("cannot allocate {} bytes of host memory", bytes));
  return p;
}

void MpiCommunicator::release(void* p) noexcept { std::free(p); }

void MpiCommunicator::copy_from_host(void* dst, const void* host_src, std::size_t bytes) {
  if (bytes != 0) std::memcpy(dst, host_src, bytes);
}

void MpiCommunicator::copy_to_host(void* host_dst, const void* src, std::size_t bytes) {
  if (bytes != 0) std::memcpy(host_dst, src, bytes);
}

void MpiCommunicator::all_reduce(const void* send, void* recv, std::size_t count, DataType t) {
  const void* s = send == recv ? MPI_IN_PLACE : send;
  COBENCH_MPI_CHECK(
      MPI_Allreduce(s, recv, mpi_count(count, "all_reduce"), mpi_type(t), MPI_SUM, comm_));
}

void MpiCommunicator::all_gather(const void* send, void* recv, std::size_t count, DataType t) {
  const int n = mpi_count(count, "all_gather");
  const bool in_place = send == static_cast<const std::byte*>(recv) + rank_ * count * size_of(t);
  COBENCH_MPI_CHECK(
      MPI_Allgather(in_place ? MPI_IN_PLACE : send, n, mpi_type(t), recv, n, mpi_type(t), comm_));
}

void MpiCommunicator::reduce_scatter(const void* send, void* recv, std::size_t count, DataType t) {
  const int n = mpi_count(count, "reduce_scatter");
  const std::size_t chunk = count * size_of(t);
  if (recv == static_cast<const std::byte*>(send) + rank_ * chunk && count != 0) {
    // NCCL's in-place form: MPI leaves the result at the start of the buffer; move it into place.
    auto* buf = const_cast<std::byte*>(static_cast<const std::byte*>(send));
    COBENCH_MPI_CHECK(MPI_Reduce_scatter_block(MPI_IN_PLACE, buf, n, mpi_type(t), MPI_SUM, comm_));
    if (rank_ != 0) std::memmove(recv, buf, chunk);
    return;
  }
  COBENCH_MPI_CHECK(MPI_Reduce_scatter_block(send, recv, n, mpi_type(t), MPI_SUM, comm_));
}

void MpiCommunicator::all_to_all(const void* send, void* recv, std::size_t count, DataType t) {
  COBENCH_CHECK(send != recv, "all_to_all is out of place only (as in NCCL)");
  const int n = mpi_count(count, "all_to_all");
  COBENCH_MPI_CHECK(MPI_Alltoall(send, n, mpi_type(t), recv, n, mpi_type(t), comm_));
}

void MpiCommunicator::all_to_allv(const void* send, const std::vector<std::size_t>& send_counts,
                                  const std::vector<std::size_t>& send_displs, void* recv,
                                  const std::vector<std::size_t>& recv_counts,
                                  const std::vector<std::size_t>& recv_displs, DataType t) {
  const auto p = static_cast<std::size_t>(size_);
  COBENCH_CHECK(send_counts.size() == p && send_displs.size() == p && recv_counts.size() == p &&
                    recv_displs.size() == p,
                fmt::format("all_to_allv needs {} counts and displacements per side", p));
  std::vector<int> sc(p), sd(p), rc(p), rd(p);
  for (std::size_t i = 0; i < p; ++i) {
    sc[i] = mpi_count(send_counts[i], "all_to_allv send count");
    sd[i] = mpi_count(send_displs[i], "all_to_allv send displacement");
    rc[i] = mpi_count(recv_counts[i], "all_to_allv receive count");
    rd[i] = mpi_count(recv_displs[i], "all_to_allv receive displacement");
  }
  COBENCH_MPI_CHECK(MPI_Alltoallv(send, sc.data(), sd.data(), mpi_type(t), recv, rc.data(),
                                  rd.data(), mpi_type(t), comm_));
}

void MpiCommunicator::send_recv(const void* send, int send_peer, void* recv, int recv_peer,
                                std::size_t count, DataType t) {
  const int n = mpi_count(count, "send_recv");
  COBENCH_MPI_CHECK(MPI_Sendrecv(send, n, mpi_type(t), send_peer, 0, recv, n, mpi_type(t),
                                 recv_peer, 0, comm_, MPI_STATUS_IGNORE));
}

void MpiCommunicator::broadcast(const void* send, void* recv, std::size_t count, DataType t,
                                int root) {
  const int n = mpi_count(count, "broadcast");
  // NCCL's out-of-place form fills the root's receive buffer too: copy it there, then send it.
  if (rank_ == root && send != recv && count != 0) std::memcpy(recv, send, count * size_of(t));
  COBENCH_MPI_CHECK(MPI_Bcast(recv, n, mpi_type(t), root, comm_));
}

void MpiCommunicator::reduce(const void* send, void* recv, std::size_t count, DataType t,
                             int root) {
  const int n = mpi_count(count, "reduce");
  // In place (send == recv) is MPI_IN_PLACE on the root; elsewhere the buffer is only read, and
  // no receive buffer is passed (MPI ignores it there; it would alias the send buffer).
  const bool is_root = rank_ == root;
  const void* s = is_root && send == recv ? MPI_IN_PLACE : send;
  COBENCH_MPI_CHECK(MPI_Reduce(s, is_root ? recv : nullptr, n, mpi_type(t), MPI_SUM, root, comm_));
}

void MpiCommunicator::barrier() { COBENCH_MPI_CHECK(MPI_Barrier(comm_)); }

double MpiCommunicator::max_over_ranks(double v) {
  double out = 0;
  COBENCH_MPI_CHECK(MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, comm_));
  return out;
}

std::int64_t MpiCommunicator::sum_over_ranks(std::int64_t v) {
  std::int64_t out = 0;
  COBENCH_MPI_CHECK(MPI_Allreduce(&v, &out, 1, MPI_INT64_T, MPI_SUM, comm_));
  return out;
}

std::vector<double> MpiCommunicator::max_over_ranks(const std::vector<double>& v) {
  std::vector<double> out(v.size());
  COBENCH_MPI_CHECK(MPI_Allreduce(v.data(), out.data(), mpi_count(v.size(), "max_over_ranks"),
                                  MPI_DOUBLE, MPI_MAX, comm_));
  return out;
}

std::vector<std::int64_t> MpiCommunicator::all_gather_values(std::int64_t v) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(size_));
  COBENCH_MPI_CHECK(MPI_Allgather(&v, 1, MPI_INT64_T, out.data(), 1, MPI_INT64_T, comm_));
  return out;
}

std::vector<std::string> MpiCommunicator::all_gather_strings(const std::string& s) {
  const auto lengths = all_gather_values(static_cast<std::int64_t>(s.size()));
  std::vector<int> counts(lengths.size()), displs(lengths.size());
  int total = 0;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    counts[i] = static_cast<int>(lengths[i]);
    displs[i] = total;
    total += counts[i];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  COBENCH_MPI_CHECK(MPI_Allgatherv(s.data(), static_cast<int>(s.size()), MPI_CHAR, all.data(),
                                   counts.data(), displs.data(), MPI_CHAR, comm_));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < lengths.size(); ++i)
    out.push_back(all.substr(static_cast<std::size_t>(displs[i]), lengths[i]));
  return out;
}

std::unique_ptr<Communicator> MpiCommunicator::split(int color, int key) {
  MPI_Comm sub = MPI_COMM_NULL;
  COBENCH_MPI_CHECK(MPI_Comm_split(comm_, color, key, &sub));
  auto out = std::make_unique<MpiCommunicator>(sub);
  COBENCH_MPI_CHECK(MPI_Comm_free(&sub));
  return out;
}

}  // namespace cobench::coll
