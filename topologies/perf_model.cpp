// SPDX-License-Identifier: Apache-2.0
#include "topologies/perf_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "topologies/data_files.h"
#include "topologies/measured_identity.h"
#include "topologies/measured_tables.h"

namespace cobench::topo {
namespace {

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

double unit_fraction(const config::Node& n) {
  const double v = n.as_positive_double();
  if (v > 1) n.fail(fmt::format("expected an efficiency in (0, 1], got {}", v));
  return v;
}

std::vector<EpPoint> ep_points(const config::Node& list) {
  std::vector<EpPoint> out;
  for (const config::Node& e : list.elements()) {
    auto m = e.map({"ep", "dispatch", "combine"});
    const config::Node ep = m.required("ep");
    out.push_back({static_cast<double>(ep.as_int_at_least(2)),
                   m.required("dispatch").as_positive_bandwidth().value,
                   m.required("combine").as_positive_bandwidth().value});
    // A repeated row, as a repeated key: one of the two would be taken silently.
    for (size_t i = 0; i + 1 < out.size(); ++i)
      if (out[i].ep == out.back().ep)
        ep.fail(fmt::format("EP {} is given already at [{}]; give each EP degree once",
                            out.back().ep, i));
  }
  std::sort(out.begin(), out.end(), [](const EpPoint& a, const EpPoint& b) { return a.ep < b.ep; });
  return out;
}

// Log-log interpolation in the EP degree, held constant outside the table.
EpPoint ep_at(const std::vector<EpPoint>& t, double ep) {
  if (ep <= t.front().ep) return t.front();
  if (ep >= t.back().ep) return t.back();
  for (size_t i = 1; i < t.size(); ++i) {
    if (ep > t[i].ep) continue;
    const EpPoint& a = t[i - 1];
    const EpPoint& b = t[i];
    const double x = std::log(ep / a.ep) / std::log(b.ep / a.ep);
    auto mix = [x](double u, double v) { return std::exp(std::log(u) + x * std::log(v / u)); };
    return {ep, mix(a.dispatch_bw, b.dispatch_bw), mix(a.combine_bw, b.combine_bw)};
  }
  return t.back();
}

// An attention table's rows: {batch, context, time} (decode) or {tokens, time} (prefill: one
// sequence of `tokens`, kept as the context), each shape once.
std::vector<AttentionPoint> attention_rows(const config::Node& rows, bool by_batch) {
  std::vector<AttentionPoint> out;
  for (const config::Node& row : rows.elements()) {
    auto x = by_batch ? row.map({"batch", "context", "time"}) : row.map({"tokens", "time"});
    AttentionPoint pt;
    pt.batch = by_batch ? static_cast<double>(x.required("batch").as_int_at_least(1)) : 1;
    pt.context =
        static_cast<double>(x.required(by_batch ? "context" : "tokens").as_int_at_least(1));
    pt.seconds = x.required("time").as_positive_seconds().value;
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].batch == pt.batch && out[i].context == pt.context)
        row.fail(fmt::format("the same {} as [{}]; give each once",
                             by_batch ? "batch and context" : "tokens", i));
    out.push_back(pt);
  }
  return out;
}

}  // namespace

const char* to_string(PerfSource s) {
  switch (s) {
    case PerfSource::kMeasured:
      return "measured";
    case PerfSource::kPublished:
      return "published";
    case PerfSource::kDatasheet:
      return "datasheet";
  }
  return "?";
}

