// SPDX-License-Identifier: Apache-2.0
#include "topologies/kv_reload_report.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/markdown.h"
#include "topologies/report.h"

namespace cobench::topo {
namespace {

// "datasheet", or the measured inputs (with their sources) that `names` lists.
std::string source_of(const std::vector<InputComparison>& inputs,
                      const std::vector<std::string>& names) {
  std::string which;
  for (const std::string& name : names)
    for (const InputComparison& in : inputs)
      if (in.input == name)
        which += fmt::format("{}measured {} ({})", which.empty() ? "" : ", ", name, in.source);
  return which.empty() ? "datasheet" : which;
}

std::string tokens_text(double n) {
  return n >= 1024 && std::fmod(n, 1024) == 0 ? fmt::format("{}K", n / 1024)
                                              : fmt::format("{:.0f}", n);
}

std::string break_even_text(const KvReloadTierResult& t, double range_tokens) {
  if (!t.tier.missing.empty()) return fmt::format("{} is not given", t.tier.missing);
  switch (t.break_even.kind) {
    case BreakEvenKind::kAlwaysReload:
      return "reload is faster at every length (N* = 0)";
    case BreakEvenKind::kReloadAbove:
      if (t.break_even.tokens < 1)
        return fmt::format("reload is faster from the first token (N* = {:.4g}, the latency's)",
                           t.break_even.tokens);
      return fmt::format("recompute is faster below N* = {}, reload above",
                         format_quantity(t.break_even.tokens, "tokens"));
    case BreakEvenKind::kNeverReload:
      return "recompute is faster at every length";
    case BreakEvenKind::kReloadBeyondRange:
      return fmt::format("recompute is faster up to {} tokens (N* = {})", tokens_text(range_tokens),
                         format_quantity(t.break_even.tokens, "tokens"));
  }
  return "?";
}

std::string faster_text(double reload_s, double recompute_s) {
  if (std::isnan(reload_s)) return "-";
  return reload_s < recompute_s ? "reload" : "recompute";
}

std::string seconds_text(double s) { return std::isnan(s) ? "-" : format_seconds(Seconds(s), 4); }

std::string header(const KvReloadReport& r) {
  const KvReloadModelResult* any = r.models.empty() ? nullptr : &r.models.front();
  std::string out = fmt::format(
      "  recompute: prefill at {:.4g}% MFU of {} FP8 (weights) and {} BF16 (attention); {}\n",
      100 * r.setting.prefill_mfu, format_flop_rate(FlopRate(r.peak_fp8_flops), 4),
      format_flop_rate(FlopRate(r.peak_bf16_flops), 4),
      source_of(r.inputs, inputs_of_bound("kv_recompute")));
  if (any)
    for (const KvReloadTierResult& t : any->tiers)
      out += t.tier.missing.empty()
                 ? fmt::format("  {:<8}   {} a GPU + {} ({}); {}\n", t.tier.name + ":",
                               format_bandwidth(t.tier.bandwidth, 4),
                               format_seconds(t.tier.latency, 4), t.tier.path, t.source)
                 : fmt::format("  {:<8}   {} is not given\n", t.tier.name + ":", t.tier.missing);
  out += fmt::format("  KV cache:  {}\n", to_string(r.setting.format));
  return out;
}

std::string model_title(const KvReloadModelResult& m) {
  return fmt::format("{} ({}, {} a token; recompute {} a token + {} x N)", m.model,
                     to_string(m.attention),
                     format_bytes(Bytes(m.kv_bytes_per_token), Prefixes::kSi, 6),
                     format_seconds(Seconds(m.recompute.s_per_token), 4),
                     format_seconds(Seconds(m.recompute.s_per_token_squared), 4));
}

}  // namespace

KvReloadReport kv_reload_report(const std::vector<ModelArch>& models, const ClusterSpec& datasheet,
                                const KvReloadSetting& s, const std::vector<double>& prefix_tokens,
                                const MeasuredInputs* measured) {
  ClusterSpec c = datasheet;
  KvReloadReport r;
  r.cluster = c.name;
  r.setting = s;
  if (measured) r.inputs = apply_measured(c, *measured);
  if (c.node.gpus_per_node == 0 || !c.node.gpu) throw_no_gpus(c, "KV reload against recompute");
  const GpuSpec& g = *c.node.gpu;
  r.peak_fp8_flops = g.peak_fp8 ? g.peak_fp8->value : (g.peak_bf16 ? 2 * g.peak_bf16->value : 0);
  r.peak_bf16_flops = g.peak_bf16 ? g.peak_bf16->value : r.peak_fp8_flops / 2;
  const std::vector<ReloadTier> tiers = reload_tiers(c, s);
  for (const ModelArch& m : models) {
    KvReloadModelResult mr;
    mr.model = m.name;
    mr.attention = m.attention.kind;
    const Bytes per_token = kv_cache_bytes_per_token(m, s.format);
    mr.kv_bytes_per_token = per_token.value;
    mr.recompute = recompute_curve(m, g, s.prefill_mfu);
    for (const ReloadTier& t : tiers) {
      KvReloadTierResult tr{t, "", {}, {}};
      if (t.missing.empty()) {
        tr.source = source_of(r.inputs, inputs_of_bound("kv_reload." + t.name));
        tr.line = reload_line(per_token, t.bandwidth, t.latency);
        tr.break_even = break_even(mr.recompute, tr.line, s.range_tokens);
      }
      mr.tiers.push_back(tr);
    }
    for (double n : prefix_tokens) {
      KvReloadPoint p{n, n * per_token.value, prefill_flops(m, n), mr.recompute.seconds(n), 0, {}};
      p.tie_bytes_per_s = p.kv_bytes / p.recompute_s;
      for (const KvReloadTierResult& t : mr.tiers)
        p.reload_s.push_back(t.tier.missing.empty() ? t.line.seconds(n)
                                                    : std::numeric_limits<double>::quiet_NaN());
      mr.points.push_back(std::move(p));
    }
    r.models.push_back(std::move(mr));
  }
  return r;
}

std::string format_text(const KvReloadReport& r) {
  std::string out =
      fmt::format("KV reload against recompute on {}, per GPU\n{}", r.cluster, header(r));
  for (const KvReloadModelResult& m : r.models) {
    out += fmt::format("\n{}\n  {:>8} {:>12}", model_title(m), "prefix", "KV bytes");
    std::string faster;
    for (const KvReloadTierResult& t : m.tiers) {
      out += fmt::format(" {:>15}", t.tier.name + " reload");
      faster += (faster.empty() ? "" : " / ") + t.tier.name;
    }
    out += fmt::format(" {:>12} {:>12}  faster ({})\n", "recompute", "tie BW", faster);
    for (const KvReloadPoint& p : m.points) {
      out += fmt::format("  {:>8} {:>12}", tokens_text(p.tokens),
                         format_bytes(Bytes(p.kv_bytes), Prefixes::kSi, 4));
      std::string which;
      for (double s : p.reload_s) {
        out += fmt::format(" {:>15}", seconds_text(s));
        which += (which.empty() ? "" : " / ") + faster_text(s, p.recompute_s);
      }
      out += fmt::format(" {:>12} {:>12}  {}\n", seconds_text(p.recompute_s),
                         format_bandwidth(Bandwidth(p.tie_bytes_per_s), 4), which);
    }
    for (const KvReloadTierResult& t : m.tiers)
      out += fmt::format("  break-even, {}: {}\n", t.tier.name,
                         break_even_text(t, r.setting.range_tokens));
  }
  return out;
}

std::string format_markdown(const KvReloadReport& r) {
  // Names and notes come from input files: escaped (core/markdown.h).
  std::string out =
      fmt::format("# KV reload against recompute on {}, per GPU\n\n", markdown_text(r.cluster));
  std::string h = header(r);
  for (size_t start = 0; start < h.size();) {
    const size_t end = h.find('\n', start);
    out += fmt::format("- {}\n", markdown_text(h.substr(start + 2, end - start - 2)));
    start = end + 1;
  }
  for (const KvReloadModelResult& m : r.models) {
    out += fmt::format("\n## {}\n\n| prefix | KV bytes |", markdown_text(model_title(m)));
    std::string rule = "| ---: | ---: |";
    for (const KvReloadTierResult& t : m.tiers) {
      out += fmt::format(" {} reload | faster |", t.tier.name);
      rule += " ---: | --- |";
    }
    out += fmt::format(" recompute | tie BW |\n{} ---: | ---: |\n", rule);
    for (const KvReloadPoint& p : m.points) {
      out += fmt::format("| {} | {} |", tokens_text(p.tokens),
                         format_bytes(Bytes(p.kv_bytes), Prefixes::kSi, 4));
      for (double s : p.reload_s)
        out += fmt::format(" {} | {} |", seconds_text(s), faster_text(s, p.recompute_s));
      out += fmt::format(" {} | {} |\n", seconds_text(p.recompute_s),
                         format_bandwidth(Bandwidth(p.tie_bytes_per_s), 4));
    }
    out += "\n";
    for (const KvReloadTierResult& t : m.tiers)
      out += fmt::format("- break-even, {}: {}\n", t.tier.name,
                         markdown_text(break_even_text(t, r.setting.range_tokens)));
  }
  return out;
}

nlohmann::json to_json(const KvReloadReport& r) {
  using nlohmann::json;
  auto number = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json j = {{"cluster", r.cluster},
            {"kv_format", std::string(to_string(r.setting.format))},
            {"prefill_mfu", r.setting.prefill_mfu},
            {"range_tokens", r.setting.range_tokens},
            {"peak_fp8_flops", r.peak_fp8_flops},
            {"peak_bf16_flops", r.peak_bf16_flops},
            {"inputs", json::array()},
            {"models", json::array()}};
  for (const InputComparison& in : r.inputs)
    j["inputs"].push_back({{"input", in.input},
                           {"datasheet", in.datasheet},
                           {"measured", in.measured},
                           {"source", in.source},
                           {"used", "measured"}});
  for (const KvReloadModelResult& m : r.models) {
    json jm = {{"model", m.model},
               {"attention", std::string(to_string(m.attention))},
               {"kv_bytes_per_token", m.kv_bytes_per_token},
               {"recompute_s_per_token", m.recompute.s_per_token},
               {"recompute_s_per_token_squared", m.recompute.s_per_token_squared},
               {"tiers", json::object()},
               {"prefixes", json::array()}};
    for (const KvReloadTierResult& t : m.tiers) {
      json jt = {{"path", t.tier.path}};
      if (!t.tier.missing.empty()) {
        jt["missing"] = t.tier.missing;
      } else {
        jt["bandwidth_bytes_per_s"] = t.tier.bandwidth.value;
        jt["latency_s"] = t.tier.latency.value;
        jt["source"] = t.source;
        jt["break_even"] = {{"kind", std::string(to_string(t.break_even.kind))},
                            {"tokens", number(t.break_even.tokens)}};
      }
      jm["tiers"][t.tier.name] = jt;
    }
    for (const KvReloadPoint& p : m.points) {
      json jp = {{"tokens", p.tokens},
                 {"kv_bytes", p.kv_bytes},
                 {"prefill_flops", p.prefill_flops},
                 {"recompute_s", p.recompute_s},
                 {"tie_bandwidth_bytes_per_s", p.tie_bytes_per_s},
                 {"reload_s", json::object()},
                 {"faster", json::object()}};
      for (size_t i = 0; i < m.tiers.size(); ++i) {
        const std::string& name = m.tiers[i].tier.name;
        jp["reload_s"][name] = number(p.reload_s[i]);
        jp["faster"][name] = std::isnan(p.reload_s[i])
                                 ? json(nullptr)
                                 : json(faster_text(p.reload_s[i], p.recompute_s));
      }
      jm["prefixes"].push_back(std::move(jp));
    }
    j["models"].push_back(std::move(jm));
  }
  return j;
}

}  // namespace cobench::topo
