// SPDX-License-Identifier: Apache-2.0
// The paged latent cache and MLA decode: layout and NaN-filled slots; paged = contiguous (the
// paged reference against mla_absorbed_ref); BF16 and FP8 caches against FP64 on the
// unquantized values; the CPU kernel (every ISA this CPU runs, several KV splits) against the
// reference on ragged lengths 1, 63, 64, 65, 4097; the AMX kernel's own shapes (padded heads,
// passes cut short, NaN slots, the caller's MXCSR) and its FP8 codes read as BF16.
#include <gtest/gtest.h>

#include <cmath>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "kernels/mla/attention_tile.h"
#include "kernels/mla/mla_decode.h"
#include "kernels/mla/mla_decode_amx.h"
#include "kernels/mla/mla_forms_ref.h"
#include "kernels/numerics/fp8.h"

namespace {

using namespace cobench::mla;

// Error bounds, relative to the largest |output| (out) or absolute (lse), for 128 heads and
// unit-variance inputs. FP32 kernel vs FP64 reference over the same dequantized cache:
constexpr double kKernelOut = 1e-5, kKernelLse = 1e-5;
// The AMX kernel's queries travel as two BF16 halves (hi + lo: 16-17 significant bits, within
// 2^-17 of each FP32 value), so its scores, and the lse they set, carry a few times FP32's
// rounding: 0.9e-5 to 1.5e-5 here, where the FP32 kernels read 3e-6. Its outputs meet kKernelOut.
constexpr double kAmxLse = 4e-5;
// FP64 over the quantized cache vs FP64 over the exact values (BF16: 8-bit significands; FP8
// E4M3: 4-bit significands with one scale per 128 dims; the RoPE part stays BF16):
constexpr double kBf16Out = 2e-2, kBf16Lse = 2e-2;
constexpr double kFp8Out = 1e-1, kFp8Lse = 2.5e-1;

std::vector<float> random_floats(std::int64_t n, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

struct Case {
  std::vector<std::int64_t> lengths;
  std::vector<std::vector<float>> kv;  // per sequence [length, 576], exact
  std::vector<float> q;                // [batch, heads, 576]
};

Case random_case(const std::vector<std::int64_t>& lengths, std::int64_t heads, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Case c{lengths, {}, {}};
  for (std::int64_t n : lengths) c.kv.push_back(random_floats(n * kQkDims, rng));
  c.q = random_floats(static_cast<std::int64_t>(lengths.size()) * heads * kQkDims, rng);
  return c;
}

MlaCache fill(KvPrecision p, const Case& c, std::int64_t extra_capacity = 0) {
  std::vector<std::int64_t> capacity;
  for (std::int64_t n : c.lengths) capacity.push_back(n + extra_capacity);
  MlaCache cache = make_mla_cache(p, capacity, 7);
  for (size_t s = 0; s < c.lengths.size(); ++s)
    append_tokens(cache, static_cast<std::int64_t>(s), c.kv[s].data(), c.lengths[s]);
  return cache;
}

// FP64 attention over exact contiguous values (no cache at all).
DecodeRef exact_decode(const Case& c, std::int64_t heads, double scale) {
  DecodeRef r;
  for (size_t s = 0; s < c.lengths.size(); ++s) {
    const std::int64_t n = c.lengths[s];
    std::vector<double> w(static_cast<size_t>(n));
    for (std::int64_t h = 0; h < heads; ++h) {
      const float* q = c.q.data() + (static_cast<std::int64_t>(s) * heads + h) * kQkDims;
      for (std::int64_t t = 0; t < n; ++t) {
        double dot = 0;
        for (std::int64_t d = 0; d < kQkDims; ++d)
          dot += static_cast<double>(q[d]) * c.kv[s][static_cast<size_t>(t * kQkDims + d)];
        w[static_cast<size_t>(t)] = dot * scale;
      }
      const double top = *std::max_element(w.begin(), w.end());
      double sum = 0;
      for (double& x : w) sum += (x = std::exp(x - top));
      r.lse.push_back(top + std::log(sum));
      for (std::int64_t d = 0; d < kVDims; ++d) {
        double o = 0;
        for (std::int64_t t = 0; t < n; ++t)
          o += w[static_cast<size_t>(t)] * c.kv[s][static_cast<size_t>(t * kQkDims + d)];
        r.out.push_back(o / sum);
      }
    }
  }
  return r;
}

struct Deviation {
  double out = 0, lse = 0;  // largest |diff| / largest |ref out|; largest |diff lse|
};

template <class A, class B>
Deviation deviation(const A& out, const A& lse, const B& ref_out, const B& ref_lse) {
  double largest = 0;
  for (double x : ref_out) largest = std::max(largest, std::fabs(x));
  Deviation d;
  for (size_t i = 0; i < ref_out.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(out[i]) - ref_out[i]);
    d.out = std::isnan(diff) ? INFINITY : std::max(d.out, diff / largest);
  }
  for (size_t i = 0; i < ref_lse.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(lse[i]) - ref_lse[i]);
    d.lse = std::isnan(diff) ? INFINITY : std::max(d.lse, diff);
  }
  return d;
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

TEST(PagedCache, LayoutAndNanSlots) {
  EXPECT_EQ(token_bytes(KvPrecision::kBf16), 1152);
  EXPECT_EQ(token_bytes(KvPrecision::kFp8), 656);
  const Case c = random_case({65, 3}, 1, 1);
  for (KvPrecision p : {KvPrecision::kBf16, KvPrecision::kFp8}) {
    const MlaCache cache = fill(p, c, 1);
    const PagedCache& pc = cache.paged;
    EXPECT_EQ(pc.max_pages, 2);
    EXPECT_EQ(pc.pages, 2 + 1 + 1);  // 66 tokens: 2 pages; 4 tokens: 1 page; 1 spare
    EXPECT_EQ(pc.used_bytes(), 68 * token_bytes(p));
    // The pool starts on a cache line, so the GQA kernels' 64-byte row loads (page and row
    // offsets multiples of 64 bytes) never straddle two lines.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(pc.pool.data()) % 64, 0u);
    std::vector<std::int32_t> ids;
    for (std::int32_t id : pc.block_table)
      if (id >= 0) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end()) << "a page given twice";
    // Written slots decode to finite values; the slot after each sequence decodes to NaN.
    std::vector<float> kv(static_cast<size_t>(kQkDims));
    decode_mla_token(p, pc.token(0, 64), kv.data());
    for (float x : kv) ASSERT_TRUE(std::isfinite(x));
    for (std::int64_t s : {0, 1}) {
      decode_mla_token(p, pc.token(s, pc.lengths[static_cast<size_t>(s)]), kv.data());
      for (float x : kv) ASSERT_TRUE(std::isnan(x)) << precision_name(p) << " seq " << s;
    }
  }
}