PublishedPerf load_published_perf(const config::Node& root) {
  PublishedPerf p;
  p.file = root.location().file;
  auto top = root.map({"perf"});
  auto m = top.required("perf").map({"gpu", "sms", "efficiency", "gemm_fp8", "gemm_fp8_wgrad",
                                     "attention_decode", "mla_decode_bf16", "mla_prefill_bf16",
                                     "attention_prefill", "ep", "prefill_comm_sms"});
  p.gpu = m.required("gpu").as_string();
  if (auto sms = m.optional("sms")) p.sms = sms->as_int_in(1, 100000);
  auto e =
      m.required("efficiency")
          .map({"gemm_compute", "gemm_memory", "attention_compute", "attention_memory", "memory"});
  p.efficiency = {
      unit_fraction(e.required("gemm_compute")), unit_fraction(e.required("gemm_memory")),
      unit_fraction(e.required("attention_compute")), unit_fraction(e.required("attention_memory")),
      unit_fraction(e.required("memory"))};
  // A GEMM table's rows: the shape under the file's names for M, N and K (the forward's m, n, k;
  // a weight gradient's out, in, tokens), optional groups, the rate.
  auto gemm_rows = [&](const char* key, const char* m_key, const char* n_key, const char* k_key,
                       std::vector<GemmPoint>& into) {
    auto g = m.optional(key);
    if (!g) return;
    for (const config::Node& row : g->elements()) {
      auto r = row.map({"groups", m_key, n_key, k_key, "rate"});
      GemmPoint pt;
      pt.groups =
          r.has("groups") ? static_cast<double>(r.required("groups").as_int_at_least(1)) : 1;
      pt.m = static_cast<double>(r.required(m_key).as_int_at_least(1));
      pt.n = static_cast<double>(r.required(n_key).as_int_at_least(1));
      pt.k = static_cast<double>(r.required(k_key).as_int_at_least(1));
      pt.flops_per_s = r.required("rate").as_positive_flop_rate().value;
      // A repeated shape, as a repeated key: the lookup would take one of the two silently.
      for (size_t i = 0; i < into.size(); ++i)
        if (into[i].groups == pt.groups && into[i].m == pt.m && into[i].n == pt.n &&
            into[i].k == pt.k)
          row.fail(fmt::format("the same shape as [{}]; give each shape once", i));
      into.push_back(pt);
    }
  };
  gemm_rows("gemm_fp8", "m", "n", "k", p.gemm_fp8);
  gemm_rows("gemm_fp8_wgrad", "out", "in", "tokens", p.gemm_fp8_wgrad);
  if (auto a = m.optional("attention_decode")) {
    auto r = a->map({"compute", "memory"});
    p.attention_decode_flop_per_s = r.required("compute").as_positive_flop_rate().value;
    p.attention_decode_bytes_per_s = r.required("memory").as_positive_bandwidth().value;
  }
  if (auto a = m.optional("mla_decode_bf16")) {
    auto r = a->map({"heads", "latent", "rope", "rows"});
    p.mla_decode_heads = static_cast<double>(r.required("heads").as_int_at_least(1));
    p.mla_decode_latent = static_cast<double>(r.required("latent").as_int_at_least(1));
    p.mla_decode_rope = static_cast<double>(r.required("rope").as_int_at_least(0));
    p.mla_decode_table = attention_rows(r.required("rows"), /*by_batch=*/true);
  }
  if (auto a = m.optional("mla_prefill_bf16")) {
    auto r = a->map({"heads", "qk", "v", "rows"});
    p.mla_prefill_heads = static_cast<double>(r.required("heads").as_int_at_least(1));
    p.mla_prefill_qk = static_cast<double>(r.required("qk").as_int_at_least(1));
    p.mla_prefill_v = static_cast<double>(r.required("v").as_int_at_least(1));
    p.mla_prefill_table = attention_rows(r.required("rows"), /*by_batch=*/false);
  }
  if (auto n = m.optional("prefill_comm_sms"))
    p.prefill_comm_sms = static_cast<double>(n->as_int_in(0, 100000));
  if (auto a = m.optional("attention_prefill")) {
    auto r = a->map({"compute", "backward"});
    p.attention_prefill_flop_per_s = r.required("compute").as_positive_flop_rate().value;
    if (r.has("backward")) p.attention_backward_fraction = unit_fraction(r.required("backward"));
  }
  if (auto node = m.optional("ep")) {
    auto r = node->map({"link", "nic_speed", "low_latency", "normal", "normal_scale_up"});
    p.ep_link = r.required("link").as_string();
    p.ep_nic_bytes_per_s = r.required("nic_speed").as_positive_bandwidth().value;
    if (auto l = r.optional("low_latency")) p.ep_low_latency = ep_points(*l);
    if (auto l = r.optional("normal")) p.ep_normal = ep_points(*l);
    if (auto l = r.optional("normal_scale_up")) {
      auto s = l->map({"dispatch", "combine"});
      p.ep_normal_scale_up = EpPoint{0, s.required("dispatch").as_positive_bandwidth().value,
                                     s.required("combine").as_positive_bandwidth().value};
    }
  }
  return p;
}

