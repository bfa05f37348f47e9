// SPDX-License-Identifier: Apache-2.0
#include "apps/cobench/run_suites.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/error.h"

namespace cobench::app {

const std::vector<Suite>& all_suites() {
  using B = results::Backend;
  static const std::vector<Suite> suites = {
      {.name = "model",
       .binary = "microbench/cobench_bench_model",
       .kind = SuiteKind::kGbench,
       .needs = SuiteNeeds::kCpu,
       .backend = B::kCpu,
       .quick_args = {"--benchmark_filter=BM_PaperReport|BM_Analyze", "--benchmark_repetitions=5",
                      "--benchmark_min_time=0.05"},
       .full_args = {"--benchmark_repetitions=5"},
       .quick_estimate_s = 5,
       .subcommand = ""},
      {.name = "memory",
       .binary = "microbench/cobench_bench_memory",
       .kind = SuiteKind::kGbench,
       .needs = SuiteNeeds::kCpu,
       .backend = B::kCpu,
       .quick_args = {"--benchmark_filter=BM_HostStream/op:(read|copy)/model_input|KvGather/"
                      "page_tokens:64/token_bytes:656",
                      "--benchmark_repetitions=5", "--benchmark_min_time=0.03"},
       .full_args = {"--benchmark_repetitions=5"},
       .quick_estimate_s = 25,
       .subcommand = ""},
      {.name = "gemm",
       .binary = "microbench/cobench_bench_gemm_cpu",
       .kind = SuiteKind::kGbench,
       .needs = SuiteNeeds::kCpu,
       .backend = B::kCpu,
       .quick_args = {"--benchmark_filter=FmaPeak|Bf16DotPeak|m:2048/n:2048/k:2048",
                      "--benchmark_repetitions=5", "--benchmark_min_time=0.05"},
       .full_args = {"--benchmark_repetitions=5"},
       .quick_estimate_s = 25,
       .subcommand = ""},
      {.name = "mla",
       .binary = "microbench/cobench_bench_mla_cpu",
       .kind = SuiteKind::kGbench,
       .needs = SuiteNeeds::kCpu,
       .backend = B::kCpu,
       .quick_args = {"--benchmark_filter=FmaPeak|AmxPeak|batch:1/context:4096",
                      "--benchmark_repetitions=5", "--benchmark_min_time=0.05"},
       .full_args = {"--benchmark_repetitions=5"},
       .quick_estimate_s = 15,
       .subcommand = ""},
      {.name = "gemm_gpu",
       .binary = "microbench/cobench_bench_gemm_gpu",
       .kind = SuiteKind::kGbench,
       .needs = SuiteNeeds::kCuda,
       .backend = B::kCuda,
       .quick_args = {"--benchmark_filter=m:4096/n:4096/k:4096|AccumulatorProbe",
                      "--benchmark_repetitions=5"},
       .full_args = {"--benchmark_repetitions=5"},
       .quick_estimate_s = 30,
       .subcommand = ""},
      {.name = "memory_gpu",
       .binary = "microbench/cobench_bench_memory_gpu",
       .kind = SuiteKind::kGbench,
       .needs = SuiteNeeds::kCuda,
       .backend = B::kCuda,
       .quick_args = {"--benchmark_filter=op:(copy|triad)/.*mib:1024|model_input|HostDeviceCopy/"
                      ".*/kib:262144/",
                      "--benchmark_repetitions=5"},
       .full_args = {"--benchmark_repetitions=5"},
       .quick_estimate_s = 30,
       .subcommand = ""},
      {.name = "mla_gpu",
       .binary = "microbench/cobench_bench_mla_gpu",
       .kind = SuiteKind::kGbench,
       .needs = SuiteNeeds::kCuda,
       .backend = B::kCuda,
       .quick_args = {"--benchmark_filter=DeviceCopy|kernel:tc/.*batch:(1|64)/context:(4096|32768)/"
                      "|kernel:simt/.*batch:1/context:32768/|GqaDecodeGpu/.*batch:(1|64)/"
                      "context:(4096|32768)/",
                      "--benchmark_repetitions=5"},
       .full_args = {"--benchmark_repetitions=5"},
       .quick_estimate_s = 50,
       .subcommand = ""},
      {.name = "collectives",
       .binary = "apps/comm/cobench_comm",
       .kind = SuiteKind::kMpi,
       .needs = SuiteNeeds::kMpi,
       .backend = B::kMpi,
       .quick_args = {"-b", "1K", "-e", "4M", "-f", "64", "-w", "2", "-n", "5", "-r", "5"},
       .full_args = {"-b", "8", "-e", "256M", "-f", "2"},
       .quick_estimate_s = 15,
       .subcommand = "coll"},
      {.name = "ep",
       .binary = "apps/comm/cobench_comm",
       .kind = SuiteKind::kMpi,
       .needs = SuiteNeeds::kMpi,
       .backend = B::kMpi,
       .quick_args = {"--tokens", "64", "--hidden", "1024", "--experts", "32", "--max-nodes", "0",
                      "-n", "2", "-r", "5"},
       .full_args = {"--tokens", "1024"},
       .quick_estimate_s = 15,
       .subcommand = "ep"},
  };
  return suites;
}

std::vector<Suite> select_suites(const std::vector<std::string>& names, bool& full) {
  full = false;
  std::set<std::string> wanted;
  for (const auto& n : names) {
    if (n == "quick" || n == "full") {
      full = full || n == "full";
      for (const auto& s : all_suites()) wanted.insert(s.name);
      continue;
    }
    const auto& all = all_suites();
    if (std::none_of(all.begin(), all.end(), [&](const Suite& s) { return s.name == n; })) {
      std::string known = "quick, full";
      for (const auto& s : all) known += ", " + s.name;
      throw UsageError(fmt::format("--suite: unknown suite '{}': expected one of {}", n, known));
    }
    wanted.insert(n);
  }
  std::vector<Suite> out;
  for (const auto& s : all_suites())
    if (wanted.count(s.name) != 0) out.push_back(s);
  return out;
}

std::filesystem::path bench_build_dir(const std::string& override_dir) {
  if (!override_dir.empty()) return override_dir;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find this executable (/proc/self/exe); give --build-dir");
  return exe.parent_path().parent_path().parent_path();
}

}  // namespace cobench::app
