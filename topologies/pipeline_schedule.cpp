// SPDX-License-Identifier: Apache-2.0
#include "topologies/pipeline_schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <utility>

#include "core/error.h"

namespace cobench::topo {
namespace {

// Settings beyond this many (stage, micro-batch) pairs are refused: the timed operations are kept.
constexpr std::int64_t kMaxStageMicroBatches = std::int64_t{1} << 22;

// Appends an operation, built in place: copying one built field by field elsewhere costs a
// store-forwarding stall per operation, most of the simulation's time.
PipelineOp& add(std::vector<PipelineOp>& ops, PipelineOpKind kind, int direction, int micro_batch,
                int chunk = 0) {
  PipelineOp& o = ops.emplace_back();
  o.kind = kind;
  o.direction = direction;
  o.micro_batch = micro_batch;
  o.chunk = chunk;
  return o;
}

// Megatron-LM's interleaved 1F1B on `stage` (forward_backward_pipelining_with_interleaving): the
// k-th forward of the stage runs chunk (k mod PP v) / PP of micro-batch (k / PP v) PP + k mod PP,
// the k-th backward the same micro-batch in the chunks' reverse order; warm-up forwards as the
// header says, then forward k + warm-up and backward k alternate, then the cool-down backwards.
void interleaved_order(int stages, int micro_batches, int chunks, int stage,
                       std::vector<PipelineOp>& ops) {
  const int total = micro_batches * chunks, group = stages * chunks;
  const int warmup = micro_batches == stages
                         ? total
                         : std::min(total, 2 * (stages - 1 - stage) + (chunks - 1) * stages);
  auto mb = [&](int k) { return k / group * stages + k % stages; };
  auto forward = [&](int k) { add(ops, PipelineOpKind::kForward, 0, mb(k), (k % group) / stages); };
  auto backward = [&](int k) {
    add(ops, PipelineOpKind::kBackward, 0, mb(k), chunks - 1 - (k % group) / stages);
  };
  ops.reserve(2 * static_cast<std::size_t>(total));
  for (int k = 0; k < warmup; ++k) forward(k);
  for (int k = 0; k < total - warmup; ++k) {
    forward(k + warmup);
    backward(k);
  }
  for (int k = total - warmup; k < total; ++k) backward(k);
}

// 1F1B and ZB-H1 on `stage`: step x runs F of micro-batch x, then the backward of micro-batch
// x - (PP-1-stage), then (ZB-H1) W of micro-batch x - (PP-1), each where it exists. 1F1B:
// PP-1-stage warm-up forwards, F-B pairs, cool-down backwards (Megatron's order). ZB-H1: the same F
// and B; W of the first `stage` micro-batches waits for the cool-down, whose bubbles it fills.
void one_f_one_b_order(int stages, int micro_batches, int stage, bool zb,
                       std::vector<PipelineOp>& ops) {
  ops.reserve((zb ? 3 : 2) * static_cast<std::size_t>(micro_batches));
  for (int x = 0; x < micro_batches + stages - 1; ++x) {
    if (x < micro_batches) add(ops, PipelineOpKind::kForward, 0, x);
    const int b = x - (stages - 1 - stage);
    if (b >= 0 && b < micro_batches)
      add(ops, zb ? PipelineOpKind::kBackwardInput : PipelineOpKind::kBackward, 0, b);
    const int w = x - (stages - 1);
    if (zb && w >= 0 && w < micro_batches) add(ops, PipelineOpKind::kBackwardWeight, 0, w);
  }
}

// DualPipe's order on one rank, step by step as DualPipe.step() of the reference implementation.
// Phase 0 is the direction in which the rank sits in the first half of the pipeline (position h,
// its half_rank), phase 1 the other; each phase's micro-batches go in order and deferred W in FIFO.
class DualPipeOrder {
 public:
  DualPipeOrder(int stages, int micro_batches, int rank, std::vector<PipelineOp>& ops) : ops_(ops) {
    const int half_ranks = stages / 2, half_chunks = micro_batches / 2;
    const int h = std::min(rank, stages - 1 - rank);
    dir_[0] = rank < half_ranks ? 0 : 1;
    dir_[1] = 1 - dir_[0];
    const int rest = half_ranks - h - 1;
    ops_.reserve(3 * static_cast<std::size_t>(micro_batches));  // at most an F, a B and a W each
    for (int i = 0; i < 2 * rest; ++i) f(0);                    // 1: nF0
    for (int i = 0; i <= h; ++i) {                              // 2: nF0F1
      f(0);
      f(1);
    }
    for (int i = 0; i < rest; ++i) {  // 3: nB1W1F1, zero bubble
      b(1, true);
      w();
      f(1);
    }
    for (int i = 0; i < half_chunks - stages + h + 1; ++i) {  // 4: nF0B1F1B0, the main step
      if (i == 0 && h == half_ranks - 1) {
        f(0);  // middle ranks: not overlapped, to shorten the bubble
        b(1, false);
      } else {
        fb(0, 1);
      }
      fb(1, 0);
    }
    for (int i = 0; i < rest; ++i) {  // 5: nB1F1B0
      b(1, false);
      fb(1, 0);
    }
    for (int i = 0; i <= h; ++i) {  // 6: nB1B0; the last h + 1 split, W deferred
      b(1, 2 * i > h);
      b(0, 2 * i >= h);
    }
    for (int i = 0; i < rest; ++i) {  // 7: nWB0
      w();
      b(0, true);
    }
    for (int i = 0; i <= h; ++i) w();  // 8: nW
  }

