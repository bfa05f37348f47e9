// SPDX-License-Identifier: Apache-2.0
// One pass of a register ceiling (fma_peak, amx_peak, bf16_dot_peak; internal to
// kernels/ceilings): `threads` threads released together by a barrier, each timing its own share
// (core/pass_clock.h), so that the pass lasts from the earliest start to the latest end.
#pragma once

#include <barrier>
#include <thread>
#include <vector>

#include "core/pass_clock.h"

namespace cobench::ceilings::detail {

/// Runs body(t) for t < threads, each on its own thread; returns the pass's seconds.
template <class Body>
double timed_pass(int threads, const Body& body) {
  std::barrier<> start(threads + 1);
  PassClock clock(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      start.arrive_and_wait();
      clock.begin(t);
      body(t);
      clock.end(t);
    });
  start.arrive_and_wait();
  for (auto& th : pool) th.join();
  return clock.seconds();
}

}  // namespace cobench::ceilings::detail
