// SPDX-License-Identifier: Apache-2.0
// Bytes of one token copy in an expert-parallel dispatch and combine, as DeepEP sends them and
// DeepSeek-V3 counts them: FP8 (E4M3) values with one FP32 scale per 128 of them (a partial
// block counts whole), and BF16 for the combine. The EP benchmark (collectives/ep) and the
// model (topologies) both count with these.
#pragma once

#include <cmath>
#include <string>
#include <string_view>

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

/// A format a token copy can travel in: the bits of each value and the metadata of each tile of
/// 128 values (an FP32 scale for the scaled minifloats, LogFMT's two FP32 min and step).
struct EpWireFormat {
  const char* name;  ///< "bf16", "e4m3", "e5m2", "e5m6", "logfmt8", "logfmt10"
  const char* form;  ///< for reports: "BF16", "LogFMT-10 (10 bits + 8 B a 128)", ...
  double bits;
  double tile_bytes;
};
inline constexpr EpWireFormat kEpWireFormats[] = {
    {"bf16", "BF16", 16, 0},
    {"e4m3", "FP8 E4M3 + an FP32 scale a 128", 8, 4},
    {"e5m2", "FP8 E5M2 + an FP32 scale a 128", 8, 4},
    {"e5m6", "E5M6 (12 bits) + an FP32 scale a 128", 12, 4},
    {"logfmt8", "LogFMT-8 (8 bits + 8 B a 128)", 8, 8},
    {"logfmt10", "LogFMT-10 (10 bits + 8 B a 128)", 10, 8}};

/// The format of that name; nullptr when there is none.
inline const EpWireFormat* find_ep_wire_format(std::string_view name) {
  for (const EpWireFormat& f : kEpWireFormats)
    if (name == f.name) return &f;
  return nullptr;
}

/// "bf16, e4m3, e5m2, e5m6, logfmt8, logfmt10": for error messages.
inline std::string ep_wire_format_names() {
  std::string out;
  for (const EpWireFormat& f : kEpWireFormats)
    out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out;
}

/// One token copy of `hidden` values in format `f`: the packed codes and the tiles' metadata
/// (BF16 14336 B, E4M3 7392, LogFMT-10 9408 at 7168).
inline double ep_payload_bytes(const EpWireFormat& f, double hidden) {
  return std::ceil(hidden * f.bits / 8) + f.tile_bytes * std::ceil(hidden / kEpScaleBlock);
}

}  // namespace cobench
