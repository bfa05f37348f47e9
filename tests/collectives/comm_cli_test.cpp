// SPDX-License-Identifier: Apache-2.0
// cobench_coll, cobench_ep and cobench_comm as a user runs them under mpirun: the table and the
// results file; a rank that throws or hangs ends the whole job within the timeout, with a message
// naming the rank and the operation, and leaves no results file. And `cobench run` running the
// communication suites, through its launcher or started by one.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/results_io.h"
#include "tests/command_util.h"
#include "tests/sanitized.h"

namespace {

namespace fs = std::filesystem;

using cobench::test::CommandResult;
using cobench::test::fresh_dir;

std::size_t files_in(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), {}));
}

TEST(CobenchColl, PrintsTheTableAndWritesAVerifiedResultsFile) {
  const fs::path dir = fresh_dir("coll_ok");
  const auto r =
      cobench::test::run_mpi(2, COBENCH_COLL, "-b 8 -e 64 -n 2 -r 2 -w 1 --out " + dir.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("reduce_scatter"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 wrong elements in all"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[32/32]"), std::string::npos) << r.out;  // the progress line
  ASSERT_EQ(files_in(dir), 1u);
  const auto res = cobench::results::read(fs::directory_iterator(dir)->path());
  // 5 collectives out of place and 3 in place, at 8, 16, 32 and 64 bytes.
  ASSERT_EQ(res.records.size(), 32u);
  for (const auto& rec : res.records) {
    EXPECT_EQ(rec.verification, cobench::results::Verification::kPassed) << rec.benchmark;
    EXPECT_EQ(rec.metrics.size(), 3u) << rec.benchmark;
  }
  EXPECT_EQ(res.records[0].benchmark, "all_reduce/bytes:8/out_of_place");
  EXPECT_EQ(res.run.extra["ranks"], 2);
}

TEST(CobenchColl, BadOptionsAreUsageErrors) {
  const auto r = cobench::test::run_mpi(1, COBENCH_COLL, "--ops allreduce");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("unknown collective 'allreduce'"), std::string::npos) << r.out;
  const auto u = cobench::test::run_mpi(1, COBENCH_COLL, "--placement sideways");
  EXPECT_NE(u.status, 0);
  EXPECT_NE(u.out.find("--placement"), std::string::npos) << u.out;
}

TEST(CobenchColl, AThrowingRankEndsTheJobWithItsMessage) {
  const fs::path dir = fresh_dir("coll_throw");
  const auto r =
      cobench::test::run_mpi(3, COBENCH_COLL, "-b 8 -e 8 --fault 1:throw --out " + dir.string());
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("injected fault (--fault 1:throw)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 1"), std::string::npos) << r.out;
  EXPECT_LT(r.seconds, 60) << r.out;
  EXPECT_EQ(files_in(dir), 0u);
}

TEST(CobenchColl, AHungRankEndsTheJobWithinTheTimeout) {
  const fs::path dir = fresh_dir("coll_hang");
  const auto r = cobench::test::run_mpi(
      3, COBENCH_COLL, "-b 8 -e 8 --timeout 2 --fault 2:hang --out " + dir.string());
  EXPECT_NE(r.status, 0) << r.out;
  // The waiting ranks name the operation they were in; the hung rank names its hang.
  EXPECT_NE(r.out.find("did not finish within"), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.find("verifying all_reduce of 8 B (out of place)") != std::string::npos ||
              r.out.find("an injected hang") != std::string::npos)
      << r.out;
  EXPECT_LT(r.seconds, 60) << r.out;
  EXPECT_EQ(files_in(dir), 0u);
}

