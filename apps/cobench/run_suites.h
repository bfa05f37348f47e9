// SPDX-License-Identifier: Apache-2.0
// The suites `cobench run` knows: which binary, what it needs (CPU always; a CUDA device; an MPI
// launcher), and its arguments in the quick and full suites. Binaries are found in the build
// tree beside the `cobench` binary (<build>/apps/cobench/cobench): <build>/microbench/... and
// <build>/apps/comm/...
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/results.h"

namespace cobench::app {

/// Google Benchmark JSON, or a part of cobench_comm's results file (every MPI suite runs in one
/// cobench_comm child: a launched MPI slot may initialize MPI only once).
enum class SuiteKind { kGbench, kMpi };
enum class SuiteNeeds { kCpu, kCuda, kMpi };

struct Suite {
  std::string name;    ///< record suite and --suite NAME
  std::string binary;  ///< relative to the build directory
  SuiteKind kind = SuiteKind::kGbench;
  SuiteNeeds needs = SuiteNeeds::kCpu;
  results::Backend backend = results::Backend::kCpu;
  std::vector<std::string> quick_args, full_args;
  double quick_estimate_s = 10;  ///< on a 2-core machine, for the time-left estimate
  std::string subcommand;        ///< kMpi: cobench_comm's subcommand for this suite
};

/// Every suite, in the order they run.
const std::vector<Suite>& all_suites();

/// The suites of `--suite` values ("quick", "full" or names), in run order; throws naming the
/// known names when one is unknown. `full` is true when "full" was asked for.
std::vector<Suite> select_suites(const std::vector<std::string>& names, bool& full);

/// The build directory holding the benchmark binaries: `override_dir` when not empty, else the
/// one three levels above this executable.
std::filesystem::path bench_build_dir(const std::string& override_dir);

}  // namespace cobench::app
