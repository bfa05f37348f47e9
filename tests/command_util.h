// SPDX-License-Identifier: Apache-2.0
// Running the built binaries as a user does, for the command-line tests: the exit status, the
// output, the wall time; and a fresh scratch directory per test.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

namespace cobench::test {

struct CommandResult {
  int status = -1;  ///< exit status, -1 when killed by a signal or not started
  std::string out;  ///< stdout, and stderr unless it was discarded
  double seconds = 0;
};

/// Runs `command` through the shell; stderr joins stdout unless `stdout_only`.
inline CommandResult run_command(const std::string& command, bool stdout_only = false) {
  const std::string cmd = command + (stdout_only ? " 2>/dev/null" : " 2>&1");
  CommandResult r;
  const auto t0 = std::chrono::steady_clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int raw = pclose(p);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

#ifdef COBENCH_MPIEXEC
/// The shell command `mpirun -np N binary args`: Open MPI is told it may run as root (CI) and
/// oversubscribe the cores.
inline std::string mpirun_command(int ranks, const std::string& binary, const std::string& args) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
         "OMPI_MCA_rmaps_base_oversubscribe=1 " +
         std::string(COBENCH_MPIEXEC) + " -np " + std::to_string(ranks) + " " + binary + " " + args;
}

/// Runs mpirun_command, stdout and stderr together.
inline CommandResult run_mpi(int ranks, const std::string& binary, const std::string& args) {
  return run_command(mpirun_command(ranks, binary, args));
}
#endif

/// An empty directory `name` under the test's temporary directory.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace cobench::test
