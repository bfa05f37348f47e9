// SPDX-License-Identifier: Apache-2.0
// Measured kernel-performance tables (docs/model.md, "Performance sources"): records tagged with
// a table input describe one shape each, and together they replace the published table of that
// kernel for the GPU they ran on (the identity rule of measured_identity.h applies: both are
// "gpu" inputs).
//   gpu.gemm_fp8    a block-scaled FP8 GEMM: parameters m, n, k (and groups for a grouped one),
//                   a FLOP/s metric; the best of several records of one shape is kept
//   gpu.mla_decode  an MLA decode kernel (BF16 cache, absorbed): the best FLOP/s and the best
//                   B/s of all such records are its compute and memory ceilings
// Only records whose verification passed count; values must be finite and greater than zero.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/results.h"
#include "topologies/cluster.h"
#include "topologies/measured.h"
#include "topologies/perf_model.h"

namespace cobench::topo {

/// The table inputs, which measured_inputs() leaves to measured_tables().
bool is_table_input(std::string_view name);
inline constexpr const char* kTableInputs = "gpu.gemm_fp8, gpu.mla_decode";

/// The shape of a `gpu.mla_decode` record's kernel (microbench/gpu_bench_metadata.h): DeepSeek's
/// MLA on tensor cores, 128 heads, a 512 latent and 64 rope cached in BF16; its FLOP/s count
/// 2 x heads x (2 x latent + rope) a cached token of each sequence.
inline constexpr double kMlaRecordHeads = 128, kMlaRecordLatent = 512, kMlaRecordRope = 64;

struct MeasuredTables {
  std::vector<GemmPoint> gemm_fp8;
  std::string gemm_source;  ///< "<file>" of the first record
  std::optional<double> mla_decode_flop_per_s, mla_decode_bytes_per_s;
  /// The MLA records that name their batch and context: a call's time at each.
  std::vector<AttentionPoint> mla_decode;
  std::string mla_source;
  bool empty() const {
    return gemm_fp8.empty() && !mla_decode_flop_per_s && !mla_decode_bytes_per_s &&
           mla_decode.empty();
  }
};

/// The tables a results document measures; errors name `source` and the JSON path.
MeasuredTables measured_tables(const results::Results& r, const std::string& source);

/// Adds `from` to `into` (per GEMM and MLA shape and for the MLA ceilings, the faster value
/// wins).
void merge_tables(MeasuredTables& into, const MeasuredTables& from);

/// A measured FP8 GEMM shape faster than the cluster's FP8 peak (the datasheet's, or a measured
/// square's) raises that peak to it: the peak was not a bound on this GPU, and the roofline and
/// the prediction must stand on the same one (the prediction never beats the roofline). The
/// raise is recorded in `changed` as a measured gpu.peak_flops.fp8 from the table's file.
void raise_fp8_peak(ClusterSpec& c, const MeasuredTables& t, std::vector<InputComparison>& changed);

}  // namespace cobench::topo
