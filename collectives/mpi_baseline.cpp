// SPDX-License-Identifier: Apache-2.0
#include "collectives/mpi_baseline.h"

#include <chrono>

#include "collectives/mpi_communicator.h"
#include "core/mpi_check.h"

namespace cobench::coll {

std::vector<double> time_plain_mpi_alltoall(MPI_Comm comm, std::size_t count, int warmup, int iters,
                                            int repetitions) {
  int ranks = 1;
  COBENCH_MPI_CHECK(MPI_Comm_size(comm, &ranks));
  const int n = mpi_count(count, "plain MPI_Alltoall");
  std::vector<float> send(count * static_cast<std::size_t>(ranks), 1.0f), recv(send.size());
  for (int i = 0; i < warmup; ++i)
    COBENCH_MPI_CHECK(MPI_Alltoall(send.data(), n, MPI_FLOAT, recv.data(), n, MPI_FLOAT, comm));
  std::vector<double> per_call, out(static_cast<std::size_t>(repetitions));
  for (int rep = 0; rep < repetitions; ++rep) {
    COBENCH_MPI_CHECK(MPI_Barrier(comm));
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i)
      COBENCH_MPI_CHECK(MPI_Alltoall(send.data(), n, MPI_FLOAT, recv.data(), n, MPI_FLOAT, comm));
    const auto t1 = std::chrono::steady_clock::now();
    per_call.push_back(std::chrono::duration<double>(t1 - t0).count() / iters);
  }
  COBENCH_MPI_CHECK(
      MPI_Allreduce(per_call.data(), out.data(), repetitions, MPI_DOUBLE, MPI_MAX, comm));
  return out;
}

}  // namespace cobench::coll
