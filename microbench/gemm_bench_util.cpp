// SPDX-License-Identifier: Apache-2.0
#include "microbench/gemm_bench_util.h"

#include "kernels/gemm/fp8_gemm.h"
#include "kernels/numerics/fp8.h"

namespace cobench::bench {

std::pair<double, double> fp8_exact_and_magnitude(const quant::QuantizedMatrix& a,
                                                  const quant::QuantizedMatrix& b, std::int64_t m,
                                                  std::int64_t n) {
  const std::int64_t K = a.cols;
  double magnitude = 0;
  for (std::int64_t k = 0; k < K; ++k)
    magnitude += std::fabs(static_cast<double>(num::decode_fp8(a.codes[m * K + k], a.format)) *
                           a.scale_at(m, k) * num::decode_fp8(b.codes[n * K + k], b.format) *
                           b.scale_at(n, k));
  return {gemm::fp8_gemm_ref_at(a, b, m, n), magnitude};
}

std::vector<std::int64_t> zipf_counts(std::int64_t experts, std::int64_t tokens) {
  double total = 0;
  for (std::int64_t e = 0; e < experts; ++e) total += 1.0 / static_cast<double>(e + 1);
  std::vector<std::int64_t> counts(static_cast<size_t>(experts));
  std::int64_t given = 0;
  for (std::int64_t e = 0; e < experts; ++e) {
    counts[static_cast<size_t>(e)] =
        static_cast<std::int64_t>(static_cast<double>(tokens) / static_cast<double>(e + 1) / total);
    given += counts[static_cast<size_t>(e)];
  }
  counts[0] += tokens - given;
  return counts;
}

}  // namespace cobench::bench
