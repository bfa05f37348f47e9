// SPDX-License-Identifier: Apache-2.0
// KV-cache memory tiers on the host: STREAM-style read/write/copy/triad over every core (pinned
// through hwloc, each slice bound to its core's NUMA node) and on one core (the setting of
// Debian's mbw, see microbench/memory_vs_mbw.sh), the paged KV gather by block table across page
// sizes, and the read of a KV-sized file in file order with one or 8 requests in flight (O_DIRECT
// where the file system allows it). Each verifies
// the data it moved before timing and again after it, on one more pass: the streams and the
// gather into outputs poisoned first (so the check needs that pass), the storage read verified
// word for word. A bad COBENCH_HOST_MEMORY_PEAK or COBENCH_STORAGE_DIR ends the binary at start
// (exit 2); an exception while a benchmark runs (a full disk, say) becomes that benchmark's error
// and the run goes on, to exit 1 at its end. Bandwidths are decimal (1 GB/s = 1e9 B/s); the streams
// report `peak_fraction` of the host memory peak when one is known ($COBENCH_HOST_MEMORY_PEAK, else
// SMBIOS; core/sysinfo/host_memory_peak.h), and the label says where it came from or why there is
// none. The all-core 512 MiB streams carry `model_input: cpu.memory_bandwidth` and the 16K-token 1
// MiB storage reads `model_input: storage.read_bandwidth` for `cobench analyze --measured`.
//   cobench_bench_memory --benchmark_filter=HostStream --benchmark_repetitions=5
//   COBENCH_HOST_MEMORY_PEAK='204.8 GB/s' cobench_bench_memory --benchmark_filter=HostStream
//   COBENCH_STORAGE_DIR=/mnt/nvme cobench_bench_memory --benchmark_filter=StorageRead
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/nvtx.h"
#include "core/sysinfo/host_memory_peak.h"
#include "core/units.h"
#include "kernels/memory/host_stream.h"
#include "kernels/memory/kv_gather.h"
#include "kernels/memory/storage_read.h"
#include "microbench/bench_main.h"
#include "microbench/bench_metadata.h"

