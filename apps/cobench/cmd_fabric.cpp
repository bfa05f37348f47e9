// SPDX-License-Identifier: Apache-2.0
// `cobench fabric --cluster C [--traffic all_gather|reduce_scatter|all_reduce|all_to_all|
//  ep_dispatch|ep_combine|FILE] [--tokens T] [--hidden H] [--top-k K] [--experts E]
//  [--max-nodes M] [--gpus N] [--group N] [--stride N] [--bytes SIZE] [--routing
//  ecmp|static|adaptive|all]
//  [--no-pxn] [--seed N] [--oversubscription R] [--finish-window W] [--channels C] [--fail SPEC]...
//  [--measured FILE_OR_DIR]... [--format text|json|markdown]`:
// a collective simulated on the cluster's fabric under each routing policy (docs/model.md,
// "Fabric simulation"), beside `cobench_coll`'s measured busbw when --measured is given.
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "apps/cobench/cli_checks.h"
#include "apps/cobench/commands.h"
#include "apps/cobench/print_report.h"
#include "core/error.h"
#include "core/units.h"
#include "topologies/data_files.h"
#include "topologies/fabric_report.h"
#include "topologies/fabric_traffic.h"

namespace cobench::app {

void add_fabric(CLI::App& app, Action& action) {
  struct Options {
    std::string cluster, traffic = "all_gather", routing = "all", bytes = "1GiB", format = "text";
    int gpus = 0, group = 0, stride = 1, channels = 1;
    bool no_pxn = false;
    std::uint64_t seed = 0;
    double oversubscription = 1, finish_window = 0;
    std::int64_t tokens = 4096, hidden = 7168, top_k = 8, experts = 256, max_nodes = 4;
    std::vector<std::string> failures, measured;
    std::string measured_as;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "fabric",
      "A collective simulated on a cluster's fabric: routing (ECMP, static, adaptive, "
      "PXN) and contention, flow by flow");
  cmd->add_option("--cluster", o->cluster, "Cluster file or name (topologies/clusters)")
      ->required();
  cmd->add_option("--traffic", o->traffic,
                  "all_gather, reduce_scatter, all_reduce, all_to_all, ep_dispatch, ep_combine, or "
                  "a traffic-matrix file (lines 'SRC DST BYTES', '#' comments; docs/model.md)")
      ->capture_default_str();
  const std::array<const char*, 5> ep_only = {"--tokens", "--hidden", "--top-k", "--experts",
                                              "--max-nodes"};
  add_checked(*cmd, ep_only[0], o->tokens, "EP: tokens a GPU",
              integer_in<std::int64_t>(1, 1 << 20));
  add_checked(*cmd, ep_only[1], o->hidden, "EP: hidden size (values a token)",
              integer_in<std::int64_t>(1, 1 << 20));
  add_checked(*cmd, ep_only[2], o->top_k, "EP: experts a token", integer_in<std::int64_t>(1, 1024));
  add_checked(*cmd, ep_only[3], o->experts,
              "EP: routed experts, spread evenly over the GPUs (a multiple of them)",
              integer_in<std::int64_t>(1, 1 << 24));
  add_checked(*cmd, ep_only[4], o->max_nodes,
              "EP: at most this many nodes a token (DeepSeek-V3's node-limited routing)",
              integer_in<std::int64_t>(1, 1 << 20));
  cmd->add_option("--gpus", o->gpus, "The first N GPUs of the cluster (default or 0: all)")
      ->check(integer_in<int>(0, 1 << 24));
  cmd->add_option("--group", o->group,
                  "Ranks a group, groups running at once (default or 0: all the GPUs; 8, 4, 2 "
                  "for the paper's TP groups)")
      ->check(integer_in<int>(0, 1 << 24));
  add_checked(*cmd, "--stride", o->stride, "1: consecutive ranks; TP: one rank per TP group",
              integer_in<int>(1, 1 << 24));
  cmd->add_option("--bytes", o->bytes, "Size as nccl-tests counts it (e.g. 1GiB, 64MiB)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              const double b = parse_bytes(text).value;
              // nccl-tests' sizes are whole bytes: 1b (an eighth of one) printed 1e-06 GB/s.
              return whole_bytes(b)
                         ? ""
                         : fmt::format("a whole number of bytes >= 1, got '{}' ({:g} B)", text, b);
            } catch (const Error& e) {
              return e.what();
            }
          },
          "SIZE"))
      ->capture_default_str();
  add_checked(*cmd, "--routing", o->routing, "ecmp, static, adaptive or all",
              CLI::IsMember({"ecmp", "static", "adaptive", "all"}));
  cmd->add_flag("--no-pxn", o->no_pxn,
                "Cross-rail traffic goes over the network, not NVLink first");
  add_checked(*cmd, "--seed", o->seed, "ECMP hash seed; EP: also the token routing's seed",
              integer_in<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()));
  add_checked(*cmd, "--oversubscription", o->oversubscription, "Leaf down:up bandwidth ratio",
              finite_number(1, 64));
  add_checked(*cmd, "--finish-window", o->finish_window,
              "0: exact events; w > 0 ends flows within w x the earliest finish together "
              "(faster for large oversubscribed ECMP runs, conservative by about w)",
              finite_number(0, 1));
  add_checked(*cmd, "--channels", o->channels,
              "Ring collectives: flows a hop is split over, as NCCL's channels whose "
              "connections ECMP hashes apart (1: one flow a hop)",
              integer_in(1, static_cast<int>(topo::kMaxRingChannels)));
  cmd->add_option("--fail", o->failures,
                  "A link failure, repeatable: uplink:LEAF:SPINE (LEAF as the report names it: 3, "
                  "p2.1, r3.0; SPINE: an FT3's aggregation switch), core:POD:AGG:CORE (FT3), "
                  "plane:P (MPFT) or rail:R (multi-rail); the report gives each routing's loss "
                  "against the healthy fabric");
  cmd->add_option("--measured", o->measured,
                  "cobench_coll results file or directory, repeatable: the measured busbw of the "
                  "same collective at the same rank count (the group's) and size, beside each "
                  "routing's simulated busbw, with the ratio (collectives only)");
  cmd->add_option("--measured-as", o->measured_as,
                  "link: compare --measured records of another link class (a host path, another "
                  "GPU) on purpose; refused otherwise")
      ->check(CLI::IsMember({"link"}));
  add_checked(*cmd, "--format", o->format, "text, json or markdown",
              CLI::IsMember({"text", "json", "markdown"}));
  cmd->callback([&action, o, cmd, ep_only] {
    action = [o, cmd, ep_only] {
      topo::FabricRequest r;
      const bool ep = topo::is_ep_traffic_name(o->traffic);
      if (!o->measured.empty() && !topo::is_collective_name(o->traffic))
        throw UsageError(fmt::format(
            "--measured compares with a collective (--traffic all_gather, reduce_scatter, "
            "all_reduce or all_to_all), not --traffic {}",
            o->traffic));
      if (cmd->count("--channels") > 0 &&
          (ep || !topo::is_collective_name(o->traffic) || o->traffic == "all_to_all"))
        throw UsageError(
            fmt::format("--channels applies to the ring collectives (all_gather, reduce_scatter, "
                        "all_reduce) only (got --traffic {})",
                        o->traffic));
      for (const char* opt : ep_only)
        if (!ep && cmd->count(opt) > 0)
          throw UsageError(fmt::format(
              "{} applies to --traffic ep_dispatch or ep_combine only (got --traffic {})", opt,
              o->traffic));
      if (ep) {
        for (const char* opt : {"--group", "--stride", "--bytes"})
          if (cmd->count(opt) > 0)
            throw UsageError(fmt::format(
                "{} does not apply to --traffic {}: the tokens' routing gives the flows (use "
                "--tokens, --hidden, --top-k, --experts, --max-nodes)",
                opt, o->traffic));
        r.ep = true;
        r.ep_direction = o->traffic == "ep_dispatch" ? topo::EpDirection::kDispatch
                                                     : topo::EpDirection::kCombine;
        r.ep_options.tokens_per_gpu = o->tokens;
        r.ep_options.hidden = static_cast<double>(o->hidden);
        r.ep_options.top_k = o->top_k;
        r.ep_options.experts = o->experts;
        r.ep_options.max_nodes = o->max_nodes;
        r.ep_options.seed = o->seed;
      } else if (topo::is_collective_name(o->traffic)) {
        r.kind = topo::parse_collective_kind(o->traffic);
      } else {
        std::error_code ec;
        if (!std::filesystem::exists(o->traffic, ec))
          throw UsageError(fmt::format(
              "--traffic '{}': expected all_gather, reduce_scatter, all_reduce, all_to_all, "
              "ep_dispatch, ep_combine or a traffic-matrix file, and there is no such file",
              topo::printable(o->traffic, 4096)));
        for (const char* opt : {"--group", "--stride", "--bytes"})
          if (cmd->count(opt) > 0)
            throw UsageError(fmt::format(
                "{} does not apply to a traffic file (--traffic {}): the file gives the flows", opt,
                o->traffic));
        r.kind = topo::CollectiveKind::kMatrix;
        r.traffic_file = o->traffic;
      }
      // One GPU or a group of one rank moves nothing: the help's ranges are 0 (all) or 2 and more.
      if (o->gpus == 1)
        throw UsageError("--gpus: a collective needs 2 GPUs or more (0: all the cluster's), got 1");
      if (o->group == 1)
        throw UsageError("--group: a group is 2 ranks or more (0: all the GPUs), got 1");
      // Groups that cannot tile the GPUs the options give are the options' conflict; on the
      // cluster's own GPU count (no --gpus) the cluster refuses them (an input error).
      const std::int64_t group = o->group > 0 ? o->group : o->gpus;
      if (o->gpus > 0 && o->gpus % (group * o->stride) != 0)
        throw UsageError(fmt::format(
            "groups of {} ranks at --stride {} span {} GPUs, which does not divide --gpus {}: "
            "expected groups that tile the GPUs",
            o->group > 0 ? fmt::format("--group {}", o->group) : fmt::format("{} (--gpus)", group),
            o->stride, group * o->stride, o->gpus));
      r.gpus = o->gpus;
      r.group = o->group;
      r.stride = o->stride;
      r.size_bytes = *whole_bytes(parse_bytes(o->bytes).value);  // checked above
      if (o->routing != "all") r.policies = {topo::parse_routing_policy(o->routing)};
      r.pxn = !o->no_pxn;
      r.seed = o->seed;
      r.oversubscription = o->oversubscription;
      r.finish_window = o->finish_window;
      r.channels = o->channels;
      r.failures = o->failures;
      if (!o->measured_as.empty() && o->measured.empty())
        throw UsageError("--measured-as link needs --measured");
      r.measured = o->measured;
      r.measured_as_link = !o->measured_as.empty();
      // A big fabric routes and simulates for minutes: a line on stderr every 5 s, never silence.
      // An exact fluid run that will take long says once how to make it shorter.
      const auto start = std::chrono::steady_clock::now();
      r.progress = [start, last = start, hinted = o->finish_window > 0](
                       std::string_view stage, std::int64_t done, std::int64_t total) mutable {
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::seconds(5)) return;
        last = now;
        const double elapsed_s = std::chrono::duration<double>(now - start).count();
        const double left_s =
            done > 0 ? elapsed_s * static_cast<double>(total - done) / static_cast<double>(done)
                     : 0;
        fmt::print(
            stderr, "cobench fabric: {}: {} of {}, {:.0f} s{}\n", stage, done, total, elapsed_s,
            done > 0 ? fmt::format(", about {:.0f} s more at this rate", left_s) : std::string());
        if (!hinted && left_s > 300 && stage.find("flows finished") != std::string_view::npos) {
          hinted = true;
          fmt::print(stderr,
                     "cobench fabric: --finish-window 0.01 ends the flows finishing within 1% "
                     "of each other together: far fewer events, times conservative by about "
                     "1% (docs/model.md)\n");
        }
      };
      const topo::Report rep = topo::fabric_report(topo::load_cluster_file(o->cluster), r);
      print_report(o->format, rep);
      return 0;
    };
  });
}

}  // namespace cobench::app