 private:
  std::vector<PipelineOp>& ops_;  // where the order goes
  int dir_[2] = {0, 1};
  int next_f_[2] = {0, 0}, next_b_[2] = {0, 0};
  std::deque<std::pair<int, int>> deferred_w_;  // (direction, micro-batch)

  void f(int phase) { add(ops_, PipelineOpKind::kForward, dir_[phase], next_f_[phase]++); }
  void b(int phase, bool split) {
    const int d = dir_[phase], mb = next_b_[phase]++;
    if (split) deferred_w_.emplace_back(d, mb);
    add(ops_, split ? PipelineOpKind::kBackwardInput : PipelineOpKind::kBackward, d, mb);
  }
  void w() {
    add(ops_, PipelineOpKind::kBackwardWeight, deferred_w_.front().first,
        deferred_w_.front().second);
    deferred_w_.pop_front();
  }
  void fb(int forward_phase, int backward_phase) {
    PipelineOp& o =
        add(ops_, PipelineOpKind::kForwardBackward, dir_[forward_phase], next_f_[forward_phase]++);
    o.backward_direction = dir_[backward_phase];
    o.backward_micro_batch = next_b_[backward_phase]++;
  }
};

// Direction 0 runs stage 0 to PP-1 (chunk c of stage s at position c PP + s), direction 1 the
// other way.
int position_of(const PipelineSetting& s, int direction, int stage, int chunk) {
  return direction == 0 ? chunk * s.stages + stage : s.stages - 1 - stage;
}

void check_time(double v, const char* what) {
  if (!(std::isfinite(v) && v >= 0))
    throw Error(
        fmt::format("pipeline {} must be a finite number of seconds >= 0, got {}", what, v));
}

void check_setting(const PipelineSetting& s) {
  if (s.stages < 1)
    throw Error(fmt::format("pipeline stages (PP degree) must be >= 1, got {}", s.stages));
  if (s.micro_batches < 1)
    throw Error(fmt::format("pipeline micro-batches must be >= 1, got {}", s.micro_batches));
  if (static_cast<std::int64_t>(s.stages) * s.micro_batches > kMaxStageMicroBatches)
    throw Error(fmt::format("pipeline of {} stages x {} micro-batches exceeds the {} simulated",
                            s.stages, s.micro_batches, kMaxStageMicroBatches));
  check_time(s.f_s, "forward time f_s");
  check_time(s.b_s, "backward-for-inputs time b_s");
  check_time(s.w_s, "backward-for-weights time w_s");
  check_time(s.p2p_s, "p2p time p2p_s");
  if (s.overlapped_fb_s) check_time(*s.overlapped_fb_s, "overlapped F&B time overlapped_fb_s");
  if (!s.stage_times.empty() && s.stage_times.size() != static_cast<std::size_t>(s.stages))
    throw Error(fmt::format("pipeline stage_times has {} stages' times for {} stages",
                            s.stage_times.size(), s.stages));
  for (const PipelineSetting::StageTimes& t : s.stage_times) {
    check_time(t.f_s, "forward time stage_times.f_s");
    check_time(t.b_s, "backward-for-inputs time stage_times.b_s");
    check_time(t.w_s, "backward-for-weights time stage_times.w_s");
    check_time(t.fb_s, "overlapped F&B time stage_times.fb_s");
  }
  if (s.virtual_stages < 1)
    throw Error(fmt::format("pipeline virtual stages (model chunks a stage) must be >= 1, got {}",
                            s.virtual_stages));
  if (s.virtual_stages > 1 && s.schedule != PipelineSchedule::kInterleaved1F1B)
    throw Error(fmt::format("{} virtual stages a stage need the interleaved 1F1B schedule, not {}",
                            s.virtual_stages, to_string(s.schedule)));
  if (static_cast<std::int64_t>(s.stages) * s.micro_batches * s.virtual_stages >
      kMaxStageMicroBatches)
    throw Error(
        fmt::format("pipeline of {} stages x {} micro-batches x {} chunks exceeds the {} simulated",
                    s.stages, s.micro_batches, s.virtual_stages, kMaxStageMicroBatches));
  if (s.schedule == PipelineSchedule::kInterleaved1F1B && s.micro_batches % s.stages != 0)
    throw Error(fmt::format(
        "interleaved 1F1B needs micro-batches a multiple of the {} stages (Megatron-LM's "
        "schedule), got {}",
        s.stages, s.micro_batches));
  if (!s.position_activation_bytes.empty() &&
      s.position_activation_bytes.size() !=
          static_cast<std::size_t>(s.stages) * static_cast<std::size_t>(s.virtual_stages))
    throw Error(
        fmt::format("pipeline position_activation_bytes has {} positions for {} stages x "
                    "{} chunks",
                    s.position_activation_bytes.size(), s.stages, s.virtual_stages));
  for (double b : s.position_activation_bytes)
    if (!(std::isfinite(b) && b >= 0))
      throw Error(
          fmt::format("pipeline position_activation_bytes must be finite and >= 0, got {}", b));
  if (s.schedule != PipelineSchedule::kDualPipe) return;
  if (s.stages % 2 != 0)
    throw Error(
        fmt::format("DualPipe needs an even number of pipeline stages (each holds a chunk of each "
                    "direction), got {}",
                    s.stages));
  if (s.micro_batches % 2 != 0 || s.micro_batches < 2 * s.stages)
    throw Error(fmt::format(
        "DualPipe needs an even number of micro-batches, at least 2 x {} stages = {} (half fed "
        "from each end), got {}",
        s.stages, 2 * s.stages, s.micro_batches));
}

// Runs each stage's operations in order, each as soon as its stage is free and its inputs have
// arrived: F needs F of the same micro-batch on the previous stage of its direction, B needs its
// own F and B of the next stage (both + p2p), W its own B.
class Simulation {
 public:
  // `order`: each stage's operations, timed in place; `forward_done` and `backward_done`: any
  // vectors to use (their capacity is kept).
  Simulation(const PipelineSetting& s, std::vector<std::vector<PipelineOp>>& order,
             std::vector<double>& forward_done, std::vector<double>& backward_done)
      : s_(s), ops_(order), forward_done_(forward_done), backward_done_(backward_done) {
    per_direction_ =
        s.schedule == PipelineSchedule::kDualPipe ? s.micro_batches / 2 : s.micro_batches;
    positions_ = s.stages * s.virtual_stages;
    const std::size_t n = 2 * static_cast<std::size_t>(per_direction_) * positions_;
    forward_done_.assign(n, kNotYet);
    backward_done_.assign(n, kNotYet);
    // Each stage's times: its own where given, else the setting's.
    times_.assign(
        static_cast<std::size_t>(s.stages),
        {s.f_s, s.b_s, s.w_s, s.overlapped_fb_s ? *s.overlapped_fb_s : s.f_s + s.b_s + s.w_s});
    if (!s.stage_times.empty()) times_ = s.stage_times;
    busy_s_.assign(s.stages, 0);
    kind_s_.assign(s.stages, {});
    weights_done_s_.assign(static_cast<std::size_t>(positions_), 0);
    weights_start_s_.assign(static_cast<std::size_t>(positions_), 0);
  }

