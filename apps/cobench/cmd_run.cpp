// SPDX-License-Identifier: Apache-2.0
// `cobench run [--suite quick|full|NAME...] [--out DIR]`: discovers the node, runs the suites it
// supports (CPU always; CUDA when a device is present; collectives and EP in one cobench_comm
// child, through `--mpirun` or, when cobench run was itself started by mpirun or srun, on every
// rank of that job), shows progress, writes one results file for the run (atomically, never
// overwriting), then runs the bottleneck analysis with the measured values. Under a launcher,
// rank 0 also runs the node suites, writes the file and analyzes; the other ranks take part in
// the communication suites only.
#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>

#include "apps/cobench/commands.h"
#include "apps/cobench/run_exec.h"
#include "apps/cobench/run_suites.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/gbench_convert.h"
#include "core/json_strict.h"
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
  std::string backend = "mpi";  ///< of the collectives and ep suites: mpi or nccl
  bool analysis = true;
  bool mpirun_given = false;  ///< --mpirun on the command line: its launcher must exist
};

// The run's work directory (benchmark outputs and logs), a fresh one under the temporary
// directory: never among the results, so an interrupted run (even kill -9) leaves nothing in
// --out. Removed when the run ends unless kept (a failed step's log is named in the output).
class WorkDir {
 public:
  explicit WorkDir(const std::string& prefix) {
    std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw Error(
          fmt::format("cannot create a work directory '{}': {}", pattern, std::strerror(errno)));
    path_ = pattern;
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    if (keep_) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  fs::path path_;
  bool keep_ = false;
};

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Why a suite cannot run here, or "" when it can.
std::string unavailable(const Suite& s, const fs::path& binary, const sysinfo::NodeInfo& node,
                        const std::vector<std::string>& mpirun, const LaunchedRank& job) {
  if (!fs::exists(binary)) return fmt::format("{} is not built", binary.string());
  if (job.launched && job.rank != 0 && s.needs != SuiteNeeds::kMpi)
    return fmt::format("rank {} of {} ({}): the node suites run on rank 0 only", job.rank, job.size,
                       job.launcher);
  if (s.needs == SuiteNeeds::kCuda && node.cuda_devices.empty())
    return node.cuda_status.empty() ? "no CUDA device" : node.cuda_status;
  if (s.needs == SuiteNeeds::kMpi && !job.launched && (mpirun.empty() || !on_path(mpirun[0])))
    return "no MPI launcher (--mpirun), and cobench run was not started by one";
  return "";
}

// One child process: a benchmark binary, or cobench_comm running every MPI suite in one MPI
// session.
struct Step {
  std::vector<Suite> suites;
  std::vector<std::string> cmd, env;
  fs::path output, log;
  double estimate_s = 0;
  std::string label() const {
    std::string l;
    for (const auto& s : suites) l += (l.empty() ? "" : "+") + s.name;
    return l;
  }
};

Step gbench_step(const Suite& s, const fs::path& build, const fs::path& work, bool full) {
  Step st;
  st.suites = {s};
  st.output = work / (s.name + ".json");
  st.log = work / (s.name + ".log");
  st.cmd = {(build / s.binary).string()};
  const auto& args = full ? s.full_args : s.quick_args;
  st.cmd.insert(st.cmd.end(), args.begin(), args.end());
  st.cmd.insert(st.cmd.end(),
                {"--benchmark_out=" + st.output.string(), "--benchmark_out_format=json"});
  return st;
}

// Started by a launcher, every rank runs cobench_comm itself (the launcher made the job);
// otherwise one `mpirun` starts it.
Step comm_step(const std::vector<Suite>& suites, const fs::path& build, const fs::path& work,
               bool full, const std::vector<std::string>& mpirun, const LaunchedRank& job,
               const std::string& backend) {
  Step st;
  st.suites = suites;
  st.output = work / "comm.json";
  st.log = work / "comm.log";
  if (!job.launched) {
    st.cmd = mpirun;
    if (geteuid() == 0) st.env = {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"};
    st.env.push_back("OMPI_MCA_rmaps_base_oversubscribe=1");
  }
  st.cmd.push_back((build / suites.front().binary).string());
  st.cmd.insert(st.cmd.end(), {"--backend", backend, "--out", st.output.string()});
  for (const auto& s : suites) {
    st.cmd.push_back(s.subcommand);
    const auto& args = full ? s.full_args : s.quick_args;
    st.cmd.insert(st.cmd.end(), args.begin(), args.end());
  }
  return st;
}

// The records a step wrote, read from its output file.
std::vector<results::Record> collect(const Step& st, const results::RunHeader& header) {
  const Suite& s = st.suites.front();
  if (s.kind == SuiteKind::kMpi) return results::read(st.output).records;
  std::error_code ec;
  if (!fs::exists(st.output, ec))
    throw Error(fmt::format("{} wrote no {}", s.binary, st.output.string()));
  const std::string file = st.output.string();
  results::Results r = results::from_gbench(parse_json_strict(read_file(st.output), file), header,
                                            s.name, s.backend, file);
  // Records a results file cannot hold fail this step here, not the whole run's file at the end.
  results::checked_text(r, file);
  return std::move(r.records);
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
#if !COBENCH_HAVE_NCCL_BACKEND
  if (o.backend == "nccl")
    throw UsageError(
        "--backend nccl: this build has no NCCL backend (it needs CUDA and NCCL found at "
        "configure time); use --backend mpi");
#endif
  bool full = false;
  const std::vector<Suite> suites = select_suites(o.suites, full);
  const fs::path build = bench_build_dir(o.build_dir);
  const std::vector<std::string> mpirun = split_words(o.mpirun);
  const LaunchedRank job = launched_rank();
  // A launcher the user named must exist: without it the communication suites cannot run, and
  // skipping them would pass off an incomplete run as a whole one.
  const bool wants_mpi = std::any_of(suites.begin(), suites.end(),
                                     [](const Suite& s) { return s.kind == SuiteKind::kMpi; });
  if (o.backend != "mpi" && !wants_mpi)
    throw UsageError(fmt::format(
        "--backend {} applies to the collectives and ep suites, and none is selected", o.backend));
  if (o.mpirun_given && wants_mpi && !job.launched && !on_path(mpirun.at(0)))
    throw Error(fmt::format("--mpirun '{}': cannot find the launcher '{}' (not an executable {})",
                            o.mpirun, mpirun[0],
                            mpirun[0].find('/') != std::string::npos ? "file" : "on PATH"));
  const bool root = job.rank == 0;  // writes the results file and prints; other ranks only run
  // The analysis' --model and --cluster are read now: a bad file is refused before minutes of
  // measurements, not after them.
  if (root && o.analysis) {
    if (!o.model.empty()) (void)topo::load_model(o.model);
    if (!o.cluster.empty()) (void)topo::load_cluster_file(o.cluster);
  }
  const sysinfo::NodeInfo node = sysinfo::discover();
  if (root)
    fmt::print(
        "# cobench run on {}: {}, {} core(s), {}{}\n", node.host, node.cpu.model, node.cpu.cores,
        node.cuda_devices.empty() ? node.cuda_status
                                  : fmt::format("{} CUDA device(s), {}", node.cuda_devices.size(),
                                                node.cuda_devices[0].name),
        job.launched ? fmt::format("; {} ranks started by {}", job.size, job.launcher) : "");
  results::Results res;
  res.run = make_run_header(argv);
  res.run.sysinfo = sysinfo::to_json(node);
  const sysinfo::GpuClocks start_clocks = sysinfo::read_gpu_clocks();

  // Where the results go, checked before anything runs: an explicit --out must be a directory
  // that takes a new file; the default results/<host> is created.
  const fs::path out_dir = !o.out.empty() ? fs::path(o.out) : fs::path("results") / node.host;
  if (root) {
    if (o.out.empty()) {
      std::error_code ec;
      fs::create_directories(out_dir, ec);
      if (ec)
        throw Error(fmt::format("cannot create the results directory '{}': {}", out_dir.string(),
                                ec.message()));
    }
    check_writable_directory(out_dir, fmt::format("--out '{}'", out_dir.string()));
  }
  WorkDir work_dir(root ? "cobench-run" : fmt::format("cobench-run-rank{}", job.rank));
  const fs::path& work = work_dir.path();

  nlohmann::json suite_status = nlohmann::json::object();
  std::vector<Step> steps;
  std::vector<Suite> comm;
  for (const auto& s : suites) {
    const std::string why = unavailable(s, build / s.binary, node, mpirun, job);
    if (!why.empty()) {
      if (root) fmt::print("  skip {:<12} {}\n", s.name, why);
      suite_status[s.name] = {{"status", "skipped"}, {"reason", why}};
    } else if (s.kind == SuiteKind::kMpi) {
      comm.push_back(s);
    } else {
      steps.push_back(gbench_step(s, build, work, full));
    }
  }
  // A run that can run none of its suites measured nothing: an error, not an empty results file
  // and exit 0 (a script would take it for a run).
  if (steps.empty() && comm.empty())
    throw Error(
        fmt::format("no suite of --suite {} can run here (each is skipped above); "
                    "nothing was measured and no results file written",
                    fmt::join(o.suites, ",")));
  if (!comm.empty()) {
    // Under a launcher the communication suites go first, so that every rank reaches MPI_Init
    // together instead of waiting for rank 0's node suites.
    Step st = comm_step(comm, build, work, full, mpirun, job, o.backend);
    steps.insert(job.launched ? steps.begin() : steps.end(), std::move(st));
  }
  double estimate = 0;
  for (auto& st : steps) {
    for (const auto& s : st.suites) st.estimate_s += s.quick_estimate_s * (full ? 10 : 1);
    estimate += st.estimate_s;
  }
  const auto t0 = std::chrono::steady_clock::now();
  double done_estimate = 0;
  int failures = 0, k = 0;
  for (const Step& st : steps) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (root) {
      fmt::print("[{}/{}] {:<12} {}  elapsed {:.0f} s, about {:.0f} s left\n", ++k, steps.size(),
                 st.label(), st.suites.front().binary, elapsed,
                 std::max(0.0, estimate - done_estimate));
      std::fflush(stdout);
    }
    const sysinfo::GpuClocks before = sysinfo::read_gpu_clocks();
    const ExitStatus status = run_process(st.cmd, st.log, st.env);
    const sysinfo::GpuClocks after = sysinfo::read_gpu_clocks();
    done_estimate += st.estimate_s;
    std::vector<results::Record> records;
    std::string problem = status.ok() ? "" : status.describe();
    // A benchmark binary exits 1 when some of its runs ended in an error: the records it wrote
    // (those runs' errors included) are kept.
    if ((status.ok() || (status.code == 1 && status.signal == 0)) && root) {
      try {
        records = collect(st, res.run);
      } catch (const std::exception& e) {  // one step's bad output costs that step, not the run
        if (problem.empty()) problem = e.what();
        records.clear();
      }
    }
    if (!problem.empty() && records.empty()) {
      ++failures;
      fmt::print("  FAILED {}{}: {} (log: {})\n", st.label(),
                 job.launched ? fmt::format(" on rank {}", job.rank) : "", problem,
                 st.log.string());
      for (const auto& s : st.suites)
        suite_status[s.name] = {{"status", "failed"}, {"reason", problem}};
      continue;
    }
    if (!root) continue;
    int failed_checks = 0, errors = 0;
    for (const auto& r : records) {
      failed_checks += r.verification == results::Verification::kFailed;
      errors += r.verification == results::Verification::kError;
    }
    if (failed_checks + errors > 0 || !problem.empty()) {
      ++failures;
      fmt::print("  {}: {} record(s) failed verification, {} ended in an error{} (log: {})\n",
                 st.label(), failed_checks, errors, problem.empty() ? "" : "; " + problem,
                 st.log.string());
    }
    if (st.suites.front().needs == SuiteNeeds::kCuda) flag_throttled(records, before, after);
    for (const auto& s : st.suites) {
      const auto n = std::count_if(records.begin(), records.end(),
                                   [&](const results::Record& r) { return r.suite == s.name; });
      suite_status[s.name] = {{"status", "ran"}, {"records", n}};
    }
    res.records.insert(res.records.end(), records.begin(), records.end());
  }
  if (failures > 0) work_dir.keep();        // the logs the FAILED lines name
  if (!root) return failures == 0 ? 0 : 1;  // the other ranks of a launched job: rank 0 reports
  res.run.gpu_clocks = {{"start", sysinfo::to_json(start_clocks)},
                        {"end", sysinfo::to_json(sysinfo::read_gpu_clocks())}};
  res.run.extra["suites"] = suite_status;
  res.run.extra["suite_selection"] = o.suites;
  res.run.extra["comm_backend"] = o.backend;
  if (job.launched)
    res.run.extra["launched"] = {
        {"launcher", job.launcher}, {"ranks", job.size}, {"node_suites_on", "rank 0"}};
  fs::path file;
  try {
    file = results::write_new_run(out_dir, res, "run");
  } catch (const Error& e) {
    // The directory was checked at the start; if it failed since, the measurements are kept.
    work_dir.keep();
    const fs::path saved = results::write_new_run(work, res, "run");
    throw Error(fmt::format("{}; the results are saved in {}", e.what(), saved.string()));
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("# {} records from {} step(s) in {:.0f} s: {}\n", res.records.size(), steps.size(),
             total, file.string());
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
                  "gemm_gpu, memory_gpu, mla_gpu, collectives, ep)")
      ->capture_default_str();
  cmd->add_option("--out", o->out,
                  "Existing directory for the results file (default results/<host>, created)");
  cmd->add_option("--build-dir", o->build_dir,
                  "Build directory with the benchmark binaries (default: this binary's)");
  CLI::Option* mpirun =
      cmd->add_option("--mpirun", o->mpirun, "Launcher for the MPI suites (must exist when given)")
          ->capture_default_str()
          ->check(CLI::Validator(
              [](std::string& s) {
                return split_words(s).empty() ? std::string("expected a launcher command, got ''")
                                              : std::string();
              },
              "COMMAND"));
  cmd->add_option("--model", o->model,
                  "Model to analyze (default deepseek-v3 with a GPU, deepseek-v2 without)");
  cmd->add_option("--cluster", o->cluster,
                  "Cluster file to analyze against (default: this machine as one node)");
  cmd->add_option("--backend", o->backend,
                  "Backend of the collectives and ep suites: mpi (host buffers), or nccl (device "
                  "buffers; a CUDA build with NCCL)")
      ->check(CLI::IsMember({"mpi", "nccl"}))
      ->capture_default_str();
  cmd->add_flag("!--no-analysis", o->analysis, "Skip the bottleneck analysis");
  cmd->callback([&action, o, argv, mpirun] {
    o->mpirun_given = mpirun->count() > 0;
    action = [o, argv] { return run(*o, argv); };
  });
}

}  // namespace cobench::app
