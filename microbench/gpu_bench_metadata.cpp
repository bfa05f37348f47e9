// SPDX-License-Identifier: Apache-2.0
#include "microbench/gpu_bench_metadata.h"

#include <fmt/format.h>

#include <string>
#include <utility>

namespace cobench::bench::gpu {
namespace {

constexpr std::int64_t kHbmModelMib = 4096;      // BM_DeviceStream's largest arrays
constexpr std::int64_t kPcieModelKib = 1 << 20;  // BM_HostDeviceCopy's largest copy, 1 GiB

// The verdict, what was checked and the error against the reference, with the shape.
Metadata verified_with(std::string detail, std::optional<double> reference_error,
                       nlohmann::json parameters) {
  Metadata md = verified(std::move(detail));
  md.reference_error = reference_error;
  md.parameters = std::move(parameters);
  return md;
}

void add_peak(Metadata& md, const char* metric, std::string name, double value) {
  if (value > 0) md.peaks.push_back({metric, std::move(name), value});
}

// A paged decode kernel checked against the FP64 paged reference (`checked` x `heads` heads, its
// out and lse errors; `kernel` says which), with kv_bytes_per_s against the measured copy.
Metadata paged_decode_verified(const std::string& checked, std::int64_t heads, double out_error,
                               double lse_error, const std::string& kernel,
                               nlohmann::json parameters, double copy_bytes_per_s) {
  Metadata md = verified_with(
      fmt::format("{} x {} heads against the FP64 paged reference, out error {:.2g} of the "
                  "largest |out|, lse error {:.2g}; {}",
                  checked, heads, out_error, lse_error, kernel),
      out_error, std::move(parameters));
  add_peak(md, "kv_bytes_per_s", "measured device copy (BM_DeviceCopy's best pass)",
           copy_bytes_per_s);
  return md;
}

}  // namespace

std::string model_input_segment(std::string_view input) {
  return input.empty() ? std::string() : fmt::format("/model_input:{}", input);
}

const char* gemm_benchmark(GemmImpl impl) {
  switch (impl) {
    case GemmImpl::kBf16Lt:
      return "BM_Bf16_CublasLt";
    case GemmImpl::kFp8TensorLt:
      return "BM_Fp8Tensor_CublasLt";
    case GemmImpl::kFp8BlockLt:
      return "BM_Fp8Block_CublasLt";
    case GemmImpl::kFp8BlockCobench:
      return "BM_Fp8Block_Cobench";
    case GemmImpl::kFp8BlockCobenchMmaSync:
      return "BM_Fp8Block_CobenchMmaSync";
  }
  return "BM_Gemm_Unknown";
}

std::string gemm_model_input(GemmImpl impl, bool square) {
  if (square) return impl == GemmImpl::kBf16Lt ? "gpu.peak_flops.bf16" : "gpu.peak_flops.fp8";
  return impl == GemmImpl::kFp8BlockLt || impl == GemmImpl::kFp8BlockCobench ? "gpu.gemm_fp8" : "";
}

Metadata gemm_metadata(const GemmRun& r) {
  nlohmann::json shape = nlohmann::json::object();
  if (!r.model.empty()) shape["model"] = r.model;
  shape["shape"] = r.shape;
  shape["m"] = r.m;
  shape["n"] = r.n;
  shape["k"] = r.k;
  Metadata md = verified_with(
      fmt::format("error {:.2g} on 64 sampled outputs against FP64; {}", r.error, r.what), r.error,
      std::move(shape));
  md.model_input = gemm_model_input(r.impl, r.square);
  const bool bf16 = r.impl == GemmImpl::kBf16Lt;
  add_peak(md, "gemm_flop_per_s",
           fmt::format("dense {} tensor-core peak ({})", bf16 ? "BF16" : "FP8", r.peak.how),
           bf16 ? r.peak.bf16 : r.peak.fp8);
  return md;
}

Metadata grouped_gemm_metadata(const GroupedGemmRun& r) {
  Metadata md = verified_with(
      fmt::format("error {:.2g} on 64 sampled outputs against FP64; "
                  "tokens per expert {} .. {}",
                  r.error, r.fewest, r.most),
      r.error, {{"experts", r.experts}, {"tokens", r.tokens}, {"n", r.n}, {"k", r.k}});
  add_peak(md, "gemm_flop_per_s", fmt::format("dense FP8 tensor-core peak ({})", r.peak.how),
           r.peak.fp8);
  return md;
}

Metadata probe_metadata(const std::string& instruction) {
  Metadata md;
  md.parameters = {{"instruction", instruction}};
  return md;
}

std::string device_stream_model_input(std::string_view op, std::int64_t mib) {
  return op == "copy" && mib == kHbmModelMib ? "gpu.hbm_bandwidth" : "";
}

Metadata device_stream_metadata(const DeviceStreamRun& r) {
  Metadata md = verified_with(
      fmt::format("{} over {} B per array, checked before timing and on one more pass into "
                  "cleared outputs after it; {} blocks x 256 threads; {} B counted per element",
                  r.op, r.array_bytes, r.blocks, r.bytes_per_element),
      std::nullopt, {{"op", r.op}, {"mib", r.mib}});
  md.model_input = device_stream_model_input(r.op, r.mib);
  add_peak(md, "memory_bytes_per_s", fmt::format("device memory peak ({})", r.peak_how),
           r.peak_bytes_per_s);
  return md;
}

std::string host_device_copy_model_input(std::string_view dir, std::string_view host,
                                         std::int64_t kib) {
  return dir == "h2d" && host == "pinned" && kib == kPcieModelKib ? "pcie.h2d_bandwidth" : "";
}

Metadata host_device_copy_metadata(std::string_view dir, std::string_view host, std::int64_t kib,
                                   std::int64_t bytes) {
  Metadata md = verified_with(
      fmt::format("{} from {} host memory, {} B per direction, checked before timing and on one "
                  "more pass into cleared destinations after it",
                  dir, host, bytes),
      std::nullopt, {{"dir", dir}, {"host", host}, {"kib", kib}});
  md.model_input = host_device_copy_model_input(dir, host, kib);
  return md;
}

Metadata kernel_gap_metadata(std::int64_t kernels) {
  Metadata md = verified_with(
      fmt::format("{} one-thread kernels a graph replay, each adding 1 to a device counter after "
                  "the one before; the counter checked after every run",
                  kernels),
      std::nullopt, {{"kernels", kernels}});
  md.model_input = "gpu.kernel_gap";
  md.model_metric = "kernel_gap_s";
  return md;
}

Metadata device_copy_metadata(std::int64_t mib, std::int64_t array_bytes) {
  return verified_with(fmt::format("copy over {} B per array, 16 B counted per element; checked "
                                   "before and after the timed passes",
                                   array_bytes),
                       std::nullopt, {{"mib", mib}});
}

std::string mla_decode_model_input(std::string_view kernel, std::int64_t heads,
                                   std::string_view cache) {
  return kernel == "tc" && heads == 128 && cache == "bf16" ? "gpu.mla_decode" : "";
}

Metadata mla_decode_metadata(const MlaDecodeRun& r) {
  Metadata md = paged_decode_verified(r.checked, r.heads, r.out_error, r.lse_error,
                                      fmt::format("{} kernel, {} cache", r.kernel, r.cache),
                                      {{"kernel", r.kernel},
                                       {"heads", r.heads},
                                       {"cache", r.cache},
                                       {"batch", r.batch},
                                       {"context", r.context},
                                       {"splits", r.splits}},
                                      r.copy_bytes_per_s);
  md.model_input = mla_decode_model_input(r.kernel, r.heads, r.cache);
  add_peak(md, "attention_flop_per_s", fmt::format("dense BF16 tensor-core peak ({})", r.peak.how),
           r.peak.bf16);
  return md;
}

Metadata gqa_decode_metadata(const GqaDecodeRun& r) {
  return paged_decode_verified(r.checked, r.q_heads, r.out_error, r.lse_error,
                               fmt::format("{} ({} KV heads)", r.attn, r.kv_heads),
                               {{"attn", r.attn},
                                {"batch", r.batch},
                                {"context", r.context},
                                {"q_heads", r.q_heads},
                                {"kv_heads", r.kv_heads},
                                {"head_dim", r.head_dim},
                                {"splits", r.splits}},
                               r.copy_bytes_per_s);
}

}  // namespace cobench::bench::gpu
