// SPDX-License-Identifier: Apache-2.0
// all_to_all: recv[r * count + i] = send of rank r [rank * count + i], `count` elements per peer;
// out of place only (as in NCCL). S = each rank's send buffer (n * count), busbw factor
// (n - 1) / n.
#include "collectives/ops/collective_op.h"
#include "collectives/ops/op_parts.h"

namespace cobench::coll {
namespace {

std::vector<double> expected(std::size_t count, std::uint64_t seed, int rank, int ranks) {
  return op_parts::gathered(count, seed, ranks, static_cast<std::size_t>(rank) * count);
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.all_to_all(send, recv, count, t);
}

}  // namespace

const CollectiveOp kAllToAllOp{
    "all_to_all", true, InPlace::kNone, op_parts::factor_ring, op_parts::counts_exchanged,
    expected,     call};

}  // namespace cobench::coll
