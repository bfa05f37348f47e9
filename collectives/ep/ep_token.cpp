// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_token.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "collectives/pattern.h"
#include "kernels/numerics/fp8.h"

namespace cobench::coll::ep {

void token_values(const EpConfig& c, int rank, int t, float* x) {
  const std::uint64_t base =
      mix(c.seed ^ 0x70c3, static_cast<std::uint64_t>(rank), static_cast<std::uint64_t>(t));
  for (int i = 0; i < c.hidden; ++i) {
    const std::uint64_t h = mix(base, static_cast<std::uint64_t>(i), 0x1);
    x[i] = static_cast<float>(static_cast<double>(h >> 40) / 8388608.0 - 1.0);  // 24 bits
  }
}

void quantize_payload(const float* x, int hidden, std::byte* payload) {
  auto* codes = reinterpret_cast<std::uint8_t*>(payload);
  std::byte* scales = payload + hidden;
  for (int b = 0; b < hidden / 128; ++b) {
    float amax = 0;
    for (int i = 0; i < 128; ++i) amax = std::max(amax, std::fabs(x[b * 128 + i]));
    const float scale = amax > 0 ? amax / 448.0f : 1.0f;
    for (int i = 0; i < 128; ++i)
      codes[b * 128 + i] =
          num::encode_fp8(x[b * 128 + i] / scale, num::Fp8Format::kE4M3, num::Overflow::kSaturate);
    std::memcpy(scales + 4 * b, &scale, 4);
  }
}

void dequantize_payload(const std::byte* payload, int hidden, float* x) {
  const auto* codes = reinterpret_cast<const std::uint8_t*>(payload);
  for (int b = 0; b < hidden / 128; ++b) {
    float scale = 0;
    std::memcpy(&scale, payload + hidden + 4 * b, 4);
    for (int i = 0; i < 128; ++i)
      x[b * 128 + i] = num::decode_fp8(codes[b * 128 + i], num::Fp8Format::kE4M3) * scale;
  }
}

std::vector<std::byte> make_payloads(const EpConfig& c, int rank, int tokens) {
  const std::size_t p = dispatch_payload_bytes(c.hidden);
  std::vector<std::byte> out(p * static_cast<std::size_t>(tokens));
  std::vector<float> x(static_cast<std::size_t>(c.hidden));
  for (int t = 0; t < tokens; ++t) {
    token_values(c, rank, t, x.data());
    quantize_payload(x.data(), c.hidden, out.data() + p * static_cast<std::size_t>(t));
  }
  return out;
}

double output_factor(const EpConfig& c, const Routing& r, int t) {
  double f = c.shared_expert ? kSharedFactor : 0.0;
  for (int j = 0; j < r.top_k; ++j) f += r.weights_of(t)[j] * expert_factor(r.experts_of(t)[j]);
  return f;
}

}  // namespace cobench::coll::ep
