// SPDX-License-Identifier: Apache-2.0
// all_gather: recv[r * count + i] = send of rank r [i], `count` elements per rank; in place with
// send == recv + rank * count. S = the gathered buffer (n * count), busbw factor (n - 1) / n.
#include "collectives/ops/collective_op.h"
#include "collectives/ops/op_parts.h"

namespace cobench::coll {
namespace {

std::vector<double> expected(std::size_t count, std::uint64_t seed, int /*rank*/, int ranks) {
  return op_parts::gathered(count, seed, ranks, 0);
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.all_gather(send, recv, count, t);
}

}  // namespace

const CollectiveOp kAllGatherOp{
    "all_gather", true, InPlace::kSendAtRank, op_parts::factor_ring, op_parts::counts_gathered,
    expected,     call};

}  // namespace cobench::coll