TEST(PagedCache, AppendPastCapacityIsAnError) {
  MlaCache cache = make_mla_cache(KvPrecision::kFp8, {2});
  const std::vector<float> kv(3 * kQkDims, 1.0f);
  append_tokens(cache, 0, kv.data(), 2);
  EXPECT_THROW(append_tokens(cache, 0, kv.data(), 1), cobench::Error);
  EXPECT_THROW(append_tokens(cache, 1, kv.data(), 1), cobench::Error);
}

TEST(PagedCache, Fp8TokenRoundTrip) {
  std::mt19937_64 rng(3);
  const std::vector<float> kv = random_floats(kQkDims, rng);
  std::vector<std::uint8_t> bytes(static_cast<size_t>(kFp8TokenBytes));
  encode_mla_token(KvPrecision::kFp8, kv.data(), bytes.data());
  std::vector<float> back(static_cast<size_t>(kQkDims));
  decode_mla_token(KvPrecision::kFp8, bytes.data(), back.data());
  for (std::int64_t g = 0; g < kLatentDims / kFp8ScaleGroup; ++g) {
    float amax = 0;
    for (std::int64_t i = g * 128; i < (g + 1) * 128; ++i)
      amax = std::max(amax, std::fabs(kv[static_cast<size_t>(i)]));
    for (std::int64_t i = g * 128; i < (g + 1) * 128; ++i) {
      const float x = kv[static_cast<size_t>(i)], y = back[static_cast<size_t>(i)];
      // Half an E4M3 ulp (2^-4 relative) for normals; subnormal steps are 2^-9 of the scale.
      ASSERT_LE(std::fabs(x - y), std::max(std::fabs(x) / 16, amax / 448 * 0x1p-9f)) << i;
    }
  }
  for (std::int64_t i = kLatentDims; i < kQkDims; ++i)
    EXPECT_EQ(back[static_cast<size_t>(i)],
              cobench::num::decode_bf16(cobench::num::encode_bf16(kv[static_cast<size_t>(i)])));
}

