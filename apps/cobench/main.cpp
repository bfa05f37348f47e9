// SPDX-License-Identifier: Apache-2.0
// cobench: hardware co-design benchmarks and the DeepSeek-V3 bottleneck model.
// Exit status: 0 success, 1 an error (message on stderr), 2 a usage error.
#include <fmt/format.h>

#include <cstdio>

#include "apps/cobench/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  CLI::App app{"cobench: hardware co-design benchmarks and a topology model after DeepSeek-V3"};
  app.require_subcommand(1);
  cobench::app::Action action;
  cobench::app::add_sysinfo(app, action, args);
  cobench::app::add_results(app, action, args);
  cobench::app::add_analyze(app, action);
  cobench::app::add_fabric(app, action);
  cobench::app::add_compare(app, action);
  cobench::app::add_history(app, action);
  cobench::app::add_run(app, action, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0; every usage error 2
  }
  try {
    return action ? action() : 2;
  } catch (const cobench::UsageError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "cobench: {}\nRun with --help for more information.\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "cobench: {}\n", e.what());
    return 1;
  }
}