PublishedPerf find_published_perf(const ClusterSpec& c) {
  const std::filesystem::path dir = data_dir() / "perf";
  if (c.node.gpu) {
    // The same GPU as the identity rule of measured records sees it: its product token (h800,
    // h100, gb200, ...), else the whole name.
    const std::string want = gpu_product(c.node.gpu->name);
    for (const std::string& name : list_data_files("perf")) {
      if (name == "default") continue;
      PublishedPerf p = load_published_perf(config::load_file(dir / (name + ".yaml")));
      const std::string have = gpu_product(p.gpu);
      const bool same_sms = !p.sms || !c.node.gpu->sms || *p.sms == *c.node.gpu->sms;
      if ((want.empty() || have.empty() ? lower(p.gpu) == lower(c.node.gpu->name) : have == want) &&
          same_sms)
        return p;
    }
  }
  return load_published_perf(config::load_file(find_data_file("perf", "default")));
}

PerfModel::PerfModel(const ClusterSpec& c, PublishedPerf perf, std::set<std::string> measured)
    : c_(c), perf_(std::move(perf)), measured_(std::move(measured)) {
  if (c_.node.gpu) {
    const GpuSpec& g = *c_.node.gpu;
    // Without FP8 tensor cores an FP8-weight GEMM runs at the BF16 rate (and a part quoted for
    // FP8 alone gets half of it for BF16). Without either, has_peaks() is false.
    fp8_flop_per_s_ = g.peak_fp8 ? g.peak_fp8->value : (g.peak_bf16 ? g.peak_bf16->value : 0);
    bf16_flop_per_s_ = g.peak_bf16 ? g.peak_bf16->value : fp8_flop_per_s_ / 2;
    hbm_bytes_per_s_ = g.hbm_bandwidth.value;
  }
  gemm_entries_ = gemm_table(perf_.gemm_fp8);
  wgrad_entries_ = gemm_table(perf_.gemm_fp8_wgrad);
  mla_entries_ = mla_table(perf_.mla_decode_table);
  // Each MLA prefill entry's efficiency against its own roofline: a causal sequence of s tokens,
  // s^2 / 2 (query, key) pairs of 2 h (qk + v) FLOPs; K and V of h (qk + v) BF16 values a token.
  if (bf16_flop_per_s_ > 0 && hbm_bytes_per_s_ > 0)
    for (const AttentionPoint& e : perf_.mla_prefill_table) {
      const double h = perf_.mla_prefill_heads, dims = perf_.mla_prefill_qk + perf_.mla_prefill_v;
      const double flops = e.context * e.context * h * dims;
      const double bytes = e.context * h * dims * 2;
      const double roofline = std::max(flops / bf16_flop_per_s_, bytes / hbm_bytes_per_s_);
      mla_prefill_entries_.push_back(
          {0, std::log2(e.context), 0, std::min(1.0, roofline / e.seconds)});
    }
  // DeepEP's tables hold on the network they were measured on: the same link and NIC speed.
  ep_table_applies_ = !perf_.ep_link.empty() && lower(perf_.ep_link) == lower(c_.scale_out.link) &&
                      c_.node.nic_speed &&
                      std::abs(c_.node.nic_speed->value - perf_.ep_nic_bytes_per_s) <=
                          1e-9 * perf_.ep_nic_bytes_per_s;
}