namespace {

using namespace cobench;
using namespace cobench::memory;

constexpr std::int64_t kMlaFp8TokenBytes = 656;  // kernels/mla/paged_cache.h
constexpr std::int64_t kDeepSeekV3Layers = 61;

// Every body below is a function-try-block: an exception (a bad setting, an unusable directory)
// becomes that benchmark's error and the run goes on.

// The host memory peak, read once per run (environment, else SMBIOS); a bad
// COBENCH_HOST_MEMORY_PEAK throws here, inside each stream benchmark's try.
const sysinfo::HostMemoryPeakReading& host_memory_peak() {
  static const sysinfo::HostMemoryPeakReading peak = sysinfo::read_host_memory_peak();
  return peak;
}

void BM_HostStream(benchmark::State& state, StreamOp op, std::int64_t mib, int threads,
                   bool model) try {
  const sysinfo::HostMemoryPeakReading& peak = host_memory_peak();
  HostStream s(static_cast<std::size_t>(mib) << 20, threads);
  s.run(op);
  if (const std::string e = s.verify(op); !e.empty()) {
    bench::fail_verification(state, "verification failed: " + e);
    return;
  }
  {
    NvtxRange range("BM_HostStream");
    for (auto _ : state) benchmark::DoNotOptimize(s.run(op));
  }
  s.clear_outputs();  // the check below must see this pass's output, not an earlier one's
  s.run(op);
  if (const std::string e = s.verify(op); !e.empty()) {
    bench::fail_verification(state, "verification failed after timing: " + e);
    return;
  }
  const double bytes = static_cast<double>(s.bytes_per_pass(op));
  state.counters["memory_bytes_per_s"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  if (peak.peak)
    state.counters["peak_fraction"] = benchmark::Counter(
        bytes / peak.peak->bandwidth.value, benchmark::Counter::kIsIterationInvariantRate);
  const std::string of_peak =
      peak.peak ? fmt::format("peak {} from {}", format_bandwidth(peak.peak->bandwidth, 4),
                              peak.peak->source)
                : "peak unknown: " + peak.unavailable;
  const std::string kernel =
      op == StreamOp::kCopy ? "copy by " + s.copy_choice() : fmt::format("{} kernel", s.kernel());
  const std::string what = fmt::format(
      "{} over {} B per array, {} threads {}, {}, {}; "
      "{} B counted per element; {}; 1 GB/s = 1e9 B/s",
      stream_op_name(op), s.elements() * 8, s.threads(), s.pinned(), s.placement(), kernel,
      stream_bytes_per_element(op), of_peak);
  state.SetLabel("verified: " + what);
  bench::Metadata md = bench::verified(what);
  if (model) md.model_input = "cpu.memory_bandwidth";
  md.parameters = {{"op", std::string(stream_op_name(op))}, {"mib", mib}, {"threads", s.threads()}};
  if (peak.peak)
    md.peaks.push_back({"memory_bytes_per_s", "host memory peak (" + peak.peak->source + ")",
                        peak.peak->bandwidth.value});
  bench::report(state, std::move(md));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

void BM_KvGather(benchmark::State& state) try {
  const std::int64_t page_tokens = state.range(0), token_bytes = state.range(1);
  const std::int64_t page_bytes = page_tokens * token_bytes;
  const std::int64_t pages = (std::int64_t{256} << 20) / page_bytes;  // 256 MiB gathered
  KvGather g = make_kv_gather(page_bytes, pages);
  if (const std::string e = verify_gather(g); !e.empty()) {
    bench::fail_verification(state, "verification failed: " + e);
    return;
  }
  {
    NvtxRange range("BM_KvGather");
    for (auto _ : state) {
      gather(g);
      benchmark::ClobberMemory();
    }
  }
  clear_gather_output(g);  // the check below must see this gather's output
  gather(g);
  if (const std::string e = verify_gather(g); !e.empty()) {
    bench::fail_verification(state, "verification failed after timing: " + e);
    return;
  }
  state.counters["gathered_bytes_per_s"] = benchmark::Counter(
      static_cast<double>(g.gathered_bytes()), benchmark::Counter::kIsIterationInvariantRate);
  const std::string what = fmt::format(
      "{} pages of {} B by a shuffled block table; each byte "
      "read once and written once, counted once; 1 GB/s = 1e9 B/s",
      pages, page_bytes);
  state.SetLabel("verified: " + what);
  bench::Metadata md = bench::verified(what);
  md.parameters = {{"page_tokens", page_tokens}, {"token_bytes", token_bytes}};
  bench::report(state, std::move(md));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}
BENCHMARK(BM_KvGather)
    ->ArgNames({"page_tokens", "token_bytes"})
    ->ArgsProduct({{16, 64, 256, 1024}, {kMlaFp8TokenBytes}})
    ->Args({64, 1152})  // the MLA BF16 cache
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The KV of a `tokens` prefix of DeepSeek-V3 (61 layers x 656 B FP8 MLA cache per token). The
// 16K 1 MiB reads carry `model_input: storage.read_bandwidth`; where O_DIRECT is refused (the page
// cache) or the file is on tmpfs (memory), the label withholds it from the model (not "verified").
void BM_StorageRead(benchmark::State& state, std::int64_t tokens, std::int64_t block_kib,
                    int queue_depth, bool model) try {
  const std::int64_t block = block_kib << 10;
  const KvFile f(storage_dir(), tokens * kDeepSeekV3Layers * kMlaFp8TokenBytes);
  const StorageRead first = read_kv_file(f, block, true, queue_depth);
  if (!first.error.empty()) {
    bench::fail_verification(state, "verification failed: " + first.error);
    return;
  }
  std::string mode = first.mode;
  {
    NvtxRange range("BM_StorageRead");
    for (auto _ : state) {
      const StorageRead r = read_kv_file(f, block, false, queue_depth);
      state.SetIterationTime(r.seconds);
      mode = r.mode;
    }
  }
  if (const StorageRead last = read_kv_file(f, block, true, queue_depth); !last.error.empty()) {
    bench::fail_verification(state, "verification failed after timing: " + last.error);
    return;
  }
  state.counters["read_bytes_per_s"] = benchmark::Counter(
      static_cast<double>(f.bytes()), benchmark::Counter::kIsIterationInvariantRate);
  const std::string detail =
      fmt::format("{} B file in {}, {} KiB blocks, {} in flight, {}; 1 GB/s = 1e9 B/s", f.bytes(),
                  storage_dir(), block_kib, queue_depth, mode);
  const bool withheld = model && mode != "O_DIRECT";
  state.SetLabel(withheld ? "withheld from the model (not an O_DIRECT read of storage); data "
                            "verified: " +
                                detail
                          : "verified: " + detail);
  // The data is verified either way; only an O_DIRECT read measures storage for the model.
  bench::Metadata md = bench::verified(
      withheld ? "withheld from the model (not an O_DIRECT read of storage): " + detail : detail);
  if (model && !withheld) md.model_input = "storage.read_bandwidth";
  md.parameters = {{"tokens", tokens}, {"block_kib", block_kib}, {"queue_depth", queue_depth}};
  bench::report(state, std::move(md));
} catch (const std::exception& e) {
  state.SkipWithError(e.what());
}

// The largest reads (16384 tokens, 1 MiB blocks, one and 8 reads in flight) feed the model, which
// takes the faster; the one-request reads keep their earlier names.
void register_storage() {
  struct Config {
    std::int64_t tokens, block_kib;
    int queue_depth;
  };
  for (const Config& c : {Config{4096, 1024, 1}, Config{16384, 1024, 1}, Config{16384, 64, 1},
                          Config{16384, 1024, 8}}) {
    const bool model = c.tokens == 16384 && c.block_kib == 1024;
    const std::string name =
        fmt::format("BM_StorageRead/tokens:{}/block_kib:{}{}{}", c.tokens, c.block_kib,
                    c.queue_depth > 1 ? fmt::format("/queue_depth:{}", c.queue_depth) : "",
                    model ? "/model_input:storage.read_bandwidth" : "");
    benchmark::RegisterBenchmark(name.c_str(), BM_StorageRead, c.tokens, c.block_kib, c.queue_depth,
                                 model)
        ->Unit(benchmark::kMillisecond)
        ->UseManualTime();
  }
}

// All cores and one core (mbw's setting), 512 MiB per array (four arrays) and 64 MiB (twice the
// 32 MiB L3 of the development VM, for quick runs); only all cores at 512 MiB feed the model.
void register_streams() {
  const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> thread_counts{all};
  if (all > 1) thread_counts.push_back(1);
  for (std::int64_t mib : {512, 64})
    for (int threads : thread_counts)
      for (StreamOp op : {StreamOp::kRead, StreamOp::kWrite, StreamOp::kCopy, StreamOp::kTriad}) {
        const bool model = threads == all && mib == 512;
        const std::string name =
            fmt::format("BM_HostStream/op:{}{}/mib:{}/threads:{}", stream_op_name(op),
                        model ? "/model_input:cpu.memory_bandwidth" : "", mib, threads);
        benchmark::RegisterBenchmark(name.c_str(), BM_HostStream, op, mib, threads, model)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
}

// The settings, checked before anything runs (README: unknown values are errors): a bad
// COBENCH_HOST_MEMORY_PEAK, or a COBENCH_STORAGE_DIR that is not a writable directory, ends the
// binary with exit 2 and one line on stderr.
void check_settings() {
  host_memory_peak();  // throws on a bad COBENCH_HOST_MEMORY_PEAK
  if (const char* dir = std::getenv("COBENCH_STORAGE_DIR"); dir && *dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      throw Error(
          fmt::format("COBENCH_STORAGE_DIR='{}': cannot create a file in {}: {}", dir, dir,
                      std::filesystem::exists(dir, ec) ? "not a directory" : "no such directory"));
    if (access(dir, W_OK | X_OK) != 0)
      throw Error(fmt::format("COBENCH_STORAGE_DIR='{}': cannot create a file in {}: {}", dir, dir,
                              std::strerror(errno)));
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    check_settings();
  } catch (const std::exception& e) {
    fmt::print(stderr, "cobench_bench_memory: {}\n", e.what());
    return 2;
  }
  register_streams();
  register_storage();
  if (const int usage = cobench::bench::initialize_benchmarks(argc, argv, "cobench_bench_memory"))
    return usage;
  const int status = cobench::bench::run_registered_benchmarks("cobench_bench_memory");
  benchmark::Shutdown();
  return status;
}