  void run() {
    std::vector<std::size_t> next(ops_.size(), 0);
    std::vector<double> free_s(ops_.size(), 0);
    std::size_t left = 0;
    for (const auto& stage_ops : ops_) left += stage_ops.size();
    // Passes go up and down the stages in turn, so that a forward's inputs (from the stage
    // before) and a backward's (from the stage after) both arrive within a pass. The order of
    // the visits changes nothing but their number: an operation runs only once its inputs are
    // final.
    for (bool up = true; left > 0; up = !up) {
      bool progress = false;
      for (int k = 0; k < s_.stages; ++k) {
        const int stage = up ? k : s_.stages - 1 - k;
        auto& stage_ops = ops_[stage];
        for (std::size_t& i = next[stage]; i < stage_ops.size(); ++i) {
          PipelineOp& o = stage_ops[i];
          const double ready = ready_s(o, stage);
          if (ready < 0) break;
          const double d = duration_s(o.kind, times_[static_cast<std::size_t>(stage)]);
          o.start_s = std::max(ready, free_s[stage]);
          o.end_s = free_s[stage] = o.start_s + d;
          busy_s_[stage] += d;
          kind_s_[stage][static_cast<std::size_t>(o.kind)] += d;
          finish(o, stage);
          --left;
          progress = true;
        }
      }
      if (!progress) throw Error("pipeline schedule deadlocked: an operation order is wrong");
    }
    // Each stage's operations run in order, so its last one ends last.
    for (int stage = 0; stage < s_.stages; ++stage) time_s_ = std::max(time_s_, free_s[stage]);
    end_s_ = std::move(free_s);
  }

