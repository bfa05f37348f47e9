// SPDX-License-Identifier: Apache-2.0
// The typed metadata (bench_metadata.h) of the GPU benchmarks, built by pure functions from a
// configuration's shape and its results: no CUDA, no device, so the tests check without a GPU
// what the bodies report (tests/microbench/gpu_bench_metadata_test.cpp). Per family: the model
// input a configuration measures (the same function names the name's model_input: segment at
// registration, which stays so that tracked histories and scripts/gpu-check.sh's filters keep
// working), the shape parameters (the name's segments, same keys and values), the verdict with
// what was checked and the error against the reference, and the peak each fraction or efficiency
// counter is divided by. The labels stay human text that nothing reads.
//   gemm_gpu_bench.cpp          gemm_metadata, grouped_gemm_metadata, probe_metadata
//   memory_gpu_bench.cpp        device_stream_metadata, host_device_copy_metadata,
//                               kernel_gap_metadata
//   decode_gpu_bench_common.cpp device_copy_metadata
//   mla_gpu_bench.cpp           mla_decode_metadata
//   gqa_gpu_bench.cpp           gqa_decode_metadata
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "microbench/bench_metadata.h"
#include "microbench/tensor_peak.h"

namespace cobench::bench::gpu {

/// "/model_input:<input>" for a benchmark name; "" when `input` is "" (measures no model input).
std::string model_input_segment(std::string_view input);

// ---- GEMMs (gemm_gpu_bench.cpp) ----

/// kFp8BlockCobench is the tile code the device gets by default (WGMMA on sm_90);
/// kFp8BlockCobenchMmaSync its mma.sync tile, timed beside it on sm_90 (squares only).
enum class GemmImpl {
  kBf16Lt,
  kFp8TensorLt,
  kFp8BlockLt,
  kFp8BlockCobench,
  kFp8BlockCobenchMmaSync
};

/// The benchmark name's first part: "BM_Bf16_CublasLt", "BM_Fp8Tensor_CublasLt",
/// "BM_Fp8Block_CublasLt", "BM_Fp8Block_Cobench", "BM_Fp8Block_CobenchMmaSync".
const char* gemm_benchmark(GemmImpl impl);

/// What a GEMM configuration measures for the model: on the squares, the dense tensor-core peak
/// of its precision ("gpu.peak_flops.bf16" for BF16, "gpu.peak_flops.fp8" for every FP8 form);
/// on a model's shapes, the block-scaled FP8 GEMMs (cuBLASLt's and cobench's default tile) are
/// the measured GEMM table ("gpu.gemm_fp8", topologies/measured_tables.h); else "".
std::string gemm_model_input(GemmImpl impl, bool square);

/// A verified GEMM run (BM_Gemm).
struct GemmRun {
  GemmImpl impl = GemmImpl::kBf16Lt;
  bool square = false;
  std::string model;  ///< the model a shape comes from; "" on the squares
  std::string shape;  ///< "square", or the model's shape ("q_b", "expert_up")
  std::int64_t m = 0, n = 0, k = 0;
  double error = 0;  ///< largest sampled relative error against FP64
  std::string what;  ///< the kernel that ran (cuBLASLt's description, cobench's tile)
  DevicePeak peak;   ///< the device's dense peaks (0: not known)
};

/// Verified with `error`; model input gemm_model_input(); parameters {model (unless ""), shape,
/// m, n, k}; gemm_flop_per_s's peak (what peak_fraction divides by): the dense BF16 peak for
/// kBf16Lt, else the dense FP8 peak, when known.
Metadata gemm_metadata(const GemmRun& r);

/// A verified grouped (MoE) FP8 GEMM run (BM_GroupedGemm): Zipf-uneven tokens per expert.
struct GroupedGemmRun {
  std::int64_t experts = 0, tokens = 0, n = 0, k = 0;
  std::int64_t fewest = 0, most = 0;  ///< tokens of the least and the most popular expert
  double error = 0;
  DevicePeak peak;
};

/// Verified with `error`; no model input; parameters {experts, tokens, n, k}; gemm_flop_per_s
/// against the dense FP8 peak, when known.
Metadata grouped_gemm_metadata(const GroupedGemmRun& r);

/// The accumulator probe (a reading, not a checked result): parameters {instruction} only.
Metadata probe_metadata(const std::string& instruction);

// ---- device memory, host <-> device copies, kernel gap (memory_gpu_bench.cpp) ----

/// "gpu.hbm_bandwidth" for the copy stream over 4096 MiB arrays, else "".
std::string device_stream_model_input(std::string_view op, std::int64_t mib);

/// A verified device stream (BM_DeviceStream).
struct DeviceStreamRun {
  std::string op;  ///< "read", "write", "copy", "triad"
  std::int64_t mib = 0, array_bytes = 0, blocks = 0, bytes_per_element = 0;
  double peak_bytes_per_s = 0;  ///< the theoretical device memory peak; 0: not known
  std::string peak_how;         ///< where it comes from (memory clock x bus width x 2)
};

/// Verified (the data exactly, so no reference error); model input device_stream_model_input();
/// parameters {op, mib}; memory_bytes_per_s against the device memory peak, when known.
Metadata device_stream_metadata(const DeviceStreamRun& r);

/// "pcie.h2d_bandwidth" for the pinned host-to-device copy of 1 GiB (1048576 KiB), else "".
std::string host_device_copy_model_input(std::string_view dir, std::string_view host,
                                         std::int64_t kib);

/// A verified host <-> device copy (BM_HostDeviceCopy): `dir` "h2d", "d2h" or "bidir", `host`
/// "pinned" or "pageable", `kib` per direction. Parameters {dir, host, kib}; no peak.
Metadata host_device_copy_metadata(std::string_view dir, std::string_view host, std::int64_t kib,
                                   std::int64_t bytes);

/// A verified kernel chain (BM_KernelGap): model input "gpu.kernel_gap" measured by
/// kernel_gap_s (real_time and cpu_time are seconds too); parameters {kernels}.
Metadata kernel_gap_metadata(std::int64_t kernels);

// ---- decode (decode_gpu_bench_common.cpp, mla_gpu_bench.cpp, gqa_gpu_bench.cpp) ----

/// A verified device copy stream (BM_DeviceCopy), whose best pass is the decode benchmarks'
/// copy_bw_fraction denominator (their kv_bytes_per_s peak): parameters {mib}; no model input,
/// no peak.
Metadata device_copy_metadata(std::int64_t mib, std::int64_t array_bytes);

/// "gpu.mla_decode" for DeepSeek's decode kernel (tensor cores "tc", 128 heads, BF16 cache),
/// which gives the model its MLA decode table by batch and context and its ceilings
/// (topologies/measured_tables.h); else "".
std::string mla_decode_model_input(std::string_view kernel, std::int64_t heads,
                                   std::string_view cache);

/// A verified MLA decode step (BM_MlaDecodeGpu).
struct MlaDecodeRun {
  std::string kernel;  ///< "tc" or "simt"
  std::int64_t heads = 0;
  std::string cache;  ///< "bf16" or "fp8"
  std::int64_t batch = 0, context = 0, splits = 0;
  std::string checked;                  ///< "every sequence" or "sequences 0, 64, 127"
  double out_error = 0, lse_error = 0;  ///< against the FP64 paged reference
  double copy_bytes_per_s = 0;          ///< the measured device copy bandwidth
  DevicePeak peak;                      ///< the device's dense peaks (0: not known)
};

/// Verified with out_error; model input mla_decode_model_input(); parameters {kernel, heads,
/// cache, batch, context, splits}; kv_bytes_per_s against the measured copy (copy_bw_fraction)
/// and attention_flop_per_s against the dense BF16 peak (roofline_fraction's compute bound),
/// when known.
Metadata mla_decode_metadata(const MlaDecodeRun& r);

/// A verified GQA / MHA decode step (BM_GqaDecodeGpu).
struct GqaDecodeRun {
  std::string attn;  ///< "gqa" or "mha"
  std::int64_t q_heads = 0, kv_heads = 0, head_dim = 0;
  std::int64_t batch = 0, context = 0, splits = 0;
  std::string checked;
  double out_error = 0, lse_error = 0;
  double copy_bytes_per_s = 0;
};

/// Verified with out_error; no model input; parameters {attn, batch, context, q_heads,
/// kv_heads, head_dim, splits}; kv_bytes_per_s against the measured copy (copy_bw_fraction).
Metadata gqa_decode_metadata(const GqaDecodeRun& r);

}  // namespace cobench::bench::gpu
