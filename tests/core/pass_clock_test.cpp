// SPDX-License-Identifier: Apache-2.0
// PassClock: a pass lasts from the earliest thread's begin to the latest thread's end, whatever
// the order in which the threads start and finish.
#include "core/pass_clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace cobench {
namespace {

using std::chrono::milliseconds;

double wall_seconds(PassClock::Clock::time_point since) {
  return std::chrono::duration<double>(PassClock::Clock::now() - since).count();
}

TEST(PassClock, SpansTheFirstBeginToTheLastEnd) {
  // Thread 0 begins first and ends first; thread 1 begins 30 ms later and ends 60 ms after that.
  // The pass is about 90 ms: neither thread's own span (about 20 and 60 ms) nor the time between
  // the last begin and the first end.
  PassClock clock(2);
  const auto outer = PassClock::Clock::now();
  clock.begin(0);
  std::this_thread::sleep_for(milliseconds(20));
  clock.end(0);
  std::this_thread::sleep_for(milliseconds(10));
  clock.begin(1);
  std::this_thread::sleep_for(milliseconds(60));
  clock.end(1);
  const double wall = wall_seconds(outer);
  EXPECT_GE(clock.seconds(), 0.090);
  EXPECT_LE(clock.seconds(), wall);
}

TEST(PassClock, ThreadsInReverseSlotOrder) {
  // The last slot begins first and the first slot ends last: min and max, not slot 0 and slot n-1.
  PassClock clock(3);
  const auto outer = PassClock::Clock::now();
  clock.begin(2);
  std::this_thread::sleep_for(milliseconds(15));
  clock.begin(1);
  clock.begin(0);
  clock.end(2);
  clock.end(1);
  std::this_thread::sleep_for(milliseconds(25));
  clock.end(0);
  EXPECT_GE(clock.seconds(), 0.040);
  EXPECT_LE(clock.seconds(), wall_seconds(outer));
}

TEST(PassClock, OneThreadFromConcurrentWorkers) {
  // Real threads, each writing its own slot; read after join.
  PassClock clock(4);
  const auto outer = PassClock::Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&clock, t] {
      clock.begin(t);
      std::this_thread::sleep_for(milliseconds(10 * (t + 1)));
      clock.end(t);
    });
  for (auto& th : pool) th.join();
  EXPECT_GE(clock.seconds(), 0.040);
  EXPECT_LE(clock.seconds(), wall_seconds(outer));
}

}  // namespace
}  // namespace cobench
