// SPDX-License-Identifier: Apache-2.0
#include "collectives/watchdog.h"

namespace cobench::coll {

Watchdog::Watchdog(double timeout_s, Handler on_timeout)
    : timeout_s_(timeout_s), on_timeout_(std::move(on_timeout)) {
  if (timeout_s_ > 0) thread_ = std::thread([this] { loop(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::arm(std::string what) {
  if (timeout_s_ <= 0) return;
  {
    std::lock_guard lock(mutex_);
    what_ = std::move(what);
    started_ = std::chrono::steady_clock::now();
    armed_ = true;
  }
  cv_.notify_all();
}

void Watchdog::disarm() {
  if (timeout_s_ <= 0) return;
  std::lock_guard lock(mutex_);
  armed_ = false;
}

void Watchdog::loop() {
  const auto timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(timeout_s_));
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (!armed_) {
      cv_.wait(lock, [&] { return stop_ || armed_; });
      continue;
    }
    const auto started = started_;
    if (cv_.wait_until(lock, started + timeout,
                       [&] { return stop_ || !armed_ || started_ != started; }))
      continue;  // stopped, disarmed or re-armed in time
    const std::string what = what_;
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    armed_ = false;
    lock.unlock();
    on_timeout_(what, waited);  // normally ends the job
    lock.lock();
  }
}

}  // namespace cobench::coll
