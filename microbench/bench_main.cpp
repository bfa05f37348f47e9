// SPDX-License-Identifier: Apache-2.0
#include "microbench/bench_main.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "microbench/bench_flags.h"
#include "microbench/bench_metadata.h"

// Google Benchmark's own flags (exported by libbenchmark 1.7 and later, declared in its
// commandlineflags.h, which is not installed): where the JSON goes and whether runs interleave.
namespace benchmark {
extern std::string FLAGS_benchmark_out;
extern std::string FLAGS_benchmark_out_format;
extern bool FLAGS_benchmark_enable_random_interleaving;
extern std::int32_t FLAGS_benchmark_repetitions;
}  // namespace benchmark

namespace cobench::bench {
namespace {

// The default display reporter, counting the runs that ended in an error on the way and taking
// each benchmark's metadata (bench_metadata.h) for its entries of the JSON output.
class ErrorCountingReporter : public benchmark::BenchmarkReporter {
 public:
  ErrorCountingReporter() : inner_(benchmark::CreateDefaultDisplayReporter()) {}
  bool ReportContext(const Context& context) override {
    inner_->SetOutputStream(&GetOutputStream());
    inner_->SetErrorStream(&GetErrorStream());
    return inner_->ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    const std::optional<Metadata> md = detail::take_reported();
    for (const Run& r : runs) {
      ++runs_;
      if (r.error_occurred) ++errors_;
      if (md) metadata_[r.run_name.str()] = to_json(*md);
    }
    // A fraction of a peak is a rate over a rate: Google Benchmark has already divided it by the
    // time (kIsRate), and would print it with "/s". Shown without the flag, it reads "0.49".
    std::vector<Run> shown(runs);
    for (Run& r : shown)
      for (auto& [name, counter] : r.counters)
        if (name.ends_with("_fraction"))
          counter.flags =
              static_cast<benchmark::Counter::Flags>(counter.flags & ~benchmark::Counter::kIsRate);
    inner_->ReportRuns(shown);
  }
  void Finalize() override { inner_->Finalize(); }
  int errors() const { return errors_; }
  int runs() const { return runs_; }
  const std::map<std::string, nlohmann::json>& metadata() const { return metadata_; }

 private:
  std::map<std::string, nlohmann::json> metadata_;  // run_name -> its entries' `cobench` object
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  int errors_ = 0, runs_ = 0;
};

// Adds each iteration entry's `cobench` object to the JSON Google Benchmark wrote.
void add_metadata_to_output(const std::map<std::string, nlohmann::json>& metadata) {
  const std::string& out = benchmark::FLAGS_benchmark_out;
  if (out.empty() || benchmark::FLAGS_benchmark_out_format != "json" || metadata.empty()) return;
  nlohmann::json doc;
  {
    std::ifstream in(out);
    doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
    throw std::runtime_error("--benchmark_out=" + out +
                             ": not the Google Benchmark JSON this run wrote; its metadata "
                             "cannot be added");
  for (nlohmann::json& e : doc["benchmarks"]) {
    if (e.value("run_type", "iteration") != "iteration" || !e.contains("run_name") ||
        !e["run_name"].is_string())
      continue;
    if (auto it = metadata.find(e["run_name"].get<std::string>()); it != metadata.end())
      e["cobench"] = it->second;
  }
  const std::string tmp = out + ".tmp";
  {
    std::ofstream o(tmp);
    o << doc.dump(2) << "\n";
    if (!o.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), out.c_str()) != 0)
    throw std::runtime_error("cannot replace " + out + " with " + tmp);
}

}  // namespace

int run_registered_benchmarks(const char* binary) {
  // Metadata is matched to the benchmark whose repetitions end next; interleaved repetitions
  // would mix benchmarks.
  if (benchmark::FLAGS_benchmark_enable_random_interleaving) {
    fmt::print(stderr,
               "{}: --benchmark_enable_random_interleaving is not supported: each benchmark's "
               "metadata (verification, model input) is matched to its runs in order\n",
               binary);
    return 2;
  }
  // Google Benchmark aborts on a repetition count below 1 (SIGABRT): a usage error first.
  if (benchmark::FLAGS_benchmark_repetitions < 1) {
    fmt::print(stderr, "{}: --benchmark_repetitions: expected an integer from 1, got {}\n", binary,
               benchmark::FLAGS_benchmark_repetitions);
    return 2;
  }
  ErrorCountingReporter reporter;
  // A filter that matches nothing ran nothing: Google Benchmark says so and exits 0, so a script
  // would take an empty output for a run.
  if (benchmark::RunSpecifiedBenchmarks(&reporter) == 0) {
    fmt::print(stderr,
               "{}: --benchmark_filter '{}' matches no benchmark (--benchmark_list_tests=true "
               "lists them)\n",
               binary, benchmark::GetBenchmarkFilter());
    return 2;
  }
  try {
    add_metadata_to_output(reporter.metadata());
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", binary, e.what());
    return 1;
  }
  if (reporter.errors() == 0) return 0;
  std::fflush(stdout);
  fmt::print(stderr,
             "{}: {} of {} benchmark runs ended in an error (their records say why; the others "
             "are kept)\n",
             binary, reporter.errors(), reporter.runs());
  return 1;
}

int initialize_benchmarks(int& argc, char** argv, const char* binary) {
  for (int i = 1; i < argc; ++i)
    if (const std::optional<std::string> why = benchmark_flag_error(argv[i])) {
      fmt::print(stderr, "{}: {}\n", binary, *why);
      return 2;
    }
  benchmark::Initialize(&argc, argv);
  // Google Benchmark has printed "error: unrecognized command-line flag: ...".
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  return 0;
}

int cpu_bench_main(int argc, char** argv, const char* binary,
                   const std::function<void()>& register_all) {
  try {
    register_all();
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", binary, e.what());
    return 2;
  }
  if (const int usage = initialize_benchmarks(argc, argv, binary)) return usage;
  const int status = run_registered_benchmarks(binary);
  benchmark::Shutdown();
  return status;
}

}  // namespace cobench::bench
