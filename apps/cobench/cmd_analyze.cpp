// SPDX-License-Identifier: Apache-2.0
// `cobench analyze --paper | --model M --cluster C | --kv-reload [--model M] [--cluster C]
//  [--format text|json|markdown]`
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "apps/cobench/cli_checks.h"
#include "apps/cobench/commands.h"
#include "apps/cobench/print_report.h"
#include "core/error.h"
#include "core/results_io.h"
#include "topologies/analysis.h"
#include "topologies/data_files.h"
#include "topologies/kv_reload_report.h"
#include "topologies/measured_identity.h"
#include "topologies/paper_report.h"
#include "topologies/serving_targets.h"
#include "topologies/training_report.h"

namespace cobench::app {
namespace {

// An option of another analysis is refused, not ignored: `--train --context 8192` or
// `--kv-reload --pp 4` would print a report that the option did not change.
void check_analyze_options(const CLI::App& cmd, bool paper, bool train, bool kv_reload) {
  if (train && kv_reload)
    throw UsageError("--train and --kv-reload are separate analyses; give one");
  const char* const train_only[] = {
      "--pp",       "--train-ep",   "--micro-batch", "--global-batch",    "--seq-len",
      "--pipeline", "--interleave", "--cp",          "--train-precision", "--train-gpus"};
  const char* const kv_only[] = {"--kv-format", "--prefill-mfu", "--prefix-tokens"};
  const char* const serving_only[] = {"--tokens-per-device",
                                      "--micro-batches",
                                      "--schedule",
                                      "--redundant-experts",
                                      "--combine-format",
                                      "--routing",
                                      "--mtp-depth",
                                      "--mtp-acceptance",
                                      "--prefill-tokens",
                                      "--prompt",
                                      "--cache-hit",
                                      "--prefill-ep",
                                      "--context",
                                      "--weight-bytes",
                                      "--gemm-precision",
                                      "--ep",
                                      "--mfu",
                                      "--target-tokens-per-user",
                                      "--target-ttft"};
  const bool serving = !paper && !train && !kv_reload;
  const std::string mode = kv_reload ? "--kv-reload" : train ? "--train" : paper ? "--paper" : "";
  auto refuse = [&](const char* opt, const char* applies) {
    if (cmd.count(opt) > 0)
      throw UsageError(fmt::format("{} applies to {} only, not {}", opt, applies,
                                   mode.empty() ? "the serving analysis" : mode));
  };
  const char* serving_text = "the serving analysis (--model and --cluster)";
  if (!train)
    for (const char* opt : train_only) refuse(opt, "--train");
  if (!kv_reload)
    for (const char* opt : kv_only) refuse(opt, "--kv-reload");
  if (!serving)
    for (const char* opt : serving_only) refuse(opt, serving_text);
  if (paper || kv_reload) refuse("--tp", "--train and the serving analysis");
  if (cmd.count("--measured-as") > 0 && cmd.count("--measured") == 0)
    throw UsageError("--measured-as needs --measured");
  if (cmd.count("--mtp-acceptance") > 0 && cmd.count("--mtp-depth") == 0)
    throw UsageError("--mtp-acceptance needs --mtp-depth (draft tokens a step)");
}

// Options a model or cluster has nothing to apply to are refused, not ignored: expert options
// on a dense model, GPU and serving options on a cluster without GPUs (its analysis is the local
// deployment's, batch 1, every activated weight read from CPU memory).
void refuse_inapplicable(const CLI::App& cmd, const topo::ModelArch& m,
                         const topo::ClusterSpec* cpu_cluster) {
  auto refuse = [&](std::initializer_list<const char*> opts, const std::string& why) {
    for (const char* opt : opts)
      if (cmd.count(opt) > 0) throw UsageError(fmt::format("{} {}", opt, why));
  };
  if (!m.moe)
    refuse({"--ep", "--prefill-ep", "--redundant-experts", "--routing", "--combine-format",
            "--train-ep"},
           fmt::format("applies to MoE models: {} has no routed experts", m.name));
  if (cpu_cluster)
    refuse(
        {"--ep", "--tp", "--redundant-experts", "--prefill-ep", "--micro-batches", "--schedule",
         "--tokens-per-device", "--mtp-depth", "--mtp-acceptance", "--combine-format", "--routing",
         "--prefill-tokens", "--prompt", "--cache-hit", "--gemm-precision", "--mfu"},
        fmt::format("applies to GPU clusters: cluster '{}' has no GPUs (its analysis is the "
                    "local deployment's: batch 1, every activated weight read from CPU "
                    "memory)",
                    cpu_cluster->name));
}

}  // namespace

void add_analyze(CLI::App& app, Action& action) {
  struct Options {
    bool paper = false, kv_reload = false, train = false;
    std::string model, format = "text", kv_format = "bf16", schedule = "overlap";
    std::string combine_format = "bf16", routing = "balanced", gemm_precision = "fp8";
    std::vector<std::string> clusters;
    double target_tokens_per_user = 0, target_ttft = 0;
    std::vector<std::string> measured, measured_as;
    double tokens_per_device = 64, context = 4096, weight_bytes = 1, ep = 0, mfu = 0.3894;
    double redundant = 0, micro_batches = 2, mtp_depth = 0, mtp_acceptance = 0.85, tp = 1;
    double prefill_tokens = 16384, prompt = 0, cache_hit = 0, prefill_ep = 0;
    double prefill_mfu = 0.4;
    std::vector<double> prefix_tokens{1024, 4096, 16384, 65536, 131072};
    // --train: DeepSeek-V3's pre-training setting (technical report section 3.2).
    double pp = 16, train_ep = 64, micro_batch = 1, global_batch = 15360, seq_len = 4096;
    double cp = 1, interleave = 1, train_gpus = 0;
    std::string pipeline = "dualpipe", train_precision = "fp8";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Bottleneck analyses of a model on a cluster, or the DeepSeek-V3 paper's");
  cmd->add_flag("--paper", o->paper,
                "Every number of the DeepSeek-V3 ISCA 2025 paper: paper, cobench, deviation");
  cmd->add_flag("--train", o->train,
                "The predicted training step of --model on --cluster (Table 4's parts) and the "
                "fastest PP/EP/micro-batch/schedule that fits");
  add_checked(*cmd, "--pp", o->pp, "--train: pipeline stages", integer_in(1, 1 << 20));
  add_checked(*cmd, "--train-ep", o->train_ep, "--train: expert-parallel degree",
              integer_in(1, 1 << 20));
  add_checked(*cmd, "--micro-batch", o->micro_batch, "--train: sequences a micro-batch",
              integer_in(1, 1 << 20));
  add_checked(*cmd, "--global-batch", o->global_batch, "--train: sequences a step",
              integer_in(1, 1000000000));
  add_checked(*cmd, "--seq-len", o->seq_len, "--train: tokens a sequence", integer_in(1, 10000000));
  add_checked(*cmd, "--pipeline", o->pipeline,
              "--train: 1f1b, zb1p, dualpipe or interleaved (Megatron-LM's interleaved 1F1B, "
              "--interleave chunks a stage)",
              CLI::IsMember({"1f1b", "zb1p", "dualpipe", "interleaved"}));
  add_checked(*cmd, "--interleave", o->interleave,
              "--train: model chunks a pipeline stage holds (v) under --pipeline interleaved",
              integer_in(1, 1024));
  add_checked(*cmd, "--cp", o->cp,
              "--train: context-parallel degree (K/V all-gathered, Llama 3); --tp is the "
              "tensor-parallel degree (Megatron-LM with sequence parallelism)",
              integer_in(1, 1 << 20));
  add_checked(*cmd, "--train-precision", o->train_precision,
              "--train: fp8 (DeepSeek-V3's FP8 GEMMs) or bf16 (every GEMM in BF16, Llama 3)",
              CLI::IsMember({"fp8", "bf16"}));
  cmd->add_option("--train-gpus", o->train_gpus,
                  "--train: GPUs of the job (default: the cluster's)")
      ->check(integer_in(1, 100000000));
  cmd->add_flag("--kv-reload", o->kv_reload,
                "KV reload (host memory, storage) against recompute and the break-even prefix "
                "length; default --model deepseek-v3 and qwen2.5-72b, --cluster "
                "deepseek-h800-2048");
  cmd->add_option("--model", o->model,
                  "Model: a name in topologies/models (deepseek-v3, ...) or a YAML or Hugging "
                  "Face config.json path");
  cmd->add_option("--cluster", o->clusters,
                  "Cluster: a name in topologies/clusters (deepseek-h800-2048, ...) or a path; "
                  "several (--cluster A --cluster B) compare the best configuration on each");
  cmd->add_option("--measured", o->measured,
                  "Results files or directories (their *.json) whose records "
                  "(parameters.model_input) replace datasheet values, merged; see docs/model.md");
  cmd->add_option("--measured-as", o->measured_as,
                  "Use --measured records of another GPU, host or link class for this cluster on "
                  "purpose: gpu, host, link or all (comma-separated)")
      ->check(CLI::IsMember({"gpu", "host", "link", "all"}))
      ->delimiter(',');
  cmd->add_option("--target-tokens-per-user", o->target_tokens_per_user,
                  "Serving target: decode tokens/s a user; reports the configuration that meets "
                  "it with the most tokens/s a GPU on each --cluster")
      ->check(finite_number(0, 1e6, /*min_exclusive=*/true));
  cmd->add_option("--target-ttft", o->target_ttft,
                  "Serving target: time to first token of one prompt, seconds (with "
                  "--target-tokens-per-user)")
      ->check(finite_number(0, 1e6, /*min_exclusive=*/true));
  add_checked(*cmd, "--format", o->format, "text, json or markdown",
              CLI::IsMember({"text", "json", "markdown"}));
  add_checked(*cmd, "--tokens-per-device", o->tokens_per_device,
              "Decode query tokens a device holds in one step, all micro-batches together "
              "(the paper's EP bound: 2 x 32)",
              integer_in(1, 10000000));
  add_checked(*cmd, "--micro-batches", o->micro_batches, "Micro-batches a decode step splits into",
              integer_in(1, 64));
  add_checked(*cmd, "--schedule", o->schedule,
              "overlap: one micro-batch computes while another communicates (DeepSeek's "
              "dual micro-batch overlap, simulated); five-stage: DeepSeek's decode pipeline "
              "as SGLang runs it (2 micro-batches, layers in stages, one 2 stages behind); "
              "full: every layer hidden (the ideal); sequential: no overlap",
              CLI::IsMember({"overlap", "five-stage", "full", "sequential"}));
  add_checked(*cmd, "--redundant-experts", o->redundant,
              "Expert copies beyond the routed experts (DeepSeek: 32; EP144 = 288 slots)",
              integer_in(0, 1000000));
  add_checked(*cmd, "--tp", o->tp,
              "Tensor-parallel degree of attention, dense FFNs and the LM head inside a "
              "scale-up domain (experts stay expert-parallel)",
              integer_in(1, 1024));
  add_checked(*cmd, "--combine-format", o->combine_format,
              "Format of the EP combine's token copies (DeepSeek-V3: bf16; the paper's "
              "LogFMT: logfmt10, logfmt8; scaled FP8/E5M6: e4m3, e5m2, e5m6); reports the "
              "step time saved against BF16 and the codec rate that breaks even",
              CLI::IsMember({"bf16", "e4m3", "e5m2", "e5m6", "logfmt8", "logfmt10"}));
  add_checked(*cmd, "--routing", o->routing,
              "balanced: every GPU gets exactly its share of the expert copies (DeepSeek's "
              "profiles); random: each copy picks its GPU at random with that share as the "
              "expectation (real traffic under perfect EPLB), the busiest GPU setting the pace",
              CLI::IsMember({"balanced", "random"}));
  add_checked(*cmd, "--mtp-depth", o->mtp_depth, "Multi-token prediction: draft tokens a step",
              integer_in(0, 8));
  add_checked(*cmd, "--mtp-acceptance", o->mtp_acceptance,
              "Acceptance rate of each draft token (the paper: 0.8-0.9)", finite_number(0, 1));
  add_checked(*cmd, "--prefill-tokens", o->prefill_tokens,
              "New tokens a device computes in one prefill step", integer_in(1, 100000000));
  cmd->add_option("--prompt", o->prompt, "Prompt length of prefill (default: --context)")
      ->check(finite_number(1, 1e9));
  add_checked(*cmd, "--cache-hit", o->cache_hit,
              "Fraction of prompt tokens whose KV comes from the cache (day 6: 0.563)",
              finite_number(0, 1, false, true));
  cmd->add_option("--prefill-ep", o->prefill_ep, "EP degree of prefill (default: --ep)")
      ->check(integer_in(1, 100000000));
  add_checked(*cmd, "--context", o->context, "KV length per decoded token", finite_number(1, 1e9));
  add_checked(*cmd, "--weight-bytes", o->weight_bytes,
              "Bytes per weight: 1 for FP8, 0.5 for 4-bit, 2 for BF16",
              finite_number(0, 8, /*min_exclusive=*/true));
  add_checked(*cmd, "--gemm-precision", o->gemm_precision,
              "Inputs of the weight GEMMs: fp8 (DeepSeek-V3: each input quantized by its own "
              "kernel, FP8 dispatch) or bf16 (BF16 peak, no quantization, BF16 dispatch; "
              "--weight-bytes defaults to 2)",
              CLI::IsMember({"fp8", "bf16"}));
  cmd->add_option("--ep", o->ep, "GPUs the experts spread over (default: the whole cluster)")
      ->check(integer_in(1, 100000000));
  // MFU and token counts from a meaningful least value: 1e-300 passed "greater than 0" and made
  // "inf GPU-hours" with exit 0.
  add_checked(*cmd, "--mfu", o->mfu, "MFU for training throughput (default: the paper's 38.94%)",
              finite_number(0.001, 1));
  add_checked(*cmd, "--kv-format", o->kv_format, "KV cache format for --kv-reload: bf16 or fp8",
              CLI::IsMember({"bf16", "fp8"}));
  add_checked(*cmd, "--prefill-mfu", o->prefill_mfu, "MFU of a recomputing prefill (--kv-reload)",
              finite_number(0.001, 1));
  cmd->add_option("--prefix-tokens", o->prefix_tokens, "Prefix lengths for --kv-reload")
      ->check(finite_number(1, 1e9))
      ->delimiter(',')
      ->capture_default_str();
  cmd->callback([&action, o, cmd] {
    action = [o, cmd] {
      check_analyze_options(*cmd, o->paper, o->train, o->kv_reload);
      topo::Report report;
      nlohmann::json json;
      if (o->kv_reload) {
        if (o->paper) throw UsageError("--kv-reload takes no --paper");
        std::vector<topo::ModelArch> models;
        if (o->model.empty()) {
          models = {topo::load_model("deepseek-v3"), topo::load_model("qwen2.5-72b")};
        } else {
          models = {topo::load_model(o->model)};
        }
        topo::KvReloadSetting s;
        s.format = o->kv_format == "fp8" ? topo::KvCacheFormat::kFp8 : topo::KvCacheFormat::kBf16;
        s.prefill_mfu = o->prefill_mfu;
        if (o->prefix_tokens.empty()) throw UsageError("--prefix-tokens needs at least one length");
        s.range_tokens = *std::max_element(o->prefix_tokens.begin(), o->prefix_tokens.end());
        const topo::ClusterSpec cluster =
            topo::load_cluster_file(o->clusters.empty() ? "deepseek-h800-2048" : o->clusters[0]);
        if (o->clusters.size() > 1) throw UsageError("--kv-reload takes one --cluster");
        const std::set<std::string> as(o->measured_as.begin(), o->measured_as.end());
        const topo::MeasuredInputs measured =
            topo::measured_data_for(o->measured, cluster, as).inputs;
        const topo::KvReloadReport r = topo::kv_reload_report(
            models, cluster, s, o->prefix_tokens, o->measured.empty() ? nullptr : &measured);
        print_report(o->format, r);
        return 0;
      }
      if (o->train) {
        if (o->paper || o->model.empty() || o->clusters.size() != 1)
          throw UsageError("--train takes --model and one --cluster (no --paper)");
        // Measured values replace the cluster file's, measured tables the published ones, as
        // in the serving analysis (each record checked against the cluster's hardware).
        topo::ClusterSpec cluster = topo::load_cluster_file(o->clusters[0]);
        const std::set<std::string> as(o->measured_as.begin(), o->measured_as.end());
        const topo::MeasuredData measured = topo::measured_data_for(o->measured, cluster, as);
        std::set<std::string> changed;
        std::vector<topo::InputComparison> replaced =
            topo::apply_measured(cluster, measured.inputs);
        topo::raise_fp8_peak(cluster, measured.tables, replaced);
        for (const topo::InputComparison& x : replaced) changed.insert(x.input);
        topo::PerfModel perf(cluster, topo::find_published_perf(cluster), changed);
        perf.use_measured(measured.tables);
        topo::TrainingSetting t;
        t.pp = o->pp;
        t.ep = o->train_ep;
        t.micro_batch = o->micro_batch;
        t.global_batch = o->global_batch;
        t.seq_len = o->seq_len;
        t.schedule = topo::parse_pipeline_schedule(o->pipeline);
        t.tp = o->tp;
        t.cp = o->cp;
        t.virtual_stages = o->interleave;
        t.gpus = o->train_gpus;
        t.precision = topo::parse_training_precision(o->train_precision);
        const topo::ModelArch model = topo::load_model(o->model);
        refuse_inapplicable(*cmd, model, nullptr);
        report = topo::training_report(model, cluster, t, perf);
        topo::add_measured_rows(report, changed, measured.tables);
        json = topo::to_json(report);
      } else if (o->paper) {
        if (!o->model.empty() || !o->clusters.empty() || !o->measured.empty())
          throw UsageError("--paper takes no --model, --cluster or --measured");
        report = topo::paper_report();
        json = topo::to_json(report);
      } else {
        if (o->model.empty() || o->clusters.empty())
          throw UsageError("give --paper, --kv-reload, or both --model and --cluster");
        topo::DecodeSetting s;
        s.tokens_per_device = o->tokens_per_device;
        s.context_tokens = o->context;
        s.weight_bytes = o->weight_bytes;
        s.bf16_gemms = o->gemm_precision == "bf16";
        if (s.bf16_gemms && cmd->count("--weight-bytes") == 0) s.weight_bytes = 2;
        s.ep_degree = o->ep;
        s.train_mfu = o->mfu;
        s.micro_batches = o->micro_batches;
        s.schedule = topo::parse_schedule(o->schedule);
        if (s.schedule == topo::Schedule::kFiveStage && o->micro_batches != 2)
          throw UsageError(
              fmt::format("--schedule five-stage overlaps 2 micro-batches; --micro-batches is {}",
                          o->micro_batches));
        s.redundant_experts = o->redundant;
        s.tp = o->tp;
        s.mtp_depth = o->mtp_depth;
        s.combine_format = o->combine_format;
        s.random_routing = o->routing == "random";
        s.mtp_acceptance = o->mtp_acceptance;
        s.prefill_tokens_per_device = o->prefill_tokens;
        s.prompt_tokens = o->prompt;
        s.cache_hit = o->cache_hit;
        s.prefill_ep = o->prefill_ep;
        if (o->target_ttft > 0 && o->target_tokens_per_user <= 0)
          throw UsageError("--target-ttft needs --target-tokens-per-user");
        // The same file twice, by name or by path, is one cluster.
        std::vector<std::filesystem::path> files;
        for (const std::string& name : o->clusters)
          files.push_back(
              std::filesystem::weakly_canonical(topo::find_data_file("clusters", name)));
        for (std::size_t i = 0; i < o->clusters.size(); ++i)
          for (std::size_t j = 0; j < i; ++j)
            if (files[i] == files[j])
              throw UsageError(fmt::format(
                  "--cluster {} is given twice{}: a side-by-side comparison takes different "
                  "clusters",
                  o->clusters[i],
                  o->clusters[i] == o->clusters[j] ? "" : " (as " + o->clusters[j] + ")"));
        const topo::ModelArch model = topo::load_model(o->model);
        refuse_inapplicable(*cmd, model, nullptr);
        if (o->clusters.size() > 1 || o->target_tokens_per_user > 0) {
          // Several clusters or a target: the best configuration on each, side by side.
          if (!o->measured.empty())
            throw UsageError(
                "--measured goes with one --cluster and no --target-*: the side-by-side "
                "comparison and the target search read the cluster files' values only");
          if (cmd->count("--tokens-per-device") > 0)
            throw UsageError(
                "--tokens-per-device goes with one --cluster and no --target-*: the side-by-side "
                "comparison and the target search choose the batch");
          std::vector<topo::ClusterSpec> specs;
          for (const std::string& name : o->clusters)
            specs.push_back(topo::load_cluster_file(name));
          topo::ServingTargets t;
          t.tokens_per_s_per_user = o->target_tokens_per_user;
          if (o->target_ttft > 0) t.ttft_s = o->target_ttft;
          topo::ClusterComparison cmp = topo::compare_clusters(model, specs, s, t);
          report = std::move(cmp.report);
          json = std::move(cmp.json);
        } else {
          const topo::ClusterSpec cluster = topo::load_cluster_file(o->clusters[0]);
          // A cluster without GPUs gets the local deployment's bound (section 2.2.2): the GPU
          // parallelism options would be ignored, so they are refused.
          if (cluster.node.gpus_per_node == 0 || !cluster.node.gpu)
            refuse_inapplicable(*cmd, model, &cluster);
          const std::set<std::string> as(o->measured_as.begin(), o->measured_as.end());
          const topo::MeasuredData measured = topo::measured_data_for(o->measured, cluster, as);
          topo::Analysis a =
              topo::analyze(model, cluster, s, o->measured.empty() ? nullptr : &measured.inputs,
                            o->measured.empty() ? nullptr : &measured.tables);
          report = std::move(a.report);
          json = std::move(a.json);
        }
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