// Each GEMM entry's efficiency against its own roofline, kept in log space for lookups.
std::vector<PerfModel::GemmEntry> PerfModel::gemm_table(
    const std::vector<GemmPoint>& points) const {
  std::vector<GemmEntry> entries;
  if (fp8_flop_per_s_ <= 0 || hbm_bytes_per_s_ <= 0) return entries;
  for (const GemmPoint& e : points) {
    const double measured_s = 2 * e.m * e.n * e.k * e.groups / e.flops_per_s;
    entries.push_back({std::log2(e.m), std::log2(e.n), std::log2(e.k),
                       std::min(1.0, roofline_gemm(e.m, e.n, e.k, e.groups, 1) / measured_s)});
  }
  return entries;
}

// Each MLA decode entry's efficiency against its own roofline: 2 h (2 latent + rope) FLOPs and
// (latent + rope) BF16 values read a cached token of each sequence.
std::vector<PerfModel::GemmEntry> PerfModel::mla_table(
    const std::vector<AttentionPoint>& points) const {
  std::vector<GemmEntry> entries;
  if (bf16_flop_per_s_ <= 0 || hbm_bytes_per_s_ <= 0) return entries;
  for (const AttentionPoint& e : points) {
    const double cached = e.batch * e.context;
    const double flops =
        2 * perf_.mla_decode_heads * (2 * perf_.mla_decode_latent + perf_.mla_decode_rope) * cached;
    const double bytes = cached * (perf_.mla_decode_latent + perf_.mla_decode_rope) * 2;
    const double roofline = std::max(flops / bf16_flop_per_s_, bytes / hbm_bytes_per_s_);
    entries.push_back(
        {std::log2(e.batch), std::log2(e.context), 0, std::min(1.0, roofline / e.seconds)});
  }
  return entries;
}

void PerfModel::use_measured(const MeasuredTables& t) {
  if (ideal_) return;
  if (!t.mla_decode.empty()) {
    // This GPU's own MLA decode by shape: its points replace the published table's at the same
    // shape and join it elsewhere (a published table of another shape of kernel is dropped).
    // Shapes inside the measured points' range are timed [measured].
    const bool same_kernel = perf_.mla_decode_heads == kMlaRecordHeads &&
                             perf_.mla_decode_latent == kMlaRecordLatent &&
                             perf_.mla_decode_rope == kMlaRecordRope;
    if (!same_kernel) perf_.mla_decode_table.clear();
    perf_.mla_decode_heads = kMlaRecordHeads;
    perf_.mla_decode_latent = kMlaRecordLatent;
    perf_.mla_decode_rope = kMlaRecordRope;
    std::erase_if(perf_.mla_decode_table, [&](const AttentionPoint& p) {
      return std::any_of(t.mla_decode.begin(), t.mla_decode.end(), [&](const AttentionPoint& m) {
        return m.batch == p.batch && m.context == p.context;
      });
    });
    perf_.mla_decode_table.insert(perf_.mla_decode_table.end(), t.mla_decode.begin(),
                                  t.mla_decode.end());
    mla_entries_ = mla_table(perf_.mla_decode_table);
    mla_measured_box_ = {t.mla_decode.front().batch, t.mla_decode.front().batch,
                         t.mla_decode.front().context, t.mla_decode.front().context};
    for (const AttentionPoint& m : t.mla_decode) {
      mla_measured_box_[0] = std::min(mla_measured_box_[0], m.batch);
      mla_measured_box_[1] = std::max(mla_measured_box_[1], m.batch);
      mla_measured_box_[2] = std::min(mla_measured_box_[2], m.context);
      mla_measured_box_[3] = std::max(mla_measured_box_[3], m.context);
    }
    mla_table_measured_ = true;
  }
  if (!t.gemm_fp8.empty()) {
    // A measured shape faster than the cluster's FP8 peak has raised it already (raise_fp8_peak,
    // measured_tables.h: the roofline and this model read the one peak), so no shape's efficiency
    // is capped at 1 and timed slower than it measured.
    for (const GemmPoint& p : t.gemm_fp8)
      COBENCH_CHECK(p.flops_per_s <= fp8_flop_per_s_ * (1 + 1e-12),
                    fmt::format("a measured FP8 GEMM at {} FLOP/s, above the peak in use {}: call "
                                "raise_fp8_peak on the cluster before building its PerfModel",
                                p.flops_per_s, fp8_flop_per_s_));
    gemm_entries_ = gemm_table(t.gemm_fp8);
    gemm_measured_ = true;
  }
  if (t.mla_decode_flop_per_s && t.mla_decode_bytes_per_s) {
    perf_.attention_decode_flop_per_s = t.mla_decode_flop_per_s;
    perf_.attention_decode_bytes_per_s = t.mla_decode_bytes_per_s;
    attention_measured_ = true;
  }
}

