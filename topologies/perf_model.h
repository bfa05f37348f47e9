// SPDX-License-Identifier: Apache-2.0
// How long an operation of serving_ops.h takes on a cluster's GPU and links (docs/model.md,
// "Performance sources"). Each time comes from the first source that has it:
//   measured   a `--measured` value of this hardware (a GPU peak, HBM or EP bandwidth) taken as
//              the achieved ceiling;
//   published  topologies/perf/<gpu>.yaml, the published kernel performance of that GPU (DeepGEMM
//              per-shape TFLOPS, FlashMLA, DeepEP), every number with its source; GEMM shapes in
//              between are interpolated (below);
//   datasheet  the cluster file's peaks times the default efficiencies of
//              topologies/perf/default.yaml, which state where they come from.
// GEMM interpolation: each table entry has an efficiency against its own roofline
// (max(FLOPs / peak, bytes / HBM bandwidth) over the measured time); a shape's efficiency is the
// inverse-square-distance mean of the entries' in (log2 M, log2 N, log2 K), exact at an entry.
#pragma once

#include <array>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "topologies/cluster.h"
#include "topologies/serving_ops.h"

namespace cobench::topo {

struct MeasuredTables;

enum class PerfSource { kMeasured, kPublished, kDatasheet };
const char* to_string(PerfSource s);

struct GemmPoint {
  double m = 0, n = 0, k = 0, groups = 1;
  double flops_per_s = 0;
};

struct EpPoint {
  double ep = 0;
  double dispatch_bw = 0, combine_bw = 0;  ///< B/s, bytes a device sends over the time
};

/// One measured MLA decode call: `batch` sequences of one query token, each over `context`
/// cached tokens.
struct AttentionPoint {
  double batch = 0, context = 0, seconds = 0;
};

struct Efficiencies {
  double gemm_compute = 0, gemm_memory = 0;
  double attention_compute = 0, attention_memory = 0;
  double memory = 0;  ///< element-wise kernels against HBM bandwidth
};

/// A topologies/perf/*.yaml file.
struct PublishedPerf {
  std::string file;
  std::string gpu;                  ///< node.gpu.name it applies to; "default" for the fallback
  std::optional<std::int64_t> sms;  ///< the SM count it was measured with (H800 SXM: 132)
  Efficiencies efficiency;
  std::vector<GemmPoint> gemm_fp8;  ///< dense and grouped (groups > 1 or m a group's rows)
  /// FP8 weight-gradient GEMMs (DeepGEMM's wgrad kernels), in the model's orientation: m the
  /// forward's outputs, n its inputs, k the tokens (the file names them out, in, tokens).
  std::vector<GemmPoint> gemm_fp8_wgrad;
  std::optional<double> attention_decode_flop_per_s,
      attention_decode_bytes_per_s;  ///< MLA decode ceilings
  std::optional<double> attention_prefill_flop_per_s;
  /// The attention backward's rate as a fraction of the forward's (FlashAttention's backward
  /// runs slower a FLOP); 1 where the file gives none.
  double attention_backward_fraction = 1;
  /// MLA prefill (causal, K and V up-projected) measured by sequence length (`batch` unused,
  /// `context` the tokens of the sequence) at `mla_prefill_heads` heads of `mla_prefill_qk` and
  /// `mla_prefill_v` dims, BF16.
  std::vector<AttentionPoint> mla_prefill_table;
  double mla_prefill_heads = 0, mla_prefill_qk = 0, mla_prefill_v = 0;
  /// MLA decode in the absorbed form with a BF16 cache, measured by batch and context at
  /// `mla_decode_heads` query heads and a cached row of latent + rope elements.
  std::vector<AttentionPoint> mla_decode_table;
  double mla_decode_heads = 0, mla_decode_latent = 0, mla_decode_rope = 0;
  // Expert-parallel kernels, valid on the network they were measured on.
  std::string ep_link;
  double ep_nic_bytes_per_s = 0;              ///< B/s a NIC
  std::vector<EpPoint> ep_low_latency;        ///< decode: all bytes over the time, by EP degree
  std::vector<EpPoint> ep_normal;             ///< prefill: bytes over the NIC over the time
  std::optional<EpPoint> ep_normal_scale_up;  ///< prefill inside one scale-up domain
  /// SMs the prefill's dispatch and combine kernels hold while the other micro-batch computes
  /// (DeepEP's normal kernels); decode's low-latency kernels free theirs once the RDMA is issued.
  double prefill_comm_sms = 0;
};

PublishedPerf load_published_perf(const config::Node& root);

/// The file of topologies/perf whose `gpu` is the cluster GPU's name (case-insensitive), else
/// default.yaml.
PublishedPerf find_published_perf(const ClusterSpec& c);

struct OpTime {
  double seconds = 0;
  PerfSource source = PerfSource::kDatasheet;
};

class PerfModel {
 public:
  /// `measured`: the names of measured inputs already applied to `c` (measured.h).
  PerfModel(const ClusterSpec& c, PublishedPerf perf, std::set<std::string> measured = {});
  /// Measured tables of this GPU (measured_tables.h) replace the published ones they cover. The
  /// cluster the model was built from has had its FP8 peak raised to the fastest measured GEMM
  /// (raise_fp8_peak); a faster shape is a caller's error (COBENCH_CHECK).
  void use_measured(const MeasuredTables& t);
  /// The ideal: datasheet peaks at efficiency 1, nominal links, no published tables.
  static PerfModel roofline(const ClusterSpec& c);

