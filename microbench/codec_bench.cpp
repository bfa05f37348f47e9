// SPDX-License-Identifier: Apache-2.0
// cobench_bench_codecs: the formats a MoE combine payload can travel in (paper section 3.2,
// kernels/codec/combine_codecs.h), measured two ways.
//   BM_CombineAccuracy/codec/payload  64 tokens x top-8 synthetic expert outputs of hidden 7168,
//       weighted, round-tripped, summed in FP32 against FP64: counters partial_rel_l2,
//       max_tile_rel, combined_rel_l2, combined_bias, bytes_per_token. Verified first: every
//       tile's error within the format's bound (max_tile_error_bound).
//   BM_CodecRoundTrip/codec  encode + decode of 64 x 7168 values on one core (the scalar
//       reference codecs): input_bytes_per_s (FP32 read), encoded_bytes_per_s, and the cores
//       that rate needs to feed a 50 GB/s NIC.
//   BM_CodecRoundTripFast/codec/isa  the same through the fast codecs (combine_codecs_simd.h) on
//       every ISA path this CPU has; verified first: every output bit for bit equal to the
//       reference's.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <vector>

#include "kernels/codec/combine_codecs.h"
#include "kernels/codec/combine_codecs_simd.h"
#include "microbench/bench_main.h"

