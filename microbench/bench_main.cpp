// SPDX-License-Identifier: Apache-2.0
#include "microbench/bench_main.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace cobench::bench {
namespace {

// The default display reporter, counting the runs that ended in an error on the way.
class ErrorCountingReporter : public benchmark::BenchmarkReporter {
 public:
  ErrorCountingReporter() : inner_(benchmark::CreateDefaultDisplayReporter()) {}
  bool ReportContext(const Context& context) override {
    inner_->SetOutputStream(&GetOutputStream());
    inner_->SetErrorStream(&GetErrorStream());
    return inner_->ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      ++runs_;
      if (r.error_occurred) ++errors_;
    }
    inner_->ReportRuns(runs);
  }
  void Finalize() override { inner_->Finalize(); }
  int errors() const { return errors_; }
  int runs() const { return runs_; }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  int errors_ = 0, runs_ = 0;
};

}  // namespace

int run_registered_benchmarks(const char* binary) {
  ErrorCountingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (reporter.errors() == 0) return 0;
  std::fflush(stdout);
  fmt::print(stderr,
             "{}: {} of {} benchmark runs ended in an error (their records say why; the others "
             "are kept)\n",
             binary, reporter.errors(), reporter.runs());
  return 1;
}

int cpu_bench_main(int argc, char** argv, const char* binary,
                   const std::function<void()>& register_all) {
  try {
    register_all();
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", binary, e.what());
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const int status = run_registered_benchmarks(binary);
  benchmark::Shutdown();
  return status;
}

}  // namespace cobench::bench
