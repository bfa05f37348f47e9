// SPDX-License-Identifier: Apache-2.0
// cobench_comm: the collectives and the EP dispatch/combine suites in one MPI session, one
// results file. `cobench run` starts it: a launched MPI slot may initialize MPI once, so a
// `cobench run` that is itself under mpirun or srun runs every communication suite through this
// one child. Each suite takes the options of its own binary (cobench_coll, cobench_ep):
//   mpirun -np 8 cobench_comm --out results/ coll -b 1K -e 64M ep --tokens 4096
// Exit status: 0 everything verified, 1 an error or a verification failure, 2 a usage error,
// 3 the watchdog ended the job.
#include <fmt/format.h>

#include "apps/comm/coll_suite.h"
#include "apps/comm/comm_common.h"
#include "apps/comm/ep_suite.h"
#include "collectives/ep/ep_config.h"
#include "core/error.h"

namespace {

using namespace cobench;

int run(const std::vector<std::string>& argv, const app::CommOptions& common, const CLI::App& coll,
        const app::CollCli& coll_cli, const CLI::App& ep, const app::EpCli& ep_cli) {
  if (!app::check_out("cobench_comm", common.out)) return 1;  // before anything runs
  auto world = app::make_world(common.backend);
  // Both suites' options are checked before either runs: a typo in the second must not cost the
  // time of the first.
  std::string usage = app::check_in_world(common, world->size());
  if (usage.empty() && ep.parsed()) usage = app::ep_usage_error(ep_cli, world->size());
  if (!usage.empty()) return app::usage_error_in_world("cobench_comm", world->rank(), usage);
  const app::CommJob job = app::start_job("cobench_comm", *world, common);
  const coll::NodeLayout& layout = job.layout;
  coll::Watchdog* const watchdog = job.watchdog.get();
  std::vector<results::Record> records;
  bool ok = true;
  const int suites = static_cast<int>(coll.parsed()) + static_cast<int>(ep.parsed());
  int k = 0;
  auto add = [&](const char* name, app::SuiteOutcome outcome) {
    if (!outcome.ok && world->rank() == 0)
      fmt::print(stderr, "cobench_comm: {} failed verification\n", name);
    ok = ok && outcome.ok;
    records.insert(records.end(), outcome.records.begin(), outcome.records.end());
  };
  if (coll.parsed()) {
    if (world->rank() == 0) fmt::print(stderr, "# suite {}/{}: collectives\n", ++k, suites);
    add("collectives", app::run_coll_suite(*world, layout, watchdog, coll_cli));
  }
  if (ep.parsed()) {
    if (world->rank() == 0) fmt::print(stderr, "# suite {}/{}: ep\n", ++k, suites);
    add("ep", app::run_ep_suite(*world, layout, watchdog, ep_cli));
  }
  app::finish_results(argv, common, *world, layout, std::move(records), "comm");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  CLI::App app{
      "cobench_comm: the collectives and EP suites in one MPI session (what cobench run starts)"};
  app::CommOptions common;
  app::add_comm_options(app, common);
  CLI::App* coll = app.add_subcommand("coll", "Collectives (the options of cobench_coll)");
  app::CollCli coll_cli;
  app::add_coll_options(*coll, coll_cli);
  CLI::App* ep = app.add_subcommand("ep", "EP dispatch/combine (the options of cobench_ep)");
  app::EpCli ep_cli;
  app::add_ep_options(*ep, ep_cli);
  app.require_subcommand(1, 2);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app::parse_error_exit(app, e);
  }
  if (app::check_usage("cobench_comm", [&] {
        if (coll->parsed()) app::resolve(coll_cli);
        if (ep->parsed()) {
          app::check_ep_backend(common.backend);
          coll::ep::validate(app::resolve(ep_cli).config, 1);
        }
      }) != 0)
    return 2;
  return app::run_mpi_main("cobench_comm", argc, argv,
                           [&] { return run(args, common, *coll, coll_cli, *ep, ep_cli); });
}
