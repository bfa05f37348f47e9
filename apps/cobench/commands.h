// SPDX-License-Identifier: Apache-2.0
// Subcommands of `cobench`: each adds its options to the CLI and returns the action to run.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace cobench::app {

using Action = std::function<int()>;

/// `cobench sysinfo`
void add_sysinfo(CLI::App& app, Action& action, const std::vector<std::string>& argv);
/// `cobench analyze`
void add_analyze(CLI::App& app, Action& action);
/// `cobench run`
void add_run(CLI::App& app, Action& action, const std::vector<std::string>& argv);
/// `cobench compare BASELINE CURRENT`
void add_compare(CLI::App& app, Action& action);
/// `cobench history PATH...`
void add_history(CLI::App& app, Action& action);
/// `cobench fabric --cluster C`
void add_fabric(CLI::App& app, Action& action);
/// `cobench results validate|from-gbench`
void add_results(CLI::App& app, Action& action, const std::vector<std::string>& argv);

}  // namespace cobench::app
