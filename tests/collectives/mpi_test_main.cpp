// SPDX-License-Identifier: Apache-2.0
// main() of the GoogleTest binaries run under mpirun: MPI is initialized once, every rank runs
// every test (tests call collectives, so all ranks must take the same path: tests use EXPECT,
// and agree on results over the ranks before asserting), and only rank 0 prints the full report;
// other ranks print their failures with the rank. mpirun's exit status is non-zero if any rank's
// is.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>

#include "collectives/mpi_communicator.h"

namespace {
class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& r) override {
    if (r.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_,
                   r.file_name() != nullptr ? r.file_name() : "?", r.line_number(), r.summary());
  }

 private:
  int rank_;
};
}  // namespace

int main(int argc, char** argv) {
  cobench::coll::MpiRuntime mpi(&argc, &argv);
  testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(rank));
  }
  return RUN_ALL_TESTS();
}
