// SPDX-License-Identifier: Apache-2.0
// KV reload against recompute (docs/model.md, "KV reload against recompute"): for a prefix of N
// tokens whose KV cache was evicted from HBM, the time to load it back from host memory (over
// PCIe) or from storage against the time to recompute it by a prefill, and the break-even length.
//
// Per GPU: a GPU reloads the KV of the sequences it serves over its own PCIe link, or recomputes
// it at its own peak x MFU; with tensor parallelism both sides divide by the TP degree, so the
// comparison does not depend on it.
//   reload_s(N)    = latency_s + N x kv_bytes_per_token / bandwidth      (a line)
//   recompute_s(N) = N x 2 x active non-embedding params / (FP8 peak x MFU)
//                  + N x causal attention FLOPs per token at N / (BF16 peak x MFU)
//                  = a N + c N^2
// Reload is cheaper where recompute_s(N) > reload_s(N): c N^2 + (a - r) N - latency_s > 0.
#pragma once

#include <string_view>
#include <vector>

#include "core/units.h"
#include "topologies/cluster.h"
#include "topologies/model_arch.h"

namespace cobench::topo {

/// How the KV cache is stored: BF16 elements, or FP8 as FlashMLA lays it out for MLA (512 e4m3
/// latent values, 4 FP32 scales, the 64-dim RoPE key in BF16: 656 B a layer); FP8 GQA caches
/// take 1 byte an element (per-tensor scales, not counted).
enum class KvCacheFormat { kBf16, kFp8 };
std::string_view to_string(KvCacheFormat f);

/// KV bytes one token adds over all layers in `format`.
Bytes kv_cache_bytes_per_token(const ModelArch& m, KvCacheFormat format);

/// The time to reload a prefix: a fixed latency plus bytes over a bandwidth.
struct ReloadLine {
  double latency_s = 0;
  double s_per_token = 0;  ///< kv bytes per token / bandwidth
  double seconds(double tokens) const { return latency_s + s_per_token * tokens; }
};
/// Throws when `bandwidth` is not positive or `latency` is negative.
ReloadLine reload_line(Bytes kv_bytes_per_token, Bandwidth bandwidth, Seconds latency);

/// The time to recompute a prefix by prefill: a linear (weights) and a quadratic (causal
/// attention) term.
struct RecomputeCurve {
  double s_per_token = 0;          ///< a: 2 x active non-embedding params / (FP8 peak x MFU)
  double s_per_token_squared = 0;  ///< c: causal attention FLOPs / N^2 / (BF16 peak x MFU)
  double seconds(double tokens) const {
    return (s_per_token + s_per_token_squared * tokens) * tokens;
  }
};
/// Prefill FLOPs of a prefix of `tokens`: linear (2 x active non-embedding params a token) plus
/// causal attention (the model's attention_flops_forward at the mean context N / 2, a token).
double prefill_flops(const ModelArch& m, double tokens);
/// Throws when the GPU has no peak FLOP/s or `mfu` is outside (0, 1].
RecomputeCurve recompute_curve(const ModelArch& m, const GpuSpec& g, double mfu);

enum class BreakEvenKind {
  kAlwaysReload,       ///< reload is faster for every N > 0 (N* = 0)
  kReloadAbove,        ///< recompute is faster below N*, reload above
  kNeverReload,        ///< recompute is faster for every N (no attention term and a >= r)
  kReloadBeyondRange,  ///< N* exists but lies beyond the range considered
};
std::string_view to_string(BreakEvenKind k);

struct BreakEven {
  BreakEvenKind kind = BreakEvenKind::kAlwaysReload;
  double tokens = 0;  ///< N*; 0 for kAlwaysReload, infinity for kNeverReload
};
/// Solves recompute_s(N) = reload_s(N) for N > 0 in closed form; `range_tokens` bounds the
/// prefixes considered (N* beyond it is kReloadBeyondRange).
BreakEven break_even(const RecomputeCurve& recompute, const ReloadLine& reload,
                     double range_tokens);

/// What the tiers are and what they assume (docs/model.md).
struct KvReloadSetting {
  KvCacheFormat format = KvCacheFormat::kBf16;
  double prefill_mfu = 0.4;         ///< of the dense FP8 (linear) and BF16 (attention) peaks
  Seconds host_latency{10e-6};      ///< a pinned host-to-device copy's fixed cost
  Seconds storage_latency{100e-6};  ///< an NVMe / RDMA storage read's fixed cost
  double range_tokens = 131072;     ///< longest prefix considered
};

/// One reload tier of a cluster: its effective per-GPU bandwidth, or why it is missing.
struct ReloadTier {
  std::string name;     ///< "host" or "storage"
  std::string path;     ///< how the bytes travel, for people
  Bandwidth bandwidth;  ///< per GPU, effective
  Seconds latency;
  std::string missing;  ///< non-empty: the cluster fields that are not given
};
/// host: the GPU's PCIe bandwidth. storage: the node's storage read bandwidth shared evenly by
/// its GPUs (all reload at once), capped by the GPU's PCIe link when that is given.
std::vector<ReloadTier> reload_tiers(const ClusterSpec& c, const KvReloadSetting& s);

}  // namespace cobench::topo