PerfModel PerfModel::roofline(const ClusterSpec& c) {
  PublishedPerf ideal;
  ideal.gpu = "roofline";
  ideal.efficiency = {1, 1, 1, 1, 1};
  PerfModel p(c, std::move(ideal));
  p.ideal_ = true;
  return p;
}

double PerfModel::compute_share(bool prefill) const {
  if (ideal_ || !prefill || perf_.prefill_comm_sms <= 0 || !c_.node.gpu || !c_.node.gpu->sms)
    return 1;
  const double sms = static_cast<double>(*c_.node.gpu->sms);
  if (perf_.prefill_comm_sms >= sms)
    throw Error(fmt::format("{}: prefill_comm_sms {} leaves none of the GPU's {} SMs to compute",
                            perf_.file, perf_.prefill_comm_sms, sms));
  return (sms - perf_.prefill_comm_sms) / sms;
}

double PerfModel::roofline_gemm(double m, double n, double k, double groups,
                                double weight_bytes) const {
  const double flops = 2 * m * n * k * groups;
  const double bytes = groups * (n * k * weight_bytes + m * k + m * n * 2);
  return std::max(flops / fp8_flop_per_s_, bytes / hbm_bytes_per_s_);
}

namespace {

// The inverse-square-distance mean of the entries' efficiencies at (a, b, c), in their log
// space: exact at an entry, smooth between.
template <typename Entry>
double idw_efficiency(const std::vector<Entry>& entries, double a, double b, double c) {
  double weighted = 0, weights = 0;
  for (const Entry& e : entries) {
    const double da = a - e.log2_m, db = b - e.log2_n, dc = c - e.log2_k;
    const double dist2 = da * da + db * db + dc * dc;
    if (dist2 < 1e-12) return e.efficiency;
    weighted += e.efficiency / dist2;
    weights += 1 / dist2;
  }
  return weighted / weights;
}

// A table measured on a grid of (batch, context), as the MLA decode ones are (each batch over
// its own contexts): the log of the efficiency linear in log2 context within a batch's row and
// then in log2 batch between the two rows around it. Between two entries the time (the roofline,
// proportional to batch x context, over the efficiency) is then monotone: a small batch's fixed
// launch time is not averaged with distant large ones. Beyond the largest context or batch the
// efficiency holds (the time grows with the roofline); below the smallest the time holds (the
// efficiency falls with the roofline), as a kernel's launch floor does.
// `launch_floor` false: the efficiency holds below the table too (prefill, whose roofline grows
// with the square of the tokens).
template <typename Entry>
double grid_efficiency(const std::vector<Entry>& entries, double batch, double context,
                       bool launch_floor = true) {
  const double ln2 = launch_floor ? std::log(2.0) : 0;
  // log efficiency of the row at log2 batch `row` at this context
  auto along_row = [&](double row) {
    const Entry *below = nullptr, *above = nullptr;
    for (const Entry& e : entries) {
      if (e.log2_m != row) continue;
      if (e.log2_n <= context && (!below || e.log2_n > below->log2_n)) below = &e;
      if (e.log2_n >= context && (!above || e.log2_n < above->log2_n)) above = &e;
    }
    if (!below) return std::log(above->efficiency) - (above->log2_n - context) * ln2;
    if (!above || above->log2_n == below->log2_n) return std::log(below->efficiency);
    const double x = (context - below->log2_n) / (above->log2_n - below->log2_n);
    return std::log(below->efficiency) +
           x * (std::log(above->efficiency) - std::log(below->efficiency));
  };
  bool have_below = false, have_above = false;
  double row_below = 0, row_above = 0;
  for (const Entry& e : entries) {
    if (e.log2_m <= batch && (!have_below || e.log2_m > row_below)) {
      row_below = e.log2_m;
      have_below = true;
    }
    if (e.log2_m >= batch && (!have_above || e.log2_m < row_above)) {
      row_above = e.log2_m;
      have_above = true;
    }
  }
  if (!have_below) return std::exp(along_row(row_above) - (row_above - batch) * ln2);
  if (!have_above || row_above == row_below) return std::exp(along_row(row_below));
  const double x = (batch - row_below) / (row_above - row_below);
  const double lo = along_row(row_below), hi = along_row(row_above);
  return std::exp(lo + x * (hi - lo));
}

}  // namespace

