// SPDX-License-Identifier: Apache-2.0
// Hostile command lines and routing files for cobench_coll, cobench_ep and cobench_comm (issue
// 16): every numeric option finite and in range, usage errors exit 2 naming the option with a
// readable range (never CLI11's "0.000000 to 1797693134862315708..." nor an internal "check
// failed at"), a --fault rank the job does not have is an error, and a routing file is read
// whole: a line over --topk-groups groups or beyond the tokens needed names file:line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collectives/ep/ep_config.h"
#include "collectives/ep/ep_routing.h"
#include "core/error.h"
#include "tests/command_util.h"

namespace {

namespace fs = std::filesystem;

using cobench::test::CommandResult;
using cobench::test::fresh_dir;

// A usage error of a binary started alone (the options are checked before MPI starts).
void expect_usage_error(const std::string& binary, const std::string& args,
                        const std::string& option, const std::string& expected) {
  const CommandResult r = cobench::test::run_command(binary + " " + args);
  SCOPED_TRACE(binary + " " + args);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(option), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(expected), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("check failed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("error at "), std::string::npos) << r.out;  // no source location
  EXPECT_EQ(r.out.find("1797693134862315708"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("0.000000"), std::string::npos) << r.out;
}

TEST(HostileCommCli, CollNumericOptionsAreFiniteAndInRange) {
  expect_usage_error(COBENCH_COLL, "-f inf", "--step-factor", "expected 0 (steps of -i)");
  expect_usage_error(COBENCH_COLL, "-f nan", "--step-factor", "got 'nan'");
  expect_usage_error(COBENCH_COLL, "-f 1", "--step-factor", "greater than 1");
  expect_usage_error(COBENCH_COLL, "-f -2", "--step-factor", "greater than 1");
  expect_usage_error(COBENCH_COLL, "-b 64 -e 8", "-b/--min-bytes 64 (64 B) exceeds -e", "");
  expect_usage_error(COBENCH_COLL, "-f 0", "-f/--step-factor 0 needs a positive -i", "");
  expect_usage_error(COBENCH_COLL, "-b 8 -e 64M -f 1.0001", "more than 10000 sizes", "-b 8");
  expect_usage_error(COBENCH_COLL, "-e 99999999999999999999999", "--max-bytes", "larger than");
  expect_usage_error(COBENCH_COLL, "-e 1TiB", "--max-bytes", "larger than");
  expect_usage_error(COBENCH_COLL, "-e inf", "--max-bytes", "size 'inf'");
  expect_usage_error(COBENCH_COLL, "-b -8", "--min-bytes", "size '-8'");
  expect_usage_error(COBENCH_COLL, "-i 1.5", "--step-bytes", "size '1.5'");
  expect_usage_error(COBENCH_COLL, "-i 1.5B", "--step-bytes", "whole number");
  expect_usage_error(COBENCH_COLL, "-w -1", "--warmup", "expected an integer from 0 to 1000000");
  expect_usage_error(COBENCH_COLL, "-n 0", "--iters", "expected an integer from 1 to 1000000");
  expect_usage_error(COBENCH_COLL, "-r 1e3", "--repetitions", "got '1e3'");
  expect_usage_error(COBENCH_COLL, "--seed -1", "--seed", "expected an integer");
  expect_usage_error(COBENCH_COLL, "--timeout -1", "--timeout",
                     "expected a finite number from 0 to 1000000");
  expect_usage_error(COBENCH_COLL, "--timeout inf", "--timeout", "got 'inf'");
  expect_usage_error(COBENCH_COLL, "--ranks-per-node -2", "--ranks-per-node",
                     "expected an integer from 0 to 1048576");
  expect_usage_error(COBENCH_COLL, "--fault 1:explode", "--fault", "expected RANK:throw");
  expect_usage_error(COBENCH_COLL, "--ops all_reduce,allreduce", "unknown collective 'allreduce'",
                     "expected all_reduce");
  expect_usage_error(COBENCH_COMM, "coll -f inf", "--step-factor", "expected 0 (steps of -i)");
  expect_usage_error(COBENCH_COMM, "coll -b 1K -e 8", "exceeds -e/--max-bytes", "");
}

TEST(HostileCommCli, EpNumericOptionsAreFiniteAndInRange) {
  expect_usage_error(COBENCH_EP, "--plan-ranks 0", "--plan-ranks",
                     "expected an integer from 1 to 1048576, got '0'");
  expect_usage_error(COBENCH_EP, "--plan-ranks 64 --timeout -1", "--timeout",
                     "expected a finite number from 0 to 1000000");
  expect_usage_error(COBENCH_EP, "--zipf nan", "--zipf", "got 'nan'");
  expect_usage_error(COBENCH_EP, "--tokens -1", "--tokens", "expected an integer from 0");
  expect_usage_error(COBENCH_EP, "--hidden 0", "--hidden", "expected an integer from 1 to");
  expect_usage_error(COBENCH_EP, "--topk 0", "--topk", "expected an integer from 1 to 1024");
  expect_usage_error(COBENCH_EP, "--experts 99999999999", "--experts", "expected an integer");
  expect_usage_error(COBENCH_EP, "-n 0", "--iters", "expected an integer from 1");
  // Option combinations: usage errors too, in the option's words, before MPI starts.
  expect_usage_error(COBENCH_EP, "--groups 3", "--groups 3 must divide the 256 experts", "");
  expect_usage_error(COBENCH_EP, "--routing file", "--routing file needs --routing-file", "");
  expect_usage_error(COBENCH_EP, "--routing zipf --routing-file x.txt", "--routing-file 'x.txt'",
                     "only with --routing file");
  expect_usage_error(COBENCH_COMM, "ep --zipf inf", "--zipf", "got 'inf'");
  // More payload than the host holds: said before anything is allocated (not std::bad_alloc).
  expect_usage_error(COBENCH_EP, "--tokens 1048576 --hidden 1048576",
                     "--tokens 1048576 x --hidden 1048576: a rank's own tokens alone take "
                     "3104.0 GiB",
                     "this host has");
  // The plan runs nothing: an --out it would not write, or a --fault it would not inject, is
  // refused rather than ignored.
  expect_usage_error(COBENCH_EP, "--plan-ranks 16 --out /nonexistent/dir/x.json",
                     "--plan-ranks prints a plan and runs nothing", "--out has no effect");
  expect_usage_error(COBENCH_EP, "--plan-ranks 16 --fault 1:throw", "--fault has no effect", "");
  // A traffic file only with a plan, its options only with the file, at most 4096 ranks.
  expect_usage_error(COBENCH_EP, "--plan-traffic x.traffic", "--plan-traffic", "need --plan-ranks");
  expect_usage_error(COBENCH_EP, "--plan-ranks 16 --plan-traffic ''",
                     "--plan-traffic: expected a file name, got ''", "");
  expect_usage_error(COBENCH_EP, "--plan-ranks 16 --plan-traffic /nonexistent/dir/p.traffic",
                     "--plan-traffic '/nonexistent/dir/p.traffic'", "/nonexistent/dir");
  expect_usage_error(COBENCH_EP, "--plan-ranks 16 --plan-traffic-impl flat",
                     "--plan-traffic-impl and --plan-traffic-phase need --plan-traffic FILE", "");
  expect_usage_error(COBENCH_EP, "--plan-ranks 16 --plan-traffic x --plan-traffic-phase both",
                     "--plan-traffic-phase", "both");
  expect_usage_error(COBENCH_EP, "--plan-ranks 8192 --experts 8192 --tokens 1 --plan-traffic x",
                     "--plan-traffic: a traffic matrix of 8192 ranks; at most 4096", "");
  // The hash path a timing forces must be one there is.
  expect_usage_error(std::string("COBENCH_EP_HASH=avx1024 ") + COBENCH_EP, "--plan-ranks 16",
                     "COBENCH_EP_HASH: 'avx1024' is no hash path",
                     "expected scalar, avx2 or avx512");
  // A plan of hours (10^12 expert scores) is refused before it starts, with the sizes and the
  // limit; 2048 x 4096 x 2048 (1.7e10) takes seconds.
  expect_usage_error(COBENCH_EP, "--plan-ranks 1048576 --experts 1048576 --tokens 1",
                     "--plan-ranks 1048576 x --tokens 1 x --experts 1048576 (at least 1024): "
                     "1.1e+12 expert scores",
                     "the plan takes up to 2^38 = 2.75e+11");
  expect_usage_error(COBENCH_EP, "--plan-ranks 8192 --experts 8192 --tokens 65536",
                     "4.4e+12 expert scores", "fewer ranks, tokens or experts");
  // A rank count the options do not fit: still a usage error.
  expect_usage_error(COBENCH_EP, "--plan-ranks 3", "--plan-ranks 3: nodes of --ranks-per-node 8",
                     "must divide it");
  const CommandResult r =
      cobench::test::run_command(std::string(COBENCH_EP) + " --plan-ranks 3 --ranks-per-node 1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--experts 256 must be a positive multiple of the 3 ranks"),
            std::string::npos)
      << r.out;
}

TEST(HostileCommCli, ABackendThisBuildLacksIsAUsageErrorBeforeMpi) {
  expect_usage_error(COBENCH_COLL, "--backend x", "--backend", "unknown backend 'x'");
#if COBENCH_HAVE_NCCL_BACKEND
  // Both run over NCCL here (CobenchEp.NcclBackend... runs the EP one); an unknown backend is
  // still refused before MPI starts.
  expect_usage_error(COBENCH_EP, "--backend x", "--backend", "unknown backend 'x'");
#else
  // Not an MPI_Abort of a started job: the option's own error, exit 2.
  for (const char* binary : {COBENCH_COLL, COBENCH_EP}) {
    expect_usage_error(binary, "--backend nccl", "--backend",
                       "backend 'nccl' is not built in this binary");
    EXPECT_EQ(
        cobench::test::run_command(std::string(binary) + " --backend nccl").out.find("MPI_ABORT"),
        std::string::npos);
  }
#endif
}

TEST(HostileCommCli, AUsageErrorUnderMpirunIsPrintedOnce) {
  // Every rank finds it before MPI starts; the launcher's rank 0 alone says it.
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  const CommandResult check = cobench::test::run_mpi(2, COBENCH_EP, "--hidden 100");
  EXPECT_EQ(count(check.out, "--hidden 100 must be a positive multiple of 128"), 1u) << check.out;
  const CommandResult parse = cobench::test::run_mpi(2, COBENCH_COLL, "-f nan");
  EXPECT_EQ(count(parse.out, "--step-factor"), 1u) << parse.out;
}

TEST(HostileCommCli, APlanWithoutTokensOrNetworkPrintsNoNan) {
  // No tokens, or one node (no network bytes): the per-token and relative figures are "-" and
  // "no network bytes either way", never nan.
  for (const char* args : {"--tokens 0 --plan-ranks 32", "--tokens 64 --plan-ranks 8"}) {
    const CommandResult r = cobench::test::run_command(std::string(COBENCH_EP) + " " + args);
    SCOPED_TRACE(args);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no network bytes either way"), std::string::npos) << r.out;
  }
}

TEST(HostileCommCli, AFaultRankBeyondTheJobIsAnError) {
  for (const char* binary : {COBENCH_COLL, COBENCH_EP}) {
    const auto r = cobench::test::run_mpi(2, binary, "-n 1 -r 1 -w 0 --fault 5:throw");
    SCOPED_TRACE(binary);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("--fault '5:throw': rank 5 does not exist; the job has ranks 0 ... 1"),
              std::string::npos)
        << r.out;
  }
  const auto c = cobench::test::run_mpi(2, COBENCH_COMM, "--fault 2:hang coll -b 8 -e 8");
  EXPECT_EQ(c.status, 2) << c.out;
  EXPECT_NE(c.out.find("rank 2 does not exist"), std::string::npos) << c.out;
}

TEST(HostileCommCli, RanksPerNodeNotDividingTheJobIsAUsageError) {
  const auto r = cobench::test::run_mpi(3, COBENCH_COLL, "-b 8 -e 8 --ranks-per-node 2");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--ranks-per-node 2 must divide the 3 ranks of the job"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("check failed"), std::string::npos) << r.out;
}

TEST(HostileCommCli, EpExpertsNotAMultipleOfTheRanksIsAUsageError) {
  const auto r = cobench::test::run_mpi(3, COBENCH_EP, "--experts 256 -n 1 -r 1 -w 0");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--experts 256 must be a positive multiple of the 3 ranks"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("error at"), std::string::npos) << r.out;
}

// Two ranks of 2 tokens, 4 experts in 2 groups, top-2 within one group.
const std::string kSmallEp =
    "--tokens 2 --hidden 128 --experts 4 --topk 2 --groups 2 --topk-groups 1 --max-nodes 0 "
    "-w 0 -n 1 -r 1 --impl flat";

fs::path write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

TEST(HostileCommCli, ARoutingFileImpliesRoutingFileAndIsReadWhole) {
  const fs::path dir = fresh_dir("ep_routing_hostile");
  // Without --routing the file is used: a good file runs and verifies.
  const fs::path good = write_file(dir / "good.txt", "0 1\n2 3\n# a comment\n1 0\n3 2\n\n");
  const auto ok =
      cobench::test::run_mpi(2, COBENCH_EP, kSmallEp + " --routing-file " + good.string());
  EXPECT_EQ(ok.status, 0) << ok.out;
  // A line beyond the tokens the ranks need names its file and line.
  const fs::path extra = write_file(dir / "extra.txt", "0 1\n2 3\n1 0\n3 2\n0 1\n");
  const auto e =
      cobench::test::run_mpi(2, COBENCH_EP, kSmallEp + " --routing-file " + extra.string());
  EXPECT_NE(e.status, 0) << e.out;
  EXPECT_NE(e.out.find(extra.string() + ":5: more tokens than the 2 ranks need (4)"),
            std::string::npos)
      << e.out;
  // A line whose experts span more groups than --topk-groups allows.
  const fs::path span = write_file(dir / "span.txt", "0 1\n0 2\n1 0\n3 2\n");
  const auto s =
      cobench::test::run_mpi(2, COBENCH_EP, kSmallEp + " --routing-file " + span.string());
  EXPECT_NE(s.status, 0) << s.out;
  EXPECT_NE(s.out.find(span.string() + ":2: the experts span 2 groups of 2 experts; "
                                       "--topk-groups allows at most 1"),
            std::string::npos)
      << s.out;
  // Not a regular file: refused with its name, not read forever.
  const auto z = cobench::test::run_mpi(2, COBENCH_EP, kSmallEp + " --routing-file /dev/zero");
  EXPECT_NE(z.status, 0) << z.out;
  EXPECT_NE(z.out.find("/dev/zero: not a regular file"), std::string::npos) << z.out;
}

TEST(HostileRoutingFile, EightGroupsUnderTopkGroupsFourIsRefused) {
  cobench::coll::ep::EpConfig c;  // DeepSeek-V3: 256 experts, 8 groups of 32, top-8 of 4 groups
  c.tokens_per_rank = 1;
  std::string line;
  for (int g = 0; g < 8; ++g) line += std::to_string(g * 32) + " ";
  try {
    cobench::coll::ep::routing_from_text(line + "\n", "r.txt", c, 1);
    ADD_FAILURE() << "a line over 8 groups passed under --topk-groups 4";
  } catch (const cobench::Error& e) {
    EXPECT_NE(std::string(e.what()).find("r.txt:1: the experts span 8 groups"), std::string::npos)
        << e.what();
  }
  // Four groups pass.
  EXPECT_NO_THROW(cobench::coll::ep::routing_from_text("0 1 32 33 64 65 96 97\n", "r.txt", c, 1));
  // A second token for a job that needs one names the line.
  try {
    cobench::coll::ep::routing_from_text("0 1 2 3 4 5 6 7\n# c\n0 1 2 3 4 5 6 7\n", "r.txt", c, 1);
    ADD_FAILURE() << "an extra routing line was ignored";
  } catch (const cobench::Error& e) {
    EXPECT_NE(std::string(e.what()).find("r.txt:3: more tokens"), std::string::npos) << e.what();
  }
}

TEST(HostileRoutingFile, ALineOverMoreNodesThanMaxNodesIsRefused) {
  // 16 ranks in 4 nodes of 4: 256 experts, 16 a rank, 64 (two groups of 32) a node; --max-nodes 2.
  cobench::coll::ep::EpConfig c;
  c.tokens_per_rank = 1;
  c.max_nodes = 2;
  std::vector<int> node_of_rank;
  for (int r = 0; r < 16; ++r) node_of_rank.push_back(r / 4);
  // Groups 0, 1, 2, 3 sit on nodes 0 and 1: allowed, 16 such lines for the 16 ranks.
  std::string two_nodes;
  for (int r = 0; r < 16; ++r) two_nodes += "0 1 32 33 64 65 96 97\n";
  EXPECT_NO_THROW(cobench::coll::ep::routing_from_text(two_nodes, "r.txt", c, 16, &node_of_rank));
  // Groups 0, 1, 4, 6: nodes 0, 2 and 3.
  try {
    cobench::coll::ep::routing_from_text("0 1 32 33 128 129 192 193\n", "r.txt", c, 16,
                                         &node_of_rank);
    ADD_FAILURE() << "a line over 3 nodes passed under --max-nodes 2";
  } catch (const cobench::Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "r.txt:1: the experts sit on 3 nodes; --max-nodes allows at most 2"),
              std::string::npos)
        << e.what();
  }
  // --max-nodes 0: no limit.
  c.max_nodes = 0;
  std::string three_nodes;
  for (int r = 0; r < 16; ++r) three_nodes += "0 1 32 33 128 129 192 193\n";
  EXPECT_NO_THROW(cobench::coll::ep::routing_from_text(three_nodes, "r.txt", c, 16, &node_of_rank));
}

