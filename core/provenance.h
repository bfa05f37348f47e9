// SPDX-License-Identifier: Apache-2.0
// The provenance part of a run header: what ran, where, when, built how, with which libraries
// and which environment variables that change results (OPENBLAS_CORETYPE among them).
#pragma once

#include <string>
#include <vector>

#include "core/results.h"

namespace cobench {

/// Environment variables recorded in every run (null when unset), plus every NCCL_* variable.
inline constexpr const char* kRecordedEnvironment[] = {
    "OPENBLAS_CORETYPE",    "OPENBLAS_L2_SIZE",  "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "SLURM_JOB_ID",         "OMPI_COMM_WORLD_SIZE"};

/// A run header for this process: version, commit, build type, UTC time now, host name, the
/// command line, library versions known to the core and the recorded environment. The caller
/// adds the sysinfo snapshot (and merges its library versions).
results::RunHeader make_run_header(const std::vector<std::string>& command_line);

/// The current UTC time as ISO 8601 with milliseconds, "2026-11-29T05:30:00.123Z".
std::string utc_now_iso8601();

/// This machine's host name.
std::string host_name();

}  // namespace cobench