namespace {

using namespace cobench::codec;

constexpr std::int64_t kTokens = 64, kHidden = 7168;
constexpr int kTopK = 8;
constexpr std::uint64_t kSeed = 2505;
constexpr double kNicBytesPerS = 50e9;  // a 400 Gb/s NIC (ConnectX-7), as the paper's H800 nodes

void BM_CombineAccuracy(benchmark::State& state, CombineCodec c, Payload p) try {
  CombineError e;
  for (auto _ : state) e = combine_error(c, p, kTokens, kHidden, kTopK, kSeed);
  const double bound = max_tile_error_bound(c);
  if (!(e.partial_max_tile_rel <= bound)) {
    state.SkipWithError(fmt::format("verification failed: a tile's error {:.4g} of its largest "
                                    "value exceeds the format's bound {:.4g}",
                                    e.partial_max_tile_rel, bound)
                            .c_str());
    return;
  }
  state.counters["partial_rel_l2"] = e.partial_rel_l2;
  state.counters["max_tile_rel"] = e.partial_max_tile_rel;
  state.counters["combined_rel_l2"] = e.combined_rel_l2;
  state.counters["combined_bias"] = e.combined_bias;
  state.counters["bytes_per_token"] = e.bytes_per_token;
  state.SetLabel(
      fmt::format("verified: every tile within {:.4g} of its largest value; {} tokens "
                  "x top-{} of hidden {}, seed {}",
                  bound, kTokens, kTopK, kHidden, kSeed));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

// This thread's CPU time in seconds: the per-core rates below are what a core given to the codec
// does, however loaded the machine is (google-benchmark's own rates are CPU-time rates too).
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// FP32 bytes read and encoded bytes a second, and the cores (this run's one-core rate) a 50 GB/s
// NIC needs: a plain count, from the CPU time used since `start_cpu_s`.
void set_rate_counters(benchmark::State& state, CombineCodec c, double start_cpu_s) {
  const double seconds = thread_cpu_seconds() - start_cpu_s;
  const double values = static_cast<double>(kTokens * kHidden);
  const double encoded = payload_bytes(c, kHidden) * kTokens;
  state.counters["input_bytes_per_s"] =
      benchmark::Counter(4 * values, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["encoded_bytes_per_s"] =
      benchmark::Counter(encoded, benchmark::Counter::kIsIterationInvariantRate);
  // Cores to keep a 50 GB/s NIC busy: its rate over one core's encoded bytes a second.
  const double per_core = encoded * static_cast<double>(state.iterations()) / seconds;
  state.counters["cores_for_50GBps"] = kNicBytesPerS / per_core;
}

void BM_CodecRoundTrip(benchmark::State& state, CombineCodec c) try {
  const std::vector<float> x = payload_rows(Payload::kGaussian, kTokens, kHidden, kSeed);
  std::vector<float> y(x.size());
  for (std::int64_t r = 0; r < kTokens; ++r)
    round_trip(c, &x[r * kHidden], kHidden, &y[r * kHidden]);
  // Every tile of the first and last rows within the format's bound of its largest value.
  for (std::int64_t r : {std::int64_t{0}, kTokens - 1})
    for (std::int64_t b = r * kHidden; b < (r + 1) * kHidden; b += 128) {
      float amax = 0, emax = 0;
      for (std::int64_t i = b; i < b + 128; ++i) {
        amax = std::max(amax, std::fabs(x[i]));
        emax = std::max(emax, std::fabs(y[i] - x[i]));
      }
      if (!(emax <= max_tile_error_bound(c) * amax)) {
        state.SkipWithError(fmt::format("verification failed: row {}, a tile's error {} exceeds "
                                        "the bound of its largest value {}",
                                        r, emax, amax)
                                .c_str());
        return;
      }
    }
  const double start_cpu_s = thread_cpu_seconds();
  for (auto _ : state) {
    for (std::int64_t r = 0; r < kTokens; ++r)
      round_trip(c, &x[r * kHidden], kHidden, &y[r * kHidden]);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate_counters(state, c, start_cpu_s);
  state.SetLabel(
      fmt::format("verified: two rows' tiles within the format's bound; one core, "
                  "scalar reference codecs, encode + decode of {} x {} FP32 values",
                  kTokens, kHidden));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void BM_CodecRoundTripFast(benchmark::State& state, CombineCodec c, CodecIsa isa) try {
  const std::vector<float> x = payload_rows(Payload::kGaussian, kTokens, kHidden, kSeed);
  const auto n = static_cast<std::int64_t>(x.size());
  std::vector<float> want(x.size()), y(x.size());
  // Row by row, as BM_CodecRoundTrip: every bit the same as the reference's.
  for (std::int64_t r = 0; r < kTokens; ++r) {
    round_trip(c, &x[r * kHidden], kHidden, &want[r * kHidden]);
    round_trip_fast(c, &x[r * kHidden], kHidden, &y[r * kHidden], isa);
  }
  if (std::memcmp(want.data(), y.data(), x.size() * sizeof(float)) != 0) {
    state.SkipWithError("verification failed: the fast codec's output differs from the reference");
    return;
  }
  const double start_cpu_s = thread_cpu_seconds();
  for (auto _ : state) {
    for (std::int64_t r = 0; r < kTokens; ++r)
      round_trip_fast(c, &x[r * kHidden], kHidden, &y[r * kHidden], isa);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate_counters(state, c, start_cpu_s);
  state.SetLabel(
      fmt::format("verified: bit for bit the reference's {} outputs; one core, {}, "
                  "encode + decode of {} x {} FP32 values",
                  n, to_string(isa), kTokens, kHidden));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void register_all() {
  for (CombineCodec c : kAllCombineCodecs)
    for (Payload p : kAllPayloads)
      benchmark::RegisterBenchmark(
          fmt::format("BM_CombineAccuracy/codec:{}/payload:{}", to_string(c), to_string(p)).c_str(),
          BM_CombineAccuracy, c, p)
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond);
  for (CombineCodec c : kAllCombineCodecs)
    benchmark::RegisterBenchmark(fmt::format("BM_CodecRoundTrip/codec:{}", to_string(c)).c_str(),
                                 BM_CodecRoundTrip, c)
        ->Unit(benchmark::kMillisecond);
  for (CombineCodec c : kAllCombineCodecs)
    for (CodecIsa isa : kAllCodecIsas)
      if (codec_isa_supported(isa))  // paths this CPU lacks are not registered
        benchmark::RegisterBenchmark(
            fmt::format("BM_CodecRoundTripFast/codec:{}/isa:{}", to_string(c), to_string(isa))
                .c_str(),
            BM_CodecRoundTripFast, c, isa)
            ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  if (const int usage = cobench::bench::initialize_benchmarks(argc, argv, "cobench_bench_codecs"))
    return usage;
  const int status = cobench::bench::run_registered_benchmarks("cobench_bench_codecs");
  benchmark::Shutdown();
  return status;
}