// Round 3: --plan-traffic with --tokens 0 wrote a file of no flows that `cobench fabric` refuses;
// a dangling link as the name was refused only after the plan ran; a directory was "exists".
TEST(HostileCommCli, APlanTrafficFileIsRefusedBeforeThePlanWhenItCannotBeWritten) {
  const std::filesystem::path dir = cobench::test::fresh_dir("cobench_hostile_plan_traffic");
  const std::string ep = std::string(COBENCH_EP) + " --plan-ranks 16 --plan-traffic ";
  CommandResult r = cobench::test::run_command(ep + (dir / "z.traffic").string() + " --tokens 0");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("cobench_ep: --plan-traffic: --tokens 0 plans no traffic: the file would "
                       "hold no flow (cobench fabric refuses such a file); give --tokens 1 or "
                       "more"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "z.traffic"));
  std::filesystem::create_symlink("/nonexistent/t", dir / "l.traffic");
  r = cobench::test::run_command(ep + (dir / "l.traffic").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(r.out.find("EP plan"), std::string::npos) << r.out;  // refused before the plan
  EXPECT_NE(r.out.find("l.traffic' exists: a traffic file is never overwritten"), std::string::npos)
      << r.out;
  r = cobench::test::run_command(ep + dir.string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("' is a directory: expected the name of a new file"), std::string::npos)
      << r.out;
  r = cobench::test::run_command(ep + (dir / std::string(300, 'x')).string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("': File name too long"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("filesystem error"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
