// SPDX-License-Identifier: Apache-2.0
#include "kernels/gemm/sgemm_openblas.h"

#include <cblas.h>

namespace cobench::gemm {

void sgemm_openblas(const float* a, const float* b, float* c, std::int64_t m, std::int64_t n,
                    std::int64_t k) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(m),
              static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, a, static_cast<blasint>(k), b,
              static_cast<blasint>(k), 0.0f, c, static_cast<blasint>(n));
}

const char* openblas_config_string() { return openblas_get_config(); }
int openblas_threads() { return openblas_get_num_threads(); }

}  // namespace cobench::gemm
