// SPDX-License-Identifier: Apache-2.0
#include "apps/comm/suite_job.h"

#include <utility>

namespace cobench::app {

int run_suite_job(const char* prog, const std::vector<std::string>& argv, const CommOptions& common,
                  const std::function<std::string(int ranks)>& usage, const SuiteRun& suite,
                  const std::string& tag) {
  if (!check_out(prog, common.out)) return 1;  // before anything runs
  auto world = make_world(common.backend);
  std::string error = check_in_world(common, world->size());
  if (error.empty()) error = usage(world->size());
  if (!error.empty()) return usage_error_in_world(prog, world->rank(), error);
  const CommJob job = start_job(prog, *world, common);
  SuiteOutcome outcome = suite(*world, job.layout, job.watchdog.get());
  finish_results(argv, common, *world, job.layout, std::move(outcome.records), tag);
  return outcome.ok ? 0 : 1;
}

}  // namespace cobench::app
