// SPDX-License-Identifier: Apache-2.0
// Where this process stands when a launcher started it, read from the launcher's environment
// before (or without) MPI: `cobench run` under mpirun/srun, and the communication benchmarks,
// which print a usage error found before MPI starts on rank 0 only.
#pragma once

#include <string>

namespace cobench {

/// Open MPI's mpirun (OMPI_COMM_WORLD_*), a PMIx launcher (PMIX_RANK) or a Slurm job step
/// (SLURM_PROCID in a numbered step: srun, not the batch script itself).
struct LaunchedRank {
  bool launched = false;
  int rank = 0, size = 1;
  std::string launcher;  ///< "mpirun", "pmix", "srun"
};
LaunchedRank launched_rank();

}  // namespace cobench
