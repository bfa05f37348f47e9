// SPDX-License-Identifier: Apache-2.0
// EP dispatch/combine under mpirun (2, 4 and 8 ranks): both implementations verify (dispatch
// exact, combine within the BF16 bound, hierarchical = flat) for uniform, skewed, file, empty and
// uneven routings, with and without node limits; the traffic each rank measures equals the
// independent plan; hierarchical moves fewer network bytes; a corrupted byte is caught.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "collectives/ep/ep_bench.h"
#include "collectives/ep/ep_plan.h"
#include "collectives/ep/ep_record.h"
#include "collectives/ep/ep_token.h"
#include "collectives/mpi_communicator.h"
#include "tests/collectives/forwarding_communicator.h"

namespace cobench::coll::ep {
namespace {

NodeLayout two_per_node(Communicator& comm) {
  return discover_layout(comm, comm.size() % 2 == 0 ? 2 : 1);
}

EpConfig small_v3(int ranks) {
  EpConfig c;
  c.tokens_per_rank = 24;
  c.hidden = 256;
  c.num_experts = 8 * ranks;  // top-8 of 8 groups, at most 4 groups and 2 nodes
  c.max_nodes = 2;
  return c;
}

void expect_verified(Communicator& comm, const NodeLayout& l, const EpConfig& c,
                     const std::string& what) {
  EpBenchOptions opt;
  opt.config = c;
  opt.warmup = 0;
  opt.iters = 1;
  opt.repetitions = 1;
  const auto rows = run_ep(comm, l, opt);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    EXPECT_TRUE(r.passed()) << what << ", " << r.implementation << ": " << r.detail;
    EXPECT_EQ(r.dispatch_s.size(), 1u) << what;
    EXPECT_LT(r.max_rel_error, r.implementation == "flat" ? 1.0 / 256 : 2.0 / 256) << what;
  }
  EXPECT_EQ(rows[0].received_tokens, rows[1].received_tokens) << what;
}

TEST(MpiEp, VerifiesForEveryRoutingKind) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const NodeLayout l = two_per_node(comm);
  EpConfig c = small_v3(comm.size());
  expect_verified(comm, l, c, "uniform with node limits");
  c.max_nodes = 0;
  c.topk_groups = c.num_groups;
  c.routing = RoutingKind::kZipf;
  c.zipf_exponent = 1.5;
  expect_verified(comm, l, c, "zipf without limits");
  c.routing = RoutingKind::kUniform;
  c.uneven_tokens = true;
  expect_verified(comm, l, c, "uneven token counts (the last rank has none)");
  c.tokens_per_rank = 0;
  expect_verified(comm, l, c, "no tokens at all");
  c.shared_expert = false;
  c.tokens_per_rank = 5;
  c.uneven_tokens = false;
  expect_verified(comm, l, c, "no shared expert");
}

TEST(MpiEp, FileRoutingEveryTokenToOneRemoteNode) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const NodeLayout l = two_per_node(comm);
  EpConfig c;
  c.tokens_per_rank = 3;
  c.hidden = 128;
  c.num_experts = 2 * comm.size();
  c.top_k = 2;
  c.num_groups = 1;
  c.topk_groups = 1;
  c.routing = RoutingKind::kFile;
  c.routing_file = (std::filesystem::path(testing::TempDir()) / "ep_routing.txt").string();
  if (comm.rank() == 0) {
    std::ofstream f(c.routing_file);
    // Rank r's tokens go to both experts of the "next" rank pair's first rank and its neighbor.
    for (int r = 0; r < comm.size(); ++r)
      for (int t = 0; t < 3; ++t) {
        const int a = (r + 2) % comm.size(), b = (r + 3) % comm.size();
        f << 2 * a + t % 2 << " " << (a == b ? 2 * a + 1 - t % 2 : 2 * b) << "\n";
      }
  }
  comm.barrier();
  expect_verified(comm, l, c, "file routing");
}