// Paged BF16 cache of BF16-exact values, queried with q = [W_UK^T q_nope; q_rope]: the paged
// reference, projected by W_UV, equals mla_absorbed_ref on the same contiguous cache.
TEST(MlaDecodeRef, PagedEqualsContiguousAbsorbed) {
  MlaShape s;
  s.heads = 8;
  const std::int64_t tokens = 130;  // three shuffled pages, the last partial
  std::mt19937_64 rng(11);
  auto bf16_round = [](std::vector<float> v) {
    for (float& x : v) x = cobench::num::decode_bf16(cobench::num::encode_bf16(x));
    return v;
  };
  const auto latent = bf16_round(random_floats(tokens * s.kv_lora, rng));
  const auto k_rope = bf16_round(random_floats(tokens * s.rope, rng));
  std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(512.0));
  MlaWeights w;
  for (auto* m : {&w.w_uk, &w.w_uv}) {
    m->resize(static_cast<size_t>(s.heads * 128 * s.kv_lora));
    for (double& x : *m) x = normal(rng);
  }
  const auto q_nope = to_double(random_floats(s.heads * s.nope, rng));
  const auto q_rope = to_double(random_floats(s.heads * s.rope, rng));
  const MlaOutput want =
      mla_absorbed_ref(s, w, q_nope, q_rope, to_double(latent), to_double(k_rope), tokens);

  MlaCache cache = make_mla_cache(KvPrecision::kBf16, {tokens}, 5);
  std::vector<float> kv(static_cast<size_t>(kQkDims));
  for (std::int64_t t = 0; t < tokens; ++t) {
    std::copy_n(latent.begin() + t * kLatentDims, kLatentDims, kv.begin());
    std::copy_n(k_rope.begin() + t * kRopeDims, kRopeDims, kv.begin() + kLatentDims);
    append_tokens(cache, 0, kv.data(), 1);
  }
  std::vector<double> q(static_cast<size_t>(s.heads * kQkDims), 0.0);
  for (std::int64_t h = 0; h < s.heads; ++h) {
    for (std::int64_t i = 0; i < s.nope; ++i)
      for (std::int64_t j = 0; j < s.kv_lora; ++j)
        q[static_cast<size_t>(h * kQkDims + j)] +=
            w.w_uk[static_cast<size_t>((h * s.nope + i) * s.kv_lora + j)] *
            q_nope[static_cast<size_t>(h * s.nope + i)];
    for (std::int64_t i = 0; i < s.rope; ++i)
      q[static_cast<size_t>(h * kQkDims + kLatentDims + i)] =
          q_rope[static_cast<size_t>(h * s.rope + i)];
  }
  const DecodeRef got = mla_decode_ref(cache, q, s.heads, s.scale());
  std::vector<double> out(static_cast<size_t>(s.heads * s.v), 0.0);
  for (std::int64_t h = 0; h < s.heads; ++h)
    for (std::int64_t i = 0; i < s.v; ++i)
      for (std::int64_t j = 0; j < s.kv_lora; ++j)
        out[static_cast<size_t>(h * s.v + i)] +=
            w.w_uv[static_cast<size_t>((h * s.v + i) * s.kv_lora + j)] *
            got.out[static_cast<size_t>(h * kVDims + j)];
  const Deviation d = deviation(out, got.lse, want.out, want.lse);
  EXPECT_LT(d.out, 1e-12);
  EXPECT_LT(d.lse, 1e-12);
}

