// SPDX-License-Identifier: Apache-2.0
#include "topologies/kv_reload.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "topologies/model_params.h"

namespace cobench::topo {
namespace {

constexpr double kFp8ScaleGroup = 128;  // FlashMLA: one FP32 scale per 128 latent values
constexpr double kFp32Bytes = 4;
constexpr double kBf16Bytes = 2;

}  // namespace

std::string_view to_string(KvCacheFormat f) {
  switch (f) {
    case KvCacheFormat::kBf16:
      return "bf16";
    case KvCacheFormat::kFp8:
      return "fp8";
  }
  return "?";
}

std::string_view to_string(BreakEvenKind k) {
  switch (k) {
    case BreakEvenKind::kAlwaysReload:
      return "always_reload";
    case BreakEvenKind::kReloadAbove:
      return "reload_above";
    case BreakEvenKind::kNeverReload:
      return "never_reload";
    case BreakEvenKind::kReloadBeyondRange:
      return "reload_beyond_range";
  }
  return "?";
}

Bytes kv_cache_bytes_per_token(const ModelArch& m, KvCacheFormat format) {
  if (format == KvCacheFormat::kBf16) return kv_bytes_per_token(m, kBf16Bytes);
  const AttentionSpec& a = m.attention;
  if (!a.mla) return kv_bytes_per_token(m, 1.0);
  // FlashMLA's FP8 layout: the latent in e4m3, its scales in FP32, the RoPE key in BF16.
  const double latent = static_cast<double>(a.mla->kv_lora_rank);
  const double per_layer = latent + std::ceil(latent / kFp8ScaleGroup) * kFp32Bytes +
                           static_cast<double>(a.mla->qk_rope_head_dim) * kBf16Bytes;
  return Bytes(per_layer * static_cast<double>(m.num_layers));
}

ReloadLine reload_line(Bytes kv_bytes_per_token, Bandwidth bandwidth, Seconds latency) {
  if (!(bandwidth.value > 0))
    throw Error(
        fmt::format("KV reload: bandwidth must be greater than zero, got {} B/s", bandwidth.value));
  if (!(latency.value >= 0))
    throw Error(fmt::format("KV reload: latency must not be negative, got {} s", latency.value));
  return {latency.value, kv_bytes_per_token.value / bandwidth.value};
}

double prefill_flops(const ModelArch& m, double tokens) {
  const double linear = 2 * count_params(m).active_non_embedding();
  return tokens * (linear + attention_flops_forward(m, tokens, /*causal=*/true));
}

RecomputeCurve recompute_curve(const ModelArch& m, const GpuSpec& g, double mfu) {
  if (!(mfu > 0 && mfu <= 1))
    throw Error(fmt::format("KV recompute: MFU must be in (0, 1], got {}", mfu));
  // As the prefill bound (economics.h): weights at the FP8 peak, attention at the BF16 peak.
  const double fp8 = g.peak_fp8 ? g.peak_fp8->value : (g.peak_bf16 ? 2 * g.peak_bf16->value : 0);
  const double bf16 = g.peak_bf16 ? g.peak_bf16->value : fp8 / 2;
  if (!(fp8 > 0))
    throw Error(fmt::format("KV recompute: GPU '{}' has no peak_flops (fp8 or bf16)", g.name));
  RecomputeCurve r;
  r.s_per_token = 2 * count_params(m).active_non_embedding() / (fp8 * mfu);
  // attention_flops_forward is linear in the context: its value at 1 is the N^2 coefficient.
  r.s_per_token_squared = attention_flops_forward(m, 1.0, /*causal=*/true) / (bf16 * mfu);
  return r;
}

BreakEven break_even(const RecomputeCurve& recompute, const ReloadLine& reload,
                     double range_tokens) {
  // recompute - reload = c N^2 + b N - L, with b = a - r; reload is faster where it is > 0.
  const double c = recompute.s_per_token_squared;
  const double b = recompute.s_per_token - reload.s_per_token;
  const double l = reload.latency_s;
  BreakEven e;
  if (c > 0) {
    if (l == 0 && b >= 0) return {BreakEvenKind::kAlwaysReload, 0};
    // The positive root, in the form that does not cancel.
    const double root = std::sqrt(b * b + 4 * c * l);
    e = {BreakEvenKind::kReloadAbove, b >= 0 ? 2 * l / (b + root) : (-b + root) / (2 * c)};
  } else if (b > 0) {
    if (l == 0) return {BreakEvenKind::kAlwaysReload, 0};
    e = {BreakEvenKind::kReloadAbove, l / b};
  } else {
    return {BreakEvenKind::kNeverReload, std::numeric_limits<double>::infinity()};
  }
  if (e.tokens > range_tokens) e.kind = BreakEvenKind::kReloadBeyondRange;
  return e;
}

std::vector<ReloadTier> reload_tiers(const ClusterSpec& c, const KvReloadSetting& s) {
  std::vector<ReloadTier> tiers;
  const GpuSpec* g = c.node.gpus_per_node > 0 && c.node.gpu ? &*c.node.gpu : nullptr;
  ReloadTier host{"host", "host memory -> PCIe -> HBM", {}, s.host_latency, ""};
  if (!g)
    host.missing = "a GPU node";
  else if (!g->pcie_bandwidth)
    host.missing = "node.gpu.pcie_bandwidth";
  else
    host.bandwidth = *g->pcie_bandwidth;
  tiers.push_back(host);

  ReloadTier storage{
      "storage", "node storage / GPUs per node, then PCIe", {}, s.storage_latency, ""};
  if (!g) {
    storage.missing = "a GPU node";
  } else if (!c.node.storage_read_bandwidth) {
    storage.missing = "node.storage_read_bandwidth";
  } else {
    // Every GPU of the node reloads at once: each gets an even share, and its own PCIe link
    // carries it.
    double bw = c.node.storage_read_bandwidth->value / static_cast<double>(c.node.gpus_per_node);
    if (g->pcie_bandwidth) bw = std::min(bw, g->pcie_bandwidth->value);
    storage.bandwidth = Bandwidth(bw);
  }
  tiers.push_back(storage);
  return tiers;
}

}  // namespace cobench::topo