std::optional<double> PerfModel::gemm_table_efficiency(double m, double n, double k,
                                                       bool weight_grad) const {
  // A weight gradient from its own table (published: no benchmark of cobench measures one),
  // else as any GEMM of its shape.
  const std::vector<GemmEntry>& entries =
      weight_grad && !wgrad_entries_.empty() ? wgrad_entries_ : gemm_entries_;
  if (entries.empty()) return std::nullopt;
  return idw_efficiency(entries, std::log2(m), std::log2(n), std::log2(k));
}

std::optional<double> PerfModel::mla_prefill_efficiency(const Op& op) const {
  if (ideal_ || mla_prefill_entries_.empty() || !op.mla_naive || op.seq_len <= 0 ||
      op.heads != perf_.mla_prefill_heads)
    return std::nullopt;
  // One row of the grid: the log of the efficiency linear in log2 tokens, held beyond.
  return grid_efficiency(mla_prefill_entries_, 0, std::log2(op.seq_len), /*launch_floor=*/false);
}

bool PerfModel::mla_measured_at(const Op& op) const {
  return mla_table_measured_ && op.sequences >= mla_measured_box_[0] &&
         op.sequences <= mla_measured_box_[1] && op.context >= mla_measured_box_[2] &&
         op.context <= mla_measured_box_[3];
}

std::optional<double> PerfModel::mla_decode_efficiency(const Op& op) const {
  // Measured ceilings without a measured table beat the published table.
  if (ideal_ || (attention_measured_ && !mla_table_measured_) || mla_entries_.empty() ||
      !op.mla_absorbed || op.heads != perf_.mla_decode_heads || op.cache_bytes != 2 ||
      op.sequences <= 0 || op.context <= 0)
    return std::nullopt;
  // The same cached row (latent + rope) as the table's kernel.
  const double row = perf_.mla_decode_latent + perf_.mla_decode_rope;
  if (std::abs(op.bytes / (op.sequences * op.context * 2) - row) > 1e-9 * row) return std::nullopt;
  return grid_efficiency(mla_entries_, std::log2(op.sequences), std::log2(op.context));
}

// The datasheet (or measured) ceilings times the default efficiencies; a measured ceiling is
// achieved, so it is taken at efficiency 1.
OpTime PerfModel::at_ceilings(const Op& op, double peak, bool peak_measured,
                              double compute_efficiency, double memory_efficiency) const {
  const bool hbm_measured = measured_.count("gpu.hbm_bandwidth") > 0;
  const double ec = peak_measured ? 1 : compute_efficiency;
  const double em = hbm_measured ? 1 : memory_efficiency;
  OpTime t{std::max(op.flops / (peak * ec), op.bytes / (hbm_bytes_per_s_ * em)),
           PerfSource::kDatasheet};
  if (peak_measured || hbm_measured) t.source = PerfSource::kMeasured;
  return t;
}

