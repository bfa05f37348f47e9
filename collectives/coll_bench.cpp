// SPDX-License-Identifier: Apache-2.0
#include "collectives/coll_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "collectives/watchdog.h"
#include "core/error.h"
#include "core/nvtx.h"
#include "core/stats.h"

namespace cobench::coll {

bool has_in_place(Collective c) {
  return c == Collective::kAllReduce || c == Collective::kAllGather ||
         c == Collective::kReduceScatter;
}

void call_collective(Communicator& comm, Collective c, const void* send, void* recv,
                     std::size_t count, DataType t) {
  switch (c) {
    case Collective::kAllReduce:
      return comm.all_reduce(send, recv, count, t);
    case Collective::kAllGather:
      return comm.all_gather(send, recv, count, t);
    case Collective::kReduceScatter:
      return comm.reduce_scatter(send, recv, count, t);
    case Collective::kAllToAll:
      return comm.all_to_all(send, recv, count, t);
    case Collective::kSendRecv: {
      const int n = comm.size();
      return comm.send_recv(send, (comm.rank() + 1) % n, recv, (comm.rank() - 1 + n) % n, count, t);
    }
  }
}

namespace {

// Buffers of one configuration and where the call's send and receive pointers point.
struct Layout {
  std::size_t send_bytes = 0, recv_bytes = 0;
  std::size_t send_offset = 0;  ///< of the send pointer in the receive buffer (in place)
  std::size_t recv_offset = 0;  ///< of the receive pointer in the send buffer (in place)
};

Layout layout_of(Collective c, bool in_place, const CollectiveCounts& k, std::size_t type_size,
                 int rank) {
  Layout l;
  l.send_bytes = k.send * type_size;
  l.recv_bytes = k.recv * type_size;
  if (in_place && c == Collective::kAllGather)
    l.send_offset = static_cast<std::size_t>(rank) * k.param * type_size;
  if (in_place && c == Collective::kReduceScatter)
    l.recv_offset = static_cast<std::size_t>(rank) * k.param * type_size;
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
  const Layout l = layout_of(c, in_place, r.counts, ts, comm.rank());
  const std::string what = fmt::format("{} of {} B ({})", to_string(c), r.counts.bytes,
                                       in_place ? "in place" : "out of place");
  NvtxRange range(what.c_str());

  // In place, one buffer holds both sides: the larger of the two.
  CommBuffer a(comm, in_place ? std::max(l.send_bytes, l.recv_bytes) : l.send_bytes);
  CommBuffer b(comm, in_place ? 0 : l.recv_bytes);
  std::byte* send = a.bytes() + l.send_offset;
  std::byte* recv = in_place ? a.bytes() + l.recv_offset : b.bytes();
  if (in_place && c == Collective::kAllReduce) recv = send;

  // The send data: this rank's pattern (in place: at the send pointer, inside the buffer).
  const std::size_t send_count = c == Collective::kAllGather ? r.counts.param : r.counts.send;
  std::vector<std::byte> host(std::max(send_count * ts, r.counts.recv * ts));
  fill_pattern(host.data(), send_count, opt.type, opt.seed, comm.rank());
  comm.copy_from_host(send, host.data(), send_count * ts);

  {
    WatchdogScope scope(watchdog, "verifying " + what);
    call_collective(comm, c, send, recv, r.counts.param, opt.type);
    comm.synchronize();
  }
  const std::size_t check_count = c == Collective::kReduceScatter ? r.counts.param : r.counts.recv;
  comm.copy_to_host(host.data(), recv, check_count * ts);
  const Mismatch m =
      compare(host.data(), opt.type,
              expected_result(c, r.counts.param, opt.seed, comm.rank(), comm.size()));
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
  for (int i = 0; i < opt.warmup; ++i)
    call_collective(comm, c, send, recv, r.counts.param, opt.type);
  comm.synchronize();
  std::vector<double> per_call;
  for (int rep = 0; rep < opt.repetitions; ++rep) {
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < opt.iters; ++i)
      call_collective(comm, c, send, recv, r.counts.param, opt.type);
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
