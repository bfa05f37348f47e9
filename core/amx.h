// SPDX-License-Identifier: Apache-2.0
// Whether this process may run AMX-BF16 tile instructions: the CPU has AMX-TILE and AMX-BF16
// (with AVX-512F, BW and BF16, which the AMX kernels use around the tiles), and Linux grants the
// process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM for XTILEDATA, asked once: a kernel
// without AMX support, or a CPU without it, refuses). Only then may a thread load a tile
// configuration.
#pragma once

namespace cobench {

/// True where AMX-BF16 tiles may run in this process; asks the OS on the first call.
bool amx_bf16_usable();

}  // namespace cobench
