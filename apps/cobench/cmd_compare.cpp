// SPDX-License-Identifier: Apache-2.0
// `cobench compare BASELINE CURRENT [--threshold] [--alpha] [--min-repetitions] [--metric]
// [--format text|markdown|json] [--force]`: exit 0 without a significant regression, 1 with one
// (a "slower" row) or on an error, 2 on a usage error.
#include <fmt/format.h>

#include "apps/cobench/cli_checks.h"
#include "apps/cobench/commands.h"
#include "apps/cobench/print_report.h"
#include "track/compare.h"

namespace cobench::app {

void add_compare(CLI::App& app, Action& action) {
  struct Options {
    std::string baseline, current, format = "text";
    track::CompareOptions compare;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Compare two results files benchmark by benchmark (Mann-Whitney U on the repetitions); "
      "exit 1 on a significant regression");
  cmd->add_option("baseline", o->baseline, "Baseline results file")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("current", o->current, "Current results file")
      ->required()
      ->check(CLI::ExistingFile);
  add_checked(*cmd, "--threshold", o->compare.threshold,
              "Relative change of the medians below which a benchmark is 'same'",
              finite_number(0, 10));
  add_checked(*cmd, "--alpha", o->compare.alpha, "Significance level of the U test",
              finite_number(0, 1, /*min_exclusive=*/true));
  add_checked(*cmd, "--min-repetitions", o->compare.min_repetitions,
              "Fewer values on either side is 'too noisy'", integer_in(1, 1000000));
  cmd->add_option("--metric", o->compare.metric,
                  "Metric to compare (default: time or real_time, else the first B/s or FLOP/s "
                  "metric)");
  add_checked(*cmd, "--format", o->format, "text, markdown or json",
              CLI::IsMember({"text", "markdown", "json"}));
  cmd->add_flag("--force", o->compare.force, "Compare runs from different hardware anyway");
  cmd->callback([&action, o] {
    action = [o] {
      const track::CompareReport r = track::compare_files(o->baseline, o->current, o->compare);
      print_report(o->format, r);
      return r.regression() ? 1 : 0;
    };
  });
}

}  // namespace cobench::app
