// SPDX-License-Identifier: Apache-2.0
// cobench_ep: MoE expert-parallel dispatch (FP8) and combine (BF16, or --combine-format fp8, e5m6,
// logfmt8, logfmt10) across ranks, flat and hierarchical (DeepEP's normal mode), verified on
// every run. Started by mpirun or srun:
//   mpirun -np 8 cobench_ep --tokens 4096 --ranks-per-node 4 --out results/
// Every combine format travels over both backends: the records are encoded and decoded on the
// host, and the all-to-all-v moves their bytes.
// --backend nccl (a CUDA build with NCCL): records packed on the host, the all-to-all-v on device
// buffers (grouped ncclSend/ncclRecv), one GPU per rank.
// Defaults are DeepSeek-V3's: hidden 7168, 256 experts, top-8, 8 groups of which 4, 4 nodes.
// Exit status: 0 verified, 1 an error or a verification failure, 2 a usage error, 3 the
// watchdog ended the job.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "apps/cobench/cli_checks.h"
#include "apps/comm/comm_common.h"
#include "apps/comm/ep_suite.h"
#include "apps/comm/suite_job.h"
#include "collectives/ep/ep_config.h"
#include "collectives/ep/ep_hash.h"
#include "collectives/ep/ep_pair_traffic.h"
#include "collectives/ep/ep_plan.h"
#include "core/atomic_file.h"
#include "core/error.h"

namespace {

using namespace cobench;

int run(const std::vector<std::string>& argv, const app::CommOptions& common,
        const app::EpCli& cli) {
  return app::run_suite_job(
      "cobench_ep", argv, common, [&](int ranks) { return app::ep_usage_error(cli, ranks); },
      [&](coll::Communicator& world, const coll::NodeLayout& layout, coll::Watchdog* watchdog) {
        return app::run_ep_suite(world, layout, watchdog, cli);
      },
      "ep");
}

}  // namespace

