// SPDX-License-Identifier: Apache-2.0
// The scale layouts cuBLASLt's block-scaling modes read (CUDA 12.9+), converted from
// quant::QuantizedMatrix's row-major [tile rows, K blocks]. Plain C++: tested without a GPU.
//
// cobench calls cuBLASLt column-major with the operands swapped, D^T = B A^T: cuBLASLt's "A" is
// our weight matrix B [N, K] (TRANSA = T, stored K x N, lda = padded K) and its "B" is our
// activation matrix A [M, K] (TRANSB = N, stored K x M, ldb = padded K); D^T is N x M
// column-major, i.e. our row-major D [M, N]. So:
//   weights,     CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F: one float per 128 x 128 block,
//                K blocks contiguous: element (n block, k block) at n_block * ld + k_block, with
//                ld = K blocks rounded up to a multiple of 4 (16-byte aligned rows).
//   activations, CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F: one float per row and 128-wide K
//                block, the outer dimension contiguous: element (m, k block) at k_block * M + m.
// Sources: cublasLt.h (CUDA 13.0) defines the modes only ("a dedicated CUDA_R_32F scaling factor
// for each 128-element block in the innermost dimension" / "for each 128x128-element block");
// the layouts are those PyTorch's _scaled_mm hands cuBLASLt for BlockWise1x128 (scale (M,
// ceil(K/128)) with strides (1, M): "outer-dim-major") and BlockWise128x128 (strides
// (round_up(ceil(K/128), 4), 1)) in aten/src/ATen/native/cuda/ScaledBlas.cpp, and NVIDIA's
// CUDALibrarySamples cuBLASLt/LtBlk128x128Fp8Matmul (TRANSA = T, A VEC128, B BLK128x128). They
// are an assumption until tests/gpu/gemm_cuda_test.cpp confirms them on a GPU.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/quant/fine_grained.h"

namespace cobench::gemm::cuda {

/// VEC128_32F scales of a per-token (1 x 128) matrix [rows, K]: [K blocks][rows].
std::vector<float> cublaslt_vec128_scales(const quant::QuantizedMatrix& a);

/// BLK128x128_32F scales of a per-block (128 x 128) matrix [rows, K] whose rows are padded to
/// `rows` (>= a.rows; the extra blocks get 1): [row blocks][round_up(K blocks, 4)].
std::vector<float> cublaslt_blk128_scales(const quant::QuantizedMatrix& b, std::int64_t rows);

/// The leading dimension of cublaslt_blk128_scales's rows.
std::int64_t cublaslt_blk128_ld(std::int64_t k);

}  // namespace cobench::gemm::cuda