  /// Each stage's busy time: the durations of its operations; and by kind.
  std::vector<double>& busy_s() { return busy_s_; }
  std::vector<std::array<double, kPipelineOpKinds>>& kind_s() { return kind_s_; }
  /// The end of the last operation.
  double time_s() const { return time_s_; }
  /// Each stage's last operation's end; each position's weight gradients' (PipelineResult).
  std::vector<double>& end_s() { return end_s_; }
  std::vector<double>& weights_done_s() { return weights_done_s_; }
  std::vector<double>& weights_start_s() { return weights_start_s_; }

 private:
  static constexpr double kNotYet = -1;
  const PipelineSetting& s_;
  std::vector<std::vector<PipelineOp>>& ops_;
  int per_direction_ = 0, positions_ = 0;  // positions: stages x chunks a stage (virtual stages)
  std::vector<PipelineSetting::StageTimes> times_;     // by stage
  std::vector<double>&forward_done_, &backward_done_;  // end times by (direction, mb, position)
  std::vector<double> busy_s_;
  std::vector<std::array<double, kPipelineOpKinds>> kind_s_;
  std::vector<double> end_s_, weights_done_s_, weights_start_s_;
  double time_s_ = 0;

  std::size_t at(int direction, int micro_batch, int position) const {
    return (static_cast<std::size_t>(direction) * per_direction_ + micro_batch) * positions_ +
           position;
  }
  int position(int direction, int stage, int chunk) const {
    return position_of(s_, direction, stage, chunk);
  }

  static double duration_s(PipelineOpKind k, const PipelineSetting::StageTimes& t) {
    switch (k) {
      case PipelineOpKind::kForward:
        return t.f_s;
      case PipelineOpKind::kBackwardInput:
        return t.b_s;
      case PipelineOpKind::kBackwardWeight:
        return t.w_s;
      case PipelineOpKind::kBackward:
        return t.b_s + t.w_s;
      case PipelineOpKind::kForwardBackward:
        return t.fb_s;
    }
    return 0;
  }

  // When the inputs of a forward or backward are here, or kNotYet.
  double forward_ready_s(int d, int mb, int pos) const {
    if (pos == 0) return 0;
    const double t = forward_done_[at(d, mb, pos - 1)];
    return t < 0 ? kNotYet : t + s_.p2p_s;
  }
  double backward_ready_s(int d, int mb, int pos) const {
    const double own = forward_done_[at(d, mb, pos)];
    if (own < 0 || pos == positions_ - 1) return own;
    const double t = backward_done_[at(d, mb, pos + 1)];
    return t < 0 ? kNotYet : std::max(own, t + s_.p2p_s);
  }
  double ready_s(const PipelineOp& o, int stage) const {
    const int pos = position(o.direction, stage, o.chunk);
    switch (o.kind) {
      case PipelineOpKind::kForward:
        return forward_ready_s(o.direction, o.micro_batch, pos);
      case PipelineOpKind::kBackwardInput:
      case PipelineOpKind::kBackward:
        return backward_ready_s(o.direction, o.micro_batch, pos);
      case PipelineOpKind::kBackwardWeight:
        return backward_done_[at(o.direction, o.micro_batch, pos)];
      case PipelineOpKind::kForwardBackward: {
        const double f = forward_ready_s(o.direction, o.micro_batch, pos);
        const double b = backward_ready_s(o.backward_direction, o.backward_micro_batch,
                                          position(o.backward_direction, stage, 0));
        return f < 0 || b < 0 ? kNotYet : std::max(f, b);
      }
    }
    return kNotYet;
  }

