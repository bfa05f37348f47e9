// SPDX-License-Identifier: Apache-2.0
#include "apps/comm/ep_suite.h"

#include <fmt/format.h>

#include <cstdint>
#include <initializer_list>
#include <limits>

#include "apps/cobench/cli_checks.h"
#include "apps/comm/comm_common.h"
#include "collectives/ep/ep_report.h"
#include "core/error.h"

namespace cobench::app {

void add_ep_options(CLI::App& app, EpCli& c) {
  coll::ep::EpConfig& cfg = c.opt.config;
  constexpr int kMax = 1 << 20;
  // The integer options, each in its range, in the order --help lists them.
  struct IntOption {
    const char* name;
    int* value;
    const char* help;
    int min, max;
  };
  auto add_ints = [&app](std::initializer_list<IntOption> options) {
    for (const IntOption& o : options)
      app.add_option(o.name, *o.value, o.help)
          ->check(integer_in<int>(o.min, o.max))
          ->capture_default_str();
  };
  add_ints({{"-t,--tokens", &cfg.tokens_per_rank, "Tokens per rank", 0, kMax},
            {"--hidden", &cfg.hidden, "Hidden size (a multiple of 128)", 1, kMax},
            {"--experts", &cfg.num_experts, "Routed experts (a multiple of the ranks)", 1, kMax},
            {"--topk", &cfg.top_k, "Experts per token", 1, 1024},
            {"--groups", &cfg.num_groups, "Expert groups", 1, kMax},
            {"--topk-groups", &cfg.topk_groups, "Groups a token may use", 1, kMax},
            {"--max-nodes", &cfg.max_nodes, "Nodes a token may reach (0: any)", 0, kMax}});
  app.add_flag("--no-shared-expert", c.no_shared, "No shared expert");
  app.add_option("--routing", c.routing,
                 "uniform, zipf or file (default: file with --routing-file)")
      ->check(CLI::IsMember({"uniform", "zipf", "file"}));
  app.add_option("--zipf", cfg.zipf_exponent, "Zipf exponent of expert popularity")
      ->check(finite_number(0, 100))
      ->capture_default_str();
  app.add_option("--routing-file", cfg.routing_file, "Routing file (implies --routing file)");
  app.add_option("--seed", cfg.seed, "Seed of tokens and routing")
      ->check(integer_in<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
  app.add_option("--combine-format", c.combine_format,
                 "Format of combine's partial sums on the wire: bf16, fp8 (E4M3 + a power-of-two "
                 "scale a 128), e5m6 (12 bits + a scale a 128), logfmt8 or logfmt10")
      ->check(CLI::IsMember({"bf16", "fp8", "e5m6", "logfmt8", "logfmt10"}))
      ->capture_default_str();
  app.add_option("--impl", c.impl, "flat, hierarchical or both")
      ->check(CLI::IsMember({"flat", "hierarchical", "both"}))
      ->capture_default_str();
  add_ints({{"-w,--warmup", &c.opt.warmup, "Untimed rounds", 0, 1000000},
            {"-n,--iters", &c.opt.iters, "Rounds per timed repetition", 1, 1000000},
            {"-r,--repetitions", &c.opt.repetitions, "Timed repetitions", 1, 1000000}});
}

coll::ep::EpBenchOptions resolve(const EpCli& c) {
  coll::ep::EpBenchOptions opt = c.opt;
  opt.config.shared_expert = !c.no_shared;
  // A routing file without --routing means --routing file; with another --routing, validate()
  // refuses the pair.
  const std::string routing =
      !c.routing.empty() ? c.routing : (c.opt.config.routing_file.empty() ? "uniform" : "file");
  opt.config.routing = coll::ep::parse_routing_kind(routing);
  opt.config.combine_format = coll::ep::parse_combine_format(c.combine_format);
  opt.flat = c.impl != "hierarchical";
  opt.hierarchical = c.impl != "flat";
  return opt;
}

std::string ep_usage_error(const EpCli& c, int ranks) {
  try {
    coll::ep::validate(resolve(c).config, ranks);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

SuiteOutcome run_ep_suite(coll::Communicator& world, const coll::NodeLayout& layout,
                          coll::Watchdog* watchdog, const EpCli& c) {
  const coll::ep::EpBenchOptions opt = resolve(c);
  const bool root = world.rank() == 0;
  Progress progress;
  const auto rows = coll::ep::run_ep(world, layout, opt, watchdog,
                                     [&](const std::string& label, std::size_t k, std::size_t n) {
                                       if (root) progress.print(k, n, "EP " + label);
                                     });
  SuiteOutcome out;
  for (const auto& r : rows) out.ok = out.ok && r.passed();
  if (!root) return out;
  fmt::print("{}", coll::ep::format_table(rows, opt.config, layout));
  out.records = coll::ep::to_records(rows, opt.config, layout);
  return out;
}

}  // namespace cobench::app
