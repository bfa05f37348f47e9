// SPDX-License-Identifier: Apache-2.0
// Token data, payload encoding and the expert transform of the EP benchmark; every rank can
// recompute any rank's tokens from (seed, rank, token).
//   dispatch payload  H E4M3 codes, then H / 128 FP32 scales (scale = amax / 448 per 128 values)
//   combine payload   H BF16 values
//   expert e          f_e(x) = c_e x, c_e = 1 + (e mod 7) / 8; the shared expert 0.5 x
// The reference output of a token is x~ (shared + sum_j w_j c_j) with x~ the dequantized FP8
// token, in FP64.
#pragma once

#include <cstddef>
#include <cstdint>

#include "collectives/ep/ep_config.h"
#include "collectives/ep/ep_routing.h"

namespace cobench::coll::ep {

inline constexpr double kSharedFactor = 0.5;
inline double expert_factor(int e) { return 1.0 + (e % 7) / 8.0; }

/// Token t of rank r: H values in [-1, 1).
void token_values(const EpConfig& c, int rank, int t, float* x);

/// FP8 payload of H values (dispatch_payload_bytes(H) bytes at `payload`).
void quantize_payload(const float* x, int hidden, std::byte* payload);
/// The H values a payload holds.
void dequantize_payload(const std::byte* payload, int hidden, float* x);

/// Dispatch payloads of `tokens` tokens of `rank`, [tokens][dispatch_payload_bytes].
std::vector<std::byte> make_payloads(const EpConfig& c, int rank, int tokens);

/// The scalar multiplying x~ in token t's output: shared (if any) + sum_j w_j c_j.
double output_factor(const EpConfig& c, const Routing& r, int t);

}  // namespace cobench::coll::ep
