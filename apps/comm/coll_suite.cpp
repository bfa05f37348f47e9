// SPDX-License-Identifier: Apache-2.0
#include "apps/comm/coll_suite.h"

#include <fmt/format.h>

#include "apps/comm/comm_common.h"
#include "collectives/bandwidth.h"
#include "collectives/coll_report.h"
#include "collectives/mpi_baseline.h"
#include "collectives/mpi_communicator.h"
#include "core/stats.h"

namespace cobench::app {
namespace {

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

void add_coll_options(CLI::App& app, CollCli& c) {
  app.add_option("--ops", c.ops, "Collectives")->delimiter(',')->capture_default_str();
  app.add_option("-b,--min-bytes", c.min, "Smallest size (bytes; K/M/G or units)")
      ->capture_default_str();
  app.add_option("-e,--max-bytes", c.max, "Largest size")->capture_default_str();
  app.add_option("-f,--step-factor", c.factor, "Multiply the size by this (> 1)")
      ->capture_default_str();
  app.add_option("-i,--step-bytes", c.step, "Add this instead (with -f 0)")->capture_default_str();
  app.add_option("-w,--warmup", c.opt.warmup, "Untimed calls per size")->capture_default_str();
  app.add_option("-n,--iters", c.opt.iters, "Calls per timed repetition")->capture_default_str();
  app.add_option("-r,--repetitions", c.opt.repetitions, "Timed repetitions per size")
      ->capture_default_str();
  app.add_option("-d,--type", c.type, "Element type")
      ->check(CLI::IsMember({"float32", "int32"}))
      ->capture_default_str();
  app.add_option("--placement", c.placement, "out, in or both")
      ->check(CLI::IsMember({"out", "in", "both"}))
      ->capture_default_str();
  app.add_option("--seed", c.opt.seed, "Seed of the verification data")->capture_default_str();
  app.add_flag("--compare-plain-mpi", c.plain_mpi,
               "Also time a plain MPI_Alltoall loop at each all_to_all size");
}

coll::CollBenchOptions resolve(const CollCli& c) {
  coll::CollBenchOptions opt = c.opt;
  opt.ops.clear();
  for (const auto& o : c.ops) opt.ops.push_back(coll::parse_collective(o));
  opt.sizes = coll::size_sweep(parse_size(c.min), parse_size(c.max), c.factor, parse_size(c.step));
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
