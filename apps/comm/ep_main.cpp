// SPDX-License-Identifier: Apache-2.0
// cobench_ep: MoE expert-parallel dispatch (FP8) and combine (BF16) across ranks, flat and
// hierarchical (DeepEP's normal mode), verified on every run. Started by mpirun or srun:
//   mpirun -np 8 cobench_ep --tokens 4096 --ranks-per-node 4 --out results/
// Defaults are DeepSeek-V3's: hidden 7168, 256 experts, top-8, 8 groups of which 4, 4 nodes.
// Exit status: 0 verified, 1 an error or a verification failure, 2 a usage error, 3 the
// watchdog ended the job.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "apps/comm/comm_common.h"
#include "collectives/ep/ep_bench.h"
#include "collectives/ep/ep_plan.h"
#include "collectives/ep/ep_report.h"
#include "core/provenance.h"
#include "core/sysinfo/sysinfo.h"

namespace {

using namespace cobench;

int run(const std::vector<std::string>& argv, const app::CommOptions& common,
        const coll::ep::EpBenchOptions& opt) {
  auto world = app::make_world(common.backend);
  const bool root = world->rank() == 0;
  auto watchdog = app::make_watchdog("cobench_ep", world->rank(), common.timeout_s);
  const coll::NodeLayout layout = coll::discover_layout(*world, common.ranks_per_node);
  app::inject_fault(common.fault, world->rank(), watchdog.get());
  app::Progress progress;
  const auto rows = coll::ep::run_ep(*world, layout, opt, watchdog.get(),
                                     [&](const std::string& label, std::size_t k, std::size_t n) {
                                       if (root) progress.print(k, n, "EP " + label);
                                     });
  bool ok = true;
  for (const auto& r : rows) ok = ok && r.passed();
  if (root) {
    fmt::print("{}", coll::ep::format_table(rows, opt.config, layout));
    if (!common.out.empty()) {
      results::Results res;
      res.run = make_run_header(argv);
      res.run.sysinfo = sysinfo::to_json(sysinfo::discover());
      res.run.extra = {{"ranks", world->size()},
                       {"nodes", layout.num_nodes},
                       {"virtual_nodes", layout.virtual_nodes},
                       {"backend", std::string(world->backend())}};
      res.records = coll::ep::to_records(rows, opt.config, layout);
      fmt::print("# results: {}\n", app::write_results(common.out, res, "ep").string());
    }
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  CLI::App app{"cobench_ep: verified MoE dispatch/combine (flat and hierarchical)"};
  app::CommOptions common;
  app::add_comm_options(app, common);
  coll::ep::EpBenchOptions opt;
  coll::ep::EpConfig& c = opt.config;
  std::string routing = "uniform", impl = "both";
  bool no_shared = false;
  app.add_option("-t,--tokens", c.tokens_per_rank, "Tokens per rank")->capture_default_str();
  app.add_option("--hidden", c.hidden, "Hidden size (a multiple of 128)")->capture_default_str();
  app.add_option("--experts", c.num_experts, "Routed experts (a multiple of the ranks)")
      ->capture_default_str();
  app.add_option("--topk", c.top_k, "Experts per token")->capture_default_str();
  app.add_option("--groups", c.num_groups, "Expert groups")->capture_default_str();
  app.add_option("--topk-groups", c.topk_groups, "Groups a token may use")->capture_default_str();
  app.add_option("--max-nodes", c.max_nodes, "Nodes a token may reach (0: any)")
      ->capture_default_str();
  app.add_flag("--no-shared-expert", no_shared, "No shared expert");
  app.add_option("--routing", routing, "uniform, zipf or file")
      ->check(CLI::IsMember({"uniform", "zipf", "file"}))
      ->capture_default_str();
  app.add_option("--zipf", c.zipf_exponent, "Zipf exponent of expert popularity")
      ->capture_default_str();
  app.add_option("--routing-file", c.routing_file, "Routing file (with --routing file)");
  app.add_option("--seed", c.seed, "Seed of tokens and routing")->capture_default_str();
  app.add_option("--impl", impl, "flat, hierarchical or both")
      ->check(CLI::IsMember({"flat", "hierarchical", "both"}))
      ->capture_default_str();
  app.add_option("-w,--warmup", opt.warmup, "Untimed rounds")->capture_default_str();
  app.add_option("-n,--iters", opt.iters, "Rounds per timed repetition")->capture_default_str();
  app.add_option("-r,--repetitions", opt.repetitions, "Timed repetitions")->capture_default_str();
  int plan_ranks = 0;
  app.add_option("--plan-ranks", plan_ranks,
                 "Only print the planned traffic of this many ranks in nodes of --ranks-per-node "
                 "(default 8); runs nothing, needs no mpirun")
      ->check(CLI::PositiveNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  c.shared_expert = !no_shared;
  c.routing = coll::ep::parse_routing_kind(routing);
  if (plan_ranks > 0) {
    try {
      const int per_node = common.ranks_per_node > 0 ? common.ranks_per_node : 8;
      fmt::print("{}", coll::ep::plan_report(c, coll::layout_virtual(plan_ranks, per_node, 0),
                                             std::min(plan_ranks, 8)));
      return 0;
    } catch (const std::exception& e) {
      fmt::print(stderr, "cobench_ep: {}\n", e.what());
      return 1;
    }
  }
  opt.flat = impl != "hierarchical";
  opt.hierarchical = impl != "flat";
  return app::run_mpi_main("cobench_ep", argc, argv, [&] { return run(args, common, opt); });
}
