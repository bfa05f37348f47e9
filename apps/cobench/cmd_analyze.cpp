// SPDX-License-Identifier: Apache-2.0
// `cobench analyze --paper | --model M --cluster C | --kv-reload [--model M] [--cluster C]
//  [--format text|json|markdown]`
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "apps/cobench/commands.h"
#include "core/error.h"
#include "core/results_io.h"
#include "topologies/analysis.h"
#include "topologies/data_files.h"
#include "topologies/kv_reload_report.h"
#include "topologies/paper_report.h"

namespace cobench::app {
namespace {

// A number > 0. (CLI11's PositiveNumber says "not in range 0 to 1.797...e308" for a word.)
const CLI::Validator kPositive(
    [](std::string& text) -> std::string {
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == text.size() && used > 0 && v > 0) return "";
      return "expected a number > 0, got '" + text + "'";
    },
    "NUMBER > 0");

}  // namespace

void add_analyze(CLI::App& app, Action& action) {
  struct Options {
    bool paper = false, kv_reload = false;
    std::string model, cluster, measured, format = "text", kv_format = "bf16";
    double tokens_per_device = 32, context = 4096, weight_bytes = 1, ep = 0, mfu = 0.3894;
    double prefill_mfu = 0.4;
    std::vector<double> prefix_tokens{1024, 4096, 16384, 65536, 131072};
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Bottleneck analyses of a model on a cluster, or the DeepSeek-V3 paper's");
  cmd->add_flag("--paper", o->paper,
                "Every number of the DeepSeek-V3 ISCA 2025 paper: paper, cobench, deviation");
  cmd->add_flag("--kv-reload", o->kv_reload,
                "KV reload (host memory, storage) against recompute and the break-even prefix "
                "length; default --model deepseek-v3 and qwen2.5-72b, --cluster "
                "deepseek-h800-2048");
  cmd->add_option("--model", o->model,
                  "Model: a name in topologies/models (deepseek-v3, ...) or a YAML or Hugging "
                  "Face config.json path");
  cmd->add_option("--cluster", o->cluster,
                  "Cluster: a name in topologies/clusters (deepseek-h800-2048, ...) or a path");
  cmd->add_option("--measured", o->measured,
                  "A results file whose records (parameters.model_input) replace datasheet "
                  "values; see docs/model.md")
      ->check(CLI::ExistingFile);
  cmd->add_option("--format", o->format, "text, json or markdown")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  cmd->add_option("--tokens-per-device", o->tokens_per_device, "Decode batch a device serves")
      ->check(kPositive)
      ->capture_default_str();
  cmd->add_option("--context", o->context, "KV length per decoded token")
      ->check(kPositive)
      ->capture_default_str();
  cmd->add_option("--weight-bytes", o->weight_bytes,
                  "Bytes per weight: 1 for FP8, 0.5 for 4-bit, 2 for BF16")
      ->check(kPositive)
      ->capture_default_str();
  cmd->add_option("--ep", o->ep, "GPUs the experts spread over (default: the whole cluster)")
      ->check(kPositive);
  cmd->add_option("--mfu", o->mfu, "MFU for training throughput (default: the paper's 38.94%)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--kv-format", o->kv_format, "KV cache format for --kv-reload: bf16 or fp8")
      ->check(CLI::IsMember({"bf16", "fp8"}))
      ->capture_default_str();
  cmd->add_option("--prefill-mfu", o->prefill_mfu, "MFU of a recomputing prefill (--kv-reload)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--prefix-tokens", o->prefix_tokens, "Prefix lengths for --kv-reload")
      ->check(kPositive)
      ->delimiter(',')
      ->capture_default_str();
  cmd->callback([&action, o] {
    action = [o] {
      topo::Report report;
      nlohmann::json json;
      if (o->kv_reload) {
        if (o->paper) throw Error("--kv-reload takes no --paper");
        std::vector<topo::ModelArch> models;
        if (o->model.empty()) {
          models = {topo::load_model("deepseek-v3"), topo::load_model("qwen2.5-72b")};
        } else {
          models = {topo::load_model(o->model)};
        }
        topo::KvReloadSetting s;
        s.format = o->kv_format == "fp8" ? topo::KvCacheFormat::kFp8 : topo::KvCacheFormat::kBf16;
        s.prefill_mfu = o->prefill_mfu;
        if (o->prefix_tokens.empty()) throw Error("--prefix-tokens needs at least one length");
        s.range_tokens = *std::max_element(o->prefix_tokens.begin(), o->prefix_tokens.end());
        topo::MeasuredInputs measured;
        if (!o->measured.empty())
          measured = topo::measured_inputs(results::read(o->measured), o->measured);
        const topo::KvReloadReport r = topo::kv_reload_report(
            models, topo::load_cluster_file(o->cluster.empty() ? "deepseek-h800-2048" : o->cluster),
            s, o->prefix_tokens, o->measured.empty() ? nullptr : &measured);
        if (o->format == "json") {
          fmt::print("{}\n", topo::to_json(r).dump(2));
        } else if (o->format == "markdown") {
          fmt::print("{}", topo::format_markdown(r));
        } else {
          fmt::print("{}", topo::format_text(r));
        }
        return 0;
      }
      if (o->paper) {
        if (!o->model.empty() || !o->cluster.empty() || !o->measured.empty())
          throw Error("--paper takes no --model, --cluster or --measured");
        report = topo::paper_report();
        json = topo::to_json(report);
      } else {
        if (o->model.empty() || o->cluster.empty())
          throw Error("give --paper, --kv-reload, or both --model and --cluster");
        topo::DecodeSetting s;
        s.tokens_per_device = o->tokens_per_device;
        s.context_tokens = o->context;
        s.weight_bytes = o->weight_bytes;
        s.ep_degree = o->ep;
        s.train_mfu = o->mfu;
        topo::MeasuredInputs measured;
        if (!o->measured.empty())
          measured = topo::measured_inputs(results::read(o->measured), o->measured);
        topo::Analysis a =
            topo::analyze(topo::load_model(o->model), topo::load_cluster_file(o->cluster), s,
                          o->measured.empty() ? nullptr : &measured);
        report = std::move(a.report);
        json = std::move(a.json);
      }
      if (o->format == "json") {
        fmt::print("{}\n", json.dump(2));
      } else if (o->format == "markdown") {
        fmt::print("{}", topo::format_markdown(report));
      } else {
        fmt::print("{}", topo::format_text(report));
      }
      return 0;
    };
  });
}

}  // namespace cobench::app
