// SPDX-License-Identifier: Apache-2.0
// all_reduce: recv[i] = sum over ranks of send[i], `count` elements on every rank; in place with
// send == recv. S = the buffer, busbw factor 2 (n - 1) / n.
#include "collectives/ops/collective_op.h"
#include "collectives/ops/op_parts.h"

namespace cobench::coll {
namespace {

std::vector<double> expected(std::size_t count, std::uint64_t seed, int /*rank*/, int ranks) {
  return op_parts::summed(count, seed, ranks, 0);
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.all_reduce(send, recv, count, t);
}

}  // namespace

const CollectiveOp kAllReduceOp{
    "all_reduce", true, InPlace::kSameBuffer, op_parts::factor_all_reduce, op_parts::counts_whole,
    expected,     call};

}  // namespace cobench::coll
