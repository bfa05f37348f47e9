// SPDX-License-Identifier: Apache-2.0
// reduce_scatter: recv[i] = sum over ranks of send[rank * count + i], `count` elements per rank;
// in place with recv == send + rank * count. S = the send buffer (n * count), busbw factor
// (n - 1) / n.
#include "collectives/ops/collective_op.h"
#include "collectives/ops/op_parts.h"

namespace cobench::coll {
namespace {

std::vector<double> expected(std::size_t count, std::uint64_t seed, int rank, int ranks) {
  return op_parts::summed(count, seed, ranks, static_cast<std::size_t>(rank) * count);
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.reduce_scatter(send, recv, count, t);
}

}  // namespace

const CollectiveOp kReduceScatterOp{
    "reduce_scatter", true, InPlace::kRecvAtRank, op_parts::factor_ring, op_parts::counts_scattered,
    expected,         call};

}  // namespace cobench::coll