TEST(MpiEp, MeasuredTrafficEqualsThePlanAndHierarchicalSendsLessAcrossNodes) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  if (comm.size() < 4) GTEST_SKIP() << "needs two virtual nodes of two ranks";
  const NodeLayout l = two_per_node(comm);
  EpConfig c = small_v3(comm.size());
  c.max_nodes = 0;
  const auto all = route_all_ranks(c, l);
  const auto payloads = make_payloads(c, comm.rank(), all[comm.rank()].tokens);
  double flat_net = 0, hier_net = 0;
  for (bool hier : {false, true}) {
    const auto exchange = make_ep_exchange(c, comm, l, hier);
    EpExchange& ex = *exchange;
    EXPECT_EQ(ex.hierarchical(), hier);
    ex.dispatch(all[comm.rank()], payloads.data());
    for (bool dispatch : {true, false}) {
      const Traffic want = expected_traffic(c, l, all, comm.rank(), hier, dispatch);
      const Traffic& got = dispatch ? ex.dispatch_traffic() : ex.combine_traffic();
      EXPECT_EQ(got.payload.network, want.payload.network) << hier << dispatch;
      EXPECT_EQ(got.payload.intra, want.payload.intra) << hier << dispatch;
      EXPECT_EQ(got.wire.network, want.wire.network) << hier << dispatch;
      EXPECT_EQ(got.wire.intra, want.wire.intra) << hier << dispatch;
      EXPECT_EQ(got.logical_network, want.logical_network) << hier << dispatch;
      EXPECT_EQ(got.logical_intra, want.logical_intra) << hier << dispatch;
    }
    (hier ? hier_net : flat_net) = ex.dispatch_traffic().payload.network;
  }
  // With 8 experts per rank pair and top-8, tokens have several experts per remote node.
  EXPECT_LT(comm.sum_over_ranks(static_cast<std::int64_t>(hier_net)),
            comm.sum_over_ranks(static_cast<std::int64_t>(flat_net)));
}

// Flips the last byte of the first record in every byte all-to-all-v the last rank receives.
class ByteFlipper final : public test::ForwardingCommunicator {
 public:
  using ForwardingCommunicator::ForwardingCommunicator;
  void all_to_allv(const void* s, const std::vector<std::size_t>& sc,
                   const std::vector<std::size_t>& sd, void* r, const std::vector<std::size_t>& rc,
                   const std::vector<std::size_t>& rd, DataType t) override {
    in_.all_to_allv(s, sc, sd, r, rc, rd, t);
    std::size_t first = 0;
    while (first < rc.size() && rc[first] == 0) ++first;
    if (rank() == size() - 1 && t == DataType::kUInt8 && first < rc.size())
      static_cast<unsigned char*>(r)[rd[first] + rc[first] - 1] ^= 0x40;
  }
};

