// SPDX-License-Identifier: Apache-2.0
#include "kernels/mla/paged_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>

#include "core/error.h"
#include "kernels/numerics/fp8.h"

namespace cobench::mla {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

const char* precision_name(KvPrecision p) { return p == KvPrecision::kBf16 ? "bf16" : "fp8"; }

std::int64_t token_bytes(KvPrecision p) {
  return p == KvPrecision::kBf16 ? kBf16TokenBytes : kFp8TokenBytes;
}

std::int64_t PagedCache::used_bytes() const {
  std::int64_t tokens = 0;
  for (std::int64_t n : lengths) tokens += n;
  return tokens * token_bytes;
}

void PagedCache::check_sequence(std::int64_t seq) const {
  COBENCH_CHECK(seq >= 0 && seq < batch(),
                fmt::format("no sequence {} (the cache holds {})", seq, batch()));
  const std::int64_t n = lengths[static_cast<size_t>(seq)];
  COBENCH_CHECK(n >= 1, fmt::format("sequence {} has no cached token", seq));
  COBENCH_CHECK((n + page_tokens - 1) / page_tokens <= max_pages,
                fmt::format("sequence {} has {} tokens, more than a block table row of {} pages "
                            "can map",
                            seq, n, max_pages));
  for (std::int64_t i = 0; i < (n + page_tokens - 1) / page_tokens; ++i) {
    const std::int32_t page = block_table[static_cast<size_t>(seq * max_pages + i)];
    COBENCH_CHECK(page >= 0 && page < pages,
                  fmt::format("sequence {} has {} tokens, but block table entry {} is page {}, "
                              "not one of the pool's {} pages",
                              seq, n, i, page, pages));
  }
}

PagedCache make_paged_cache(std::int64_t token_bytes, const std::vector<std::int64_t>& capacity,
                            std::int64_t page_tokens, std::int64_t spare_pages,
                            std::uint64_t seed) {
  COBENCH_CHECK(token_bytes > 0 && page_tokens > 0 && spare_pages >= 0,
                "token size, page size and spare pages must be positive");
  PagedCache c;
  c.page_tokens = page_tokens;
  c.token_bytes = token_bytes;
  c.capacity = capacity;
  c.lengths.assign(capacity.size(), 0);
  std::int64_t used = 0;
  for (std::int64_t n : capacity) {
    COBENCH_CHECK(n >= 0, fmt::format("a sequence's capacity must be >= 0, not {}", n));
    const std::int64_t p = (n + page_tokens - 1) / page_tokens;
    c.max_pages = std::max(c.max_pages, p);
    used += p;
  }
  c.max_pages = std::max<std::int64_t>(c.max_pages, 1);
  c.pages = used + spare_pages;
  COBENCH_CHECK(c.pages < (std::int64_t{1} << 31), "too many pages for 32-bit page ids");
  c.pool.assign(static_cast<size_t>(c.pages * page_tokens * token_bytes), 0xFF);  // NaN
  std::vector<std::int32_t> order(static_cast<size_t>(c.pages));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  c.block_table.assign(static_cast<size_t>(c.batch() * c.max_pages), -1);
  size_t next = 0;
  for (std::int64_t s = 0; s < c.batch(); ++s)
    for (std::int64_t i = 0; i * page_tokens < capacity[static_cast<size_t>(s)]; ++i)
      c.block_table[static_cast<size_t>(s * c.max_pages + i)] = order[next++];
  return c;
}

MlaCache make_mla_cache(KvPrecision p, const std::vector<std::int64_t>& capacity,
                        std::uint64_t seed) {
  return MlaCache{p, make_paged_cache(token_bytes(p), capacity, kPageTokens, 1, seed)};
}

void encode_mla_token(KvPrecision p, const float* kv, std::uint8_t* out) {
  if (p == KvPrecision::kBf16) {
    for (std::int64_t i = 0; i < kQkDims; ++i) {
      const std::uint16_t b = num::encode_bf16(kv[i]);
      std::memcpy(out + 2 * i, &b, 2);
    }
    return;
  }
  std::uint8_t* scales = out + kLatentDims;
  for (std::int64_t g = 0; g < kLatentDims / kFp8ScaleGroup; ++g) {
    float amax = 0;
    for (std::int64_t i = g * kFp8ScaleGroup; i < (g + 1) * kFp8ScaleGroup; ++i)
      amax = std::max(amax, std::fabs(kv[i]));
    const float scale = amax > 0 ? amax / 448.0f : 1.0f;
    std::memcpy(scales + 4 * g, &scale, 4);
    for (std::int64_t i = g * kFp8ScaleGroup; i < (g + 1) * kFp8ScaleGroup; ++i)
      out[i] = num::encode_fp8(kv[i] / scale, num::Fp8Format::kE4M3, num::Overflow::kSaturate);
  }
  std::uint8_t* rope = scales + 4 * (kLatentDims / kFp8ScaleGroup);
  for (std::int64_t i = 0; i < kRopeDims; ++i) {
    const std::uint16_t b = num::encode_bf16(kv[kLatentDims + i]);
    std::memcpy(rope + 2 * i, &b, 2);
  }
}

void decode_mla_token(KvPrecision p, const std::uint8_t* in, float* kv) {
  auto bf16_at = [](const std::uint8_t* b) {
    std::uint16_t bits;
    std::memcpy(&bits, b, 2);
    return num::decode_bf16(bits);
  };
  if (p == KvPrecision::kBf16) {
    for (std::int64_t i = 0; i < kQkDims; ++i) kv[i] = bf16_at(in + 2 * i);
    return;
  }
  const std::uint8_t* scales = in + kLatentDims;
  for (std::int64_t i = 0; i < kLatentDims; ++i) {
    float scale;
    std::memcpy(&scale, scales + 4 * (i / kFp8ScaleGroup), 4);
    kv[i] = num::decode_fp8(in[i], num::Fp8Format::kE4M3) * scale;
  }
  const std::uint8_t* rope = scales + 4 * (kLatentDims / kFp8ScaleGroup);
  for (std::int64_t i = 0; i < kRopeDims; ++i) kv[kLatentDims + i] = bf16_at(rope + 2 * i);
}

void append_tokens(MlaCache& c, std::int64_t seq, const float* kv, std::int64_t n) {
  PagedCache& p = c.paged;
  COBENCH_CHECK(seq >= 0 && seq < p.batch(), fmt::format("no sequence {}", seq));
  std::int64_t& len = p.lengths[static_cast<size_t>(seq)];
  COBENCH_CHECK(n >= 0 && len + n <= p.capacity[static_cast<size_t>(seq)],
                fmt::format("sequence {} holds {} tokens: cannot append {} to {}", seq,
                            p.capacity[static_cast<size_t>(seq)], n, len));
  for (std::int64_t i = 0; i < n; ++i, ++len)
    encode_mla_token(c.precision, kv + i * kQkDims, p.token(seq, len));
}

void fill_random(MlaCache& c, std::uint64_t seed, int threads) {
  PagedCache& p = c.paged;
  std::vector<std::pair<std::int64_t, std::int64_t>> work;  // (seq, first token) per page
  for (std::int64_t s = 0; s < p.batch(); ++s)
    for (std::int64_t t = 0; t < p.capacity[static_cast<size_t>(s)]; t += p.page_tokens)
      work.emplace_back(s, t);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto worker = [&](int id) {
    std::vector<float> kv(static_cast<size_t>(kQkDims));
    for (size_t w = static_cast<size_t>(id); w < work.size(); w += static_cast<size_t>(threads)) {
      const auto [s, t0] = work[w];
      const std::int64_t t1 = std::min(p.capacity[static_cast<size_t>(s)], t0 + p.page_tokens);
      for (std::int64_t t = t0; t < t1; ++t) {
        // Uniform on [-sqrt 3, sqrt 3): mean 0, variance 1.
        std::uint64_t state = splitmix64(seed ^ (static_cast<std::uint64_t>(s) << 40) ^
                                         static_cast<std::uint64_t>(t));
        for (float& x : kv) {
          state = splitmix64(state);
          x = (static_cast<float>(state >> 40) * 0x1p-24f - 0.5f) * 3.4641016f;
        }
        encode_mla_token(c.precision, kv.data(), p.token(s, t));
      }
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker, i);
  worker(0);
  for (auto& th : pool) th.join();
  p.lengths = p.capacity;
}

std::vector<std::int64_t> benchmark_cache_capacities(std::int64_t batch, std::int64_t context,
                                                     std::int64_t nan_slots) {
  COBENCH_CHECK(batch >= 1 && context >= 1 && nan_slots >= 0,
                fmt::format("a benchmark cache needs batch >= 1, context >= 1 and nan_slots >= 0, "
                            "got {}, {}, {}",
                            batch, context, nan_slots));
  return std::vector<std::int64_t>(static_cast<size_t>(batch), context + nan_slots);
}

MlaCache make_benchmark_cache(KvPrecision p, std::int64_t batch, std::int64_t context,
                              std::int64_t nan_slots, std::uint64_t seed) {
  MlaCache c = make_mla_cache(p, benchmark_cache_capacities(batch, context, nan_slots));
  fill_random(c, seed);
  for (std::int64_t s = 0; s < batch; ++s) {
    for (std::int64_t t = context; t < context + nan_slots; ++t)
      std::memset(c.paged.token(s, t), 0xFF, static_cast<size_t>(c.paged.token_bytes));
    c.paged.lengths[static_cast<size_t>(s)] = context;
  }
  return c;
}

std::vector<double> gather_sequence(const MlaCache& c, std::int64_t seq) {
  const PagedCache& p = c.paged;
  p.check_sequence(seq);
  const std::int64_t n = p.lengths[static_cast<size_t>(seq)];
  std::vector<double> out(static_cast<size_t>(n * kQkDims));
  std::vector<float> kv(static_cast<size_t>(kQkDims));
  for (std::int64_t t = 0; t < n; ++t) {
    decode_mla_token(c.precision, p.token(seq, t), kv.data());
    std::copy(kv.begin(), kv.end(), out.begin() + t * kQkDims);
  }
  return out;
}

}  // namespace cobench::mla
