// SPDX-License-Identifier: Apache-2.0
// nccl-tests' JSON output (`-J FILE`, format version 2, nccl-tests 2.17 and later; written by its
// src/util.cu) to the results format, so that a cluster's existing nccl-tests runs feed
// `cobench analyze --measured`, `compare`, `history` and the dashboard beside cobench's own.
//
// Mapping (docs/results-format.md, "Other tools' results"):
//   - the collective comes from the test binary, args[0]: all_reduce_perf -> all_reduce,
//     alltoall_perf -> all_to_all, sendrecv_perf -> send_recv; others keep nccl-tests' name;
//   - one record per (size, placement) with cobench's names ("all_reduce/bytes:1048576/
//     out_of_place"; "/type:", "/redop:" and "/root:" segments where the file holds several);
//     the runs of `-N` cycles are its repetitions;
//   - metrics time (s), algbw and busbw (B/s; nccl-tests' GB/s are 1e9 B/s); with per-iteration
//     timing (`-I`) the iterations' times are the repetitions, their bandwidths scaled from the
//     summary's;
//   - #wrong 0 -> passed, > 0 -> failed, null (validation off) -> not_checked; a NaN -> error;
//   - ranks = processes x threads x GPUs a thread, nodes = distinct host names;
//   - the smallest send_recv with data that passed is tagged `latency.inter_node` (ranks on
//     several hosts) or `latency.intra_node`, as cobench's own collectives are;
//   - provenance from the file, not from the converting machine: the host names, the GPUs'
//     names (run.sysinfo.cuda_devices), the NCCL version, its NCCL_* environment (other
//     variables are dropped: the file holds the whole environment), the start and end times,
//     arguments and configuration (run.extra.nccl_tests).
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "core/results.h"

namespace cobench::results {

/// Converts a parsed nccl-tests JSON document. `header` supplies the converter's own provenance
/// (cobench version, command line, time of conversion); the run's own replaces the rest. Throws
/// cobench::Error naming `source` and the JSON path of what is not nccl-tests JSON.
Results from_nccl_tests(const nlohmann::json& doc, RunHeader header, std::string_view source);

/// cobench's name of an nccl-tests binary ("./build/alltoall_perf" -> "all_to_all").
std::string collective_of_nccl_test(std::string_view binary);

}  // namespace cobench::results