/// The most expert scores a plan computes (ranks x tokens x max(experts, 1024)).
constexpr double kMaxPlanScores = 0x1p38;

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  CLI::App app{"cobench_ep: verified MoE dispatch/combine (flat and hierarchical)"};
  app::CommOptions common;
  app::add_comm_options(app, common);
  app::EpCli cli;
  app::add_ep_options(app, cli);
  int plan_ranks = 0;
  app.add_option("--plan-ranks", plan_ranks,
                 "Only print the planned traffic of this many ranks in nodes of --ranks-per-node "
                 "(default 8); runs nothing, needs no mpirun")
      ->check(app::integer_in<int>(1, 1 << 20));
  std::string plan_traffic, plan_traffic_impl = "hierarchical", plan_traffic_phase = "dispatch";
  app.add_option("--plan-traffic", plan_traffic,
                 "With --plan-ranks: also write the planned traffic as a traffic matrix for "
                 "`cobench fabric --traffic FILE` (GPU ids = ranks; a new file, never "
                 "overwritten)");
  app.add_option("--plan-traffic-impl", plan_traffic_impl, "flat or hierarchical (the default)")
      ->check(CLI::IsMember({"flat", "hierarchical"}));
  app.add_option("--plan-traffic-phase", plan_traffic_phase, "dispatch (the default) or combine")
      ->check(CLI::IsMember({"dispatch", "combine"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app::parse_error_exit(app, e);
  }
  // The options every rank count needs are checked before MPI starts: a usage error exits 2.
  if (app::check_usage("cobench_ep", [&] {
        app::check_ep_backend(common.backend);
        coll::ep::validate(app::resolve(cli).config, 1);
      }) != 0)
    return 2;
  const bool traffic_options = app.count("--plan-traffic") + app.count("--plan-traffic-impl") +
                                   app.count("--plan-traffic-phase") >
                               0;
  if (plan_ranks == 0 && traffic_options) {
    fmt::print(stderr,
               "cobench_ep: --plan-traffic, --plan-traffic-impl and --plan-traffic-phase need "
               "--plan-ranks\n");
    return 2;
  }
  if (plan_ranks > 0 && app.count("--plan-traffic") == 0 && traffic_options) {
    fmt::print(stderr,
               "cobench_ep: --plan-traffic-impl and --plan-traffic-phase need "
               "--plan-traffic FILE\n");
    return 2;
  }
  if (plan_ranks > 0) {
    const int per_node = common.ranks_per_node > 0 ? common.ranks_per_node : 8;
    const coll::ep::EpConfig config = app::resolve(cli).config;
    try {
      // The plan runs nothing and writes no results: options that would are refused, not ignored.
      if (!common.out.empty() || !common.fault.empty() || common.backend != "mpi")
        throw Error(
            fmt::format("--plan-ranks prints a plan and runs nothing: {} has no effect "
                        "with it",
                        !common.out.empty()     ? "--out"
                        : !common.fault.empty() ? "--fault"
                                                : "--backend"));
      if (plan_ranks % per_node != 0)
        throw Error(fmt::format("--plan-ranks {}: nodes of --ranks-per-node {}{} must divide it",
                                plan_ranks, per_node,
                                common.ranks_per_node > 0 ? "" : " (the default)"));
      coll::ep::validate(config, plan_ranks);
      if (!plan_traffic.empty() && plan_ranks > coll::ep::kMaxPairTrafficRanks)
        throw Error(
            fmt::format("--plan-traffic: a traffic matrix of {} ranks; at most {} are "
                        "planned (a ranks x ranks table)",
                        plan_ranks, coll::ep::kMaxPairTrafficRanks));
      if (app.count("--plan-traffic") > 0 && plan_traffic.empty())
        throw Error("--plan-traffic: expected a file name, got ''");
      if (!plan_traffic.empty()) {
        const std::filesystem::path dir = std::filesystem::path(plan_traffic).parent_path();
        check_writable_directory(dir.empty() ? "." : dir,
                                 fmt::format("--plan-traffic '{}'", plan_traffic));
      }
      if (!plan_traffic.empty()) {
        // Without tokens the plan has no pair: the file would hold no flow, which `cobench
        // fabric --traffic` refuses.
        if (config.tokens_per_rank == 0)
          throw Error(
              "--plan-traffic: --tokens 0 plans no traffic: the file would hold no flow "
              "(cobench fabric refuses such a file); give --tokens 1 or more");
        // The name itself, a link included (a dangling one was refused only after the plan):
        // a directory, an existing file or a name the system refuses is said before the plan.
        std::error_code ec;
        const std::filesystem::file_status st = std::filesystem::symlink_status(plan_traffic, ec);
        if (ec && ec != std::errc::no_such_file_or_directory)
          throw Error(fmt::format("--plan-traffic '{}': {}", plan_traffic, ec.message()));
        if (st.type() == std::filesystem::file_type::directory)
          throw Error(fmt::format(
              "--plan-traffic '{}' is a directory: expected the name of a new file", plan_traffic));
        if (st.type() != std::filesystem::file_type::not_found &&
            st.type() != std::filesystem::file_type::none)
          throw Error(
              fmt::format("--plan-traffic '{}' exists: a traffic file is never "
                          "overwritten; choose another name",
                          plan_traffic));
      }
      // The plan scores every expert for every token of every rank (below 1,024 experts a
      // token's fixed cost dominates): 2048 ranks x 4096 tokens x 2048 experts, 1.7e10 scores,
      // took 21 s on a 2-vCPU development VM, about 1.2 ns a score. A plan of more than 2^38
      // scores (about 6 minutes there) is refused before it starts, not left to run for hours.
      const double scores = static_cast<double>(plan_ranks) * config.tokens_per_rank *
                            std::max(config.num_experts, 1024);
      if (scores > kMaxPlanScores)
        throw Error(fmt::format(
            "--plan-ranks {} x --tokens {} x --experts {} (at least 1024): {:.3g} expert scores; "
            "the plan takes up to 2^38 = {:.3g} (about 6 minutes on a 2-vCPU VM): fewer ranks, "
            "tokens or experts",
            plan_ranks, config.tokens_per_rank, config.num_experts, scores, kMaxPlanScores));
      // The hash path of a timing (tests/collectives/ep_hash_test.cpp checks they all agree).
      if (const char* path = std::getenv("COBENCH_EP_HASH"))
        coll::ep::force_hash_path(coll::ep::hash_path_from_name(path, "COBENCH_EP_HASH"));
    } catch (const std::exception& e) {
      fmt::print(stderr, "cobench_ep: {}\n", e.what());
      return 2;  // the options do not fit the planned ranks
    }
    try {
      // A plan of thousands of ranks takes a while: a line every 5 s on stderr.
      const auto start = std::chrono::steady_clock::now();
      auto last = start;
      auto progress = [&](int done, int total) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::seconds(5)) return;
        last = now;
        const double elapsed_s = std::chrono::duration<double>(now - start).count();
        fmt::print(stderr,
                   "cobench_ep: planning: {} of {} ranks routed, {:.0f} s, about {:.0f} s more "
                   "({} hashing)\n",
                   done, total, elapsed_s, elapsed_s * (total - done) / std::max(done, 1),
                   coll::ep::hash_path_name(coll::ep::active_hash_path()));
      };
      const coll::NodeLayout layout = coll::layout_virtual(plan_ranks, per_node, 0);
      fmt::print("{}", coll::ep::plan_report(config, layout, std::min(plan_ranks, 8), progress));
      if (!plan_traffic.empty()) {
        const bool hierarchical = plan_traffic_impl == "hierarchical";
        const bool dispatch = plan_traffic_phase == "dispatch";
        const std::vector<coll::ep::PairBytes> pairs =
            coll::ep::pair_traffic(config, layout, hierarchical, dispatch, progress);
        const std::string header = fmt::format(
            "cobench_ep --plan-ranks {}: {} {} of {} ranks in {} nodes of {}, {} tokens a rank, {} "
            "experts, top-{}, seed {}\n"
            "bytes: whole records on the wire (payload, scales, header); every stage at once; "
            "GPU ids = ranks\n"
            "cobench fabric --cluster C --traffic {}",
            plan_ranks, plan_traffic_impl, plan_traffic_phase, plan_ranks, layout.num_nodes,
            per_node, config.tokens_per_rank, config.num_experts, config.top_k, config.seed,
            plan_traffic);
        if (pairs.empty())
          throw Error(fmt::format(
              "--plan-traffic '{}': the plan has no pair of ranks that exchange bytes; no file "
              "written (cobench fabric refuses a traffic file without flows)",
              plan_traffic));
        write_file_atomic_no_overwrite(plan_traffic, coll::ep::traffic_file_text(pairs, header));
        fmt::print("  wrote {} pairs of the {} {} to {}\n", pairs.size(), plan_traffic_impl,
                   plan_traffic_phase, plan_traffic);
      }
      return 0;
    } catch (const std::exception& e) {
      fmt::print(stderr, "cobench_ep: {}\n", e.what());
      return 1;  // an input (a routing file) is wrong
    }
  }
  return app::run_mpi_main("cobench_ep", argc, argv, [&] { return run(args, common, cli); });
}
