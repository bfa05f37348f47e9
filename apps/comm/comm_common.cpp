// SPDX-License-Identifier: Apache-2.0
#include "apps/comm/comm_common.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <thread>

#include "apps/cobench/cli_checks.h"
#include "collectives/mpi_communicator.h"
#include "collectives/node_layout.h"
#if COBENCH_HAVE_NCCL_BACKEND
#include "collectives/nccl_communicator.h"
#endif
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/launched_rank.h"
#include "core/mpi_check.h"
#include "core/provenance.h"
#include "core/results_io.h"
#include "core/sysinfo/sysinfo.h"
#include "core/units.h"

namespace cobench::app {
namespace {

// A CLI11 check that `parse` (which throws cobench::Error on bad text) accepts the option's
// text; the error's message is CLI11's.
template <class Parse>
CLI::Validator parser_validator(Parse parse, const std::string& description) {
  return CLI::Validator(
      [parse](std::string& text) -> std::string {
        try {
          parse(text);
          return "";
        } catch (const Error& e) {
          return e.what();
        }
      },
      description);
}

#if COBENCH_HAVE_NCCL_BACKEND
constexpr bool kHaveNccl = true;
#else
constexpr bool kHaveNccl = false;
#endif
}  // namespace

std::size_t parse_size(const std::string& text) {
  const auto too_large = [&] {
    return Error(fmt::format("size '{}' is larger than {} B (8G, the most a rank's buffer holds)",
                             text, kMaxSizeBytes));
  };
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  int shift = -1;
  if (digits > 0 && digits == text.size()) shift = 0;
  if (digits > 0 && digits + 1 == text.size()) {
    switch (text.back()) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
  }
  if (shift >= 0) {
    std::uint64_t n = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, n);
    if (ec != std::errc() || n > (kMaxSizeBytes >> shift)) throw too_large();
    return static_cast<std::size_t>(n << shift);
  }
  double b = 0;
  try {
    b = parse_bytes(text).value;
  } catch (const Error&) {
    throw Error(
        fmt::format("size '{}': expected a number of bytes such as 1048576, 64M or '1 MiB'", text));
  }
  if (!std::isfinite(b) || b < 0)
    throw Error(fmt::format("size '{}': expected a finite, non-negative number of bytes", text));
  if (b > static_cast<double>(kMaxSizeBytes)) throw too_large();
  if (b != std::floor(b))
    throw Error(fmt::format("size '{}' is not a whole number of bytes", text));
  return static_cast<std::size_t>(b);
}

CLI::Validator size_option() {
  return parser_validator(parse_size, "SIZE (bytes; K/M/G or units) at most 8G");
}

Fault parse_fault(const std::string& fault) {
  Fault f;
  if (fault.empty()) return f;
  const auto colon = fault.find(':');
  const std::string target_text = fault.substr(0, colon);
  f.kind = colon == std::string::npos ? "" : fault.substr(colon + 1);
  const bool number = !target_text.empty() && target_text.size() < 10 &&
                      std::all_of(target_text.begin(), target_text.end(),
                                  [](unsigned char c) { return std::isdigit(c) != 0; });
  if (!number || (f.kind != "throw" && f.kind != "hang"))
    throw Error(fmt::format("--fault '{}': expected RANK:throw or RANK:hang", fault));
  f.rank = std::stoi(target_text);
  return f;
}

std::string check_in_world(const CommOptions& o, int ranks) {
  if (o.ranks_per_node > 0 && ranks % o.ranks_per_node != 0)
    return fmt::format("--ranks-per-node {} must divide the {} ranks of the job", o.ranks_per_node,
                       ranks);
  const Fault f = parse_fault(o.fault);
  if (f.rank >= ranks)
    return fmt::format("--fault '{}': rank {} does not exist; the job has ranks 0 ... {}", o.fault,
                       f.rank, ranks - 1);
  return "";
}

int usage_error_in_world(const char* prog, int rank, const std::string& error) {
  if (rank == 0) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: {}\n", prog, error);
    std::fflush(stderr);
  }
  return 2;
}

int check_usage(const char* prog, const std::function<void()>& check) {
  try {
    check();
    return 0;
  } catch (const std::exception& e) {
    // Every rank of a launched job finds the same error before MPI starts: rank 0 says it.
    if (launched_rank().rank == 0) fmt::print(stderr, "{}: {}\n", prog, e.what());
    return 2;
  }
}

int parse_error_exit(CLI::App& app, const CLI::ParseError& e) {
  std::ostringstream out, err;
  const int code = app.exit(e, out, err);
  if (launched_rank().rank == 0) {
    fmt::print("{}", out.str());
    std::fflush(stdout);
    fmt::print(stderr, "{}", err.str());
  }
  return code == 0 ? 0 : 2;
}

void add_comm_options(CLI::App& app, CommOptions& o) {
  // A backend this build lacks is a usage error before MPI starts (exit 2), not an abort of the
  // started job.
  app.add_option("--backend", o.backend, "Communication backend: mpi, or nccl in a CUDA build")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            if (text == "mpi") return "";
            if (text == "nccl")
              return kHaveNccl
                         ? ""
                         : "backend 'nccl' is not built in this binary (NCCL needs a CUDA build "
                           "with NCCL found); use --backend mpi";
            return "unknown backend '" + text + "': expected mpi or nccl";
          },
          "mpi|nccl"))
      ->capture_default_str();
  app.add_option("--ranks-per-node", o.ranks_per_node,
                 "Group consecutive ranks into virtual nodes of this size (0: by host name)")
      ->check(integer_in<int>(0, 1 << 20))
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s,
                 "Seconds one operation may take before the whole job is ended (0: never)")
      ->check(finite_number(0, 1e6))
      ->capture_default_str();
  app.add_option("--out", o.out, "Results file, or a directory for a new time-stamped file");
  app.add_option("--fault", o.fault, "Testing: RANK:throw or RANK:hang makes that rank fail")
      ->check(parser_validator(parse_fault, "RANK:throw|RANK:hang"));
}

