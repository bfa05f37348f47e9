// SPDX-License-Identifier: Apache-2.0
// The descriptor table, indexed by Collective: both expand the list in registry.h.
#include "collectives/ops/registry.h"

#include <cstddef>
#include <iterator>

#include "collectives/ops/collective_op.h"
#include "core/error.h"

namespace cobench::coll {
namespace {

#define COBENCH_COLLECTIVE_OP_ADDRESS(Name) &k##Name##Op,
const CollectiveOp* const kTable[] = {COBENCH_COLLECTIVES(COBENCH_COLLECTIVE_OP_ADDRESS)};
#undef COBENCH_COLLECTIVE_OP_ADDRESS

static_assert(std::size(kTable) == std::size(kAllCollectives));

}  // namespace

const CollectiveOp& collective_op(Collective c) {
  const auto i = static_cast<std::size_t>(c);
  COBENCH_CHECK(i < std::size(kTable), "not a registered collective");
  return *kTable[i];
}

}  // namespace cobench::coll