  void finish(const PipelineOp& o, int stage) {
    const int pos = position(o.direction, stage, o.chunk);
    if (o.kind == PipelineOpKind::kForward || o.kind == PipelineOpKind::kForwardBackward)
      forward_done_[at(o.direction, o.micro_batch, pos)] = o.end_s;
    if (o.kind == PipelineOpKind::kBackwardInput || o.kind == PipelineOpKind::kBackward)
      backward_done_[at(o.direction, o.micro_batch, pos)] = o.end_s;
    if (o.kind == PipelineOpKind::kForwardBackward)
      backward_done_[at(o.backward_direction, o.backward_micro_batch,
                        position(o.backward_direction, stage, 0))] = o.end_s;
    // A position's weight gradients are final at its last W or whole backward, on any stage.
    int weights = -1;
    if (o.kind == PipelineOpKind::kForwardBackward)
      weights = position(o.backward_direction, stage, 0);
    else if (o.kind == PipelineOpKind::kBackward || o.kind == PipelineOpKind::kBackwardWeight)
      weights = pos;
    if (weights >= 0) {
      const std::size_t at = static_cast<std::size_t>(weights);
      if (o.end_s >= weights_done_s_[at]) {
        weights_done_s_[at] = o.end_s;
        weights_start_s_[at] = o.start_s;
      }
    }
  }
};

// Peak in-flight activations of a stage: +1 as a forward starts, -1 as a W or fused backward
// ends, walking the stage's order.
int peak_activations(const std::vector<PipelineOp>& ops) {
  int held = 0, peak = 0;
  for (const PipelineOp& o : ops) {
    if (o.kind == PipelineOpKind::kForward || o.kind == PipelineOpKind::kForwardBackward)
      peak = std::max(peak, ++held);
    if (o.kind != PipelineOpKind::kForward && o.kind != PipelineOpKind::kBackwardInput) --held;
  }
  return peak;
}

// The same walk in bytes: a micro-batch holds its position's bytes from its forward's start to
// its W's (or fused backward's) end.
double peak_activation_bytes(const PipelineSetting& s, int stage,
                             const std::vector<PipelineOp>& ops) {
  auto bytes = [&](int direction, int chunk) {
    return s.position_activation_bytes[static_cast<std::size_t>(
        position_of(s, direction, stage, chunk))];
  };
  double held = 0, peak = 0;
  for (const PipelineOp& o : ops) {
    if (o.kind == PipelineOpKind::kForward || o.kind == PipelineOpKind::kForwardBackward)
      peak = std::max(peak, held += bytes(o.direction, o.chunk));
    if (o.kind == PipelineOpKind::kBackward || o.kind == PipelineOpKind::kBackwardWeight)
      held -= bytes(o.direction, o.chunk);
    if (o.kind == PipelineOpKind::kForwardBackward) held -= bytes(o.backward_direction, 0);
  }
  return peak;
}

}  // namespace

const char* to_string(PipelineSchedule s) {
  switch (s) {
    case PipelineSchedule::k1F1B:
      return "1F1B";
    case PipelineSchedule::kZB1P:
      return "ZB1P";
    case PipelineSchedule::kDualPipe:
      return "DualPipe";
    case PipelineSchedule::kInterleaved1F1B:
      return "interleaved 1F1B";
  }
  return "?";
}

PipelineSchedule parse_pipeline_schedule(const std::string& name) {
  if (name == "1f1b") return PipelineSchedule::k1F1B;
  if (name == "zb1p") return PipelineSchedule::kZB1P;
  if (name == "dualpipe") return PipelineSchedule::kDualPipe;
  if (name == "interleaved") return PipelineSchedule::kInterleaved1F1B;
  throw Error(fmt::format(
      "unknown pipeline schedule '{}': expected 1f1b, zb1p, dualpipe or interleaved", name));
}

namespace {

// Each stage's operations in the schedule's order.
void build_order(const PipelineSetting& s, std::vector<std::vector<PipelineOp>>& order) {
  order.resize(static_cast<std::size_t>(s.stages));
  for (int stage = 0; stage < s.stages; ++stage) {
    std::vector<PipelineOp>& ops = order[static_cast<std::size_t>(stage)];
    ops.clear();
    if (s.schedule == PipelineSchedule::kDualPipe)
      DualPipeOrder(s.stages, s.micro_batches, stage, ops);
    else if (s.schedule == PipelineSchedule::kInterleaved1F1B && s.virtual_stages > 1)
      interleaved_order(s.stages, s.micro_batches, s.virtual_stages, stage, ops);
    else
      one_f_one_b_order(s.stages, s.micro_batches, stage, s.schedule == PipelineSchedule::kZB1P,
                        ops);
  }
}

// The in-flight peaks of each stage's order.
void count_peaks(const PipelineSetting& s, const std::vector<std::vector<PipelineOp>>& order,
                 std::vector<int>& chunks, std::vector<double>& bytes) {
  for (const auto& ops : order) chunks.push_back(peak_activations(ops));
  if (!s.position_activation_bytes.empty())
    for (int stage = 0; stage < s.stages; ++stage)
      bytes.push_back(peak_activation_bytes(s, stage, order[static_cast<std::size_t>(stage)]));
}

// This thread's buffer of each stage's operations, built for `s` unless it holds the order of the
// same schedule, stages, micro-batches and chunks already: a sweep, and pipeline_memory followed by
// simulate_pipeline of one setting, build each order once.
std::vector<std::vector<PipelineOp>>& scratch_order(const PipelineSetting& s) {
  thread_local std::vector<std::vector<PipelineOp>> order;
  thread_local std::array<int, 4> built{-1, -1, -1, -1};
  const std::array<int, 4> key{static_cast<int>(s.schedule), s.stages, s.micro_batches,
                               s.virtual_stages};
  if (key != built) {
    built = {-1, -1, -1, -1};  // a build that throws part-way leaves no order behind
    build_order(s, order);
    built = key;
  }
  return order;
}

}  // namespace

PipelineMemory pipeline_memory(const PipelineSetting& s) {
  check_setting(s);
  const std::vector<std::vector<PipelineOp>>& order = scratch_order(s);
  PipelineMemory m;
  count_peaks(s, order, m.stage_peak_activations, m.stage_peak_activation_bytes);
  return m;
}

PipelineResult simulate_pipeline(const PipelineSetting& s) {
  check_setting(s);
  // Without the operations in the result, this thread's buffers of the last call are reused:
  // a sweep of many settings then allocates (and faults in) almost nothing.
  thread_local std::vector<double> forward_done, backward_done;
  std::vector<std::vector<PipelineOp>> kept_order;
  if (s.keep_operations) build_order(s, kept_order);
  std::vector<std::vector<PipelineOp>>& order = s.keep_operations ? kept_order : scratch_order(s);
  Simulation sim(s, order, forward_done, backward_done);
  sim.run();

  PipelineResult r;
  r.parameter_copies = s.schedule == PipelineSchedule::kDualPipe ? 2 : 1;
  r.stage_busy_s = std::move(sim.busy_s());
  r.stage_kind_s = std::move(sim.kind_s());
  r.time_s = sim.time_s();
  r.stage_end_s = std::move(sim.end_s());
  r.position_weights_done_s = std::move(sim.weights_done_s());
  r.position_weights_start_s = std::move(sim.weights_start_s());
  count_peaks(s, order, r.stage_peak_activations, r.stage_peak_activation_bytes);
  if (s.keep_operations) r.stage_ops = std::move(kept_order);
  for (double busy : r.stage_busy_s) r.bubble_s = std::max(r.bubble_s, r.time_s - busy);
  r.peak_activations =
      *std::max_element(r.stage_peak_activations.begin(), r.stage_peak_activations.end());
  return r;
}

}  // namespace cobench::topo