void check_ep_backend(const std::string& backend) {
  if (backend == "mpi" || (backend == "nccl" && kHaveNccl)) return;
  throw Error(fmt::format(
      "--backend {}: the EP benchmark runs over mpi{}", backend,
      kHaveNccl ? " or nccl" : " in this binary (nccl needs a CUDA build with NCCL found)"));
}

std::unique_ptr<coll::Communicator> make_world(const std::string& backend) {
  if (backend == "mpi") return std::make_unique<coll::MpiCommunicator>(MPI_COMM_WORLD);
#if COBENCH_HAVE_NCCL_BACKEND
  if (backend == "nccl") {
    // One GPU per rank of a node: the local rank (by host name) picks it.
    coll::MpiCommunicator mpi(MPI_COMM_WORLD);
    const coll::NodeLayout hosts = coll::discover_layout(mpi, 0);
    return std::make_unique<coll::NcclCommunicator>(MPI_COMM_WORLD, hosts.local_rank);
  }
#endif
  throw Error(fmt::format(
      "backend '{}' is not built in this binary (NCCL needs a CUDA build with NCCL found)",
      backend));
}

std::unique_ptr<coll::Watchdog> make_watchdog(const std::string& prog, int rank, double timeout_s) {
  return std::make_unique<coll::Watchdog>(
      timeout_s, [prog, rank](const std::string& what, double waited_s) {
        std::fflush(stdout);
        fmt::print(stderr,
                   "{}: rank {} ({}): {} did not finish within {:.1f} s; a rank failed or hung. "
                   "Ending the job.\n",
                   prog, rank, host_name(), what, waited_s);
        std::fflush(stderr);
        coll::abort_job(3);
      });
}

void inject_fault(const std::string& fault, int rank, coll::Watchdog* watchdog) {
  const Fault f = parse_fault(fault);
  if (f.rank != rank) return;
  if (f.kind == "throw") COBENCH_THROW("injected fault (--fault " + fault + ")");
  coll::WatchdogScope scope(watchdog, "an injected hang (--fault " + fault + ")");
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

void Progress::print(std::size_t done, std::size_t total, const std::string& label) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double left =
      done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0;
  fmt::print(stderr, "[{}/{}] {}  elapsed {:.1f} s, about {:.1f} s left\n", done, total, label,
             elapsed, left);
}

int run_mpi_main(const char* prog, int& argc, char**& argv, const std::function<int()>& body) {
  try {
    coll::MpiRuntime mpi(&argc, &argv);
    try {
      return body();
    } catch (const std::exception& e) {
      std::fflush(stdout);
      fmt::print(stderr, "{}: {}\n", prog, e.what());
      std::fflush(stderr);
      coll::abort_job(1);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", prog, e.what());
    return 1;
  }
}

results::RunHeader comm_run_header(const std::vector<std::string>& argv,
                                   const coll::Communicator& world,
                                   const coll::NodeLayout& layout) {
  results::RunHeader h = make_run_header(argv);
  h.sysinfo = sysinfo::to_json(sysinfo::discover());
  h.extra = {{"ranks", world.size()},
             {"nodes", layout.num_nodes},
             {"virtual_nodes", layout.virtual_nodes},
             {"backend", std::string(world.backend())}};
  return h;
}

bool check_out(const char* prog, const std::string& out) {
  if (out.empty()) return true;
  int rank = 0;
  COBENCH_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  std::string error;
  if (rank == 0) {
    namespace fs = std::filesystem;
    const std::string what = fmt::format("--out '{}'", out);
    try {
      const fs::path path = out;
      std::error_code ec;
      if (fs::is_directory(path, ec)) {
        check_writable_directory(path, what);
      } else if (fs::exists(path, ec)) {
        throw Error(fmt::format("{}: refusing to overwrite an existing file", what));
      } else {
        check_writable_directory(path.has_parent_path() ? path.parent_path() : fs::path("."), what);
      }
    } catch (const Error& e) {
      error = e.what();
    }
  }
  int bad = error.empty() ? 0 : 1;
  COBENCH_MPI_CHECK(MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD));
  if (bad != 0 && rank == 0) {
    fmt::print(stderr, "{}: {}\n", prog, error);
    std::fflush(stderr);
  }
  return bad == 0;
}

std::filesystem::path write_results(const std::string& out, results::Results& r,
                                    const std::string& tag) {
  if (std::filesystem::is_directory(out)) return results::write_new_run(out, r, tag);
  return write_file_atomic_unique(out, results::to_json(r).dump(2) + "\n");
}

CommJob start_job(const char* prog, coll::Communicator& world, const CommOptions& o) {
  CommJob job;
  job.watchdog = make_watchdog(prog, world.rank(), o.timeout_s);
  job.layout = coll::discover_layout(world, o.ranks_per_node);
  inject_fault(o.fault, world.rank(), job.watchdog.get());
  return job;
}

void finish_results(const std::vector<std::string>& argv, const CommOptions& o,
                    const coll::Communicator& world, const coll::NodeLayout& layout,
                    std::vector<results::Record> records, const std::string& tag) {
  if (world.rank() != 0 || o.out.empty()) return;
  results::Results res;
  res.run = comm_run_header(argv, world, layout);
  res.records = std::move(records);
  fmt::print("# results: {}\n", write_results(o.out, res, tag).string());
}

}  // namespace cobench::app
