// SPDX-License-Identifier: Apache-2.0
#include "apps/comm/coll_suite.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <system_error>

#include "apps/cobench/cli_checks.h"
#include "apps/comm/comm_common.h"
#include "collectives/bandwidth.h"
#include "collectives/coll_report.h"
#include "collectives/mpi_baseline.h"
#include "collectives/mpi_communicator.h"
#include "core/error.h"
#include "core/stats.h"

namespace cobench::app {
namespace {

constexpr double kMaxStepFactor = 1024;
constexpr int kMaxCalls = 1000000;  // warm-up calls, calls per repetition, repetitions

// At each verified all_to_all size, the harness's call and a plain MPI_Alltoall loop, timed in
// alternating repetitions on the same buffers; returns both as records.
std::vector<results::Record> compare_plain_mpi(const std::vector<coll::CollResult>& rows,
                                               const coll::CollBenchOptions& opt, bool root) {
  std::vector<results::Record> out;
  if (root)
    fmt::print(
        "# all_to_all through the harness against a plain MPI_Alltoall loop (alternating "
        "repetitions, same buffers)\n# {:>14} {:>14} {:>16} {:>8}\n",
        "size (B)", "harness (us)", "plain MPI (us)", "ratio");
  for (const auto& r : rows) {
    if (r.op != coll::Collective::kAllToAll || r.in_place || !r.passed() || r.time_s.empty())
      continue;
    const auto t = coll::time_alltoall_against_plain_mpi(MPI_COMM_WORLD, r.counts.param, opt.warmup,
                                                         opt.iters, opt.repetitions);
    const double harness = summarize(t.harness_s).median, plain = summarize(t.plain_s).median;
    if (root)
      fmt::print("  {:>14} {:>14.2f} {:>16.2f} {:>8.3f}\n", r.counts.bytes, harness * 1e6,
                 plain * 1e6, harness / plain);
    for (const bool is_plain : {false, true}) {
      results::Record rec;
      rec.suite = "collectives";
      rec.backend = results::Backend::kMpi;
      const char* what = is_plain ? "plain_mpi_alltoall" : "harness_alltoall";
      rec.benchmark = fmt::format("all_to_all/bytes:{}/{}", r.counts.bytes, what);
      rec.parameters = {{"collective", "all_to_all"},
                        {"bytes", r.counts.bytes},
                        {"count", r.counts.param},
                        {"ranks", r.ranks},
                        {"baseline", what}};
      rec.metrics.push_back({"time", "s", is_plain ? t.plain_s : t.harness_s, std::nullopt});
      rec.verification_detail =
          "a harness-cost comparison: the data are not checked here (the sweep's record is)";
      out.push_back(std::move(rec));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> default_op_names() {
  std::vector<std::string> out;
  for (coll::Collective op : coll::default_collectives()) out.emplace_back(to_string(op));
  return out;
}

void add_coll_options(CLI::App& app, CollCli& c) {
  std::vector<std::string_view> all, named_only;
  const auto defaults = coll::default_collectives();
  for (coll::Collective op : coll::kAllCollectives) {
    all.push_back(to_string(op));
    if (std::find(defaults.begin(), defaults.end(), op) == defaults.end())
      named_only.push_back(to_string(op));
  }
  app.add_option("--ops", c.ops,
                 fmt::format("Collectives, of {}; {} run only when named", fmt::join(all, ","),
                             fmt::join(named_only, ",")))
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-b,--min-bytes", c.min, "Smallest size (bytes; K/M/G or units)")
      ->check(size_option())
      ->capture_default_str();
  app.add_option("-e,--max-bytes", c.max, "Largest size")
      ->check(size_option())
      ->capture_default_str();
  app.add_option("-f,--step-factor", c.factor, "Multiply the size by this (> 1; 0: add -i)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            double v = 0;
            const char* end = text.data() + text.size();
            const auto [ptr, ec] = std::from_chars(text.data(), end, v);
            if (ec == std::errc() && ptr == end && (v == 0 || (v > 1 && v <= kMaxStepFactor)))
              return "";
            return fmt::format(
                "expected 0 (steps of -i) or a finite number greater than 1 and at most {}, "
                "got '{}'",
                kMaxStepFactor, text);
          },
          fmt::format("0 or NUMBER in (1, {}]", kMaxStepFactor)))
      ->capture_default_str();
  app.add_option("-i,--step-bytes", c.step, "Add this instead (with -f 0)")
      ->check(size_option())
      ->capture_default_str();
  app.add_option("-w,--warmup", c.opt.warmup, "Untimed calls per size")
      ->check(integer_in<int>(0, kMaxCalls))
      ->capture_default_str();
  app.add_option("-n,--iters", c.opt.iters, "Calls per timed repetition")
      ->check(integer_in<int>(1, kMaxCalls))
      ->capture_default_str();
  app.add_option("-r,--repetitions", c.opt.repetitions, "Timed repetitions per size")
      ->check(integer_in<int>(1, kMaxCalls))
      ->capture_default_str();
  app.add_option("-d,--type", c.type, "Element type")
      ->check(CLI::IsMember({"float32", "int32"}))
      ->capture_default_str();
  app.add_option("--placement", c.placement, "out, in or both")
      ->check(CLI::IsMember({"out", "in", "both"}))
      ->capture_default_str();
  app.add_option("--seed", c.opt.seed, "Seed of the verification data")
      ->check(integer_in<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
  app.add_flag("--compare-plain-mpi", c.plain_mpi,
               "Also time a plain MPI_Alltoall loop at each all_to_all size");
}

coll::CollBenchOptions resolve(const CollCli& c) {
  coll::CollBenchOptions opt = c.opt;
  opt.ops.clear();
  for (const auto& o : c.ops) opt.ops.push_back(coll::parse_collective(o));
  const std::size_t min = parse_size(c.min), max = parse_size(c.max), step = parse_size(c.step);
  if (min > max)
    throw Error(fmt::format("-b/--min-bytes {} ({} B) exceeds -e/--max-bytes {} ({} B)", c.min, min,
                            c.max, max));
  if (c.factor == 0 && step == 0)
    throw Error("-f/--step-factor 0 needs a positive -i/--step-bytes (the size added per step)");
  if (!(c.factor == 0 || (c.factor > 1 && c.factor <= kMaxStepFactor)))
    throw Error(fmt::format("-f/--step-factor {}: expected 0 or a number in (1, {}]", c.factor,
                            kMaxStepFactor));
  try {
    opt.sizes = coll::size_sweep(min, max, c.factor, step);
  } catch (const Error& e) {
    throw Error(
        fmt::format("-b {} -e {} -f {} -i {}: {}", c.min, c.max, c.factor, c.step, e.what()));
  }
  opt.type = coll::parse_data_type(c.type);
  opt.out_of_place = c.placement != "in";
  opt.in_place = c.placement != "out";
  return opt;
}

SuiteOutcome run_coll_suite(coll::Communicator& world, const coll::NodeLayout& layout,
                            coll::Watchdog* watchdog, const CollCli& c) {
  const coll::CollBenchOptions opt = resolve(c);
  const bool root = world.rank() == 0;
  if (root)
    fmt::print(
        "# collectives: {} ranks on {} {}node(s), backend {}, {} warm-up, {} x {} timed "
        "calls per size\n",
        world.size(), layout.num_nodes, layout.virtual_nodes ? "virtual " : "", world.backend(),
        opt.warmup, opt.repetitions, opt.iters);
  Progress progress;
  const auto rows = coll::run_collectives(
      world, opt, watchdog, [&](const coll::CollResult& r, std::size_t k, std::size_t n) {
        if (root)
          progress.print(k, n,
                         fmt::format("{} {} B {}", to_string(r.op), r.counts.bytes,
                                     r.in_place ? "in place" : "out of place"));
      });
  std::int64_t wrong = 0;
  for (const auto& r : rows) wrong += r.wrong;
  std::vector<results::Record> baseline;
  if (c.plain_mpi && world.backend() == "mpi") baseline = compare_plain_mpi(rows, opt, root);
  SuiteOutcome out;
  out.ok = wrong == 0;
  if (!root) return out;
  fmt::print("{}", coll::format_table(rows));
  fmt::print("# {} sizes, {} wrong elements in all\n", rows.size(), wrong);
  out.records = coll::to_records(
      rows, world.backend() == "nccl" ? results::Backend::kNccl : results::Backend::kMpi, layout);
  out.records.insert(out.records.end(), baseline.begin(), baseline.end());
  return out;
}

}  // namespace cobench::app
