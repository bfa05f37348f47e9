// SPDX-License-Identifier: Apache-2.0
// send_recv: a ring, each rank sending `count` elements to rank + 1 while receiving as many from
// rank - 1; out of place only. S = the bytes each rank sends, busbw factor 1.
#include "collectives/ops/collective_op.h"
#include "collectives/ops/op_parts.h"

namespace cobench::coll {
namespace {

std::vector<double> expected(std::size_t count, std::uint64_t seed, int rank, int ranks) {
  return op_parts::copied(count, seed, (rank - 1 + ranks) % ranks);
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  const int n = comm.size();
  comm.send_recv(send, (comm.rank() + 1) % n, recv, (comm.rank() - 1 + n) % n, count, t);
}

}  // namespace

const CollectiveOp kSendRecvOp{
    "send_recv", true, InPlace::kNone, op_parts::factor_one, op_parts::counts_whole,
    expected,    call};

}  // namespace cobench::coll
