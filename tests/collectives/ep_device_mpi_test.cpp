// SPDX-License-Identifier: Apache-2.0
// The EP exchange on a device-memory backend, without a GPU: the MPI backend behind a fake device
// (fake_device_communicator.h), whose buffers' host view is poison and whose data only the
// Communicator's copies and data plane reach. Verified through it, the exchange is proven to
// touch its communication buffers only through copy_from_host / all_to_all / all_to_allv /
// synchronize / copy_to_host, as the NCCL path needs; the counts, traffic and verification equal
// the plain MPI run's, and the bytes copied are exactly the packed records and counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "collectives/ep/ep_bench.h"
#include "collectives/ep/ep_record.h"
#include "collectives/ep/ep_token.h"
#include "collectives/mpi_communicator.h"
#include "tests/collectives/fake_device_communicator.h"

namespace cobench::coll::ep {
namespace {

using test::FakeDeviceCommunicator;
using test::FakeDeviceMemory;

EpConfig small_config(int ranks) {
  EpConfig c;
  c.tokens_per_rank = 24;
  c.hidden = 256;
  c.num_experts = 8 * ranks;
  c.max_nodes = 2;
  return c;
}

EpBenchOptions one_round(const EpConfig& c) {
  EpBenchOptions opt;
  opt.config = c;
  opt.warmup = 1;
  opt.iters = 2;
  opt.repetitions = 1;
  return opt;
}

void expect_same_traffic(const Traffic& a, const Traffic& b, const std::string& what) {
  EXPECT_EQ(a.payload.network, b.payload.network) << what;
  EXPECT_EQ(a.payload.intra, b.payload.intra) << what;
  EXPECT_EQ(a.wire.network, b.wire.network) << what;
  EXPECT_EQ(a.wire.intra, b.wire.intra) << what;
  EXPECT_EQ(a.logical_network, b.logical_network) << what;
  EXPECT_EQ(a.logical_intra, b.logical_intra) << what;
}

TEST(FakeDevice, AllocatedBuffersHoldNoDataInTheirHostView) {
  // The double itself: what a direct read of a buffer sees, and that a direct write is counted.
  MpiCommunicator mpi(MPI_COMM_WORLD);
  auto mem = std::make_shared<FakeDeviceMemory>();
  {
    FakeDeviceCommunicator dev(mpi, mem);
    const int n = dev.size();
    std::vector<unsigned char> host(static_cast<std::size_t>(n), 0);
    for (int p = 0; p < n; ++p)
      host[static_cast<std::size_t>(p)] = static_cast<unsigned char>(10 * dev.rank() + p);
    void* send = dev.allocate(host.size());
    void* recv = dev.allocate(host.size());
    dev.copy_from_host(send, host.data(), host.size());
    std::vector<std::size_t> ones(host.size(), 1), displs(host.size());
    for (std::size_t p = 0; p < displs.size(); ++p) displs[p] = p;
    dev.all_to_allv(send, ones, displs, recv, ones, displs, DataType::kUInt8);
    dev.synchronize();
    // Rank r receives 10 p + r from every rank p; its buffer's host view stays poison.
    std::vector<unsigned char> got(host.size());
    dev.copy_to_host(got.data(), recv, got.size());
    for (int p = 0; p < n; ++p) {
      EXPECT_EQ(got[static_cast<std::size_t>(p)], 10 * p + dev.rank());
      EXPECT_EQ(static_cast<const unsigned char*>(recv)[p], FakeDeviceMemory::kPoison);
    }
    static_cast<unsigned char*>(send)[0] = 1;  // a direct write: counted at release
    dev.release(send);
    dev.release(recv);
    EXPECT_EQ(mem->written_host_views, 1);
    EXPECT_TRUE(mem->blocks.empty());
    // A host pointer given to the data plane is refused.
    EXPECT_THROW(
        dev.all_to_allv(host.data(), ones, displs, host.data(), ones, displs, DataType::kUInt8),
        Error);
  }
}

TEST(FakeDeviceEp, VerifiesThroughTheCopiesAloneWithTheCountsOfThePlainRun) {
  MpiCommunicator mpi(MPI_COMM_WORLD);
  const NodeLayout l = discover_layout(mpi, mpi.size() % 2 == 0 ? 2 : 1);
  EpConfig c = small_config(mpi.size());
  for (const bool limits : {true, false}) {
    if (!limits) {
      c.max_nodes = 0;
      c.topk_groups = c.num_groups;
    }
    const std::string what = limits ? "with node limits" : "without limits";
    const auto plain = run_ep(mpi, l, one_round(c));
    auto mem = std::make_shared<FakeDeviceMemory>();
    std::vector<EpResult> dev_rows;
    {
      FakeDeviceCommunicator dev(mpi, mem);
      dev_rows = run_ep(dev, l, one_round(c));
    }
    ASSERT_EQ(plain.size(), 2u);
    ASSERT_EQ(dev_rows.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      const EpResult& a = plain[i];
      const EpResult& b = dev_rows[i];
      const std::string w = what + ", " + b.implementation;
      EXPECT_TRUE(a.passed()) << w << ": " << a.detail;
      EXPECT_TRUE(b.passed()) << w << ": " << b.detail;
      EXPECT_EQ(a.data_path, "host pack, host all-to-all-v") << w;
      EXPECT_EQ(b.data_path, "host-staged pack, device all-to-all-v") << w;
      EXPECT_EQ(a.received_tokens, b.received_tokens) << w;
      EXPECT_GT(b.received_tokens, 0) << w;
      expect_same_traffic(a.dispatch.mean, b.dispatch.mean, w + " dispatch");
      expect_same_traffic(a.combine.mean, b.combine.mean, w + " combine");
      // The same BF16 arithmetic in the same order: the same worst error.
      EXPECT_EQ(a.max_rel_error, b.max_rel_error) << w;
      for (const auto* v : {&b.dispatch_s, &b.combine_s, &b.dispatch_staging_s,
                            &b.combine_staging_s, &b.dispatch_total_s, &b.combine_total_s})
        EXPECT_EQ(v->size(), 1u) << w;
      // Communication and copies are parts of the whole call.
      EXPECT_LE(b.dispatch_s[0], b.dispatch_total_s[0]) << w;
      EXPECT_LE(b.combine_staging_s[0], b.combine_total_s[0]) << w;
    }
    // Everything was released, nothing written through a host view, and the data crossed the
    // copies (a stage copies in and out at least twice: counts and records).
    EXPECT_TRUE(mem->blocks.empty()) << what;
    EXPECT_EQ(mem->written_host_views, 0) << what;
    EXPECT_GT(mem->copies_in, 0) << what;
    EXPECT_GT(mem->synchronizes, 0) << what;
  }
}

TEST(FakeDeviceEp, CopiesExactlyThePackedRecordsAndTheCounts) {
  MpiCommunicator mpi(MPI_COMM_WORLD);
  const NodeLayout l = discover_layout(mpi, 1);
  const EpConfig c = small_config(mpi.size());
  const int me = mpi.rank(), ranks = mpi.size();
  const auto all = route_all_ranks(c, l);
  const Routing& mine = all[static_cast<std::size_t>(me)];
  // Independently of the exchange: the copies this rank sends (one per token and distinct rank
  // of its experts) and receives (one per token of any rank with an expert here).
  auto distinct_ranks = [&](const Routing& r, int t) {
    std::vector<int> d;
    for (int j = 0; j < c.top_k; ++j) d.push_back(rank_of_expert(c, ranks, r.experts_of(t)[j]));
    std::sort(d.begin(), d.end());
    d.erase(std::unique(d.begin(), d.end()), d.end());
    return d;
  };
  std::int64_t sends = 0, receives = 0;
  for (int t = 0; t < mine.tokens; ++t)
    sends += static_cast<std::int64_t>(distinct_ranks(mine, t).size());
  for (const Routing& r : all)
    for (int t = 0; t < r.tokens; ++t) {
      const auto d = distinct_ranks(r, t);
      receives += std::count(d.begin(), d.end(), me);
    }
  const auto dispatch_bytes = static_cast<std::int64_t>(DispatchRecordLayout(c).bytes());
  const auto combine_bytes = static_cast<std::int64_t>(CombineRecordLayout(c).bytes());
  const std::int64_t counts = 4 * ranks;  // one int32 per peer

  auto mem = std::make_shared<FakeDeviceMemory>();
  FakeDeviceCommunicator dev(mpi, mem);
  const auto payloads = make_payloads(c, me, mine.tokens);
  const auto exchange = make_ep_exchange(c, dev, l, false);
  exchange->dispatch(mine, payloads.data());
  EXPECT_EQ(static_cast<std::int64_t>(exchange->received()), receives);
  EXPECT_EQ(mem->bytes_in, sends * dispatch_bytes + counts);
  EXPECT_EQ(mem->bytes_out, receives * dispatch_bytes + counts);
  EXPECT_EQ(mem->copies_in, 2);  // the counts, the records
  EXPECT_EQ(mem->copies_out, 2);
  mem->bytes_in = mem->bytes_out = 0;
  const std::vector<float> zeros(static_cast<std::size_t>(c.hidden), 0.0f);
  for (std::size_t i = 0; i < exchange->received(); ++i) exchange->set_partial(i, zeros.data());
  std::vector<float> out(static_cast<std::size_t>(mine.tokens) * c.hidden);
  exchange->combine(out.data());
  // Combine returns one BF16 record per received copy; the counts are known, not swapped again.
  EXPECT_EQ(mem->bytes_in, receives * combine_bytes);
  EXPECT_EQ(mem->bytes_out, sends * combine_bytes);
}

TEST(FakeDeviceEp, AByteFlippedInDeviceMemoryFailsVerificationAndIsNotTimed) {
  MpiCommunicator mpi(MPI_COMM_WORLD);
  auto mem = std::make_shared<FakeDeviceMemory>();
  mem->flip = mpi.rank() == mpi.size() - 1;  // in every stage this rank takes part in
  FakeDeviceCommunicator dev(mpi, mem);
  const NodeLayout l = discover_layout(dev, mpi.size() % 2 == 0 ? 2 : 1);
  for (const bool hier : {false, true}) {
    EpBenchOptions opt = one_round(small_config(mpi.size()));
    opt.flat = !hier;
    opt.hierarchical = hier;
    const auto rows = run_ep(dev, l, opt);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_GT(rows[0].wrong, 0) << rows[0].implementation;
    EXPECT_TRUE(rows[0].dispatch_s.empty()) << rows[0].implementation;
  }
}

}  // namespace
}  // namespace cobench::coll::ep
