// SPDX-License-Identifier: Apache-2.0
// cobench_coll: collective benchmarks in nccl-tests' method on MPI (host buffers) or NCCL
// (device buffers), started by mpirun or srun:
//   mpirun -np 4 cobench_coll -b 1K -e 64M -f 2 --ops all_reduce,all_to_all --out results/
// Every size is verified on every rank before it is timed. Exit status: 0 every size verified,
// 1 an error or a verification failure, 2 a usage error, 3 the watchdog ended the job.
#include <fmt/format.h>

#include <cstdio>

#include "apps/comm/comm_common.h"
#include "collectives/coll_bench.h"
#include "collectives/coll_report.h"
#include "collectives/mpi_baseline.h"
#include "collectives/mpi_communicator.h"
#include "collectives/node_layout.h"
#include "core/error.h"
#include "core/provenance.h"
#include "core/stats.h"
#include "core/sysinfo/sysinfo.h"

namespace {

using namespace cobench;

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

int run(const std::vector<std::string>& argv, const app::CommOptions& common,
        coll::CollBenchOptions opt, bool plain_mpi) {
  auto world = app::make_world(common.backend);
  const bool root = world->rank() == 0;
  auto watchdog = app::make_watchdog("cobench_coll", world->rank(), common.timeout_s);
  const coll::NodeLayout layout = coll::discover_layout(*world, common.ranks_per_node);
  app::inject_fault(common.fault, world->rank(), watchdog.get());
  if (root)
    fmt::print(
        "# cobench_coll: {} ranks on {} {}node(s), backend {}, {} warm-up, {} x {} timed "
        "calls per size\n",
        world->size(), layout.num_nodes, layout.virtual_nodes ? "virtual " : "", world->backend(),
        opt.warmup, opt.repetitions, opt.iters);
  app::Progress progress;
  const auto rows = coll::run_collectives(
      *world, opt, watchdog.get(), [&](const coll::CollResult& r, std::size_t k, std::size_t n) {
        if (root)
          progress.print(k, n,
                         fmt::format("{} {} B {}", to_string(r.op), r.counts.bytes,
                                     r.in_place ? "in place" : "out of place"));
      });
  std::int64_t wrong = 0;
  for (const auto& r : rows) wrong += r.wrong;
  std::vector<results::Record> baseline;
  if (plain_mpi && world->backend() == "mpi") baseline = compare_plain_mpi(rows, opt, root);
  if (root) {
    fmt::print("{}", coll::format_table(rows));
    fmt::print("# {} sizes, {} wrong elements in all\n", rows.size(), wrong);
    if (!common.out.empty()) {
      results::Results res;
      res.run = make_run_header(argv);
      res.run.sysinfo = sysinfo::to_json(sysinfo::discover());
      res.run.extra = {{"ranks", world->size()},
                       {"nodes", layout.num_nodes},
                       {"virtual_nodes", layout.virtual_nodes},
                       {"backend", std::string(world->backend())}};
      res.records = coll::to_records(
          rows, world->backend() == "nccl" ? results::Backend::kNccl : results::Backend::kMpi,
          layout);
      res.records.insert(res.records.end(), baseline.begin(), baseline.end());
      fmt::print("# results: {}\n", app::write_results(common.out, res, "coll").string());
    }
  }
  return wrong == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  CLI::App app{"cobench_coll: verified collective benchmarks (nccl-tests' algbw/busbw)"};
  app::CommOptions common;
  app::add_comm_options(app, common);
  coll::CollBenchOptions opt;
  std::vector<std::string> ops{"all_reduce", "all_gather", "reduce_scatter", "all_to_all",
                               "send_recv"};
  std::string min = "8", max = "64M", step = "0", type = "float32", placement = "both";
  double factor = 2;
  app.add_option("--ops", ops, "Collectives")->delimiter(',')->capture_default_str();
  app.add_option("-b,--min-bytes", min, "Smallest size (bytes; K/M/G or units)")
      ->capture_default_str();
  app.add_option("-e,--max-bytes", max, "Largest size")->capture_default_str();
  app.add_option("-f,--step-factor", factor, "Multiply the size by this (> 1)")
      ->capture_default_str();
  app.add_option("-i,--step-bytes", step, "Add this instead (with -f 0)")->capture_default_str();
  app.add_option("-w,--warmup", opt.warmup, "Untimed calls per size")->capture_default_str();
  app.add_option("-n,--iters", opt.iters, "Calls per timed repetition")->capture_default_str();
  app.add_option("-r,--repetitions", opt.repetitions, "Timed repetitions per size")
      ->capture_default_str();
  app.add_option("-d,--type", type, "Element type")
      ->check(CLI::IsMember({"float32", "int32"}))
      ->capture_default_str();
  app.add_option("--placement", placement, "out, in or both")
      ->check(CLI::IsMember({"out", "in", "both"}))
      ->capture_default_str();
  app.add_option("--seed", opt.seed, "Seed of the verification data")->capture_default_str();
  bool plain_mpi = false;
  app.add_flag("--compare-plain-mpi", plain_mpi,
               "Also time a plain MPI_Alltoall loop at each all_to_all size");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return app::run_mpi_main("cobench_coll", argc, argv, [&] {
    opt.ops.clear();
    for (const auto& o : ops) opt.ops.push_back(coll::parse_collective(o));
    opt.sizes =
        coll::size_sweep(app::parse_size(min), app::parse_size(max), factor, app::parse_size(step));
    opt.type = coll::parse_data_type(type);
    opt.out_of_place = placement != "in";
    opt.in_place = placement != "out";
    return run(args, common, opt, plain_mpi);
  });
}
