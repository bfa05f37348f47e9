// SPDX-License-Identifier: Apache-2.0
// `cobench run [--suite quick|full|NAME...] [--out DIR]`: discovers the node, runs the suites it
// supports (CPU always; CUDA when a device is present; collectives and EP through an MPI launcher
// when one is installed), shows progress, writes one results file for the run (atomically, never
// overwriting), then runs the bottleneck analysis with the measured values.
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "apps/cobench/commands.h"
#include "apps/cobench/run_exec.h"
#include "apps/cobench/run_suites.h"
#include "core/error.h"
#include "core/gbench_convert.h"
#include "core/provenance.h"
#include "core/results_io.h"
#include "core/sysinfo/gpu_clocks.h"
#include "core/sysinfo/sysinfo.h"
#include "topologies/analysis.h"
#include "topologies/data_files.h"

namespace cobench::app {
namespace {

namespace fs = std::filesystem;

struct RunOptions {
  std::vector<std::string> suites{"quick"};
  std::string out, build_dir, mpirun = "mpirun -np 2", model, cluster;
  bool analysis = true;
};

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Why a suite cannot run here, or "" when it can.
std::string unavailable(const Suite& s, const fs::path& binary, const sysinfo::NodeInfo& node,
                        const std::vector<std::string>& mpirun) {
  if (!fs::exists(binary)) return fmt::format("{} is not built", binary.string());
  if (s.needs == SuiteNeeds::kCuda && node.cuda_devices.empty())
    return node.cuda_status.empty() ? "no CUDA device" : node.cuda_status;
  if (s.needs == SuiteNeeds::kMpi) {
    if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("SLURM_PROCID") != nullptr)
      return "cobench run is itself under an MPI launcher: run cobench_coll and cobench_ep "
             "through it directly (scripts/slurm/)";
    if (mpirun.empty() || !on_path(mpirun[0])) return "no MPI launcher (--mpirun)";
  }
  return "";
}

// The records a suite wrote, read from its output file.
std::vector<results::Record> collect(const Suite& s, const fs::path& file,
                                     const results::RunHeader& header) {
  if (s.kind == SuiteKind::kMpi) return results::read(file).records;
  std::ifstream in(file);
  if (!in) COBENCH_THROW(fmt::format("{} wrote no {}", s.binary, file.string()));
  const auto json = nlohmann::json::parse(in);
  return results::from_gbench(json, header, s.name, s.backend, file.string()).records;
}

// CUDA records taken while a GPU was throttled (before or after the suite) say so.
void flag_throttled(std::vector<results::Record>& records, const sysinfo::GpuClocks& before,
                    const sysinfo::GpuClocks& after) {
  std::vector<std::string> reasons;
  for (const auto* c : {&before, &after})
    for (const auto& d : c->devices)
      if (sysinfo::is_throttled(d.throttle_mask))
        for (const auto& r : sysinfo::throttle_reason_names(d.throttle_mask))
          reasons.push_back(fmt::format("gpu {}: {}", d.index, r));
  if (reasons.empty()) return;
  for (auto& r : records) {
    r.extra["throttled"] = true;
    r.extra["throttle_reasons"] = reasons;
  }
}

// A one-node cluster description of this machine, for the analysis of a machine without a
// cluster file: its discovered node; measured values fill what discovery cannot see.
topo::ClusterSpec this_machine(const sysinfo::NodeInfo& node) {
  std::string yaml = fmt::format("cluster:\n  name: this machine ({})\n  nodes: 1\n", node.host);
  std::istringstream lines(sysinfo::to_cluster_node_yaml(node));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') yaml += "  " + line + "\n";
  return topo::load_cluster(config::parse_yaml(yaml, "this machine"));
}

int analyze_run(const RunOptions& o, const results::Results& r, const fs::path& file,
                const sysinfo::NodeInfo& node) {
  const bool gpu = !node.cuda_devices.empty();
  const std::string model = !o.model.empty() ? o.model : gpu ? "deepseek-v3" : "deepseek-v2";
  topo::ClusterSpec cluster =
      !o.cluster.empty() ? topo::load_cluster_file(o.cluster) : this_machine(node);
  const topo::MeasuredInputs measured = topo::measured_inputs(r, file.string());
  topo::DecodeSetting s;
  if (!gpu) s.weight_bytes = 0.5;  // the paper's local deployment: 4-bit weights
  const topo::Analysis a = topo::analyze(topo::load_model(model), cluster, s, &measured);
  fmt::print("\n# Bottleneck analysis: {} on {} with this run's measurements\n{}", model,
             cluster.name, topo::format_text(a.report));
  return 0;
}

int run(const RunOptions& o, const std::vector<std::string>& argv) {
  bool full = false;
  const std::vector<Suite> suites = select_suites(o.suites, full);
  const fs::path build = bench_build_dir(o.build_dir);
  const std::vector<std::string> mpirun = split_words(o.mpirun);
  const sysinfo::NodeInfo node = sysinfo::discover();
  fmt::print("# cobench run on {}: {}, {} core(s), {}\n", node.host, node.cpu.model, node.cpu.cores,
             node.cuda_devices.empty()
                 ? node.cuda_status
                 : fmt::format("{} CUDA device(s), {}", node.cuda_devices.size(),
                               node.cuda_devices[0].name));
  results::Results res;
  res.run = make_run_header(argv);
  res.run.sysinfo = sysinfo::to_json(node);
  const sysinfo::GpuClocks start_clocks = sysinfo::read_gpu_clocks();

  const fs::path out_dir = !o.out.empty() ? fs::path(o.out) : fs::path("results") / node.host;
  fs::create_directories(out_dir);
  const fs::path work = out_dir / fmt::format(".cobench-run-{}", getpid());
  fs::create_directories(work);

  std::vector<std::pair<Suite, std::string>> plan;  // suite, why not ("" = runs)
  double estimate = 0;
  for (const auto& s : suites) {
    plan.emplace_back(s, unavailable(s, build / s.binary, node, mpirun));
    if (plan.back().second.empty()) estimate += s.quick_estimate_s * (full ? 10 : 1);
  }
  nlohmann::json suite_status = nlohmann::json::object();
  const auto t0 = std::chrono::steady_clock::now();
  double done_estimate = 0;
  int failures = 0, k = 0, runnable = 0;
  for (const auto& [s, why] : plan) runnable += why.empty();
  for (const auto& [s, why] : plan) {
    if (!why.empty()) {
      fmt::print("  skip {:<12} {}\n", s.name, why);
      suite_status[s.name] = {{"status", "skipped"}, {"reason", why}};
      continue;
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("[{}/{}] {:<12} {}  elapsed {:.0f} s, about {:.0f} s left\n", ++k, runnable, s.name,
               s.binary, elapsed, std::max(0.0, estimate - done_estimate));
    std::fflush(stdout);
    const fs::path output = work / (s.name + ".json"), log = work / (s.name + ".log");
    std::vector<std::string> cmd;
    std::vector<std::string> env;
    if (s.kind == SuiteKind::kMpi) {
      cmd = mpirun;
      if (geteuid() == 0) env = {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"};
      env.push_back("OMPI_MCA_rmaps_base_oversubscribe=1");
    }
    cmd.push_back((build / s.binary).string());
    const auto& args = full ? s.full_args : s.quick_args;
    cmd.insert(cmd.end(), args.begin(), args.end());
    if (s.kind == SuiteKind::kMpi) {
      cmd.insert(cmd.end(), {"--out", output.string()});
    } else {
      cmd.insert(cmd.end(), {"--benchmark_out=" + output.string(), "--benchmark_out_format=json"});
    }
    const sysinfo::GpuClocks before = sysinfo::read_gpu_clocks();
    const ExitStatus status = run_process(cmd, log, env);
    const sysinfo::GpuClocks after = sysinfo::read_gpu_clocks();
    done_estimate += s.quick_estimate_s * (full ? 10 : 1);
    std::vector<results::Record> records;
    std::string problem = status.ok() ? "" : status.describe();
    if (problem.empty()) {
      try {
        records = collect(s, output, res.run);
      } catch (const Error& e) {
        problem = e.what();
      }
    }
    if (!problem.empty()) {
      ++failures;
      fmt::print("  FAILED {}: {} (log: {})\n", s.name, problem, log.string());
      suite_status[s.name] = {{"status", "failed"}, {"reason", problem}};
      continue;
    }
    int failed_checks = 0;
    for (const auto& r : records) failed_checks += r.verification == results::Verification::kFailed;
    if (failed_checks > 0) {
      ++failures;
      fmt::print("  {}: {} record(s) failed verification (log: {})\n", s.name, failed_checks,
                 log.string());
    }
    if (s.needs == SuiteNeeds::kCuda) flag_throttled(records, before, after);
    suite_status[s.name] = {{"status", "ran"}, {"records", records.size()}};
    res.records.insert(res.records.end(), records.begin(), records.end());
  }
  res.run.gpu_clocks = {{"start", sysinfo::to_json(start_clocks)},
                        {"end", sysinfo::to_json(sysinfo::read_gpu_clocks())}};
  res.run.extra["suites"] = suite_status;
  res.run.extra["suite_selection"] = o.suites;
  const fs::path file = out_dir / results::default_file_name(res.run, "run");
  results::write(file, res);
  if (failures == 0) fs::remove_all(work);
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("# {} records from {} suite(s) in {:.0f} s: {}\n", res.records.size(), k, total,
             file.string());
  if (o.analysis) analyze_run(o, res, file, node);
  return failures == 0 ? 0 : 1;
}

}  // namespace

void add_run(CLI::App& app, Action& action, const std::vector<std::string>& argv) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run the benchmark suites this machine supports, write one results file, analyze");
  cmd->add_option("--suite", o->suites,
                  "quick, full, or suite names (model, memory, gemm, mla, "
                  "gemm_gpu, collectives, ep)")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Directory for the results file (default results/<host>)");
  cmd->add_option("--build-dir", o->build_dir,
                  "Build directory with the benchmark binaries (default: this binary's)");
  cmd->add_option("--mpirun", o->mpirun, "Launcher for the MPI suites")->capture_default_str();
  cmd->add_option("--model", o->model,
                  "Model to analyze (default deepseek-v3 with a GPU, deepseek-v2 without)");
  cmd->add_option("--cluster", o->cluster,
                  "Cluster file to analyze against (default: this machine as one node)");
  cmd->add_flag("!--no-analysis", o->analysis, "Skip the bottleneck analysis");
  cmd->callback([&action, o, argv] { action = [o, argv] { return run(*o, argv); }; });
}

}  // namespace cobench::app
