// SPDX-License-Identifier: Apache-2.0
// The collectives suite as a reusable piece: its command-line options and one run of it inside an
// MPI session that is already up. cobench_coll runs it alone; cobench_comm runs it beside the EP
// suite in one MPI session.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "collectives/coll_bench.h"
#include "collectives/communicator.h"
#include "collectives/node_layout.h"
#include "collectives/watchdog.h"
#include "core/results.h"

namespace cobench::app {

/// The names of coll::default_collectives(), the --ops default.
std::vector<std::string> default_op_names();

/// What the command line says, before it is checked (sizes and names parse inside MPI so every
/// rank reports the same error the same way).
struct CollCli {
  std::vector<std::string> ops = default_op_names();
  std::string min = "8", max = "64M", step = "0", type = "float32", placement = "both";
  double factor = 2;
  coll::CollBenchOptions opt;
  bool plain_mpi = false;
};
void add_coll_options(CLI::App& app, CollCli& c);

/// The benchmark options the command line means; throws on a bad size or name.
coll::CollBenchOptions resolve(const CollCli& c);

struct SuiteOutcome {
  std::vector<results::Record> records;  ///< complete on rank 0
  bool ok = true;                        ///< every size verified
};

/// Runs the sweep on every rank; rank 0 prints the progress and the table.
SuiteOutcome run_coll_suite(coll::Communicator& world, const coll::NodeLayout& layout,
                            coll::Watchdog* watchdog, const CollCli& c);

}  // namespace cobench::app
