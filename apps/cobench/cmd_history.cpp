// SPDX-License-Identifier: Apache-2.0
// `cobench history PATH... [--benchmark REGEX] [--metric NAME] [--permutations N] [--seed S]
// [--format text|json]`: the change points of each benchmark's history (docs/tracking.md).
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <limits>

#include "apps/cobench/cli_checks.h"
#include "apps/cobench/commands.h"
#include "core/error.h"
#include "track/history.h"

namespace cobench::app {

void add_history(CLI::App& app, Action& action) {
  struct Options {
    std::vector<std::string> paths;
    std::string format = "text";
    track::HistoryOptions history;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "history",
      "Change points (E-divisive means) in each benchmark's history over many results files");
  cmd->add_option("paths", o->paths,
                  "Results files and directories (searched recursively for results files)")
      ->required();
  cmd->add_option("--benchmark", o->history.benchmark_regex,
                  "Only benchmarks whose name matches this regular expression");
  cmd->add_option("--metric", o->history.metric,
                  "Metric to track (default: time or real_time, else the first B/s or FLOP/s "
                  "metric)");
  cmd->add_option("--permutations", o->history.detector.permutations,
                  "Permutations of the significance test")
      ->check(integer_in(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--seed", o->history.detector.seed, "Seed of the permutations")
      ->check(integer_in<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
  cmd->add_option("--format", o->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([&action, o] {
    action = [o] {
      std::vector<std::filesystem::path> skipped;
      const auto files = track::find_results_files(o->paths, &skipped);
      for (const auto& f : skipped)
        fmt::print(stderr, "cobench: note: skipping {}: not a cobench results file\n", f.string());
      if (files.empty()) throw Error("history: no results files found under the given paths");
      const auto runs = track::load_history(files);
      for (const auto& d : track::mixed_hardware(runs))
        fmt::print(stderr, "cobench: warning: history mixes hardware: {}\n", d);
      const auto series = track::build_series(runs, o->history);
      if (o->format == "json")
        fmt::print("{}\n", track::to_json(series).dump(2));
      else
        fmt::print("{}", track::format_text(series));
      return 0;
    };
  });
}

}  // namespace cobench::app
