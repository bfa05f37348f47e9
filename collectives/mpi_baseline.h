// SPDX-License-Identifier: Apache-2.0
// The yardstick of the harness: a plain MPI_Alltoall loop on float buffers, timed the same way
// as run_collectives (warm-up, barrier, `iters` calls per repetition, time per call, maximum over
// ranks) but with no Communicator, no verification and nothing else around the calls.
// `cobench_coll --compare-plain-mpi` prints both, so the harness's own cost is visible.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <vector>

namespace cobench::coll {

/// Per repetition: seconds per MPI_Alltoall of `count` floats per peer, maximum over ranks.
std::vector<double> time_plain_mpi_alltoall(MPI_Comm comm, std::size_t count, int warmup, int iters,
                                            int repetitions);

}  // namespace cobench::coll
