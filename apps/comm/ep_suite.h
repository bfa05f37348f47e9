// SPDX-License-Identifier: Apache-2.0
// The expert-parallel (MoE dispatch/combine) suite as a reusable piece: its command-line options
// and one run of it inside an MPI session that is already up. cobench_ep runs it alone;
// cobench_comm runs it beside the collectives in one MPI session.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "apps/comm/coll_suite.h"
#include "collectives/ep/ep_bench.h"

namespace cobench::app {

struct EpCli {
  coll::ep::EpBenchOptions opt;
  std::string routing, impl = "both";   ///< routing "": file with a routing file, else uniform
  std::string combine_format = "bf16";  ///< --combine-format
  bool no_shared = false;
};
void add_ep_options(CLI::App& app, EpCli& c);

/// The benchmark options the command line means.
coll::ep::EpBenchOptions resolve(const EpCli& c);

/// "" when the EP options can run on `ranks` ranks (coll::ep::validate), else its message.
std::string ep_usage_error(const EpCli& c, int ranks);

/// Runs flat and/or hierarchical dispatch/combine on every rank; rank 0 prints the table.
SuiteOutcome run_ep_suite(coll::Communicator& world, const coll::NodeLayout& layout,
                          coll::Watchdog* watchdog, const EpCli& c);

}  // namespace cobench::app