// Hand-worked: q = 0 gives every token the weight 1/n, so magnitude_j = mean |v_tj| and
// out_j = mean v_tj; with a single token, magnitude = |v|.
TEST(MlaDecodeRef, MagnitudeIsTheSoftmaxWeightedAbsoluteValue) {
  MlaCache cache = make_mla_cache(KvPrecision::kBf16, {2, 1}, 3);
  std::vector<float> kv(static_cast<size_t>(2 * kQkDims), 0.0f);
  kv[0] = 1.0f, kv[1] = -2.0f, kv[kQkDims] = -3.0f, kv[kQkDims + 1] = 0.5f;  // tokens 0 and 1
  append_tokens(cache, 0, kv.data(), 2);
  append_tokens(cache, 1, kv.data() + kQkDims, 1);
  const DecodeRef r = mla_decode_ref(cache, std::vector<double>(2 * kQkDims, 0.0), 1, 0.1);
  ASSERT_EQ(r.magnitude.size(), static_cast<size_t>(2 * kVDims));
  EXPECT_DOUBLE_EQ(r.magnitude[0], 2.0);  // (1 + 3) / 2
  EXPECT_DOUBLE_EQ(r.out[0], -1.0);
  EXPECT_DOUBLE_EQ(r.magnitude[1], 1.25);  // (2 + 0.5) / 2
  EXPECT_DOUBLE_EQ(r.out[1], -0.75);
  EXPECT_DOUBLE_EQ(r.magnitude[2], 0.0);
  EXPECT_DOUBLE_EQ(r.magnitude[kVDims], 3.0);  // one token: |v|
  EXPECT_DOUBLE_EQ(r.magnitude[kVDims + 1], 0.5);
  EXPECT_DOUBLE_EQ(r.lse[0], std::log(2.0));
}

class MlaDecodeRagged : public ::testing::TestWithParam<KvPrecision> {};

// Ragged lengths, 128 heads: the quantized cache against exact FP64, then the CPU kernel on every
// ISA here (automatic splits; on the ISA kAuto picks also 1- and 3-page splits: the combine
// step), against the FP64 reference over the same cache.
TEST_P(MlaDecodeRagged, KernelsMeetTheReference) {
  const KvPrecision p = GetParam();
  const std::int64_t heads = 128;
  const double scale = deepseek_v3_softmax_scale();
  const Case c = random_case({1, 63, 64, 65, 4097}, heads, 21);
  const MlaCache cache = fill(p, c, 3);
  const DecodeRef ref = mla_decode_ref(cache, to_double(c.q), heads, scale);
  const DecodeRef exact = exact_decode(c, heads, scale);
  const Deviation dq = deviation(ref.out, ref.lse, exact.out, exact.lse);
  const bool bf16 = p == KvPrecision::kBf16;
  EXPECT_LT(dq.out, bf16 ? kBf16Out : kFp8Out) << precision_name(p) << " cache vs exact";
  EXPECT_LT(dq.lse, bf16 ? kBf16Lse : kFp8Lse) << precision_name(p) << " cache vs exact";
  std::printf("%s cache vs exact FP64: out %.3g, lse %.3g\n", precision_name(p), dq.out, dq.lse);

  std::vector<float> out(ref.out.size()), lse(ref.lse.size());
  for (CpuIsa isa : {CpuIsa::kPortable, CpuIsa::kAvx2, CpuIsa::kAvx512, CpuIsa::kAmx}) {
    if (!cpu_isa_supported(isa)) {
      std::printf("%s: not supported on this CPU, not run\n", cpu_isa_name(isa));
      continue;
    }
    // Every split size on the kernel kAuto picks, and on AVX-512 where that is AMX; automatic
    // splits elsewhere (keeps the sanitizer build's run short).
    const bool all =
        isa == best_cpu_isa() || (isa == CpuIsa::kAvx512 && best_cpu_isa() == CpuIsa::kAmx);
    const std::vector<std::int64_t> splits =
        all ? std::vector<std::int64_t>{0, 1, 3} : std::vector<std::int64_t>{0};
    for (std::int64_t split : splits) {
      std::fill(out.begin(), out.end(), NAN);
      mla_decode_cpu(cache, c.q.data(), heads, static_cast<float>(scale), out.data(), lse.data(),
                     {2, isa, split});
      const Deviation d = deviation(out, lse, ref.out, ref.lse);
      EXPECT_LT(d.out, kKernelOut) << cpu_isa_name(isa) << " split " << split;
      EXPECT_LT(d.lse, isa == CpuIsa::kAmx ? kAmxLse : kKernelLse)
          << cpu_isa_name(isa) << " split " << split;
      std::printf("%s %s split %lld: out %.3g, lse %.3g\n", precision_name(p), cpu_isa_name(isa),
                  static_cast<long long>(split), d.out, d.lse);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Precisions, MlaDecodeRagged,
                         ::testing::Values(KvPrecision::kBf16, KvPrecision::kFp8),
                         [](const auto& param_info) {
                           return std::string(precision_name(param_info.param));
                         });

#if defined(__x86_64__)
// The AMX path's own shapes: 20 and 100 heads (padded to 32 and 128 inside), lengths that end a
// 4-page pass early or mid-page (1, 31 and 33 tokens: one or two 32-token steps; 300: a pass of
// 4 pages and one of 1), splits of 1, 2 and 5 pages; the caller's MXCSR control bits (FTZ, DAZ,
// rounding) are left as they were (its sticky status flags are not compared).
TEST(MlaDecodeCpu, AmxMeetsTheReferenceOnRaggedPasses) {
  if (!cpu_isa_supported(CpuIsa::kAmx)) GTEST_SKIP() << "this CPU or OS has no AMX-BF16";
  for (const std::int64_t heads : {20, 100})
    for (KvPrecision p : {KvPrecision::kBf16, KvPrecision::kFp8}) {
      const double scale = deepseek_v3_softmax_scale();
      const Case c = random_case({1, 31, 33, 64, 300}, heads, 33);
      const MlaCache cache = fill(p, c, 2);
      const DecodeRef ref = mla_decode_ref(cache, to_double(c.q), heads, scale);
      std::vector<float> out(ref.out.size()), lse(ref.lse.size());
      for (std::int64_t split : {0, 1, 2, 5}) {
        std::fill(out.begin(), out.end(), NAN);
        const unsigned csr = _mm_getcsr();
        mla_decode_cpu(cache, c.q.data(), heads, static_cast<float>(scale), out.data(), lse.data(),
                       {1, CpuIsa::kAmx, split});
        EXPECT_EQ(_mm_getcsr() & ~0x3Fu, csr & ~0x3Fu);
        const Deviation d = deviation(out, lse, ref.out, ref.lse);
        EXPECT_LT(d.out, kKernelOut)
            << precision_name(p) << " heads " << heads << " split " << split;
        EXPECT_LT(d.lse, kAmxLse) << precision_name(p) << " heads " << heads << " split " << split;
        std::printf("%s amx-bf16 heads %lld split %lld: out %.3g, lse %.3g\n", precision_name(p),
                    static_cast<long long>(heads), static_cast<long long>(split), d.out, d.lse);
      }
    }
}
// The AMX path reads FP8 codes as BF16 (scales applied apart): every one of the 256 codes equal
// bit for bit to num::decode_fp8's value (exact in BF16: the low 16 bits of its float are zero),
// NaN for both NaN codes.
TEST(MlaDecodeCpu, AmxE4m3ToBf16MatchesTheCodecOnEveryCode) {
  if (!cpu_isa_supported(CpuIsa::kAmx)) GTEST_SKIP() << "this CPU or OS has no AMX-BF16";
  std::vector<std::uint8_t> codes(256);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i * 7 + 3);
  std::vector<std::uint16_t> out(256);
  detail::e4m3_to_bf16_amx(codes.data(), 256, out.data());
  for (size_t i = 0; i < codes.size(); ++i) {
    const float want = cobench::num::decode_fp8(codes[i], cobench::num::Fp8Format::kE4M3);
    const std::uint32_t bits = static_cast<std::uint32_t>(out[i]) << 16;
    float got;
    std::memcpy(&got, &bits, 4);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(got)) << "code " << int{codes[i]};
    else
      EXPECT_EQ(cobench::num::float_bits(got), cobench::num::float_bits(want))
          << "code " << int{codes[i]};
  }
}
#endif

