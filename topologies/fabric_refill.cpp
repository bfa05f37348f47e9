// SPDX-License-Identifier: Apache-2.0
// The fluid run with an incremental refill (fabric_refill.h).
#include "topologies/fabric_refill.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace cobench::topo::detail {
namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();

class IncrementalFluid {
 public:
  IncrementalFluid(std::span<const double> capacity, const FlowSet& flows,
                   const FluidOptions& options)
      : cap_(capacity), flows_(flows), options_(options) {
    const size_t n = static_cast<size_t>(flows.size());
    const size_t resources = capacity.size();
    rate_.assign(n, 0.0);
    left_at_.assign(flows.bytes.begin(), flows.bytes.end());
    t_at_.assign(n, 0.0);
    end_.assign(n, kInfinity);
    frozen_.assign(n, 0);
    active_.resize(n);
    std::iota(active_.begin(), active_.end(), 0);
    // A resource's history holds one entry a level at which some of its flows froze: never
    // more than the flows crossing it.
    hist_offsets_.assign(resources + 1, 0);
    for (std::int32_t r : flows.path) ++hist_offsets_[static_cast<size_t>(r) + 1];
    for (size_t r = 0; r < resources; ++r) hist_offsets_[r + 1] += hist_offsets_[r];
    hist_level_.resize(flows.path.size());
    hist_load_.resize(flows.path.size());
    hist_len_.assign(resources, 0);
    res_mark_.assign(resources, 0);
    res_local_.assign(resources, 0);
    load_.assign(resources, 0.0);
    count_.assign(resources, 0);
    res_version_.assign(resources, 0);
  }

  FluidRun run() {
    FluidRun run;
    const std::int64_t n = flows_.size();
    run.finish_s.assign(static_cast<size_t>(n), 0.0);
    // The first event fills every flow from level 0.
    affected_ = active_;
    refill(-kInfinity, {});
    ++run.events;
    double now_s = 0;
    std::vector<std::int32_t> done;
    while (!active_.empty()) {
      double first_end = kInfinity;
      for (std::int32_t f : active_) first_end = std::min(first_end, end_[static_cast<size_t>(f)]);
      if (!(first_end < kInfinity)) throw Error("fluid run: no flow can finish (a zero rate)");
      const double first_s = first_end - now_s;
      // The flows ending by the horizon end in this event, each at its own time.
      const double horizon_s =
          first_s * (1 + kFinishTolerance) + options_.finish_window * (now_s + first_s);
      double step_s = first_s, level = kInfinity;
      done.clear();
      size_t kept = 0;
      for (std::int32_t f : active_) {
        const auto i = static_cast<size_t>(f);
        const double t = end_[i] - now_s;
        if (t <= horizon_s) {
          run.finish_s[i] = end_[i];
          step_s = std::max(step_s, t);
          level = std::min(level, rate_[i]);
          done.push_back(f);
        } else {
          active_[kept++] = f;
        }
      }
      active_.resize(kept);
      now_s += step_s;
      if (!active_.empty()) {
        // Below the lowest rate of the flows that ended, every rate stays (fabric_refill.h).
        now_s_ = now_s;
        affected_.clear();
        for (std::int32_t f : active_)
          if (rate_[static_cast<size_t>(f)] >= level) affected_.push_back(f);
        refill(level, done);
        ++run.events;
      }
      if (options_.progress) options_.progress(n - static_cast<std::int64_t>(active_.size()), n);
    }
    return run;
  }

 private:
  using Entry = ShareEntry;

  void touch(std::int32_t r) {
    const auto i = static_cast<size_t>(r);
    if (res_mark_[i] == epoch_) return;
    res_mark_[i] = epoch_;
    res_local_[i] = static_cast<std::int32_t>(touched_.size());
    touched_.push_back(r);
    // Its load just below `level`: the history cut there.
    std::int32_t& len = hist_len_[i];
    const std::int64_t base = hist_offsets_[i];
    while (len > 0 && hist_level_[static_cast<size_t>(base + len - 1)] >= level_) --len;
    load_[i] = len > 0 ? hist_load_[static_cast<size_t>(base + len - 1)] : 0.0;
    count_[i] = 0;
    res_version_[i] = 0;
  }

