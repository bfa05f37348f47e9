// SPDX-License-Identifier: Apache-2.0
#include "kernels/gemm/cuda/cublaslt_gemm.h"

#include <cublasLt.h>
#include <fmt/format.h>

#include <cstddef>

#include "core/cuda/cublas_check.h"
#include "core/error.h"
#include "kernels/gemm/cuda/bf16_convert.h"
#include "kernels/gemm/cuda/device_query.h"

namespace cobench::gemm::cuda {

constexpr std::size_t kWorkspaceBytes = 32u << 20;

struct LtMatmul::Impl {
  cublasLtHandle_t handle = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, ld = nullptr;
  cublasLtMatmulAlgo_t algo{};
  DeviceBuffer<std::byte> workspace;
  DeviceBuffer<std::uint16_t> bf16_out;  // when D can only be BF16
  const void* weights = nullptr;         // cuBLASLt's A: our B
  const void* activations = nullptr;     // cuBLASLt's B: our A
  float* d = nullptr;
  std::int64_t m = 0, n = 0;
  std::string what;

  ~Impl() {  // statuses ignored: nothing can be done about a failing destroy
    if (ld) cublasLtMatrixLayoutDestroy(ld);
    if (lb) cublasLtMatrixLayoutDestroy(lb);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (desc) cublasLtMatmulDescDestroy(desc);
    if (handle) cublasLtDestroy(handle);
  }
};

namespace {

enum class Scaling { kNone, kTensor, kBlock };

template <class T>
void set_attr(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, const T& value) {
  COBENCH_CUBLASLT_CHECK(cublasLtMatmulDescSetAttribute(desc, attr, &value, sizeof value));
}

// Picks the heuristic's first algorithm for D of type `d_type`; the status says why there is none
// (CUBLAS_STATUS_NOT_SUPPORTED when the heuristic returns nothing).
cublasStatus_t choose(LtMatmul::Impl& x, cudaDataType_t d_type) {
  if (x.ld) COBENCH_CUBLASLT_CHECK(cublasLtMatrixLayoutDestroy(x.ld));
  x.ld = nullptr;
  COBENCH_CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&x.ld, d_type, static_cast<std::uint64_t>(x.n),
                                                    static_cast<std::uint64_t>(x.m), x.n));
  cublasLtMatmulPreference_t pref = nullptr;
  COBENCH_CUBLASLT_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const std::size_t ws = kWorkspaceBytes;
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  cublasStatus_t status = cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  if (status == CUBLAS_STATUS_SUCCESS)
    status = cublasLtMatmulAlgoGetHeuristic(x.handle, x.desc, x.la, x.lb, x.ld, x.ld, pref, 1,
                                            &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (status == CUBLAS_STATUS_SUCCESS && found == 0) status = CUBLAS_STATUS_NOT_SUPPORTED;
  if (status == CUBLAS_STATUS_SUCCESS) x.algo = result.algo;
  return status;
}

LtMatmul::Impl* make(cudaDataType_t in_type, const void* a, const void* b, float* d, std::int64_t m,
                     std::int64_t n, std::int64_t k, Scaling scaling, const float* scale_a,
                     const float* scale_b, std::string what) {
  COBENCH_CHECK(m > 0 && n > 0 && k > 0, fmt::format("empty GEMM {} x {} x {}", m, n, k));
  COBENCH_CHECK(
      k % 16 == 0 && n % 16 == 0,
      fmt::format("cuBLASLt paths need K and N multiples of 16 (pad them): K {}, N {}", k, n));
  auto x = std::make_unique<LtMatmul::Impl>();
  x->weights = b;
  x->activations = a;
  x->d = d;
  x->m = m;
  x->n = n;
  x->workspace = DeviceBuffer<std::byte>(kWorkspaceBytes);
  COBENCH_CUBLASLT_CHECK(cublasLtCreate(&x->handle));
  COBENCH_CUBLASLT_CHECK(cublasLtMatmulDescCreate(&x->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  set_attr(x->desc, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T);
  set_attr(x->desc, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N);
  if (scaling != Scaling::kNone) {
    // cuBLASLt's A is our B, so its A scale is B's and its B scale is A's.
    set_attr(x->desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, static_cast<const void*>(scale_b));
    set_attr(x->desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, static_cast<const void*>(scale_a));
  }
  if (scaling == Scaling::kBlock) {
    set_attr(x->desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE,
             static_cast<std::int32_t>(CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F));
    set_attr(x->desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE,
             static_cast<std::int32_t>(CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F));
  }
  const auto K = static_cast<std::uint64_t>(k);
  COBENCH_CUBLASLT_CHECK(
      cublasLtMatrixLayoutCreate(&x->la, in_type, K, static_cast<std::uint64_t>(n), k));
  COBENCH_CUBLASLT_CHECK(
      cublasLtMatrixLayoutCreate(&x->lb, in_type, K, static_cast<std::uint64_t>(m), k));
  const cublasStatus_t fp32 = choose(*x, CUDA_R_32F);
  if (fp32 == CUBLAS_STATUS_SUCCESS) {
    x->what = what + ", FP32 output";
  } else if (const cublasStatus_t bf16 = choose(*x, CUDA_R_16BF); bf16 == CUBLAS_STATUS_SUCCESS) {
    x->bf16_out = DeviceBuffer<std::uint16_t>(static_cast<std::size_t>(m * n));
    x->what = what + ", BF16 output (FP32 output: " + cublasLtGetStatusName(fp32) +
              "), converted to FP32 outside the timed matmul";
  } else {
    throw Error(
        fmt::format("cuBLASLt has no algorithm for {} at M {} N {} K {} ({} with FP32 "
                    "output, {} with BF16)",
                    what, m, n, k, cublasLtGetStatusName(fp32), cublasLtGetStatusName(bf16)));
  }
  return x.release();
}

}  // namespace

LtMatmul::LtMatmul(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LtMatmul::LtMatmul(LtMatmul&&) noexcept = default;
LtMatmul& LtMatmul::operator=(LtMatmul&&) noexcept = default;
LtMatmul::~LtMatmul() = default;

LtMatmul LtMatmul::bf16(const std::uint16_t* a, const std::uint16_t* b, float* d, std::int64_t m,
                        std::int64_t n, std::int64_t k) {
  return LtMatmul(std::unique_ptr<Impl>(
      make(CUDA_R_16BF, a, b, d, m, n, k, Scaling::kNone, nullptr, nullptr, "cuBLASLt bf16")));
}

LtMatmul LtMatmul::fp8_tensor_scaled(const std::uint8_t* a, const float* scale_a,
                                     const std::uint8_t* b, const float* scale_b, float* d,
                                     std::int64_t m, std::int64_t n, std::int64_t k) {
  return LtMatmul(
      std::unique_ptr<Impl>(make(CUDA_R_8F_E4M3, a, b, d, m, n, k, Scaling::kTensor, scale_a,
                                 scale_b, "cuBLASLt fp8 e4m3 per-tensor scaled")));
}

LtMatmul LtMatmul::fp8_block_scaled(const std::uint8_t* a, const float* a_vec128_scales,
                                    const std::uint8_t* b, const float* b_blk128_scales, float* d,
                                    std::int64_t m, std::int64_t n, std::int64_t k) {
  return LtMatmul(std::unique_ptr<Impl>(
      make(CUDA_R_8F_E4M3, a, b, d, m, n, k, Scaling::kBlock, a_vec128_scales, b_blk128_scales,
           "cuBLASLt fp8 e4m3 block-scaled (A VEC128_32F, B BLK128x128_32F)")));
}

void LtMatmul::run() {
  matmul();
  finish();
}

void LtMatmul::matmul() {
  Impl& x = *impl_;
  const float alpha = 1.0f, beta = 0.0f;
  void* out = bf16_output() ? static_cast<void*>(x.bf16_out.get()) : x.d;
  COBENCH_CUBLASLT_CHECK(cublasLtMatmul(x.handle, x.desc, &alpha, x.weights, x.la, x.activations,
                                        x.lb, &beta, out, x.ld, out, x.ld, &x.algo,
                                        x.workspace.get(), kWorkspaceBytes, nullptr));
}

void LtMatmul::finish() {
  Impl& x = *impl_;
  if (bf16_output()) bf16_to_float_device(x.bf16_out.get(), x.d, x.m * x.n);
}

bool LtMatmul::bf16_output() const { return impl_->bf16_out.size() > 0; }

const std::string& LtMatmul::description() const { return impl_->what; }

}  // namespace cobench::gemm::cuda
