// SPDX-License-Identifier: Apache-2.0
// cobench_coll: collective benchmarks in nccl-tests' method on MPI (host buffers) or NCCL
// (device buffers), started by mpirun or srun:
//   mpirun -np 4 cobench_coll -b 1K -e 64M -f 2 --ops all_reduce,all_to_all --out results/
// Every size is verified on every rank before it is timed. Exit status: 0 every size verified,
// 1 an error or a verification failure, 2 a usage error, 3 the watchdog ended the job.
#include <fmt/format.h>

#include "apps/comm/coll_suite.h"
#include "apps/comm/comm_common.h"
#include "apps/comm/suite_job.h"

namespace {

using namespace cobench;

int run(const std::vector<std::string>& argv, const app::CommOptions& common,
        const app::CollCli& cli) {
  return app::run_suite_job(
      "cobench_coll", argv, common, [](int) { return std::string(); },
      [&](coll::Communicator& world, const coll::NodeLayout& layout, coll::Watchdog* watchdog) {
        return app::run_coll_suite(world, layout, watchdog, cli);
      },
      "coll");
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  CLI::App app{"cobench_coll: verified collective benchmarks (nccl-tests' algbw/busbw)"};
  app::CommOptions common;
  app::add_comm_options(app, common);
  app::CollCli cli;
  app::add_coll_options(app, cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app::parse_error_exit(app, e);
  }
  // Sizes, names and the sweep are checked before MPI starts: a usage error exits 2.
  if (app::check_usage("cobench_coll", [&] { app::resolve(cli); }) != 0) return 2;
  return app::run_mpi_main("cobench_coll", argc, argv, [&] { return run(args, common, cli); });
}
