// SPDX-License-Identifier: Apache-2.0
// The vendor baselines through cuBLASLt: D [M, N] (FP32, row-major, device) = A [M, K] x
// B [N, K]^T with both operands K-contiguous ("NT"), FP32 accumulation:
//   bf16               BF16 operands (encode_bf16 codes)
//   fp8_tensor_scaled  E4M3 operands with one FP32 scale each (device pointers): D = sa sb A B^T
//   fp8_block_scaled   E4M3 with DeepSeek-V3's scales in cuBLASLt's block-scaling modes (CUDA
//                      12.9+, Hopper): A per token (VEC128_32F), B per block (BLK128x128_32F),
//                      the scales in the layouts of scale_layout.h
// cuBLASLt is called column-major with the operands swapped (see scale_layout.h). Its FP8
// kernels want 16-byte aligned rows, so K and N must be multiples of 16 (pad with zero codes and
// zero rows; device_fp8.h pads K to 128). D is FP32 where cuBLASLt offers it for the mode, else
// BF16 converted to FP32 after the call (description() says which). The descriptors and the
// heuristic's algorithm are chosen once; run() only enqueues on the default stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace cobench::gemm::cuda {

class LtMatmul {
 public:
  static LtMatmul bf16(const std::uint16_t* a, const std::uint16_t* b, float* d, std::int64_t m,
                       std::int64_t n, std::int64_t k);
  static LtMatmul fp8_tensor_scaled(const std::uint8_t* a, const float* scale_a,
                                    const std::uint8_t* b, const float* scale_b, float* d,
                                    std::int64_t m, std::int64_t n, std::int64_t k);
  static LtMatmul fp8_block_scaled(const std::uint8_t* a, const float* a_vec128_scales,
                                   const std::uint8_t* b, const float* b_blk128_scales, float* d,
                                   std::int64_t m, std::int64_t n, std::int64_t k);

  /// Enqueues the matmul on the default stream, then (where cuBLASLt could only write BF16) the
  /// conversion of D to FP32: matmul() and finish(). Throws cobench::Error on a cuBLASLt failure.
  void run();
  /// The cublasLtMatmul alone (what a benchmark times): D is FP32 only after finish().
  void matmul();
  /// Converts a BF16 D to the FP32 d (a kernel on the default stream); nothing for an FP32 D.
  void finish();
  /// D is written in BF16 and converted by finish() (no FP32-output algorithm was found).
  bool bf16_output() const;
  /// e.g. "cuBLASLt fp8 block-scaled (VEC128 x BLK128x128), FP32 output".
  const std::string& description() const;

  LtMatmul(LtMatmul&&) noexcept;
  LtMatmul& operator=(LtMatmul&&) noexcept;
  ~LtMatmul();

  struct Impl;

 private:
  explicit LtMatmul(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cobench::gemm::cuda