OpTime PerfModel::compute(const Op& op, bool prefill) const {
  OpTime t = work(op, prefill);
  // Each operation is one kernel of a back-to-back chain: it also takes the GPU's measured
  // kernel gap (node.gpu.kernel_gap; the ideal has none).
  const bool kernel = op.kind == OpKind::kGemm || op.kind == OpKind::kGroupedGemm ||
                      op.kind == OpKind::kAttention || op.kind == OpKind::kMemory;
  if (!kernel || ideal_ || t.seconds <= 0 || !c_.node.gpu || !c_.node.gpu->kernel_gap) return t;
  // The published MLA decode table is host-timed: its times hold the launch already.
  const bool launch_timed = op.kind == OpKind::kAttention && !prefill &&
                            mla_decode_efficiency(op) && !mla_measured_at(op);
  if (!launch_timed) t.seconds += c_.node.gpu->kernel_gap->value;
  return t;
}

OpTime PerfModel::work(const Op& op, bool prefill) const {
  const Efficiencies& e = perf_.efficiency;
  const bool fp8_measured = measured_.count("gpu.peak_flops.fp8") > 0;
  const bool bf16_measured = measured_.count("gpu.peak_flops.bf16") > 0;
  const bool hbm_measured = measured_.count("gpu.hbm_bandwidth") > 0;
  OpTime t{0, PerfSource::kDatasheet};
  if (hbm_bytes_per_s_ <= 0 || fp8_flop_per_s_ <= 0) return t;
  switch (op.kind) {
    case OpKind::kGemm:
    case OpKind::kGroupedGemm: {
      const bool fp8 = op.precision == OpPrecision::kFp8;
      const double peak = fp8 ? fp8_flop_per_s_ : bf16_flop_per_s_;
      const bool peak_measured = fp8 ? fp8_measured : bf16_measured;
      // A table (measured, else published) covers the FP8 GEMMs; scalars the rest.
      if (fp8 && !ideal_) {
        if (auto eff = gemm_table_efficiency(op.m, op.n, op.k, op.weight_grad)) {
          t.seconds = std::max(op.flops / peak, op.bytes / hbm_bytes_per_s_) / *eff;
          const bool wgrad_table = op.weight_grad && !wgrad_entries_.empty();
          t.source =
              gemm_measured_ && !wgrad_table ? PerfSource::kMeasured : PerfSource::kPublished;
          return t;
        }
      }
      return at_ceilings(op, peak, peak_measured, e.gemm_compute, e.gemm_memory);
    }
    case OpKind::kAttention: {
      // A kernel's table (measured, else published) covers it; never above the datasheet.
      if (!ideal_) {
        // MLA decode from its measured table, by the kernel's batch (the sequences; several
        // query tokens a sequence under MTP take the table's efficiency at their batch).
        if (auto eff = prefill ? std::nullopt : mla_decode_efficiency(op)) {
          t.seconds = std::max(op.flops / bf16_flop_per_s_, op.bytes / hbm_bytes_per_s_) / *eff;
          t.source = mla_measured_at(op) ? PerfSource::kMeasured : PerfSource::kPublished;
          return t;
        }
        if (!prefill && perf_.attention_decode_flop_per_s) {
          t.seconds =
              std::max(op.flops / std::min(*perf_.attention_decode_flop_per_s, bf16_flop_per_s_),
                       op.bytes / std::min(*perf_.attention_decode_bytes_per_s, hbm_bytes_per_s_));
          t.source = attention_measured_ ? PerfSource::kMeasured : PerfSource::kPublished;
          return t;
        }
        // MLA prefill from its measured table by sequence length; the backward at its fraction.
        if (auto eff = prefill ? mla_prefill_efficiency(op) : std::nullopt) {
          t.seconds = std::max(op.flops / bf16_flop_per_s_, op.bytes / hbm_bytes_per_s_) / *eff /
                      (op.attention_backward ? perf_.attention_backward_fraction : 1);
          t.source = PerfSource::kPublished;
          return t;
        }
        if (prefill && perf_.attention_prefill_flop_per_s) {
          const double rate = std::min(*perf_.attention_prefill_flop_per_s, bf16_flop_per_s_) *
                              (op.attention_backward ? perf_.attention_backward_fraction : 1);
          t.seconds = std::max(op.flops / rate, op.bytes / (hbm_bytes_per_s_ * e.attention_memory));
          t.source = PerfSource::kPublished;
          return t;
        }
      }
      return at_ceilings(op, bf16_flop_per_s_, bf16_measured, e.attention_compute,
                         e.attention_memory);
    }
    case OpKind::kMemory:
      t.seconds = op.bytes / (hbm_bytes_per_s_ * (hbm_measured ? 1 : e.memory));
      if (hbm_measured) t.source = PerfSource::kMeasured;
      return t;
    case OpKind::kDispatch:
    case OpKind::kCombine:
    case OpKind::kAllReduce:
      break;
  }
  return t;
}

