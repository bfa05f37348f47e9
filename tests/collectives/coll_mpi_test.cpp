// SPDX-License-Identifier: Apache-2.0
// The MPI backend and the collective harness under mpirun (2, 4 and 8 ranks in ctest): every
// collective (broadcast and reduce included) verifies at sizes including 0 and odd ones, in and
// out of place, and a corrupted element is caught (for reduce, on the root only).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "collectives/coll_bench.h"
#include "collectives/mpi_communicator.h"
#include "collectives/node_layout.h"
#include "tests/collectives/forwarding_communicator.h"

namespace cobench::coll {
namespace {

TEST(MpiCollectives, EveryCollectiveVerifiesAtOddAndZeroSizes) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  for (DataType t : {DataType::kFloat32, DataType::kInt32}) {
    CollBenchOptions opt;
    opt.sizes = {0, 4, 12, 100, 4096, 65540, (1u << 20) + 12};
    opt.type = t;
    opt.warmup = 1;
    opt.iters = 2;
    opt.repetitions = 2;
    const auto rows = run_collectives(comm, opt);
    // 5 collectives out of place, 3 in place, 7 sizes each.
    EXPECT_EQ(rows.size(), 8u * 7u);
    for (const auto& r : rows) {
      EXPECT_EQ(r.wrong, 0) << to_string(r.op) << " " << r.counts.bytes << " B "
                            << (r.in_place ? "in place" : "out of place") << ": " << r.detail;
      EXPECT_EQ(r.time_s.size(), 2u);
      EXPECT_EQ(r.ranks, comm.size());
    }
  }
}

// Changes one received element on the last rank after all_reduce.
class CorruptingCommunicator final : public test::ForwardingCommunicator {
 public:
  using ForwardingCommunicator::ForwardingCommunicator;
  void all_reduce(const void* s, void* r, std::size_t n, DataType t) override {
    in_.all_reduce(s, r, n, t);
    if (rank() == size() - 1 && n > 3) static_cast<float*>(r)[3] += 1;
  }
};

TEST(MpiCollectives, VerificationCatchesOneCorruptedElementAndSkipsTiming) {
  MpiCommunicator mpi(MPI_COMM_WORLD);
  CorruptingCommunicator comm(mpi);
  CollBenchOptions opt;
  opt.ops = {Collective::kAllReduce};
  opt.sizes = {64};
  opt.in_place = false;
  const auto rows = run_collectives(comm, opt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].wrong, 1);  // summed over the ranks: one element on the last rank
  EXPECT_FALSE(rows[0].passed());
  EXPECT_TRUE(rows[0].time_s.empty());
  if (comm.rank() == comm.size() - 1)
    EXPECT_NE(rows[0].detail.find("first at index 3"), std::string::npos) << rows[0].detail;
  else
    EXPECT_EQ(rows[0].detail, "this rank's elements match; another rank's differ");
}

// The collectives that run only when named (broadcast and reduce), in both types and placements;
// EveryCollectiveVerifiesAtOddAndZeroSizes covers the default sweep.
TEST(MpiCollectives, EveryNamedOnlyCollectiveVerifiesAtOddAndZeroSizes) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const auto defaults = default_collectives();
  for (DataType t : {DataType::kFloat32, DataType::kInt32}) {
    CollBenchOptions opt;
    opt.ops.clear();
    std::size_t placements = 0;
    for (Collective c : kAllCollectives)
      if (std::find(defaults.begin(), defaults.end(), c) == defaults.end()) {
        opt.ops.push_back(c);
        placements += has_in_place(c) ? 2 : 1;
      }
    ASSERT_FALSE(opt.ops.empty());  // broadcast and reduce (CollectiveOps tests the default list)
    opt.sizes = {0, 4, 12, 100, 4096, 65540, (1u << 20) + 12};
    opt.type = t;
    opt.warmup = 1;
    opt.iters = 2;
    opt.repetitions = 2;
    const auto rows = run_collectives(comm, opt);
    ASSERT_EQ(rows.size(), placements * opt.sizes.size());
    for (const auto& r : rows) {
      EXPECT_EQ(r.wrong, 0) << to_string(r.op) << " " << r.counts.bytes << " B "
                            << (r.in_place ? "in place" : "out of place") << ": " << r.detail;
      EXPECT_EQ(r.time_s.size(), 2u);
      EXPECT_DOUBLE_EQ(r.bandwidth.bus_bytes_per_s,
                       r.bandwidth.alg_bytes_per_s * bus_factor(r.op, comm.size()));
    }
  }
}

