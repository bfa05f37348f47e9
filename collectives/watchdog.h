// SPDX-License-Identifier: Apache-2.0
// A watchdog for blocking communication: `arm("all_reduce 1 MiB")` starts a clock, `disarm()`
// stops it; when an armed operation runs past the timeout, the handler is called on the
// watchdog's thread with what was running and how long it waited. The benchmark mains' handler
// prints the rank and the operation and ends the whole job (abort_job), so a failed or hung rank
// never leaves the others waiting forever.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cobench::coll {

class Watchdog {
 public:
  using Handler = std::function<void(const std::string& what, double waited_s)>;

  /// `timeout_s` <= 0 disables the watchdog (arm and disarm do nothing).
  Watchdog(double timeout_s, Handler on_timeout);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(std::string what);
  void disarm();
  double timeout_s() const { return timeout_s_; }

 private:
  void loop();

  double timeout_s_;
  Handler on_timeout_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool stop_ = false;
  std::string what_;
  std::chrono::steady_clock::time_point started_;
  std::thread thread_;
};

/// Arms a watchdog (when there is one) for the lifetime of the object.
class WatchdogScope {
 public:
  WatchdogScope(Watchdog* w, std::string what) : w_(w) {
    if (w_ != nullptr) w_->arm(std::move(what));
  }
  ~WatchdogScope() {
    if (w_ != nullptr) w_->disarm();
  }
  WatchdogScope(const WatchdogScope&) = delete;
  WatchdogScope& operator=(const WatchdogScope&) = delete;

 private:
  Watchdog* w_;
};

}  // namespace cobench::coll
