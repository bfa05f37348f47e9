// SPDX-License-Identifier: Apache-2.0
// What the communication benchmark mains share: size parsing, the watchdog's handler, the
// progress line, fault injection for the reliability tests, and writing the results file.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/node_layout.h"
#include "collectives/watchdog.h"
#include "core/results.h"

namespace cobench::app {

/// "1048576", nccl-tests' "1K"/"64M"/"1G" (powers of 1024), or any unit parse_bytes reads
/// ("1 MiB", "64MB").
/// At most kMaxSizeBytes (8G); an error (cobench::Error) says what was expected.
inline constexpr std::size_t kMaxSizeBytes = std::size_t{8} << 30;
std::size_t parse_size(const std::string& text);

/// A CLI11 check that the option is a size parse_size reads (a usage error, exit 2, otherwise).
CLI::Validator size_option();

/// Options every communication benchmark takes.
struct CommOptions {
  std::string backend = "mpi";
  int ranks_per_node = 0;
  double timeout_s = 300;
  std::string out;    ///< a directory (a new file named by time and host) or a file path
  std::string fault;  ///< "RANK:throw" or "RANK:hang", for the reliability tests
};
void add_comm_options(CLI::App& app, CommOptions& o);

/// --fault parsed: rank -1 when there is none; throws cobench::Error when it is malformed.
struct Fault {
  int rank = -1;
  std::string kind;  ///< "throw" or "hang"
};
Fault parse_fault(const std::string& fault);

/// What the options need of the job's size (--ranks-per-node divides it, a --fault rank exists):
/// "" or the usage error.
std::string check_in_world(const CommOptions& o, int ranks);

/// Rank 0 prints "<prog>: <error>"; every rank returns 2 (every rank found the same error, so the
/// job ends without MPI_Abort).
int usage_error_in_world(const char* prog, int rank, const std::string& error);

/// Runs `check` before MPI is up: 0 when it passes, else prints "<prog>: <why>" (on the
/// launcher's rank 0 only) and returns 2.
int check_usage(const char* prog, const std::function<void()>& check);
/// A command-line parse error, printed as CLI11 prints it by the launcher's rank 0 only (every
/// rank of an mpirun or srun job parses the same line): 0 for --help, else 2.
int parse_error_exit(CLI::App& app, const CLI::ParseError& e);

/// Throws cobench::Error when the EP benchmark cannot run on `backend`: mpi always, nccl where
/// this build has the NCCL backend (host-staged pack, device all-to-all-v).
void check_ep_backend(const std::string& backend);

/// The world communicator of the chosen backend.
std::unique_ptr<coll::Communicator> make_world(const std::string& backend);

/// A watchdog whose handler prints "<prog>: rank R (host): <what> did not finish within T s ..."
/// and ends the job.
std::unique_ptr<coll::Watchdog> make_watchdog(const std::string& prog, int rank, double timeout_s);

/// Acts on --fault for this rank: throws (":throw") or hangs with the watchdog armed (":hang").
void inject_fault(const std::string& fault, int rank, coll::Watchdog* watchdog);

/// "[k/N] label  elapsed 1.2 s, about 3.4 s left" on stderr (rank 0 calls it).
class Progress {
 public:
  Progress() : start_(std::chrono::steady_clock::now()) {}
  void print(std::size_t done, std::size_t total, const std::string& label) const;

 private:
  std::chrono::steady_clock::time_point start_;
};

/// Initializes MPI and runs `body` on every rank. An error before MPI is up returns 1; an error
/// inside `body` is printed with `prog` and ends the whole job (the other ranks may be waiting in
/// a collective).
int run_mpi_main(const char* prog, int& argc, char**& argv, const std::function<int()>& body);

/// The run header of a communication benchmark's results file: provenance, this node's sysinfo,
/// and the job (ranks, nodes, whether they are virtual, backend).
results::RunHeader comm_run_header(const std::vector<std::string>& argv,
                                   const coll::Communicator& world, const coll::NodeLayout& layout);

/// Checks --out before anything runs, so that no measurement is lost to it at the end: rank 0
/// checks that a directory takes a new file, or that a file path does not exist yet and its
/// directory takes a new file; every rank learns the answer (call it on every rank, after MPI
/// is initialized). False, with "<prog>: --out '<out>': <why>" printed by rank 0, when it cannot;
/// true when `out` is empty (no results file).
bool check_out(const char* prog, const std::string& out);

/// Writes the results (rank 0) to `out` (directory or file), atomically and never overwriting;
/// in a directory the file is named by time, host and `tag`, and a name another run took in the
/// same second (or a file path that appeared during the run) gives a unique variant of it
/// instead of losing the results. Returns the path written.
std::filesystem::path write_results(const std::string& out, results::Results& r,
                                    const std::string& tag);

/// What a main holds while its suites run: the watchdog and the node layout.
struct CommJob {
  std::unique_ptr<coll::Watchdog> watchdog;
  coll::NodeLayout layout;
};

/// Starts the job of `prog` on `world` (every rank, after the options were checked): arms the
/// watchdog (--timeout), discovers the layout (--ranks-per-node), then acts on --fault.
CommJob start_job(const char* prog, coll::Communicator& world, const CommOptions& o);

/// Rank 0, when --out is given: writes `records` under the job's run header (comm_run_header)
/// with write_results and prints "# results: <path>". Other ranks and an empty --out do nothing.
void finish_results(const std::vector<std::string>& argv, const CommOptions& o,
                    const coll::Communicator& world, const coll::NodeLayout& layout,
                    std::vector<results::Record> records, const std::string& tag);

}  // namespace cobench::app
