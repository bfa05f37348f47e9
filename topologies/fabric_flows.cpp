// SPDX-License-Identifier: Apache-2.0
// Max-min fair rates, the event-driven fluid run, the collectives' traffic and their results
// (fabric_flows.h).
#include "topologies/fabric_flows.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <iterator>
#include <limits>
#include <mutex>
#include <numeric>
#include <queue>

#include "core/error.h"
#include "core/parallel_for.h"
#include "topologies/fabric_refill.h"

namespace cobench::topo {
namespace {

using detail::kFinishTolerance;
using detail::kLevelTolerance;

enum class FlowState : std::uint8_t { kUnfrozen, kFrozen, kFinished };

// Throws for more flows than a phase holds, a capacity that is not finite and >= 0, a path
// through a resource that does not exist, or flows on a resource of capacity 0.
void check_flows(std::span<const double> capacity, const FlowSet& flows) {
  if (flows.size() > kMaxPhaseFlows)
    throw Error(fmt::format("{} flows in one phase: at most {} are simulated", flows.size(),
                            kMaxPhaseFlows));
  if (flows.offsets.size() != flows.bytes.size() + 1)
    throw Error(fmt::format("a flow set of {} sizes and {} path offsets: expected one more offset",
                            flows.bytes.size(), flows.offsets.size()));
  for (std::int64_t f = 0; f < flows.size(); ++f)
    if (flows.path_of(f).empty())
      throw Error(fmt::format("flow {} crosses no resource: its rate would be unbounded", f));
  const size_t resources = capacity.size();
  for (size_t r = 0; r < resources; ++r)
    if (!std::isfinite(capacity[r]) || capacity[r] < 0)
      throw Error(fmt::format("resource {} has capacity {} B/s: expected a finite value >= 0", r,
                              capacity[r]));
  std::vector<std::int64_t> users(resources, 0);
  for (std::int32_t r : flows.path) {
    if (r < 0 || static_cast<size_t>(r) >= resources)
      throw Error(fmt::format("a flow crosses resource {}: expected 0 to {}", r, resources - 1));
    ++users[static_cast<size_t>(r)];
  }
  for (size_t r = 0; r < resources; ++r)
    if (users[r] > 0 && !(capacity[r] > 0))
      throw Error(fmt::format("{} flow(s) cross resource {} of capacity 0: they never finish",
                              users[r], r));
}

// Progressive filling over a fixed flow set, rerun on its active subset at every event.
class Filler {
 public:
  Filler(std::span<const double> capacity, const FlowSet& flows)
      : cap_(capacity), flows_(flows), rate_(static_cast<size_t>(flows.size()), 0.0) {
    check_flows(capacity, flows);
    const size_t resources = capacity.size();
    std::vector<std::int32_t> all(static_cast<size_t>(flows.size()));
    std::iota(all.begin(), all.end(), 0);
    reindex(all);
    load_.resize(resources);
    count_.resize(resources);
    version_.assign(resources, 0);
    state_.assign(static_cast<size_t>(flows.size()), FlowState::kFinished);
  }

  const std::vector<double>& rates() const { return rate_; }

  // The inverted index of `active`: the flows crossing each resource (counting sort).
  void reindex(std::span<const std::int32_t> active) {
    inv_offsets_.assign(cap_.size() + 1, 0);
    for (std::int32_t f : active)
      for (std::int32_t r : flows_.path_of(f)) ++inv_offsets_[static_cast<size_t>(r) + 1];
    for (size_t r = 0; r < cap_.size(); ++r) inv_offsets_[r + 1] += inv_offsets_[r];
    inv_.resize(static_cast<size_t>(inv_offsets_.back()));
    std::vector<std::int64_t> next(inv_offsets_.begin(), inv_offsets_.end() - 1);
    for (std::int32_t f : active)
      for (std::int32_t r : flows_.path_of(f))
        inv_[static_cast<size_t>(next[static_cast<size_t>(r)]++)] = f;
  }
  void finish(std::int32_t f) { state_[static_cast<size_t>(f)] = FlowState::kFinished; }

