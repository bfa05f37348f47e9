// SPDX-License-Identifier: Apache-2.0
// The expert-parallel (EP) dispatch/combine benchmark's configuration and payload sizes.
// Shapes follow DeepSeek-V3 and DeepEP's benchmarks: T tokens per rank of hidden size H; E
// routed experts spread evenly over the ranks (expert e on rank e / (E / ranks)); each token
// picks top_k experts, within at most `topk_groups` of `num_groups` expert groups (V3: 4 of 8)
// and at most `max_nodes` nodes (V3: 4); a shared expert every rank computes locally.
// Dispatch carries FP8 E4M3 activations with one FP32 scale per 128 values:
//   H + 4 H / 128 bytes per token copy (7392 B at H = 7168, DeepEP's (1 + 4/128) H);
// combine carries BF16: 2 H bytes per token copy (14336 B), or the encoded payload of
// --combine-format (ep_combine_format.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "collectives/ep/ep_combine_format.h"

namespace cobench::coll::ep {

enum class RoutingKind { kUniform, kZipf, kFile };

struct EpConfig {
  int tokens_per_rank = 128;
  int hidden = 7168;
  int num_experts = 256;
  int top_k = 8;
  int num_groups = 8;
  int topk_groups = 4;
  int max_nodes = 4;  ///< 0: no node limit
  bool shared_expert = true;
  RoutingKind routing = RoutingKind::kUniform;
  double zipf_exponent = 1.0;  ///< expert e's popularity is proportional to 1 / (e + 1)^s
  std::string routing_file;    ///< RoutingKind::kFile
  std::uint64_t seed = 1;
  /// Uneven token counts: rank r of n has T (n - 1 - r) / (n - 1) tokens (the last has none).
  bool uneven_tokens = false;
  /// The format combine's partial sums travel in (--combine-format).
  CombineFormat combine_format = CombineFormat::kBf16;
};

/// Tokens of `rank` of `ranks`.
int tokens_of(const EpConfig& c, int rank, int ranks);

/// Throws cobench::Error naming the option and what it must be, for `ranks` ranks.
void validate(const EpConfig& c, int ranks);

/// Bytes of one token's dispatch payload (FP8 + scales) and BF16 combine payload (the payload of
/// another combine format: combine_payload_bytes(format, hidden)).
std::size_t dispatch_payload_bytes(int hidden);
std::size_t combine_payload_bytes(int hidden);

/// "uniform" | "zipf" | "file".
RoutingKind parse_routing_kind(const std::string& name);
const char* to_string(RoutingKind k);

}  // namespace cobench::coll::ep