  // Progressive filling of `affected_` (the active flows at rate >= level, in index order)
  // from `level` up: every other flow keeps its rate, and every resource they or `done` cross
  // starts from its load below `level`.
  void refill(double level, std::span<const std::int32_t> done) {
    level_ = level;
    ++epoch_;
    touched_.clear();
    for (std::int32_t f : done)
      for (std::int32_t r : flows_.path_of(f)) touch(r);
    for (std::int32_t f : affected_) {
      frozen_[static_cast<size_t>(f)] = 0;
      for (std::int32_t r : flows_.path_of(f)) {
        touch(r);
        ++count_[static_cast<size_t>(r)];
      }
    }
    // The affected flows crossing each touched resource, in index order (counting sort).
    const size_t local = touched_.size();
    local_offsets_.resize(local + 1);
    local_offsets_[0] = 0;
    for (size_t k = 0; k < local; ++k)
      local_offsets_[k + 1] = local_offsets_[k] + count_[static_cast<size_t>(touched_[k])];
    local_inv_.resize(static_cast<size_t>(local_offsets_.back()));
    next_.assign(local_offsets_.begin(), local_offsets_.end() - 1);
    for (std::int32_t f : affected_)
      for (std::int32_t r : flows_.path_of(f)) {
        const auto k = static_cast<size_t>(res_local_[static_cast<size_t>(r)]);
        local_inv_[static_cast<size_t>(next_[k]++)] = f;
      }
    heap_.clear();
    for (std::int32_t r : touched_)
      if (count_[static_cast<size_t>(r)] > 0) heap_.push_back({share(r), r, 0});
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>{});
    auto pending = static_cast<std::int64_t>(affected_.size());
    while (pending > 0) {
      // As Filler::fill (fabric_flows.cpp): stale entries are lower bounds, refreshed as they
      // surface; every resource within the tolerance of the lowest share fills.
      const double lowest_share = lowest();
      const double limit = lowest_share * (1 + kLevelTolerance);
      saturated_.clear();
      while (!heap_.empty() && heap_.front().share <= limit) {
        const Entry e = pop();
        const auto i = static_cast<size_t>(e.resource);
        if (count_[i] == 0) continue;
        if (e.version == res_version_[i])
          saturated_.push_back(e.resource);
        else
          push(e.resource);
      }
      for (std::int32_t s : saturated_) {
        const auto k = static_cast<size_t>(res_local_[static_cast<size_t>(s)]);
        for (std::int64_t j = local_offsets_[k]; j < local_offsets_[k + 1]; ++j) {
          const std::int32_t f = local_inv_[static_cast<size_t>(j)];
          if (frozen_[static_cast<size_t>(f)]) continue;
          frozen_[static_cast<size_t>(f)] = 1;
          set_rate(f, lowest_share);
          --pending;
          for (std::int32_t m : flows_.path_of(f)) {
            const auto i = static_cast<size_t>(m);
            load_[i] += lowest_share;
            --count_[i];
            ++res_version_[i];
            record(i, lowest_share, load_[i]);
          }
        }
      }
    }
  }

  // Resource r's load after the flows frozen at `level`.
  void record(size_t r, double level, double load) {
    std::int32_t& len = hist_len_[r];
    const std::int64_t base = hist_offsets_[r];
    if (len > 0 && hist_level_[static_cast<size_t>(base + len - 1)] == level) {
      hist_load_[static_cast<size_t>(base + len - 1)] = load;
      return;
    }
    hist_level_[static_cast<size_t>(base + len)] = level;
    hist_load_[static_cast<size_t>(base + len)] = load;
    ++len;
  }

  // Flow f runs at `rate` from now on: its bytes left move to now, its finish with them.
  void set_rate(std::int32_t f, double rate) {
    const auto i = static_cast<size_t>(f);
    if (rate == rate_[i] && end_[i] < kInfinity) return;
    left_at_[i] -= rate_[i] * (now_s_ - t_at_[i]);
    t_at_[i] = now_s_;
    rate_[i] = rate;
    end_[i] = now_s_ + left_at_[i] / rate;
  }

  double share(std::int32_t r) const {
    const auto i = static_cast<size_t>(r);
    return std::max(0.0, cap_[i] - load_[i]) / count_[i];
  }
  void push(std::int32_t r) {
    heap_.push_back({share(r), r, res_version_[static_cast<size_t>(r)]});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
  }
  Entry pop() {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
    const Entry e = heap_.back();
    heap_.pop_back();
    return e;
  }
  // The lowest share of a resource with unfrozen flows: the top once it is current.
  double lowest() {
    while (!heap_.empty()) {
      const Entry e = heap_.front();
      const auto i = static_cast<size_t>(e.resource);
      if (count_[i] > 0 && e.version == res_version_[i]) return e.share;
      pop();
      if (count_[i] > 0) push(e.resource);
    }
    throw Error("progressive filling ran out of resources with flows left");
  }

  std::span<const double> cap_;
  const FlowSet& flows_;
  const FluidOptions& options_;
  // Per flow: its rate, the bytes left when the rate last changed and when, its finish.
  std::vector<double> rate_, left_at_, t_at_, end_;
  std::vector<std::uint8_t> frozen_;
  std::vector<std::int32_t> active_;  // in index order
  double now_s_ = 0, level_ = 0;
  // Per resource: (level, load after the flows frozen at it), in rising level.
  std::vector<std::int64_t> hist_offsets_;
  std::vector<double> hist_level_, hist_load_;
  std::vector<std::int32_t> hist_len_;
  // One refill: the resources it touches, their loads, unfrozen counts and heap versions.
  std::uint32_t epoch_ = 0;
  std::vector<std::uint32_t> res_mark_, res_version_;
  std::vector<std::int32_t> res_local_, count_, affected_, touched_, saturated_, local_inv_;
  std::vector<std::int64_t> local_offsets_, next_;
  std::vector<double> load_;
  std::vector<Entry> heap_;
};

}  // namespace

FluidRun run_incremental(std::span<const double> capacity_bytes_per_s, const FlowSet& flows,
                         const FluidOptions& options) {
  return IncrementalFluid(capacity_bytes_per_s, flows, options).run();
}

}  // namespace cobench::topo::detail