TEST(MpiEp, ACorruptedByteFailsVerificationAndIsNotTimed) {
  MpiCommunicator mpi(MPI_COMM_WORLD);
  ByteFlipper comm(mpi);
  const NodeLayout l = discover_layout(comm, 1);
  EpBenchOptions opt;
  opt.config = small_v3(comm.size());
  opt.hierarchical = false;
  const auto rows = run_ep(comm, l, opt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_GT(rows[0].wrong, 0);
  EXPECT_TRUE(rows[0].dispatch_s.empty());
}

// Every --combine-format: flat and hierarchical verify within the format's bound (the largest
// error at most the bound), and the combine moves the format's bytes: the same records as BF16,
// each payload_bytes(format) instead of 2 H (H = 256: fp8 264, e5m6 392, logfmt8 272, logfmt10
// 336 against 512).
TEST(MpiEp, EveryCombineFormatVerifiesAndMovesItsBytes) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const NodeLayout l = two_per_node(comm);
  EpBenchOptions opt;
  opt.config = small_v3(comm.size());
  opt.warmup = 0;
  opt.iters = 1;
  opt.repetitions = 1;
  const auto bf16 = run_ep(comm, l, opt);
  ASSERT_EQ(bf16.size(), 2u);
  const std::map<CombineFormat, double> bytes = {{CombineFormat::kFp8, 264},
                                                 {CombineFormat::kE5M6, 392},
                                                 {CombineFormat::kLogFmt8, 272},
                                                 {CombineFormat::kLogFmt10, 336}};
  for (const auto& [f, payload] : bytes) {
    opt.config.combine_format = f;
    const auto rows = run_ep(comm, l, opt);
    ASSERT_EQ(rows.size(), 2u);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const EpResult& r = rows[i];
      EXPECT_TRUE(r.passed()) << to_string(f) << ", " << r.implementation << ": " << r.detail;
      EXPECT_LE(r.max_error_over_bound, 1.0) << to_string(f) << r.implementation;
      EXPECT_GT(r.max_error_over_bound, 0.0) << to_string(f) << r.implementation;
      EXPECT_EQ(r.combine_format, to_string(f));
      EXPECT_EQ(r.received_tokens, bf16[i].received_tokens);
      const Traffic& a = r.combine.mean;
      const Traffic& b = bf16[i].combine.mean;
      EXPECT_DOUBLE_EQ(a.payload.network * 512, b.payload.network * payload) << to_string(f);
      EXPECT_DOUBLE_EQ(a.payload.intra * 512, b.payload.intra * payload) << to_string(f);
      EXPECT_DOUBLE_EQ(a.logical_intra * 512, b.logical_intra * payload) << to_string(f);
      EXPECT_GT(a.payload.intra + a.payload.network, 0) << to_string(f);
      // Dispatch is FP8 whatever the combine format.
      EXPECT_EQ(r.dispatch.mean.payload.intra, bf16[i].dispatch.mean.payload.intra);
    }
  }
}

// Flips bit 6 of the first payload byte (BF16: the second, value 0's exponent) of the first
// combine record the last rank receives, in the flat combine's all-to-all-v only (the second byte
// all-to-all-v of a round; dispatch is left intact).
class CombineByteFlipper final : public test::ForwardingCommunicator {
 public:
  CombineByteFlipper(Communicator& in, CombineFormat f) : ForwardingCommunicator(in), f_(f) {}
  void all_to_allv(const void* s, const std::vector<std::size_t>& sc,
                   const std::vector<std::size_t>& sd, void* r, const std::vector<std::size_t>& rc,
                   const std::vector<std::size_t>& rd, DataType t) override {
    in_.all_to_allv(s, sc, sd, r, rc, rd, t);
    if (t != DataType::kUInt8 || calls_++ != 1) return;
    std::size_t first = 0;
    while (first < rc.size() && rc[first] == 0) ++first;
    if (rank() == size() - 1 && first < rc.size())
      static_cast<unsigned char*>(r)[rd[first] + CombineRecordLayout::kValuesOffset +
                                     (f_ == CombineFormat::kBf16 ? 1 : 0)] ^= 0x40;
  }

 private:
  CombineFormat f_;
  int calls_ = 0;
};

TEST(MpiEp, ACorruptedCombineByteFailsVerificationInEveryFormat) {
  MpiCommunicator mpi(MPI_COMM_WORLD);
  for (CombineFormat f : kAllCombineFormats) {
    CombineByteFlipper comm(mpi, f);
    const NodeLayout l = discover_layout(comm, 1);
    EpBenchOptions opt;
    opt.config = small_v3(comm.size());
    opt.config.combine_format = f;
    opt.hierarchical = false;
    const auto rows = run_ep(comm, l, opt);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_GT(rows[0].wrong, 0) << to_string(f);
    EXPECT_TRUE(rows[0].dispatch_s.empty()) << to_string(f);
    if (comm.rank() == comm.size() - 1) {  // the rank whose combine record was corrupted
      EXPECT_NE(rows[0].detail.find("against the reference"), std::string::npos)
          << to_string(f) << ": " << rows[0].detail;
    }
  }
}

}  // namespace
}  // namespace cobench::coll::ep
