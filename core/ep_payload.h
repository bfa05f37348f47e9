// SPDX-License-Identifier: Apache-2.0
// Bytes of one token copy in an expert-parallel dispatch and combine, as DeepEP sends them and
// DeepSeek-V3 counts them: FP8 (E4M3) values with one FP32 scale per 128 of them (a partial
// block counts whole), and BF16 for the combine. The EP benchmark (collectives/ep) and the
// model (topologies) both count with these.
#pragma once

#include <cmath>

namespace cobench {

/// Elements that share one FP32 scale in a dispatch.
inline constexpr double kEpScaleBlock = 128;

/// The FP32 scales of `hidden` FP8 values: 4 B per block of 128 (224 B at 7168).
inline double ep_dispatch_scale_bytes(double hidden) {
  return 4 * std::ceil(hidden / kEpScaleBlock);
}

/// One dispatched token copy: FP8 values and their scales (7392 B at 7168: (1 + 4/128) H).
inline double ep_dispatch_payload_bytes(double hidden) {
  return hidden + ep_dispatch_scale_bytes(hidden);
}

/// One combined token copy: BF16 (14336 B at 7168).
inline double ep_combine_payload_bytes(double hidden) { return 2 * hidden; }

}  // namespace cobench
