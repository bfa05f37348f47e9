// SPDX-License-Identifier: Apache-2.0
// The CPU kernels' thread pool: parallel_for runs tasks 0 .. count - 1 over a few threads that
// each take the next task (header-only; the caller links Threads::Threads).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace cobench {

/// `threads`, or every hardware thread when threads <= 0.
inline int thread_count(int threads) {
  return threads > 0 ? threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

/// Runs task(0 .. count - 1) over min(threads, count) threads (the caller's among them), each
/// taking the next task; returns when all are done.
template <class F>
void parallel_for(std::int64_t count, int threads, const F& task) {
  std::atomic<std::int64_t> next{0};
  auto worker = [&] {
    for (std::int64_t t = next++; t < count; t = next++) task(t);
  };
  std::vector<std::thread> pool;
  const std::int64_t used = std::min<std::int64_t>(threads, count);
  for (std::int64_t i = 1; i < used; ++i) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
}

}  // namespace cobench
