// SPDX-License-Identifier: Apache-2.0
// What the GPU decode benchmarks (cobench_bench_mla_gpu: MLA in mla_gpu_bench.cpp, its GQA/MHA
// baselines in gqa_gpu_bench.cpp) share: the measured device copy bandwidth every configuration
// is compared with, the split count, which sequences are checked, and the cache-size limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cobench::bench::decode {

/// Unwritten slots after every sequence's last token: 0xFF bytes, NaN in BF16, E4M3 and FP32.
inline constexpr std::int64_t kNanSlots = 32;
/// Configurations whose cache pool exceeds this are not registered (it is built on the host,
/// copied to the device, and the host keeps it for the reference). MLA 128 x 32K BF16 is 4.5 GiB.
inline constexpr double kCacheBudgetBytes = 8.0 * (1 << 30);
/// Up to this many cached tokens (batch x context) every sequence is checked against the FP64
/// reference, all heads; beyond it the first, the middle (batch / 2) and the last sequence, all
/// heads, and every output of every sequence must be finite.
inline constexpr std::int64_t kFullCheckTokens = 65536;

/// Registers BM_DeviceCopy/mib:1024: the device copy stream over 1 GiB arrays (STREAM counting),
/// verified; its best pass is the measured device copy bandwidth.
void register_device_copy();

/// The measured device copy bandwidth in B/s: BM_DeviceCopy's best pass, or measured on first use
/// (best of 5 verified passes) when that benchmark was filtered out.
double copy_bandwidth();

/// Throws cobench::Error unless the device has `bytes` free with 1 GiB to spare.
void require_device_room(std::size_t bytes);

/// The current device's SM count.
int sm_count();

/// Splits per sequence (at most one per 64 tokens of `context`): the fewest whose blocks
/// (`blocks_per_split` a split) fill `slots` resident blocks to >= 90% in whole waves, else the
/// best filling count. Fewer splits, less combine work (one split: none). With 132 slots: 256
/// blocks a split take 1 split (97% of two waves), 64 take 2 (one wave; 3 would leave the second
/// of two waves half empty), 1 block a split at 32K takes 119.
int pick_splits(std::int64_t blocks_per_split, std::int64_t slots, std::int64_t context);

/// The sequences a configuration checks (see kFullCheckTokens).
std::vector<std::int64_t> checked_sequences(std::int64_t batch, std::int64_t context);

/// Registers the GQA/MHA baselines (gqa_gpu_bench.cpp).
void register_gqa();

}  // namespace cobench::bench::decode
