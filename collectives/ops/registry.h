// SPDX-License-Identifier: Apache-2.0
// The one list of collectives: a line X(Name) registers Collective::kName, whose descriptor
// kNameOp (collectives/ops/collective_op.h) is defined in its own file (X(AllReduce): kAllReduceOp
// in collectives/ops/all_reduce.cpp).
// The enum, kAllCollectives and the descriptor table are all expanded from this list, so they
// cannot disagree; its order is the order of a sweep and of the names in error messages.
#pragma once

#define COBENCH_COLLECTIVES(X) \
  X(AllReduce)                 \
  X(AllGather)                 \
  X(ReduceScatter)             \
  X(AllToAll)                  \
  X(SendRecv)                  \
  X(Broadcast)                 \
  X(Reduce)