// The FP8 cache's decode step on every ISA this CPU runs: all 256 E4M3 codes (normals,
// subnormals, both zeros, both NaNs) times several scales, in runs whose length exercises the
// vector body and its tail, equal bit for bit to num::decode_fp8 times the scale (NaN for NaN).
TEST(MlaDecodeCpu, E4m3DecodeMatchesTheCodecOnEveryCode) {
  std::vector<std::uint8_t> codes(256 + 13);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i * 7 + 3);
  for (CpuIsa isa : {CpuIsa::kPortable, CpuIsa::kAvx2, CpuIsa::kAvx512}) {
    if (!cpu_isa_supported(isa)) continue;
    const auto kernels = detail::tile_kernels(isa);
    for (float scale : {1.0f, 0.3711f, 1.0f / 448, 1e-30f})
      for (std::int64_t n : {std::int64_t{256}, std::int64_t{269}, std::int64_t{5}}) {
        std::vector<float> out(static_cast<size_t>(n) + 1, 12345.0f);
        kernels.e4m3_to_float(codes.data(), n, scale, out.data());
        for (std::int64_t i = 0; i < n; ++i) {
          const std::uint8_t code = codes[static_cast<size_t>(i)];
          const float want = cobench::num::decode_fp8(code, cobench::num::Fp8Format::kE4M3) * scale;
          const float got = out[static_cast<size_t>(i)];
          if (std::isnan(want))
            ASSERT_TRUE(std::isnan(got)) << cpu_isa_name(isa) << " code " << int{code};
          else
            ASSERT_EQ(cobench::num::float_bits(got), cobench::num::float_bits(want))
                << cpu_isa_name(isa) << " code " << int{code} << " scale " << scale;
        }
        ASSERT_EQ(out[static_cast<size_t>(n)], 12345.0f) << cpu_isa_name(isa) << ": wrote past n";
      }
  }
}

