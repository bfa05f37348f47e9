// SPDX-License-Identifier: Apache-2.0
// mla_decode_ref (mla_decode.h): the decode kernels' FP64 reference, MLA's absorbed latent
// attention over the dequantized paged cache, per sequence.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels/mla/mla_decode.h"

namespace cobench::mla {

double deepseek_v3_softmax_scale() { return 1.0 / std::sqrt(192.0); }

void mla_decode_ref_seq(const MlaCache& c, std::int64_t seq, const double* q, std::int64_t heads,
                        double scale, double* out, double* lse, double* magnitude) {
  COBENCH_CHECK(seq >= 0 && seq < c.paged.batch(), fmt::format("no sequence {}", seq));
  const std::vector<double> kv = gather_sequence(c, seq);
  const std::int64_t n = c.paged.lengths[static_cast<size_t>(seq)];
  COBENCH_CHECK(n >= 1, fmt::format("sequence {} has no cached token", seq));
  std::vector<double> p(static_cast<size_t>(n));
  for (std::int64_t h = 0; h < heads; ++h) {
    const double* qh = q + h * kQkDims;
    for (std::int64_t t = 0; t < n; ++t) {
      double s = 0;
      for (std::int64_t d = 0; d < kQkDims; ++d)
        s += qh[d] * kv[static_cast<size_t>(t * kQkDims + d)];
      p[static_cast<size_t>(t)] = s * scale;
    }
    const double top = *std::max_element(p.begin(), p.end());
    double sum = 0;
    for (double& x : p) sum += (x = std::exp(x - top));
    lse[h] = top + std::log(sum);
    double* oh = out + h * kVDims;
    std::fill(oh, oh + kVDims, 0.0);
    double* mh = magnitude ? magnitude + h * kVDims : nullptr;
    if (mh) std::fill(mh, mh + kVDims, 0.0);
    for (std::int64_t t = 0; t < n; ++t) {
      const double w = p[static_cast<size_t>(t)] / sum;
      const double* v = kv.data() + t * kQkDims;
      for (std::int64_t d = 0; d < kVDims; ++d) oh[d] += w * v[d];
      if (mh)
        for (std::int64_t d = 0; d < kVDims; ++d) mh[d] += w * std::fabs(v[d]);
    }
  }
}

DecodeRef mla_decode_ref(const MlaCache& c, const std::vector<double>& q, std::int64_t heads,
                         double scale) {
  const std::int64_t batch = c.paged.batch();
  COBENCH_CHECK(static_cast<std::int64_t>(q.size()) == batch * heads * kQkDims,
                fmt::format("q has {} values, expected batch {} x heads {} x {}", q.size(), batch,
                            heads, kQkDims));
  DecodeRef r{std::vector<double>(static_cast<size_t>(batch * heads * kVDims)),
              std::vector<double>(static_cast<size_t>(batch * heads)),
              std::vector<double>(static_cast<size_t>(batch * heads * kVDims))};
  for (std::int64_t b = 0; b < batch; ++b)
    mla_decode_ref_seq(c, b, q.data() + b * heads * kQkDims, heads, scale,
                       r.out.data() + b * heads * kVDims, r.lse.data() + b * heads,
                       r.magnitude.data() + b * heads * kVDims);
  return r;
}

}  // namespace cobench::mla
