// SPDX-License-Identifier: Apache-2.0
// all_reduce: recv[i] = sum over ranks of send[i], `count` elements on every rank; in place with
// send == recv. S = the buffer, busbw factor 2 (n - 1) / n.
#include "collectives/ops/collective_op.h"
#include "collectives/pattern.h"

namespace cobench::coll {
namespace {

double factor(int ranks) { return 2.0 * (ranks - 1) / ranks; }

CollectiveCounts counts(std::size_t count, std::size_t type_size, int /*ranks*/) {
  CollectiveCounts k;
  k.send = k.recv = k.param = count;
  k.bytes = count * type_size;
  return k;
}

std::vector<double> expected(std::size_t count, std::uint64_t seed, int /*rank*/, int ranks) {
  std::vector<double> out(count, 0);
  for (int r = 0; r < ranks; ++r)
    for (std::size_t i = 0; i < count; ++i) out[i] += pattern_value(seed, r, i);
  return out;
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.all_reduce(send, recv, count, t);
}

}  // namespace

const CollectiveOp kAllReduceOp{
    "all_reduce",          // name
    true,                  // in the default sweep
    InPlace::kSameBuffer,  // in place
    factor,
    counts,
    expected,
    call,
};

}  // namespace cobench::coll