  // Max-min fair rates of the `active` flows (the others are finished).
  void fill(std::span<const std::int32_t> active) {
    std::fill(load_.begin(), load_.end(), 0.0);
    std::fill(count_.begin(), count_.end(), 0);
    for (std::int32_t f : active) {
      state_[static_cast<size_t>(f)] = FlowState::kUnfrozen;
      for (std::int32_t r : flows_.path_of(f)) ++count_[static_cast<size_t>(r)];
    }
    heap_ = {};
    for (size_t r = 0; r < count_.size(); ++r)
      if (count_[r] > 0) push(static_cast<std::int32_t>(r));
    std::int64_t pending = static_cast<std::int64_t>(active.size());
    while (pending > 0) {
      // A resource's share never falls as flows freeze at the level (the lowest share), so an
      // entry is a lower bound of its resource's share: refresh stale entries as they surface.
      const double level = lowest();
      const double limit = level * (1 + kLevelTolerance);
      saturated_.clear();
      while (!heap_.empty() && heap_.top().share <= limit) {
        const Entry e = heap_.top();
        heap_.pop();
        if (count_[static_cast<size_t>(e.resource)] == 0) continue;
        if (e.version == version_[static_cast<size_t>(e.resource)])
          saturated_.push_back(e.resource);
        else
          push(e.resource);
      }
      for (std::int32_t r : saturated_) {
        const std::int64_t end = inv_offsets_[static_cast<size_t>(r) + 1];
        for (std::int64_t i = inv_offsets_[static_cast<size_t>(r)]; i < end; ++i) {
          // The flows come in no useful order: fetch their paths ahead (memory-bound otherwise).
          if (i + kPrefetch < end) prefetch_path(inv_[static_cast<size_t>(i + kPrefetch)]);
          if (i + 2 * kPrefetch < end)
            __builtin_prefetch(
                &flows_.offsets[static_cast<size_t>(inv_[static_cast<size_t>(i + 2 * kPrefetch)])]);
          const std::int32_t f = inv_[static_cast<size_t>(i)];
          if (state_[static_cast<size_t>(f)] != FlowState::kUnfrozen) continue;
          state_[static_cast<size_t>(f)] = FlowState::kFrozen;
          rate_[static_cast<size_t>(f)] = level;
          --pending;
          for (std::int32_t m : flows_.path_of(f)) {
            load_[static_cast<size_t>(m)] += level;
            --count_[static_cast<size_t>(m)];
            ++version_[static_cast<size_t>(m)];
          }
        }
      }
    }
  }

 private:
  using Entry = detail::ShareEntry;

  static constexpr std::int64_t kPrefetch = 8;
  void prefetch_path(std::int32_t f) const {
    __builtin_prefetch(&state_[static_cast<size_t>(f)]);
    __builtin_prefetch(flows_.path.data() + flows_.offsets[static_cast<size_t>(f)]);
  }

  double share(std::int32_t r) const {
    const auto i = static_cast<size_t>(r);
    return std::max(0.0, cap_[i] - load_[i]) / count_[i];
  }
  void push(std::int32_t r) { heap_.push({share(r), r, version_[static_cast<size_t>(r)]}); }
  // The lowest share of a resource with unfrozen flows: the top once it is current.
  double lowest() {
    while (!heap_.empty()) {
      const Entry e = heap_.top();
      const auto i = static_cast<size_t>(e.resource);
      if (count_[i] > 0 && e.version == version_[i]) return e.share;
      heap_.pop();
      if (count_[i] > 0) push(e.resource);
    }
    throw Error("progressive filling ran out of resources with flows left");
  }

