// SPDX-License-Identifier: Apache-2.0
// Runs a child process (no shell) with its output sent to a log file, and waits for it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/launched_rank.h"

namespace cobench::app {

struct ExitStatus {
  int code = -1;   ///< exit code, or -1 when killed by a signal
  int signal = 0;  ///< the signal that ended it, 0 when it exited
  bool ok() const { return code == 0; }
  std::string describe() const;
};

/// Runs argv[0] (searched on PATH when it has no '/') with `argv`, stdout and stderr appended
/// to `log`, extra environment `env` ("NAME=value") added; throws when it cannot start.
ExitStatus run_process(const std::vector<std::string>& argv, const std::filesystem::path& log,
                       const std::vector<std::string>& env = {});

/// True when `program` is an executable on PATH (or, when it names a path, there).
bool on_path(const std::string& program);

/// The launcher's rank of this process (core/launched_rank.h).
using cobench::launched_rank;
using cobench::LaunchedRank;

}  // namespace cobench::app
