// SPDX-License-Identifier: Apache-2.0
// all_gather: recv[r * count + i] = send of rank r [i], `count` elements per rank; in place with
// send == recv + rank * count. S = the gathered buffer (n * count), busbw factor (n - 1) / n.
#include "collectives/ops/collective_op.h"
#include "collectives/pattern.h"

namespace cobench::coll {
namespace {

double factor(int ranks) { return static_cast<double>(ranks - 1) / ranks; }

CollectiveCounts counts(std::size_t count, std::size_t type_size, int ranks) {
  const auto n = static_cast<std::size_t>(ranks);
  CollectiveCounts k;
  k.param = k.send = count / n;
  k.recv = k.param * n;
  k.bytes = k.recv * type_size;
  return k;
}

std::vector<double> expected(std::size_t count, std::uint64_t seed, int /*rank*/, int ranks) {
  std::vector<double> out(count * static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r)
    for (std::size_t i = 0; i < count; ++i)
      out[static_cast<std::size_t>(r) * count + i] = pattern_value(seed, r, i);
  return out;
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.all_gather(send, recv, count, t);
}

}  // namespace

const CollectiveOp kAllGatherOp{
    "all_gather",          // name
    true,                  // in the default sweep
    InPlace::kSendAtRank,  // in place
    factor,
    counts,
    expected,
    call,
};

}  // namespace cobench::coll
