// SPDX-License-Identifier: Apache-2.0
// Runs an independent task per rank on the machine's hardware threads (routing and planning of
// many ranks without running them); the first exception a task throws is rethrown.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace cobench::coll::ep {

/// task(worker, rank) for every rank in [0, count); `worker` < parallel_workers(count) tells a
/// task which per-thread state is its own.
inline int parallel_workers(int count) {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, std::min(hw, count));
}

template <class F>
void parallel_ranks(int count, const F& task) {
  const int workers = parallel_workers(count);
  std::atomic<int> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&](int worker) {
    try {
      for (int r = next++; r < count; r = next++) task(worker, r);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = count;
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(run, w);
  run(0);
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace cobench::coll::ep
