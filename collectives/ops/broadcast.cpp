// SPDX-License-Identifier: Apache-2.0
// broadcast: every rank's recv[i] = send of the root [i], `count` elements, root 0; in place with
// send == recv. S = the buffer, busbw factor 1 (nccl-tests). Run only when named.
#include "collectives/ops/collective_op.h"
#include "collectives/ops/op_parts.h"

namespace cobench::coll {
namespace {

constexpr int kRoot = 0;

std::vector<double> expected(std::size_t count, std::uint64_t seed, int /*rank*/, int /*ranks*/) {
  return op_parts::copied(count, seed, kRoot);
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.broadcast(send, recv, count, t, kRoot);
}

}  // namespace

const CollectiveOp kBroadcastOp{
    "broadcast", false, InPlace::kSameBuffer, op_parts::factor_one, op_parts::counts_whole,
    expected,    call};

}  // namespace cobench::coll