TEST(MpiCommunicator, BroadcastAndReduceFromTheLastRankInAndOutOfPlace) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const int n = comm.size(), me = comm.rank(), root = n - 1;
  auto value = [](int rank, int i) { return 100 * rank + i; };
  std::vector<std::int32_t> send(5), recv(5, -1);
  for (int i = 0; i < 5; ++i) send[i] = value(me, i);
  std::int64_t wrong = 0;
  comm.broadcast(send.data(), recv.data(), 5, DataType::kInt32, root);
  for (int i = 0; i < 5; ++i) wrong += recv[i] != value(root, i);
  comm.broadcast(send.data(), send.data(), 5, DataType::kInt32, root);  // in place
  for (int i = 0; i < 5; ++i) wrong += send[i] != value(root, i);
  // reduce: sum over ranks of 100 r + i = 100 n (n - 1) / 2 + n i, on the root only.
  for (int i = 0; i < 5; ++i) send[i] = value(me, i);
  comm.reduce(send.data(), recv.data(), 5, DataType::kInt32, root);
  if (me == root)
    for (int i = 0; i < 5; ++i) wrong += recv[i] != 50 * n * (n - 1) + n * i;
  comm.reduce(send.data(), send.data(), 5, DataType::kInt32, root);  // in place
  for (int i = 0; i < 5; ++i)
    wrong += send[i] != (me == root ? 50 * n * (n - 1) + n * i : value(me, i));
  EXPECT_EQ(comm.sum_over_ranks(wrong), 0);
}

// Changes one received element on `victim` after reduce (root 0).
class ReduceCorrupter final : public test::ForwardingCommunicator {
 public:
  ReduceCorrupter(Communicator& inner, int victim)
      : ForwardingCommunicator(inner), victim_(victim) {}
  void reduce(const void* s, void* r, std::size_t n, DataType t, int root) override {
    in_.reduce(s, r, n, t, root);
    if (rank() == victim_ && n > 3) static_cast<float*>(r)[3] += 1;
  }

 private:
  int victim_;
};

TEST(MpiCollectives, ReduceChecksTheRootsBufferOnly) {
  MpiCommunicator mpi(MPI_COMM_WORLD);
  CollBenchOptions opt;
  opt.ops = {Collective::kReduce};
  opt.sizes = {64};
  opt.in_place = false;
  {
    ReduceCorrupter comm(mpi, 0);  // the root's result is wrong: caught
    const auto rows = run_collectives(comm, opt);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].wrong, 1);
    EXPECT_TRUE(rows[0].time_s.empty());
  }
  {
    ReduceCorrupter comm(mpi, mpi.size() - 1);  // another rank's undefined buffer: not checked
    const auto rows = run_collectives(comm, opt);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].wrong, 0) << rows[0].detail;
    EXPECT_FALSE(rows[0].time_s.empty());
  }
}

TEST(MpiCommunicator, AllToAllvWithUnevenCountsIncludingEmpty) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const int n = comm.size(), me = comm.rank();
  // Rank r sends (r + d) % 3 int32 values to rank d, value 1000 r + 10 d + i.
  std::vector<std::size_t> sc(n), sd(n), rc(n), rd(n);
  std::size_t st = 0, rt = 0;
  for (int d = 0; d < n; ++d) {
    sc[d] = static_cast<std::size_t>((me + d) % 3);
    sd[d] = st;
    st += sc[d];
    rc[d] = static_cast<std::size_t>((d + me) % 3);
    rd[d] = rt;
    rt += rc[d];
  }
  std::vector<std::int32_t> send(st), recv(rt, -1);
  for (int d = 0; d < n; ++d)
    for (std::size_t i = 0; i < sc[d]; ++i)
      send[sd[d] + i] = static_cast<std::int32_t>(1000 * me + 10 * d + static_cast<int>(i));
  comm.all_to_allv(send.data(), sc, sd, recv.data(), rc, rd, DataType::kInt32);
  std::int64_t wrong = 0;
  for (int s = 0; s < n; ++s)
    for (std::size_t i = 0; i < rc[s]; ++i)
      wrong += recv[rd[s] + i] != 1000 * s + 10 * me + static_cast<int>(i);
  EXPECT_EQ(comm.sum_over_ranks(wrong), 0);
}

TEST(MpiCommunicator, VirtualNodesSplitIntoNodeAndRailCommunicators) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const int per_node = comm.size() % 2 == 0 ? 2 : 1;
  const NodeLayout l = discover_layout(comm, per_node);
  auto node = comm.split(l.node, l.local_rank);
  auto rail = comm.split(l.local_rank, l.node);
  EXPECT_EQ(node->size(), per_node);
  EXPECT_EQ(node->rank(), l.local_rank);
  EXPECT_EQ(rail->size(), comm.size() / per_node);
  EXPECT_EQ(rail->rank(), l.node);
  // Hosts: every rank runs on this machine here, so one real node.
  const NodeLayout by_host = discover_layout(comm, 0);
  EXPECT_EQ(by_host.num_nodes, 1);
  EXPECT_EQ(by_host.local_rank, comm.rank());
  const auto sums = node->all_gather_values(comm.rank());
  EXPECT_EQ(std::accumulate(sums.begin(), sums.end(), std::int64_t{0}),
            per_node == 2 ? 4 * l.node + 1 : comm.rank());
}

}  // namespace
}  // namespace cobench::coll
