// SPDX-License-Identifier: Apache-2.0
// reduce_scatter: recv[i] = sum over ranks of send[rank * count + i], `count` elements per rank;
// in place with recv == send + rank * count. S = the send buffer (n * count), busbw factor
// (n - 1) / n.
#include "collectives/ops/collective_op.h"
#include "collectives/pattern.h"

namespace cobench::coll {
namespace {

double factor(int ranks) { return static_cast<double>(ranks - 1) / ranks; }

CollectiveCounts counts(std::size_t count, std::size_t type_size, int ranks) {
  const auto n = static_cast<std::size_t>(ranks);
  CollectiveCounts k;
  k.param = k.recv = count / n;
  k.send = k.param * n;
  k.bytes = k.send * type_size;
  return k;
}

std::vector<double> expected(std::size_t count, std::uint64_t seed, int rank, int ranks) {
  std::vector<double> out(count, 0);
  for (int r = 0; r < ranks; ++r)
    for (std::size_t i = 0; i < count; ++i)
      out[i] += pattern_value(seed, r, static_cast<std::size_t>(rank) * count + i);
  return out;
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.reduce_scatter(send, recv, count, t);
}

}  // namespace

const CollectiveOp kReduceScatterOp{
    "reduce_scatter",      // name
    true,                  // in the default sweep
    InPlace::kRecvAtRank,  // in place
    factor,
    counts,
    expected,
    call,
};

}  // namespace cobench::coll