OpTime PerfModel::comm(const Op& op, double ep, bool prefill) const {
  OpTime t;
  if (op.comm_up_bytes + op.comm_out_bytes <= 0) return t;
  // The links as the cluster file gives them: nominal for the roofline, achievable otherwise
  // (a measured EP bandwidth replaces the achievable one, measured.h).
  const double gpus = static_cast<double>(std::max<std::int64_t>(1, c_.node.gpus_per_node));
  const double nics = static_cast<double>(c_.node.nics_per_node);
  double up = ideal_ ? c_.scale_up.bandwidth_nominal.value : c_.scale_up.bandwidth_achievable.value;
  double out = ideal_ ? (c_.node.nic_speed ? c_.node.nic_speed->value : 0)
                      : c_.scale_out.bandwidth_achievable.value;
  out *= nics / gpus;  // a GPU's share of its node's NICs
  if (op.comm_up_bytes > 0 && up <= 0)
    throw Error(
        fmt::format("cluster '{}': traffic inside the scale-up domain needs {}", c_.name,
                    ideal_ ? "scale_up.bandwidth_nominal" : "scale_up.bandwidth_achievable"));
  if (op.comm_out_bytes > 0 && out <= 0)
    throw Error(fmt::format(
        "{}cluster '{}': EP traffic across scale-up domains needs {}",
        nics <= 0 && !c_.node.nics_per_node_at.empty() ? c_.node.nics_per_node_at + ": " : "",
        c_.name,
        nics <= 0 ? "node.nics_per_node >= 1"
        : ideal_  ? "node.nic_speed"
                  : "scale_out.bandwidth_achievable"));
  const double latency =
      op.comm_out_bytes > 0 ? c_.scale_out.latency_cross_leaf.value : c_.scale_up.latency.value;
  const double link_s = std::max(op.comm_up_bytes > 0 ? op.comm_up_bytes / up : 0,
                                 op.comm_out_bytes > 0 ? op.comm_out_bytes / out : 0) +
                        latency;
  const bool measured = measured_.count("ep.bandwidth.inter_node") > 0 ||
                        measured_.count("ep.bandwidth.intra_node") > 0;
  t.seconds = link_s;
  t.source = measured ? PerfSource::kMeasured : PerfSource::kDatasheet;
  // DeepEP's tables time EP traffic only; a TP all-reduce is at the link rate.
  if (ideal_ || measured || !ep_table_applies_ || op.kind == OpKind::kAllReduce) return t;
  // DeepEP's kernels on this network: never faster than the links allow.
  const bool dispatch = op.kind == OpKind::kDispatch;
  double table_s = 0;
  if (!prefill && !perf_.ep_low_latency.empty()) {
    const EpPoint pt = ep_at(perf_.ep_low_latency, ep);
    table_s = (op.comm_up_bytes + op.comm_out_bytes) / (dispatch ? pt.dispatch_bw : pt.combine_bw);
  } else if (prefill && !perf_.ep_normal.empty()) {
    const EpPoint pt = ep_at(perf_.ep_normal, ep);
    table_s = op.comm_out_bytes / (dispatch ? pt.dispatch_bw : pt.combine_bw);
    if (perf_.ep_normal_scale_up) {
      const EpPoint& su = *perf_.ep_normal_scale_up;
      table_s = std::max(table_s, op.comm_up_bytes / (dispatch ? su.dispatch_bw : su.combine_bw));
    }
  } else {
    return t;
  }
  if (table_s >= link_s) t = {table_s, PerfSource::kPublished};
  return t;
}

}  // namespace cobench::topo
