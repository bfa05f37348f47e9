// SPDX-License-Identifier: Apache-2.0
// all_to_all: recv[r * count + i] = send of rank r [rank * count + i], `count` elements per peer;
// out of place only (as in NCCL). S = each rank's send buffer (n * count), busbw factor
// (n - 1) / n.
#include "collectives/ops/collective_op.h"
#include "collectives/pattern.h"

namespace cobench::coll {
namespace {

double factor(int ranks) { return static_cast<double>(ranks - 1) / ranks; }

CollectiveCounts counts(std::size_t count, std::size_t type_size, int ranks) {
  const auto n = static_cast<std::size_t>(ranks);
  CollectiveCounts k;
  k.param = count / n;
  k.send = k.recv = k.param * n;
  k.bytes = k.send * type_size;
  return k;
}

std::vector<double> expected(std::size_t count, std::uint64_t seed, int rank, int ranks) {
  std::vector<double> out(count * static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r)
    for (std::size_t i = 0; i < count; ++i)
      out[static_cast<std::size_t>(r) * count + i] =
          pattern_value(seed, r, static_cast<std::size_t>(rank) * count + i);
  return out;
}

void call(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t) {
  comm.all_to_all(send, recv, count, t);
}

}  // namespace

const CollectiveOp kAllToAllOp{
    "all_to_all",    // name
    true,            // in the default sweep
    InPlace::kNone,  // in place
    factor,         counts, expected, call,
};

}  // namespace cobench::coll