// The AMX kernel reads NaN-filled slots as the others do: 20 heads, a length 5 past the 65
// written tokens (a partial page) and one of 64 over 60 (a whole page read from the pool).
TEST(MlaDecodeCpu, AmxOutOfBoundsReadsGiveNan) {
  if (!cpu_isa_supported(CpuIsa::kAmx)) GTEST_SKIP() << "this CPU or OS has no AMX-BF16";
  for (KvPrecision p : {KvPrecision::kBf16, KvPrecision::kFp8})
    for (const auto& [written, length] : {std::pair{65, 70}, std::pair{60, 64}}) {
      const Case c = random_case({written}, 20, 2);
      MlaCache cache = fill(p, c, 10);
      cache.paged.lengths[0] = length;
      std::vector<float> out(20 * kVDims), lse(20);
      mla_decode_cpu(cache, c.q.data(), 20, 0.1f, out.data(), lse.data(), {1, CpuIsa::kAmx});
      for (float x : out) ASSERT_TRUE(std::isnan(x)) << precision_name(p) << " " << length;
    }
}

// A length past what was written reads NaN-filled slots: the output is NaN, so a check fails.
TEST(MlaDecodeCpu, OutOfBoundsReadsGiveNan) {
  for (KvPrecision p : {KvPrecision::kBf16, KvPrecision::kFp8}) {
    const Case c = random_case({65}, 4, 2);
    MlaCache cache = fill(p, c, 10);
    cache.paged.lengths[0] = 70;
    std::vector<float> out(4 * kVDims), lse(4);
    mla_decode_cpu(cache, c.q.data(), 4, 0.1f, out.data(), lse.data(), {1});
    for (float x : out) ASSERT_TRUE(std::isnan(x)) << precision_name(p);
  }
}

TEST(MlaDecodeCpu, BadArgumentsAreErrors) {
  MlaCache cache = make_mla_cache(KvPrecision::kBf16, {4});
  std::vector<float> q(kQkDims), out(kVDims), lse(1);
  EXPECT_THROW(mla_decode_cpu(cache, q.data(), 1, 0.1f, out.data(), lse.data()), cobench::Error);
  EXPECT_THROW(mla_decode_ref(cache, std::vector<double>(kQkDims), 1, 0.1), cobench::Error);
}

// A length past what the block table maps (one 64-token page here) is an error before any read,
// in the kernel and in the reference (which would otherwise index the table out of its row).
TEST(MlaDecodeCpu, LengthPastTheBlockTableIsAnError) {
  MlaCache cache = make_mla_cache(KvPrecision::kBf16, {4});
  std::vector<float> kv(4 * kQkDims, 0.5f), q(kQkDims, 0.1f), out(kVDims), lse(1);
  append_tokens(cache, 0, kv.data(), 4);
  cache.paged.lengths[0] = 65;
  try {
    mla_decode_cpu(cache, q.data(), 1, 0.1f, out.data(), lse.data());
    ADD_FAILURE() << "no error";
  } catch (const cobench::Error& e) {
    EXPECT_NE(std::string(e.what()).find("sequence 0 has 65 tokens"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(mla_decode_ref(cache, std::vector<double>(kQkDims), 1, 0.1), cobench::Error);
  cache.paged.lengths[0] = 64;  // within the page: unwritten slots are NaN, not an error
  mla_decode_cpu(cache, q.data(), 1, 0.1f, out.data(), lse.data());
  EXPECT_TRUE(std::isnan(out[0]));
  cache.paged.block_table[0] = -1;
  EXPECT_THROW(mla_decode_cpu(cache, q.data(), 1, 0.1f, out.data(), lse.data()), cobench::Error);
}

}  // namespace