  std::span<const double> cap_;
  const FlowSet& flows_;
  std::vector<double> rate_;
  std::vector<std::int64_t> inv_offsets_;
  std::vector<std::int32_t> inv_;
  std::vector<double> load_;
  std::vector<std::int32_t> count_;
  std::vector<std::uint32_t> version_;
  std::vector<std::int32_t> saturated_;
  std::vector<FlowState> state_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
};

void check_fluid_options(const FluidOptions& o) {
  if (!std::isfinite(o.finish_window) || o.finish_window < 0 || o.finish_window > 1)
    throw Error(fmt::format("finish window {}: expected 0 (exact) to 1", o.finish_window));
  if (o.threads < 0)
    throw Error(
        fmt::format("{} fluid threads: expected 0 (every hardware thread) or more", o.threads));
}

void check_size(double size_bytes) {
  if (!std::isfinite(size_bytes) || !(size_bytes > 0))
    throw Error(
        fmt::format("collective size {} bytes: expected a positive, finite size", size_bytes));
}

std::int64_t check_groups(const RankGroups& groups) {
  if (groups.empty()) throw Error("a collective needs at least one group of ranks; got none");
  const size_t n = groups.front().size();
  for (size_t i = 0; i < groups.size(); ++i) {
    const auto& group = groups[i];
    if (group.size() < 2 || group.size() != n)
      throw Error(
          fmt::format("group {} has {} ranks: expected {} (every group the same size, "
                      "at least 2)",
                      i, group.size(), std::max<size_t>(n, 2)));
    std::vector<std::int32_t> sorted(group);
    std::sort(sorted.begin(), sorted.end());
    if (sorted.front() < 0)
      throw Error(fmt::format("group {} names GPU {}: expected ids >= 0", i, sorted.front()));
    if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end())
      throw Error(fmt::format("group {} names GPU {} twice", i, *dup));
  }
  return static_cast<std::int64_t>(n);
}

Collective ring(CollectiveKind kind, const RankGroups& groups, double size_bytes,
                std::int64_t steps_per_rank, std::int32_t channels) {
  check_size(size_bytes);
  const std::int64_t n = check_groups(groups);
  if (channels < 1 || channels > kMaxRingChannels)
    throw Error(
        fmt::format("{} channels a ring hop: expected 1 to {}", channels, kMaxRingChannels));
  const std::int64_t flows = static_cast<std::int64_t>(groups.size()) * n * channels;
  if (flows > kMaxPhaseFlows)
    throw Error(
        fmt::format("{} group(s) of {} ranks in rings of {} channels are {} flows: at "
                    "most {} are simulated in one phase",
                    groups.size(), n, channels, flows, kMaxPhaseFlows));
  Collective c{kind, n, static_cast<std::int64_t>(groups.size()), size_bytes, {}};
  Phase step;
  step.repeat = steps_per_rank * (n - 1);
  step.flows.reserve(static_cast<size_t>(flows));
  const double chunk = size_bytes / static_cast<double>(n) / channels;
  for (const auto& group : groups)
    for (size_t k = 0; k < group.size(); ++k)
      for (std::int32_t ch = 0; ch < channels; ++ch)
        step.flows.push_back({group[k], group[(k + 1) % group.size()], chunk});
  c.phases.push_back(std::move(step));
  return c;
}

}  // namespace

void FlowSet::add(std::span<const std::int32_t> resources, double flow_bytes) {
  if (!std::isfinite(flow_bytes) || !(flow_bytes > 0))
    throw Error(
        fmt::format("flow {} has {} bytes: expected a positive, finite size", size(), flow_bytes));
  if (resources.empty())
    throw Error(fmt::format("flow {} crosses no resource: its rate would be unbounded", size()));
  path.insert(path.end(), resources.begin(), resources.end());
  offsets.push_back(static_cast<std::int64_t>(path.size()));
  bytes.push_back(flow_bytes);
}

std::vector<double> max_min_rates(std::span<const double> capacity_bytes_per_s,
                                  const FlowSet& flows) {
  Filler filler(capacity_bytes_per_s, flows);
  std::vector<std::int32_t> all(static_cast<size_t>(flows.size()));
  std::iota(all.begin(), all.end(), 0);
  filler.fill(all);
  return filler.rates();
}

namespace {

// The event-driven run of one set of flows (run_fluid's, on one component), every active flow
// refilled at every event.
FluidRun run_full(std::span<const double> capacity_bytes_per_s, const FlowSet& flows,
                  const FluidOptions& options) {
  Filler filler(capacity_bytes_per_s, flows);
  FluidRun run;
  run.finish_s.assign(static_cast<size_t>(flows.size()), 0.0);
  std::vector<double> left(flows.bytes);
  std::vector<std::int32_t> active(static_cast<size_t>(flows.size()));
  std::iota(active.begin(), active.end(), 0);
  size_t indexed = active.size();
  double now_s = 0;
  while (!active.empty()) {
    if (active.size() < indexed / 2) {  // drop finished flows from the index
      filler.reindex(active);
      indexed = active.size();
    }
    filler.fill(active);
    ++run.events;
    const std::vector<double>& rate = filler.rates();
    double first_s = std::numeric_limits<double>::infinity();
    for (std::int32_t f : active)
      first_s = std::min(first_s, left[static_cast<size_t>(f)] / rate[static_cast<size_t>(f)]);
    if (!(first_s < std::numeric_limits<double>::infinity()))
      throw Error("fluid run: no flow can finish (a zero rate)");
    // The flows ending by the horizon end in this event, each at its own time.
    const double horizon_s =
        first_s * (1 + kFinishTolerance) + options.finish_window * (now_s + first_s);
    double step_s = first_s;
    for (std::int32_t f : active) {
      const double t = left[static_cast<size_t>(f)] / rate[static_cast<size_t>(f)];
      if (t <= horizon_s) step_s = std::max(step_s, t);
    }
    size_t kept = 0;
    for (std::int32_t f : active) {
      const auto i = static_cast<size_t>(f);
      const double t = left[i] / rate[i];
      if (t <= horizon_s) {
        run.finish_s[i] = now_s + t;
        filler.finish(f);
      } else {
        left[i] -= rate[i] * step_s;
        active[kept++] = f;
      }
    }
    active.resize(kept);
    now_s += step_s;
    if (options.progress)
      options.progress(flows.size() - static_cast<std::int64_t>(kept), flows.size());
  }
  return run;
}

FluidRun run_connected(std::span<const double> capacity_bytes_per_s, const FlowSet& flows,
                       const FluidOptions& options) {
  return options.refill == FluidOptions::Refill::kFull
             ? run_full(capacity_bytes_per_s, flows, options)
             : detail::run_incremental(capacity_bytes_per_s, flows, options);
}

std::int32_t root(std::vector<std::int32_t>& parent, std::int32_t r) {
  while (parent[static_cast<size_t>(r)] != r) {
    parent[static_cast<size_t>(r)] = parent[static_cast<size_t>(parent[static_cast<size_t>(r)])];
    r = parent[static_cast<size_t>(r)];
  }
  return r;
}

}  // namespace

