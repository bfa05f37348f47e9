// SPDX-License-Identifier: Apache-2.0
// The thread pool of the CPU kernels and planners: parallel_for runs tasks 0 .. count - 1 over a
// few threads that each take the next task (header-only; the caller links Threads::Threads).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace cobench {

/// `threads`, or every hardware thread when threads <= 0.
inline int thread_count(int threads) {
  return threads > 0 ? threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

/// The threads parallel_for(count, threads, ...) uses: min(threads, count), at least 1.
inline int parallel_workers(std::int64_t count, int threads) {
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, count)));
}

/// Runs task(i), or task(worker, i) with worker < parallel_workers(count, threads) telling a
/// task which per-thread state is its own, for i = 0 .. count - 1 over parallel_workers threads
/// (the caller's among them), each taking the next task; returns when all are done. The first
/// exception a task throws stops the others from taking more and is rethrown here.
template <class F>
void parallel_for(std::int64_t count, int threads, const F& task) {
  std::atomic<std::int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&](int w) {
    try {
      for (std::int64_t t = next++; t < count; t = next++) {
        if constexpr (std::is_invocable_v<const F&, int, std::int64_t>)
          task(w, t);
        else
          task(t);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = count;
    }
  };
  std::vector<std::thread> pool;
  const int used = parallel_workers(count, threads);
  for (int i = 1; i < used; ++i) pool.emplace_back(worker, i);
  worker(0);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace cobench
