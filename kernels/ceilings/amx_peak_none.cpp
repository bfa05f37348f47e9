// SPDX-License-Identifier: Apache-2.0
// amx_peak_rounds where the build has no AMX (not x86-64): never called, since
// amx_bf16_usable() is false there.
#include "core/error.h"
#include "kernels/ceilings/amx_peak.h"

namespace cobench::ceilings::detail {

void amx_peak_rounds(std::int64_t, float*) { throw Error("AMX tiles are x86-64 only"); }

}  // namespace cobench::ceilings::detail