std::vector<std::vector<std::int32_t>> flow_components(std::size_t resources,
                                                       const FlowSet& flows) {
  // Union-find over the resources, each flow joining those on its path.
  std::vector<std::int32_t> parent(resources);
  std::iota(parent.begin(), parent.end(), 0);
  for (std::int64_t f = 0; f < flows.size(); ++f) {
    const std::span<const std::int32_t> path = flows.path_of(f);
    const std::int32_t first = root(parent, path.front());
    for (std::int32_t r : path.subspan(1)) {
      const std::int32_t other = root(parent, r);
      if (other != first) parent[static_cast<size_t>(other)] = first;
    }
  }
  // Components in the order of their first flow, flows in order within each.
  std::vector<std::int32_t> component_of_root(resources, -1);
  std::vector<std::vector<std::int32_t>> components;
  for (std::int64_t f = 0; f < flows.size(); ++f) {
    const auto r = static_cast<size_t>(root(parent, flows.path_of(f).front()));
    if (component_of_root[r] < 0) {
      component_of_root[r] = static_cast<std::int32_t>(components.size());
      components.emplace_back();
    }
    components[static_cast<size_t>(component_of_root[r])].push_back(static_cast<std::int32_t>(f));
  }
  return components;
}

FluidRun run_fluid(std::span<const double> capacity_bytes_per_s, const FlowSet& flows,
                   const FluidOptions& options) {
  check_fluid_options(options);
  check_flows(capacity_bytes_per_s, flows);
  std::vector<std::vector<std::int32_t>> components =
      flow_components(capacity_bytes_per_s.size(), flows);
  if (components.size() <= 1) return run_connected(capacity_bytes_per_s, flows, options);
  // Flows that share no resource, directly or through other flows, never change each other's
  // max-min rates: each component runs alone, over its own resources renumbered from 0, and
  // an event recomputes only its own flows' rates. Components run on threads at once, the
  // largest first (the same results in any order).
  std::stable_sort(components.begin(), components.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
  FluidRun run;
  run.finish_s.assign(static_cast<size_t>(flows.size()), 0.0);
  const int threads = parallel_workers(std::ssize(components), thread_count(options.threads));
  std::vector<std::vector<std::int32_t>> local(static_cast<size_t>(threads));
  std::atomic<std::int64_t> events{0};
  std::int64_t finished = 0;
  std::mutex progress_mutex;
  parallel_for(std::ssize(components), threads, [&](int w, std::int64_t c) {
    const std::vector<std::int32_t>& members = components[static_cast<size_t>(c)];
    std::vector<std::int32_t>& id_of = local[static_cast<size_t>(w)];
    id_of.resize(capacity_bytes_per_s.size(), -1);
    FlowSet part;
    std::vector<double> capacity;
    std::vector<std::int32_t> used, path;
    for (std::int32_t f : members) {
      path.clear();
      for (std::int32_t r : flows.path_of(f)) {
        std::int32_t& id = id_of[static_cast<size_t>(r)];
        if (id < 0) {
          id = static_cast<std::int32_t>(capacity.size());
          capacity.push_back(capacity_bytes_per_s[static_cast<size_t>(r)]);
          used.push_back(r);
        }
        path.push_back(id);
      }
      part.add(path, flows.bytes[static_cast<size_t>(f)]);
    }
    for (std::int32_t r : used) id_of[static_cast<size_t>(r)] = -1;
    FluidOptions o = options;
    if (options.progress)  // the flows finished in all components, one call at a time
      o.progress = [&, before = std::int64_t{0}](std::int64_t done, std::int64_t) mutable {
        const std::lock_guard<std::mutex> lock(progress_mutex);
        finished += done - before;
        before = done;
        options.progress(finished, flows.size());
      };
    const FluidRun r = run_connected(capacity, part, o);
    for (size_t i = 0; i < members.size(); ++i)
      run.finish_s[static_cast<size_t>(members[i])] = r.finish_s[i];
    events += r.events;
  });
  run.events = events;
  return run;
}

std::string_view to_string(CollectiveKind k) {
  switch (k) {
    case CollectiveKind::kAllGather:
      return "all-gather";
    case CollectiveKind::kReduceScatter:
      return "reduce-scatter";
    case CollectiveKind::kAllReduce:
      return "all-reduce";
    case CollectiveKind::kAllToAll:
      return "all-to-all";
    case CollectiveKind::kMatrix:
      return "traffic matrix";
  }
  return "?";
}

double bus_factor(CollectiveKind k, std::int64_t ranks) {
  if (ranks < 1) throw Error(fmt::format("{} ranks: expected >= 1", ranks));
  if (k == CollectiveKind::kMatrix) return 1.0;
  const double n = static_cast<double>(ranks);
  return (k == CollectiveKind::kAllReduce ? 2.0 : 1.0) * (n - 1) / n;
}

RankGroups rank_groups(std::int32_t gpus, std::int32_t group_size, std::int32_t stride) {
  if (group_size < 2 || stride < 1 || gpus < 1 ||
      std::int64_t{group_size} * stride > std::int64_t{gpus} ||
      gpus % (std::int64_t{group_size} * stride) != 0)
    throw Error(
        fmt::format("groups of {} ranks at stride {} do not tile {} GPUs: expected a "
                    "group size >= 2 and stride >= 1 whose product divides the GPUs",
                    group_size, stride, gpus));
  RankGroups groups;
  const std::int32_t block = group_size * stride;
  for (std::int32_t b = 0; b < gpus; b += block)
    for (std::int32_t o = 0; o < stride; ++o) {
      std::vector<std::int32_t> g(static_cast<size_t>(group_size));
      for (std::int32_t k = 0; k < group_size; ++k) g[static_cast<size_t>(k)] = b + o + k * stride;
      groups.push_back(std::move(g));
    }
  return groups;
}

Collective ring_all_gather(const RankGroups& groups, double size_bytes, std::int32_t channels) {
  return ring(CollectiveKind::kAllGather, groups, size_bytes, 1, channels);
}
Collective ring_reduce_scatter(const RankGroups& groups, double size_bytes, std::int32_t channels) {
  return ring(CollectiveKind::kReduceScatter, groups, size_bytes, 1, channels);
}
Collective ring_all_reduce(const RankGroups& groups, double size_bytes, std::int32_t channels) {
  return ring(CollectiveKind::kAllReduce, groups, size_bytes, 2, channels);
}

Collective all_to_all(const RankGroups& groups, double size_bytes) {
  check_size(size_bytes);
  const std::int64_t n = check_groups(groups);
  const std::int64_t flows = static_cast<std::int64_t>(groups.size()) * n * (n - 1);
  if (flows > kMaxPhaseFlows)
    throw Error(
        fmt::format("an all-to-all of {} group(s) of {} ranks is {} flows: at most {} "
                    "are simulated in one phase",
                    groups.size(), n, flows, kMaxPhaseFlows));
  Collective c{
      CollectiveKind::kAllToAll, n, static_cast<std::int64_t>(groups.size()), size_bytes, {}};
  Phase phase;
  phase.flows.reserve(static_cast<size_t>(flows));
  const double chunk = size_bytes / static_cast<double>(n);
  for (const auto& group : groups)
    for (std::int32_t src : group)
      for (std::int32_t dst : group)
        if (src != dst) phase.flows.push_back({src, dst, chunk});
  c.phases.push_back(std::move(phase));
  return c;
}

namespace {

// The flows on each up and down link of one switch tier: a switch (a leaf, or an FT3
// aggregation switch) picks one of `width` links for each flow; slot = switch x width + pick.
struct SlotCounts {
  std::int32_t switches = 0, width = 0;
  std::vector<std::int32_t> up_slot, down_slot;

  SlotCounts(std::int32_t n, std::int32_t w) : switches(n), width(w) {}
  void add(std::int32_t up_switch, std::int32_t down_switch, std::int32_t pick) {
    up_slot.push_back(up_switch * width + pick);
    down_slot.push_back(down_switch * width + pick);
  }
  // The most flows on one link over an even spread's (ceil(its switch's flows / width)), and
  // per flow whether it rides a link above that count.
  double tally(std::vector<std::uint8_t>& over) const {
    over.assign(up_slot.size(), 0);
    if (up_slot.empty()) return 0;
    const auto w = static_cast<size_t>(width);
    auto fair = [w](std::int64_t n) {
      return static_cast<double>((n + static_cast<std::int64_t>(w) - 1) /
                                 static_cast<std::int64_t>(w));
    };
    const size_t slots = static_cast<size_t>(switches) * w;
    std::vector<std::int64_t> up(slots), down(slots), up_sw(static_cast<size_t>(switches)),
        down_sw(static_cast<size_t>(switches));
    for (size_t i = 0; i < up_slot.size(); ++i) {
      const auto u = static_cast<size_t>(up_slot[i]), d = static_cast<size_t>(down_slot[i]);
      ++up[u], ++down[d], ++up_sw[u / w], ++down_sw[d / w];
    }
    double imbalance = 0;
    for (size_t slot = 0; slot < slots; ++slot) {
      if (up[slot] > 0)
        imbalance = std::max(imbalance, static_cast<double>(up[slot]) / fair(up_sw[slot / w]));
      if (down[slot] > 0)
        imbalance = std::max(imbalance, static_cast<double>(down[slot]) / fair(down_sw[slot / w]));
    }
    for (size_t i = 0; i < up_slot.size(); ++i) {
      const auto u = static_cast<size_t>(up_slot[i]), d = static_cast<size_t>(down_slot[i]);
      over[i] = static_cast<double>(up[u]) > fair(up_sw[u / w]) ||
                static_cast<double>(down[d]) > fair(down_sw[d / w]);
    }
    return imbalance;
  }
};

}  // namespace

PhaseResult simulate_phase(const FabricGraph& g, std::span<const Flow> flows,
                           const RoutingOptions& routing, std::vector<double>* resource_bytes,
                           const FluidOptions& fluid) {
  if (flows.empty()) throw Error("a phase needs at least one flow; got none");
  if (static_cast<std::int64_t>(flows.size()) > kMaxPhaseFlows)
    throw Error(fmt::format("{} flows in one phase: at most {} are simulated", flows.size(),
                            kMaxPhaseFlows));
  const auto resources = static_cast<size_t>(resource_count(g));
  if (resource_bytes && resource_bytes->size() != resources)
    throw Error(fmt::format("resource_bytes has {} entries: expected {} (resource_count)",
                            resource_bytes->size(), resources));
  PhaseResult result;
  result.flows = static_cast<std::int64_t>(flows.size());
  FlowSet set;
  set.offsets.reserve(flows.size() + 1);
  set.path.reserve(flows.size() * 6);
  set.bytes.reserve(flows.size());
  std::vector<double> latency_s(flows.size());
  // Leaf-spine slots (leaf x spines + spine) of the flows that picked one spine; an FT3's
  // aggregation-core slots ((pod x h + aggregation) x cores + core) of those across pods.
  SlotCounts leaf_tier(g.leaves(), g.spines_per_tree());
  SlotCounts core_tier(g.pods() * g.spines_per_tree(), g.cores_per_group());
  std::vector<std::int32_t> core_flow;  // per flow in leaf_tier: its index in core_tier, or -1
  // A dragonfly's global-link choices: slot (source group x groups + destination group) x
  // copies + copy, one "switch" a pair of groups.
  const DirectNetwork* direct = g.direct();
  const bool dragonfly = direct && direct->topology() == DirectTopology::kDragonfly;
  SlotCounts global_tier(dragonfly ? direct->groups() * direct->groups() : 0,
                         dragonfly ? std::max(direct->copies(), 1) : 0);
  // kAdaptive on a Slim Fly or dragonfly splits a flow over its minimal paths: the set holds
  // its parts, part_of maps each to its flow.
  const bool split = direct && routing.policy == RoutingPolicy::kAdaptive;
  std::vector<std::int32_t> part_of;
  std::array<std::int32_t, kMaxAdaptivePaths> paths{};
  for (size_t i = 0; i < flows.size(); ++i) {
    const Flow& f = flows[i];
    if (!std::isfinite(f.bytes) || !(f.bytes > 0))
      throw Error(
          fmt::format("flow {} (GPU {} to GPU {}) has {} bytes: expected a positive, "
                      "finite size",
                      i, f.src_gpu, f.dst_gpu, f.bytes));
    if (split) {
      const std::int32_t k = adaptive_paths(g, f.src_gpu, f.dst_gpu, routing, paths);
      if (static_cast<std::int64_t>(part_of.size()) + k > kMaxPhaseFlows)
        throw Error(fmt::format(
            "adaptive routing on a {} splits the {} flows of a phase over their minimal paths "
            "into more than {} parts, the most simulated: use ecmp or static routing, or fewer "
            "GPUs",
            to_string(g.kind()), flows.size(), kMaxPhaseFlows));
      latency_s[i] = 0;
      for (std::int32_t j = 0; j < k; ++j) {
        const Route r = route_flow(g, f.src_gpu, f.dst_gpu, i, routing, paths[size_t(j)]);
        set.add(r.path(), f.bytes / k);
        latency_s[i] = std::max(latency_s[i], r.latency_s);
        part_of.push_back(static_cast<std::int32_t>(i));
      }
      continue;
    }
    const Route r = route_flow(g, f.src_gpu, f.dst_gpu, i, routing);
    set.add(r.path(), f.bytes);
    latency_s[i] = r.latency_s;
    if (dragonfly && r.direct_paths > 1) {
      const std::int32_t pair =
          direct->group_of(r.source_leaf) * direct->groups() + direct->group_of(r.destination_leaf);
      global_tier.add(pair, pair, r.direct_path);
    }
    if (r.spine >= 0) {
      leaf_tier.add(r.source_leaf, r.destination_leaf, r.spine);
      core_flow.push_back(-1);
    }
    if (r.core >= 0) {
      const std::int32_t h = g.spines_per_tree();
      core_flow.back() = static_cast<std::int32_t>(core_tier.up_slot.size());
      core_tier.add(g.pod_of_leaf(r.source_leaf) * h + r.spine,
                    g.pod_of_leaf(r.destination_leaf) * h + r.spine, r.core);
    }
  }
  if (!leaf_tier.up_slot.empty()) {
    std::vector<std::uint8_t> leaf_hit, core_hit;
    result.spine_imbalance = std::max(leaf_tier.tally(leaf_hit), core_tier.tally(core_hit));
    for (size_t i = 0; i < leaf_hit.size(); ++i)
      if (leaf_hit[i] || (core_flow[i] >= 0 && core_hit[static_cast<size_t>(core_flow[i])]))
        ++result.collided_flows;
    result.spine_flows = static_cast<std::int64_t>(leaf_tier.up_slot.size());
  }
  if (!global_tier.up_slot.empty()) {  // a dragonfly: the global links' share instead
    std::vector<std::uint8_t> hit;
    result.spine_imbalance = global_tier.tally(hit);
    for (std::uint8_t h : hit) result.collided_flows += h;
    result.spine_flows = static_cast<std::int64_t>(global_tier.up_slot.size());
  }
  const std::vector<double> capacity = resource_capacities(g);
  // Split flows: the progress counts parts; say it in flows (parts x flows / parts), so that
  // the line's total is the report's flow count.
  FluidOptions in_flows = fluid;
  if (split && fluid.progress)
    in_flows.progress = [&fluid, n = static_cast<std::int64_t>(flows.size()), parts = set.size()](
                            std::int64_t done, std::int64_t) {
      fluid.progress(done * n / std::max<std::int64_t>(parts, 1), n);
    };
  const FluidRun run = run_fluid(capacity, set, in_flows);
  result.events = run.events;
  for (size_t part = 0; part < run.finish_s.size(); ++part) {
    const size_t i = split ? static_cast<size_t>(part_of[part]) : part;
    result.fluid_time_s = std::max(result.fluid_time_s, run.finish_s[part]);
    result.time_s = std::max(result.time_s, run.finish_s[part] + latency_s[i]);
  }
  if (resource_bytes)
    for (std::int64_t f = 0; f < set.size(); ++f)
      for (std::int32_t r : set.path_of(f))
        (*resource_bytes)[static_cast<size_t>(r)] += set.bytes[static_cast<size_t>(f)];
  return result;
}

CollectiveResult simulate_collective(const FabricGraph& g, const Collective& c,
                                     const RoutingOptions& routing, const FluidOptions& fluid) {
  check_size(c.size_bytes);
  if (c.phases.empty()) throw Error("a collective needs at least one phase; got none");
  CollectiveResult result;
  result.kind = c.kind;
  result.routing = routing;
  result.ranks = c.ranks;
  result.groups = c.groups;
  result.size_bytes = c.size_bytes;
  const auto resources = static_cast<size_t>(resource_count(g));
  std::vector<double> total(resources, 0.0), phase_bytes(resources);
  std::int64_t spine_flows = 0, collided = 0;
  for (const Phase& p : c.phases) {
    if (p.repeat < 1)
      throw Error(fmt::format("a phase repeated {} times: expected >= 1", p.repeat));
    std::fill(phase_bytes.begin(), phase_bytes.end(), 0.0);
    PhaseResult pr = simulate_phase(g, p.flows, routing, &phase_bytes, fluid);
    pr.repeat = p.repeat;
    const auto k = static_cast<double>(p.repeat);
    for (size_t r = 0; r < resources; ++r) total[r] += phase_bytes[r] * k;
    result.time_s += pr.time_s * k;
    result.flows += pr.flows * p.repeat;
    spine_flows += pr.spine_flows * p.repeat;
    collided += pr.collided_flows * p.repeat;
    result.spine_imbalance = std::max(result.spine_imbalance, pr.spine_imbalance);
    result.phases.push_back(pr);
  }
  result.algbw_bytes_per_s = c.size_bytes / result.time_s;
  result.busbw_bytes_per_s = result.algbw_bytes_per_s * bus_factor(c.kind, c.ranks);
  result.ecmp_collision_fraction =
      spine_flows > 0 ? static_cast<double>(collided) / static_cast<double>(spine_flows) : 0.0;
  result.spine_flows = spine_flows;

  // Per link: the links' own bytes, and each bundle's spread over its links by capacity.
  const auto links = static_cast<size_t>(g.links());
  result.link_bytes.assign(total.begin(), total.begin() + static_cast<std::ptrdiff_t>(links));
  const std::vector<double> capacity = resource_capacities(g);
  for (std::int32_t leaf = 0; leaf < g.leaves() && !g.direct(); ++leaf) {
    const auto up = static_cast<size_t>(uplink_bundle(g, leaf));
    const auto down = static_cast<size_t>(downlink_bundle(g, leaf));
    for (std::int32_t s = 0; s < g.spines_per_tree(); ++s) {
      const auto ls = static_cast<size_t>(g.leaf_to_spine(leaf, s));
      const auto sl = static_cast<size_t>(g.spine_to_leaf(leaf, s));
      if (total[up] > 0) result.link_bytes[ls] += total[up] * capacity[ls] / capacity[up];
      if (total[down] > 0) result.link_bytes[sl] += total[down] * capacity[sl] / capacity[down];
    }
  }
  for (std::int32_t pod = 0; pod < g.pods() && g.cores_per_group() > 0; ++pod) {
    const auto up = static_cast<size_t>(pod_uplink_bundle(g, pod));
    const auto down = static_cast<size_t>(pod_downlink_bundle(g, pod));
    for (std::int32_t j = 0; j < g.spines_per_tree(); ++j)
      for (std::int32_t k = 0; k < g.cores_per_group(); ++k) {
        const auto ac = static_cast<size_t>(g.aggregation_to_core(pod, j, k));
        const auto ca = static_cast<size_t>(g.core_to_aggregation(pod, j, k));
        if (total[up] > 0) result.link_bytes[ac] += total[up] * capacity[ac] / capacity[up];
        if (total[down] > 0) result.link_bytes[ca] += total[down] * capacity[ca] / capacity[down];
      }
  }
  result.link_utilization.resize(links);
  for (size_t l = 0; l < links; ++l)
    result.link_utilization[l] = result.link_bytes[l] / (capacity[l] * result.time_s);
  std::vector<std::int32_t> order;
  for (size_t l = 0; l < links; ++l)
    if (result.link_bytes[l] > 0) order.push_back(static_cast<std::int32_t>(l));
  const size_t top = std::min(kHottestLinks, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                    [&](std::int32_t a, std::int32_t b) {
                      const double ua = result.link_utilization[static_cast<size_t>(a)];
                      const double ub = result.link_utilization[static_cast<size_t>(b)];
                      return ua != ub ? ua > ub : a < b;
                    });
  for (size_t i = 0; i < top; ++i) {
    const auto l = static_cast<size_t>(order[i]);
    result.hottest_links.push_back({order[i], result.link_bytes[l], result.link_utilization[l]});
  }
  return result;
}

}  // namespace cobench::topo
