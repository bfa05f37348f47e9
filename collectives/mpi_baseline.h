// SPDX-License-Identifier: Apache-2.0
// The yardstick of the harness: a plain MPI_Alltoall loop on float buffers against the same loop
// through the Communicator (the call the harness times), on the same page-aligned buffers,
// alternating repetitions so that drift of the machine hits both alike. Each repetition is timed
// as run_collectives times it (barrier, `iters` calls, time per call, maximum over ranks).
// `cobench_coll --compare-plain-mpi` prints both, so the harness's own cost is visible.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <vector>

namespace cobench::coll {

struct PairedTimes {
  std::vector<double> harness_s;  ///< per repetition, through Communicator::all_to_all
  std::vector<double> plain_s;    ///< per repetition, MPI_Alltoall called directly
};

/// `count` floats per peer; seconds per call, maximum over ranks.
PairedTimes time_alltoall_against_plain_mpi(MPI_Comm comm, std::size_t count, int warmup, int iters,
                                            int repetitions);

}  // namespace cobench::coll
