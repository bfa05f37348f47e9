// SPDX-License-Identifier: Apache-2.0
#include "collectives/mpi_baseline.h"

#include <algorithm>
#include <chrono>

#include "collectives/coll_bench.h"
#include "collectives/mpi_communicator.h"
#include "core/mpi_check.h"

namespace cobench::coll {

PairedTimes time_alltoall_against_plain_mpi(MPI_Comm comm, std::size_t count, int warmup, int iters,
                                            int repetitions) {
  MpiCommunicator harness(comm);
  const int n = mpi_count(count, "plain MPI_Alltoall");
  const std::size_t elements = count * static_cast<std::size_t>(harness.size());
  CommBuffer send_buf(harness, elements * sizeof(float)),
      recv_buf(harness, elements * sizeof(float));
  auto* send = static_cast<float*>(send_buf.get());
  auto* recv = static_cast<float*>(recv_buf.get());
  std::fill(send, send + elements, 1.0f);
  std::fill(recv, recv + elements, 0.0f);
  auto plain = [&] {
    COBENCH_MPI_CHECK(MPI_Alltoall(send, n, MPI_FLOAT, recv, n, MPI_FLOAT, harness.handle()));
  };
  auto through = [&] {
    call_collective(harness, Collective::kAllToAll, send, recv, count, DataType::kFloat32);
  };
  auto time = [&](auto&& call) {
    harness.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) call();
    const auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double>(t1 - t0).count() / iters;
  };
  for (int i = 0; i < warmup; ++i) {
    plain();
    through();
  }
  PairedTimes t;
  for (int rep = 0; rep < repetitions; ++rep) {
    t.harness_s.push_back(time(through));
    t.plain_s.push_back(time(plain));
  }
  t.harness_s = harness.max_over_ranks(t.harness_s);
  t.plain_s = harness.max_over_ranks(t.plain_s);
  return t;
}

}  // namespace cobench::coll