TEST(CobenchEp, VerifiesBothImplementationsAndWritesTheirRecords) {
  const fs::path dir = fresh_dir("ep_ok");
  const auto r = cobench::test::run_mpi(
      4, COBENCH_EP,
      "--tokens 16 --hidden 256 --experts 32 --max-nodes 2 --ranks-per-node 2 "
      "-n 1 -r 2 --out " +
          dir.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("flat: verified"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hierarchical: verified"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("on 2 virtual node(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fewer)"), std::string::npos) << r.out;
  ASSERT_EQ(files_in(dir), 1u);
  const auto res = cobench::results::read(fs::directory_iterator(dir)->path());
  ASSERT_EQ(res.records.size(), 4u);  // dispatch and combine of flat and hierarchical
  for (const auto& rec : res.records) {
    EXPECT_EQ(rec.verification, cobench::results::Verification::kPassed) << rec.benchmark;
    // time, four bandwidths over it, staging_time, end_to_end_time (read back by name).
    ASSERT_EQ(rec.metrics.size(), 7u) << rec.benchmark;
    std::map<std::string, std::vector<double>> m;
    for (const auto& metric : rec.metrics) m[metric.name] = metric.values;
    ASSERT_EQ(m.count("time") + m.count("staging_time") + m.count("end_to_end_time"), 3u);
    // Each is a maximum over ranks of a part of the whole call (their sum may come from two
    // ranks, so only each part is bounded).
    for (std::size_t i = 0; i < m["time"].size(); ++i) {
      EXPECT_LE(m["time"][i], m["end_to_end_time"][i]) << rec.benchmark;
      EXPECT_LE(m["staging_time"][i], m["end_to_end_time"][i]) << rec.benchmark;
    }
    EXPECT_EQ(rec.backend, cobench::results::Backend::kMpi);
    EXPECT_EQ(rec.parameters["data_path"], "host pack, host all-to-all-v");
    EXPECT_NE(rec.parameters["timed"].get<std::string>().find("host pack/unpack"),
              std::string::npos);
    EXPECT_FALSE(rec.parameters.contains("model_input")) << "virtual nodes measure no network";
  }
  EXPECT_EQ(res.records[0].parameters["payload_bytes_per_token"], 264);  // 256 + 4 * 2
  EXPECT_EQ(res.records[1].parameters["payload_bytes_per_token"], 512);
}

TEST(CobenchEp, BadConfigurationIsAnErrorNamingTheOption) {
  const auto r = cobench::test::run_mpi(2, COBENCH_EP, "--hidden 100");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--hidden 100 must be a positive multiple of 128"), std::string::npos)
      << r.out;
}

// --combine-format logfmt10 at H = 256: 2 tiles of 16 x 10 + 8 bytes = 336 B per combine copy
// (BF16: 512); dispatch stays FP8, 256 + 2 x 4 = 264 B.
TEST(CobenchEp, ALogFmt10CombineVerifiesAndRecordsItsFormatAndBytes) {
  const fs::path dir = fresh_dir("ep_logfmt10");
  const auto r = cobench::test::run_mpi(
      2, COBENCH_EP,
      "--tokens 16 --hidden 256 --experts 32 --max-nodes 0 --combine-format logfmt10 -n 1 -r 1 "
      "--out " +
          dir.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("flat: verified"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hierarchical: verified"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("combine 336 B (LogFMT-10"), std::string::npos) << r.out;
  const auto res = cobench::results::read(fs::directory_iterator(dir)->path());
  ASSERT_EQ(res.records.size(), 4u);
  for (const auto& rec : res.records) {
    EXPECT_EQ(rec.verification, cobench::results::Verification::kPassed) << rec.benchmark;
    EXPECT_EQ(rec.parameters["combine_format"], "logfmt10") << rec.benchmark;
    const bool combine = rec.parameters["phase"] == "combine";
    EXPECT_EQ(rec.parameters["payload_bytes_per_token"], combine ? 336 : 264) << rec.benchmark;
    EXPECT_NE(rec.benchmark.find("/combine_format:logfmt10"), std::string::npos) << rec.benchmark;
    EXPECT_LE(rec.extra["max_error_over_bound"].get<double>(), 1.0) << rec.benchmark;
  }
}

TEST(CobenchEp, ABadCombineFormatIsAUsageErrorNamingTheOption) {
  const auto r = cobench::test::run_command(std::string(COBENCH_EP) + " --combine-format logfmt9");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--combine-format"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("logfmt9"), std::string::npos) << r.out;
}

TEST(CobenchColl, AMalformedFaultIsAnErrorSayingWhatIsExpected) {
  for (const char* fault : {"1", "x:hang", "0:explode"}) {
    const auto r =
        cobench::test::run_mpi(1, COBENCH_COLL, std::string("-b 8 -e 8 --fault ") + fault);
    EXPECT_NE(r.status, 0) << fault;
    EXPECT_NE(r.out.find("expected RANK:throw or RANK:hang"), std::string::npos)
        << fault << ": " << r.out;
  }
}

// The suite records of one results file, counted by suite.
std::map<std::string, int> records_by_suite(const cobench::results::Results& res) {
  std::map<std::string, int> n;
  for (const auto& rec : res.records) {
    EXPECT_NE(rec.verification, cobench::results::Verification::kFailed) << rec.benchmark;
    ++n[rec.suite];
  }
  return n;
}

constexpr const char* kSmallComm =
    "coll -b 8 -e 64 -n 2 -r 2 -w 1 ep --tokens 16 --hidden 256 --experts 32 --max-nodes 0 -n 1 "
    "-r 2";

TEST(CobenchComm, RunsCollectivesAndEpInOneSessionIntoOneFile) {
  const fs::path dir = fresh_dir("comm_ok");
  const auto r =
      cobench::test::run_mpi(2, COBENCH_COMM, "--out " + dir.string() + " " + kSmallComm);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("# suite 2/2: ep"), std::string::npos) << r.out;
  ASSERT_EQ(files_in(dir), 1u);
  const auto res = cobench::results::read(fs::directory_iterator(dir)->path());
  // As cobench_coll and cobench_ep alone: 32 collective records (5 ops out of place, 3 in place,
  // 4 sizes), dispatch and combine of flat and hierarchical.
  EXPECT_EQ(records_by_suite(res), (std::map<std::string, int>{{"collectives", 32}, {"ep", 4}}));
  EXPECT_EQ(res.run.extra["ranks"], 2);
}

TEST(CobenchComm, ChecksEverySuitesOptionsBeforeRunningAny) {
  const auto r = cobench::test::run_mpi(2, COBENCH_COMM, "coll -b 8 -e 64 ep --hidden 100");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--hidden 100 must be a positive multiple of 128"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("all_reduce"), std::string::npos) << "no collective ran: " << r.out;
}

TEST(CobenchComm, WithoutASuiteIsAUsageError) {
  const auto r = cobench::test::run_command(std::string(COBENCH_COMM) + " --out /tmp");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("subcommand"), std::string::npos) << r.out;
}

// `cobench run` started by mpirun: every rank takes part in the communication suites (one
// cobench_comm child each), rank 0 alone runs the node suites and writes the one results file.
TEST(CobenchRun, UnderMpirunRankZeroWritesOneFileWithEverySuite) {
  // The node suite rank 0 runs: the model's (six paper reports, minutes at -O0 under ASan; its
  // own run is BenchSmoke.model) in Release, the memory suite's (time-bounded) under the
  // sanitizers. Either proves the same: rank 0 alone runs it, into the one file.
  const std::string node = cobench::test::kSanitized ? "memory" : "model";
  const fs::path dir = fresh_dir("run_launched");
  const auto r = cobench::test::run_mpi(
      2, COBENCH_CLI,
      "run --suite " + node + " collectives ep --no-analysis --out " + dir.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("2 ranks started by mpirun"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[1/2] collectives+ep"), std::string::npos) << r.out;
  ASSERT_EQ(files_in(dir), 1u) << "one file, the work directory removed";
  const auto res = cobench::results::read(fs::directory_iterator(dir)->path());
  const auto n = records_by_suite(res);
  EXPECT_GT(n.at(node), 0);
  EXPECT_GT(n.at("collectives"), 0);
  EXPECT_EQ(n.at("ep"), 4);
  EXPECT_EQ(res.run.extra["launched"]["ranks"], 2);
  for (const std::string& s : {node, std::string("collectives"), std::string("ep")})
    EXPECT_EQ(res.run.extra["suites"][s]["status"], "ran") << s;
}

TEST(CobenchRun, StartsTheCommunicationSuitesThroughItsLauncher) {
  const fs::path dir = fresh_dir("run_mpirun");
  const auto r = cobench::test::run_command(std::string(COBENCH_CLI) +
                                            " run --suite collectives ep --no-analysis --mpirun '" +
                                            COBENCH_MPIEXEC + " -np 2' --out " + dir.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("[1/1] collectives+ep"), std::string::npos) << r.out;
  ASSERT_EQ(files_in(dir), 1u);
  const auto res = cobench::results::read(fs::directory_iterator(dir)->path());
  const auto n = records_by_suite(res);
  EXPECT_EQ(n.at("ep"), 4);
  EXPECT_EQ(res.run.extra["suites"]["collectives"]["records"], n.at("collectives"));
  EXPECT_FALSE(res.run.extra.contains("launched"));
}

// `cobench run --backend` reaches cobench_comm; a backend this build lacks, or one with no
// communication suite selected, is refused before anything runs.
TEST(CobenchRun, BackendOptionIsCheckedBeforeAnythingRuns) {
  const fs::path dir = fresh_dir("run_backend");
  const auto none = cobench::test::run_command(std::string(COBENCH_CLI) +
                                               " run --suite model --backend nccl --no-analysis "
                                               "--out " +
                                               dir.string());
  EXPECT_EQ(none.status, 2) << none.out;
  EXPECT_EQ(files_in(dir), 0u);
  const auto bad = cobench::test::run_command(
      std::string(COBENCH_CLI) + " run --suite ep --backend gloo --out " + dir.string());
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("--backend"), std::string::npos) << bad.out;
  const auto r = cobench::test::run_command(std::string(COBENCH_CLI) +
                                            " run --suite ep --backend nccl --no-analysis "
                                            "--mpirun '" +
                                            COBENCH_MPIEXEC + " -np 1' --out " + dir.string());
#if COBENCH_HAVE_NCCL_BACKEND
  // cobench_comm ran the ep suite on NCCL: verified where a GPU is (the run's first line counts
  // "CUDA device(s)"); without one its step fails, and the test says so.
  if (r.out.find("CUDA device(s)") == std::string::npos) {
    EXPECT_NE(r.out.find("FAILED ep"), std::string::npos) << r.out;
    GTEST_SKIP() << "no GPU: " << r.out.substr(0, r.out.find('\n'));
  }
  ASSERT_EQ(r.status, 0) << r.out;
  const auto res = cobench::results::read(fs::directory_iterator(dir)->path());
  EXPECT_EQ(res.run.extra["comm_backend"], "nccl");
#else
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--backend nccl: this build has no NCCL backend"), std::string::npos)
      << r.out;
  EXPECT_EQ(files_in(dir), 0u);
#endif
}

#if COBENCH_HAVE_NCCL_BACKEND
TEST(CobenchColl, NcclBackendVerifiesOnAGpuOrSaysWhyNot) {
  const auto r = cobench::test::run_mpi(1, COBENCH_COLL, "--backend nccl -b 8 -e 1M -n 2 -r 2");
  if (r.status != 0 && r.out.find("the NCCL backend needs a CUDA device") != std::string::npos)
    GTEST_SKIP() << "no GPU: " << r.out.substr(0, r.out.find('\n'));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("0 wrong elements in all"), std::string::npos) << r.out;
}

TEST(CobenchEp, NcclBackendVerifiesOnAGpuOrSaysWhyNot) {
  // One rank (one GPU): flat and hierarchical on device buffers, verified before timing.
  const fs::path dir = fresh_dir("ep_nccl");
  const auto r = cobench::test::run_mpi(
      1, COBENCH_EP,
      "--backend nccl --tokens 16 --hidden 256 --experts 32 --max-nodes 0 -n 1 -r 1 --out " +
          dir.string());
  if (r.status != 0 && r.out.find("the NCCL backend needs a CUDA device") != std::string::npos)
    GTEST_SKIP() << "no GPU: " << r.out.substr(0, r.out.find('\n'));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("flat: verified"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hierarchical: verified"), std::string::npos) << r.out;
  const auto res = cobench::results::read(fs::directory_iterator(dir)->path());
  ASSERT_EQ(res.records.size(), 4u);
  for (const auto& rec : res.records) {
    EXPECT_EQ(rec.backend, cobench::results::Backend::kNccl);
    EXPECT_EQ(rec.parameters["data_path"], "host-staged pack, device all-to-all-v");
  }
}
#endif

}  // namespace

// cobench_ep's planned traffic as a file the fabric simulator reads: the hierarchical dispatch of
// 16 ranks (2 nodes) on the H800 cluster's MPFT. Each rank's network bytes are its row's
// cross-node pairs (EpPairTraffic.RowSumsAreThePerRankAccounts); here the file's path through
// `cobench fabric`, and a second write refused.
TEST(CobenchEp, PlannedTrafficFeedsTheFabricSimulator) {
  const std::filesystem::path dir = fresh_dir("ep-plan-traffic");
  const std::string file = (dir / "plan.traffic").string();
  const std::string plan =
      std::string(COBENCH_EP) + " --plan-ranks 16 --tokens 256 --plan-traffic " + file;
  const CommandResult ok = cobench::test::run_command(plan);
  ASSERT_EQ(ok.status, 0) << ok.out;
  EXPECT_NE(ok.out.find("pairs of the hierarchical dispatch to " + file), std::string::npos)
      << ok.out;
  const CommandResult sim = cobench::test::run_command(
      std::string(COBENCH_CLI) +
      " fabric --cluster deepseek-h800-2048 --routing static --traffic " + file);
  ASSERT_EQ(sim.status, 0) << sim.out;
  EXPECT_NE(sim.out.find("among 16 GPUs"), std::string::npos) << sim.out;
  const CommandResult again = cobench::test::run_command(plan);
  EXPECT_EQ(again.status, 2) << again.out;
  EXPECT_NE(again.out.find("exists: a traffic file is never overwritten"), std::string::npos)
      << again.out;
}
