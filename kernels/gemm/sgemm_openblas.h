// SPDX-License-Identifier: Apache-2.0
// The CPU vendor baseline: FP32 GEMM through OpenBLAS, in the same "NT" layout as the FP8 GEMM:
// C[m, n] = sum_k A[m, k] B[n, k], all row-major. Available when COBENCH_HAVE_OPENBLAS.
#pragma once

#include <cstdint>

namespace cobench::gemm {

void sgemm_openblas(const float* a, const float* b, float* c, std::int64_t m, std::int64_t n,
                    std::int64_t k);

/// OpenBLAS's own description ("OpenBLAS 0.3.21 DYNAMIC_ARCH ... Zen") and thread count.
const char* openblas_config_string();
int openblas_threads();

}  // namespace cobench::gemm
