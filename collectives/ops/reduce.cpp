// SPDX-License-Identifier: Apache-2.0
// reduce: the root's recv[i] = sum over ranks of send[i], `count` elements, root 0; the other
// ranks' receive buffers are undefined and not checked. In place with send == recv. S = the
// buffer, busbw factor 1 (nccl-tests). Run only when named.
#include "collectives/ops/collective_op.h"
#include "collectives/ops/op_parts.h"

namespace cobench::coll {
namespace {

constexpr int kRoot = 0;

std::vector<double> expected(std::size_t count, std::uint64_t seed, int rank, int ranks) {
  if (rank != kRoot) return {};
  return op_parts::summed(count, seed, ranks, 0);
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.reduce(send, recv, count, t, kRoot);
}

}  // namespace

const CollectiveOp kReduceOp{
    "reduce", false, InPlace::kSameBuffer, op_parts::factor_one, op_parts::counts_whole,
    expected, call};

}  // namespace cobench::coll
