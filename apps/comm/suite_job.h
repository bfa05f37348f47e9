// SPDX-License-Identifier: Apache-2.0
// One suite as a program's whole MPI job (cobench_coll, cobench_ep): checks, the suite, the
// results file.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "apps/comm/coll_suite.h"
#include "apps/comm/comm_common.h"

namespace cobench::app {

/// A suite's run inside the job.
using SuiteRun = std::function<SuiteOutcome(
    coll::Communicator& world, const coll::NodeLayout& layout, coll::Watchdog* watchdog)>;

/// On every rank: --out checked before anything runs, the world made, a usage error refused
/// (check_in_world, then `usage` of the world's size: "" when there is none), the job started,
/// `suite` run and its records written under `tag`. 0 when every size verified, 1 when one did
/// not or --out cannot take the file, 2 on a usage error.
int run_suite_job(const char* prog, const std::vector<std::string>& argv, const CommOptions& common,
                  const std::function<std::string(int ranks)>& usage, const SuiteRun& suite,
                  const std::string& tag);

}  // namespace cobench::app
