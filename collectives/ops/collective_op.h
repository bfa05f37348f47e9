// SPDX-License-Identifier: Apache-2.0
// A collective's descriptor: everything the harness, the bandwidth formulas and the verification
// need to know about one collective, as nccl-tests keeps a collective in one file (its struct
// testColl). Each collective defines its descriptor in collectives/ops/<name>.cpp and is listed
// once in collectives/ops/registry.h; the rest of cobench reaches it through collective_op(c).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "collectives/bandwidth.h"
#include "collectives/communicator.h"
#include "collectives/ops/registry.h"

namespace cobench::coll {

/// Where the send and receive pointers of an in-place call lie in its one buffer (NCCL's forms).
enum class InPlace {
  kNone,        ///< out of place only
  kSameBuffer,  ///< send == recv
  kSendAtRank,  ///< send == recv + rank * count: this rank's block of the output (all_gather)
  kRecvAtRank,  ///< recv == send + rank * count: this rank's block of the input (reduce_scatter)
};

struct CollectiveOp {
  /// The name on the command line, in tables and in results files ("all_reduce").
  std::string_view name;
  /// Whether a sweep that names no collectives runs it.
  bool in_default_sweep;
  /// The in-place form, kNone where there is none.
  InPlace in_place;
  /// nccl-tests' busbw / algbw for `ranks` (>= 1) ranks.
  double (*bus_factor)(int ranks);
  /// The counts of one call for `count` = requested bytes / type size elements, rounded down to
  /// what the ranks split evenly; `bytes` is S, the size algbw divides.
  CollectiveCounts (*counts)(std::size_t count, std::size_t type_size, int ranks);
  /// What `rank` of `ranks` must find in its receive buffer after one call on the verification
  /// pattern (collectives/pattern.h), `count` being the call's count; empty where the rank's
  /// receive buffer is undefined (reduce off the root).
  std::vector<double> (*expected)(std::size_t count, std::uint64_t seed, int rank, int ranks);
  /// One call on prepared buffers.
  void (*call)(Communicator& comm, const void* send, void* recv, std::size_t count, DataType t);
};

/// The descriptors, one per line of registry.h, each defined in its own file.
#define COBENCH_DECLARE_COLLECTIVE_OP(Name) extern const CollectiveOp k##Name##Op;
COBENCH_COLLECTIVES(COBENCH_DECLARE_COLLECTIVE_OP)
#undef COBENCH_DECLARE_COLLECTIVE_OP

/// The descriptor of `c`.
const CollectiveOp& collective_op(Collective c);

}  // namespace cobench::coll
