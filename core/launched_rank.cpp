// SPDX-License-Identifier: Apache-2.0
#include "core/launched_rank.h"

#include <algorithm>
#include <climits>
#include <cstdlib>

namespace cobench {

namespace {
// The integer value of environment variable `name`, or -1 when unset, not a number or beyond
// int (Slurm numbers its batch and extern steps 0xfffffffe and 0xfffffffc: not launched tasks).
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return -1;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return *end == '\0' && n >= 0 && n <= INT_MAX ? static_cast<int>(n) : -1;
}
}  // namespace

LaunchedRank launched_rank() {
  LaunchedRank r;
  auto take = [&](const char* rank, const char* size, const char* launcher) {
    if (r.launched || env_int(rank) < 0) return;
    r.launched = true;
    r.rank = env_int(rank);
    r.size = std::max(1, env_int(size));
    r.launcher = launcher;
  };
  take("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "mpirun");
  take("PMIX_RANK", "PMIX_SIZE", "pmix");
  if (env_int("SLURM_STEP_ID") >= 0) take("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "srun");
  return r;
}

}  // namespace cobench
