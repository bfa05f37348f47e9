// SPDX-License-Identifier: Apache-2.0
// reduce: the root's recv[i] = sum over ranks of send[i], `count` elements, root 0; the other
// ranks' receive buffers are undefined and not checked. In place with send == recv. S = the
// buffer, busbw factor 1 (nccl-tests). Run only when named.
#include "collectives/ops/collective_op.h"
#include "collectives/pattern.h"

namespace cobench::coll {
namespace {

constexpr int kRoot = 0;

double factor(int /*ranks*/) { return 1; }

CollectiveCounts counts(std::size_t count, std::size_t type_size, int /*ranks*/) {
  CollectiveCounts k;
  k.send = k.recv = k.param = count;
  k.bytes = count * type_size;
  return k;
}

std::vector<double> expected(std::size_t count, std::uint64_t seed, int rank, int ranks) {
  if (rank != kRoot) return {};
  std::vector<double> out(count, 0);
  for (int r = 0; r < ranks; ++r)
    for (std::size_t i = 0; i < count; ++i) out[i] += pattern_value(seed, r, i);
  return out;
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.reduce(send, recv, count, t, kRoot);
}

}  // namespace

const CollectiveOp kReduceOp{
    "reduce",              // name
    false,                 // in the default sweep
    InPlace::kSameBuffer,  // in place
    factor,
    counts,
    expected,
    call,
};

}  // namespace cobench::coll
