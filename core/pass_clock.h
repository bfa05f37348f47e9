// SPDX-License-Identifier: Apache-2.0
// The wall time of one pass of work that several threads do: each thread reads the clock right
// before and after its share (begin, end), and the pass lasts from the earliest begin to the
// latest end. A caller that reads the clock on its own side of a barrier times its own wake-up
// instead: BM_FmaPeak's passes read 417-645 GFLOP/s that way on a 2-vCPU VM, and 437-459 timed
// here (docs/mla.md, "The FMA peak, timed by the threads that run it", gives the command).
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace cobench {

class PassClock {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PassClock(int threads)
      : began_(static_cast<size_t>(threads)), ended_(static_cast<size_t>(threads)) {}

  /// Thread `t` starts / finishes its share (each thread writes its own slot; read seconds() only
  /// after every thread has finished, behind a barrier or join).
  void begin(int t) { began_[static_cast<size_t>(t)] = Clock::now(); }
  void end(int t) { ended_[static_cast<size_t>(t)] = Clock::now(); }

  /// From the earliest begin to the latest end, in seconds.
  double seconds() const {
    return std::chrono::duration<double>(*std::max_element(ended_.begin(), ended_.end()) -
                                         *std::min_element(began_.begin(), began_.end()))
        .count();
  }

 private:
  std::vector<Clock::time_point> began_, ended_;
};

}  // namespace cobench