  /// A GEMM, attention or element-wise operation: its work, plus the GPU's kernel gap where the
  /// cluster has one (node.gpu.kernel_gap, measured).
  OpTime compute(const Op& op, bool prefill) const;
  /// A dispatch or combine; `ep` the EP degree.
  OpTime comm(const Op& op, double ep, bool prefill) const;

  /// The fraction of the GPU's SMs a compute kernel has while communication kernels run beside
  /// it: (SMs - prefill_comm_sms) / SMs in prefill where the cluster's GPU states its SM count,
  /// else 1 (decode, the roofline, an unknown SM count).
  double compute_share(bool prefill) const;

  /// Efficiency of an FP8 GEMM shape from the published table (nullopt without one); of a
  /// weight gradient (Op::weight_grad) from the weight-gradient table where there is one.
  std::optional<double> gemm_table_efficiency(double m, double n, double k,
                                              bool weight_grad = false) const;
  const PublishedPerf& published() const { return perf_; }
  /// The GPU has a FLOP peak (node.gpu.peak_flops, datasheet or measured) and HBM bandwidth.
  bool has_peaks() const { return fp8_flop_per_s_ > 0 && hbm_bytes_per_s_ > 0; }
  bool is_roofline() const { return ideal_; }

 private:
  OpTime work(const Op& op, bool prefill) const;  ///< compute() without the kernel gap
  double roofline_gemm(double m, double n, double k, double groups, double weight_bytes) const;
  OpTime at_ceilings(const Op& op, double peak, bool peak_measured, double compute_efficiency,
                     double memory_efficiency) const;
  ClusterSpec c_;
  PublishedPerf perf_;
  std::set<std::string> measured_;
  bool ideal_ = false;
  bool ep_table_applies_ = false;
  double fp8_flop_per_s_ = 0, bf16_flop_per_s_ = 0, hbm_bytes_per_s_ = 0;
  struct GemmEntry {
    double log2_m, log2_n, log2_k, efficiency;
  };
  std::vector<GemmEntry> gemm_entries_;   ///< the table in log space, each entry's efficiency
  std::vector<GemmEntry> wgrad_entries_;  ///< the same for the weight-gradient table
  /// The MLA decode table in (log2 batch, log2 context), each entry's efficiency.
  std::vector<GemmEntry> mla_entries_;
  std::vector<GemmEntry> mla_table(const std::vector<AttentionPoint>& points) const;
  bool mla_table_measured_ = false;
  /// The measured MLA points' range: batch min, max, context min, max.
  std::array<double, 4> mla_measured_box_{};
  /// The op's shape lies in the measured MLA points' range.
  bool mla_measured_at(const Op& op) const;
  /// The MLA prefill table as one grid row (log2_n the log2 tokens), each entry's efficiency.
  std::vector<GemmEntry> mla_prefill_entries_;
  /// Its efficiency for this attention operation; nullopt where it does not cover it.
  std::optional<double> mla_prefill_efficiency(const Op& op) const;
  /// The MLA decode table's efficiency for this attention operation; nullopt where the table
  /// does not cover it (another form, head count, cache type or row, prefill, a measured MLA).
  std::optional<double> mla_decode_efficiency(const Op& op) const;
  std::vector<GemmEntry> gemm_table(const std::vector<GemmPoint>& points) const;
  bool gemm_measured_ = false, attention_measured_ = false;
};

}  // namespace cobench::topo
