// SPDX-License-Identifier: Apache-2.0
#include "collectives/coll_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "collectives/ops/collective_op.h"
#include "collectives/watchdog.h"
#include "core/error.h"
#include "core/nvtx.h"
#include "core/stats.h"

namespace cobench::coll {

bool has_in_place(Collective c) { return collective_op(c).in_place != InPlace::kNone; }

void call_collective(Communicator& comm, Collective c, const void* send, void* recv,
                     std::size_t count, DataType t) {
  collective_op(c).call(comm, send, recv, count, t);
}

namespace {

// Buffers of one configuration and where the call's send and receive pointers point.
struct Layout {
  std::size_t send_bytes = 0, recv_bytes = 0;
  std::size_t send_offset = 0;  ///< of the send pointer in the receive buffer (in place)
  std::size_t recv_offset = 0;  ///< of the receive pointer in the send buffer (in place)
};

Layout layout_of(const CollectiveOp& op, bool in_place, const CollectiveCounts& k,
                 std::size_t type_size, int rank) {
  Layout l;
  l.send_bytes = k.send * type_size;
  l.recv_bytes = k.recv * type_size;
  const std::size_t rank_block = static_cast<std::size_t>(rank) * k.param * type_size;
  if (in_place && op.in_place == InPlace::kSendAtRank) l.send_offset = rank_block;
  if (in_place && op.in_place == InPlace::kRecvAtRank) l.recv_offset = rank_block;
  return l;
}

CollResult run_one(Communicator& comm, const CollBenchOptions& opt, Collective c, bool in_place,
                   std::size_t bytes, Watchdog* watchdog) {
  const std::size_t ts = size_of(opt.type);
  CollResult r;
  r.op = c;
  r.in_place = in_place;
  r.type = opt.type;
  r.ranks = comm.size();
  r.counts = collective_counts(c, bytes, ts, comm.size());
  const CollectiveOp& op = collective_op(c);
  const Layout l = layout_of(op, in_place, r.counts, ts, comm.rank());
  const std::string what = fmt::format("{} of {} B ({})", to_string(c), r.counts.bytes,
                                       in_place ? "in place" : "out of place");
  NvtxRange range(what.c_str());

  // In place, one buffer holds both sides: the larger of the two.
  CommBuffer a(comm, in_place ? std::max(l.send_bytes, l.recv_bytes) : l.send_bytes);
  CommBuffer b(comm, in_place ? 0 : l.recv_bytes);
  std::byte* send = a.bytes() + l.send_offset;
  std::byte* recv = in_place ? a.bytes() + l.recv_offset : b.bytes();

  // The send data: this rank's pattern (in place: at the send pointer, inside the buffer).
  std::vector<std::byte> host(std::max(l.send_bytes, l.recv_bytes));
  fill_pattern(host.data(), r.counts.send, opt.type, opt.seed, comm.rank());
  comm.copy_from_host(send, host.data(), l.send_bytes);

  {
    WatchdogScope scope(watchdog, "verifying " + what);
    op.call(comm, send, recv, r.counts.param, opt.type);
    comm.synchronize();
  }
  // What this rank must hold at the receive pointer (nothing where it is undefined: reduce off
  // the root).
  const std::vector<double> expected =
      op.expected(r.counts.param, opt.seed, comm.rank(), comm.size());
  COBENCH_CHECK(expected.size() <= r.counts.recv,
                fmt::format("{} expects more elements than it receives", op.name));
  comm.copy_to_host(host.data(), recv, expected.size() * ts);
  const Mismatch m = compare(host.data(), opt.type, expected);
  r.detail = m.describe();
  {
    WatchdogScope scope(watchdog, "agreeing on the verification of " + what);
    r.wrong = comm.sum_over_ranks(m.wrong);
  }
  if (r.wrong != 0) {
    if (m.wrong == 0) r.detail = "this rank's elements match; another rank's differ";
    return r;
  }

  WatchdogScope scope(watchdog, what);
  for (int i = 0; i < opt.warmup; ++i) op.call(comm, send, recv, r.counts.param, opt.type);
  comm.synchronize();
  std::vector<double> per_call;
  for (int rep = 0; rep < opt.repetitions; ++rep) {
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < opt.iters; ++i) op.call(comm, send, recv, r.counts.param, opt.type);
    comm.synchronize();
    const auto t1 = std::chrono::steady_clock::now();
    per_call.push_back(std::chrono::duration<double>(t1 - t0).count() / opt.iters);
  }
  r.time_s = comm.max_over_ranks(per_call);
  r.median_time_s = summarize(r.time_s).median;
  if (r.median_time_s > 0)
    r.bandwidth = bus_bandwidth(c, r.counts.bytes, r.median_time_s, comm.size());
  return r;
}

}  // namespace

std::vector<CollResult> run_collectives(Communicator& comm, const CollBenchOptions& opt,
                                        Watchdog* watchdog, const CollProgress& progress) {
  COBENCH_CHECK(opt.iters >= 1 && opt.repetitions >= 1 && opt.warmup >= 0,
                "iterations and repetitions must be positive, warm-up not negative");
  COBENCH_CHECK(opt.type != DataType::kUInt8, "the collective benchmark checks float32 or int32");
  std::size_t total = 0;
  for (Collective c : opt.ops)
    total += opt.sizes.size() * ((opt.out_of_place ? 1 : 0) + (opt.in_place && has_in_place(c)));
  std::vector<CollResult> out;
  for (Collective c : opt.ops)
    for (std::size_t bytes : opt.sizes)
      for (bool in_place : {false, true}) {
        if (in_place ? !(opt.in_place && has_in_place(c)) : !opt.out_of_place) continue;
        out.push_back(run_one(comm, opt, c, in_place, bytes, watchdog));
        if (progress) progress(out.back(), out.size(), total);
      }
  return out;
}

}  // namespace cobench::coll
