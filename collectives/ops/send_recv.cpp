// SPDX-License-Identifier: Apache-2.0
// send_recv: a ring, each rank sending `count` elements to rank + 1 while receiving as many from
// rank - 1; out of place only. S = the bytes each rank sends, busbw factor 1.
#include "collectives/ops/collective_op.h"
#include "collectives/pattern.h"

namespace cobench::coll {
namespace {

double factor(int /*ranks*/) { return 1; }

CollectiveCounts counts(std::size_t count, std::size_t type_size, int /*ranks*/) {
  CollectiveCounts k;
  k.send = k.recv = k.param = count;
  k.bytes = count * type_size;
  return k;
}

std::vector<double> expected(std::size_t count, std::uint64_t seed, int rank, int ranks) {
  const int from = (rank - 1 + ranks) % ranks;
  std::vector<double> out(count);
  for (std::size_t i = 0; i < count; ++i) out[i] = pattern_value(seed, from, i);
  return out;
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  const int n = comm.size();
  comm.send_recv(send, (comm.rank() + 1) % n, recv, (comm.rank() - 1 + n) % n, count, t);
}

}  // namespace

const CollectiveOp kSendRecvOp{
    "send_recv",     // name
    true,            // in the default sweep
    InPlace::kNone,  // in place
    factor,         counts, expected, call,
};

}  // namespace cobench::coll
