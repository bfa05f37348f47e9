// SPDX-License-Identifier: Apache-2.0
// `cobench analyze --paper | --model M --cluster C [--format text|json|markdown]`
#include <fmt/format.h>

#include "apps/cobench/commands.h"
#include "core/error.h"
#include "core/results_io.h"
#include "topologies/analysis.h"
#include "topologies/data_files.h"
#include "topologies/paper_report.h"

namespace cobench::app {

void add_analyze(CLI::App& app, Action& action) {
  struct Options {
    bool paper = false;
    std::string model, cluster, measured, format = "text";
    double tokens_per_device = 32, context = 4096, weight_bytes = 1, ep = 0, mfu = 0.3894;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Bottleneck analyses of a model on a cluster, or the DeepSeek-V3 paper's");
  cmd->add_flag("--paper", o->paper,
                "Every number of the DeepSeek-V3 ISCA 2025 paper: paper, cobench, deviation");
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
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--context", o->context, "KV length per decoded token")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--weight-bytes", o->weight_bytes,
                  "Bytes per weight: 1 for FP8, 0.5 for 4-bit, 2 for BF16")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--ep", o->ep, "GPUs the experts spread over (default: the whole cluster)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--mfu", o->mfu, "MFU for training throughput (default: the paper's 38.94%)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->callback([&action, o] {
    action = [o] {
      topo::Report report;
      nlohmann::json json;
      if (o->paper) {
        if (!o->model.empty() || !o->cluster.empty() || !o->measured.empty())
          throw Error("--paper takes no --model, --cluster or --measured");
        report = topo::paper_report();
        json = topo::to_json(report);
      } else {
        if (o->model.empty() || o->cluster.empty())
          throw Error("give --paper, or both --model and --cluster");
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
