// SPDX-License-Identifier: Apache-2.0
// The pipeline schedule simulation: hand-worked timelines, the bubbles of the DeepSeek-V3
// report's Table 2 (its B is the whole backward, B + W here) where they are exact, activation and
// parameter memory, p2p time and bad settings.
//
// A speed check (an idea, not asserted): time simulate_pipeline for DualPipe at 64 stages and
// 4096 micro-batches (about 650,000 operations) in a google-benchmark loop; each pass over the
// stages runs every operation whose inputs have arrived; it took about 0.03 s (-O2, one core).
#include "topologies/pipeline_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace {

using namespace cobench::topo;
using cobench::test::error_of;

PipelineSetting setting(PipelineSchedule schedule, int stages, int micro_batches, double f,
                        double b, double w) {
  PipelineSetting s;
  s.schedule = schedule;
  s.stages = stages;
  s.micro_batches = micro_batches;
  s.f_s = f;
  s.b_s = b;
  s.w_s = w;
  return s;
}

struct Times {
  double f, b, w;
};

// Kind, micro-batch, start and end of each operation of a stage.
struct Expected {
  PipelineOpKind kind;
  int micro_batch;
  double start_s, end_s;
};

void expect_timeline(const std::vector<PipelineOp>& ops, const std::vector<Expected>& want) {
  ASSERT_EQ(ops.size(), want.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(ops[i].kind, want[i].kind);
    EXPECT_EQ(ops[i].direction, 0);
    EXPECT_EQ(ops[i].micro_batch, want[i].micro_batch);
    EXPECT_DOUBLE_EQ(ops[i].start_s, want[i].start_s);
    EXPECT_DOUBLE_EQ(ops[i].end_s, want[i].end_s);
  }
}

constexpr auto kF = PipelineOpKind::kForward;
constexpr auto kB = PipelineOpKind::kBackwardInput;
constexpr auto kW = PipelineOpKind::kBackwardWeight;
constexpr auto kBW = PipelineOpKind::kBackward;

TEST(PipelineSchedule, OneStageHasNoBubble) {
  for (PipelineSchedule sched : {PipelineSchedule::k1F1B, PipelineSchedule::kZB1P}) {
    SCOPED_TRACE(to_string(sched));
    const PipelineResult r = simulate_pipeline(setting(sched, 1, 5, 1.0, 2.0, 0.5));
    EXPECT_DOUBLE_EQ(r.time_s, 5 * 3.5);  // m (F + B + W)
    EXPECT_DOUBLE_EQ(r.bubble_s, 0);
    EXPECT_EQ(r.peak_activations, 1);  // each micro-batch's backward ends before the next F
    EXPECT_EQ(r.parameter_copies, 1);
  }
}

TEST(PipelineSchedule, OneFOneBTwoStagesByHand) {
  // PP 2, 2 micro-batches, F = B = W = 1 (the fused backward BW takes 2):
  //   t       0   1   2   3   4   5   6   7   8   9
  //   stage 0 F0  F1  .   .   BW0 BW0 .   BW1 BW1
  //   stage 1 .   F0  BW0 BW0 F1  BW1 BW1 .   .
  // Stage 1 runs F1 only after BW0 (1F1B's order); each stage idles 3 = (PP-1)(F+B+W).
  const PipelineResult r = simulate_pipeline(setting(PipelineSchedule::k1F1B, 2, 2, 1, 1, 1));
  expect_timeline(r.stage_ops[0], {{kF, 0, 0, 1}, {kF, 1, 1, 2}, {kBW, 0, 4, 6}, {kBW, 1, 7, 9}});
  expect_timeline(r.stage_ops[1], {{kF, 0, 1, 2}, {kBW, 0, 2, 4}, {kF, 1, 4, 5}, {kBW, 1, 5, 7}});
  EXPECT_DOUBLE_EQ(r.time_s, 9);  // (m + PP - 1)(F + B + W)
  EXPECT_DOUBLE_EQ(r.bubble_s, 3);
  EXPECT_EQ(r.stage_busy_s, (std::vector<double>{6, 6}));
  EXPECT_EQ(r.stage_peak_activations, (std::vector<int>{2, 1}));
  // Each stage's last operation ends at 9 and 7; each position's weight gradients are final at
  // its last BW, the same.
  EXPECT_EQ(r.stage_end_s, (std::vector<double>{9, 7}));
  EXPECT_EQ(r.position_weights_done_s, (std::vector<double>{9, 7}));
  EXPECT_EQ(r.position_weights_start_s, (std::vector<double>{7, 5}));  // the last BWs' starts
}

TEST(PipelineSchedule, ZeroBubbleTwoStagesByHand) {
  // The same with B and W split (ZB-H1): stage 1 defers W0 and W1 to the end, stage 0 runs W
  // right after each B:
  //   t       0   1   2   3   4   5   6   7
  //   stage 0 F0  F1  .   B0  W0  B1  W1
  //   stage 1 .   F0  B0  F1  B1  W0  W1
  // Stage 0 idles 1 = (PP-1)(F+B-W), waiting for B0.
  const PipelineResult r = simulate_pipeline(setting(PipelineSchedule::kZB1P, 2, 2, 1, 1, 1));
  expect_timeline(
      r.stage_ops[0],
      {{kF, 0, 0, 1}, {kF, 1, 1, 2}, {kB, 0, 3, 4}, {kW, 0, 4, 5}, {kB, 1, 5, 6}, {kW, 1, 6, 7}});
  expect_timeline(
      r.stage_ops[1],
      {{kF, 0, 1, 2}, {kB, 0, 2, 3}, {kF, 1, 3, 4}, {kB, 1, 4, 5}, {kW, 0, 5, 6}, {kW, 1, 6, 7}});
  EXPECT_DOUBLE_EQ(r.time_s, 7);
  EXPECT_DOUBLE_EQ(r.bubble_s, 1);
  EXPECT_EQ(r.position_weights_done_s, (std::vector<double>{7, 7}));  // at each stage's W1
  EXPECT_EQ(r.stage_peak_activations, (std::vector<int>{2, 2}));
}

// 1F1B: time (m + PP - 1)(F + B + W), every stage idle (PP-1)(F + B + W), for any m.
TEST(PipelineSchedule, OneFOneBMatchesTable2) {
  for (const Times& t : {Times{1, 1, 1}, Times{2, 1, 0.5}, Times{0.5, 3, 1.5}}) {
    for (int pp : {2, 4, 8, 16}) {
      for (int m : {1, pp - 1, pp, pp + 1, 2 * pp, 2 * pp + 3, 4 * pp}) {
        SCOPED_TRACE(::testing::Message() << "PP " << pp << " m " << m << " F " << t.f);
        const PipelineResult r =
            simulate_pipeline(setting(PipelineSchedule::k1F1B, pp, m, t.f, t.b, t.w));
        const double full = t.f + t.b + t.w;
        EXPECT_NEAR(r.time_s, (m + pp - 1) * full, 1e-9);
        EXPECT_NEAR(r.bubble_s, (pp - 1) * full, 1e-9);
        for (double busy : r.stage_busy_s) EXPECT_NEAR(busy, m * full, 1e-9);
      }
    }
  }
}

// ZB-H1: bubble (PP-1)(F + B - W) exactly when m >= PP and W <= min(F, B); time adds m(F+B+W).
TEST(PipelineSchedule, ZeroBubbleMatchesTable2) {
  for (const Times& t : {Times{1, 1, 1}, Times{2, 1, 1}, Times{1, 2, 0.5}, Times{3, 2, 1}}) {
    for (int pp : {2, 4, 8, 16}) {
      for (int m : {pp, pp + 1, 2 * pp, 2 * pp + 3, 4 * pp}) {
        SCOPED_TRACE(::testing::Message() << "PP " << pp << " m " << m << " F " << t.f);
        const PipelineResult r =
            simulate_pipeline(setting(PipelineSchedule::kZB1P, pp, m, t.f, t.b, t.w));
        const double bubble = (pp - 1) * (t.f + t.b - t.w);
        EXPECT_NEAR(r.bubble_s, bubble, 1e-9);
        EXPECT_NEAR(r.time_s, m * (t.f + t.b + t.w) + bubble, 1e-9);
      }
    }
  }
}

// With W > min(F, B) the formula is too small: stage 0 idles (PP-1) B waiting for its first B
// (no W is ready yet) and the last stage (PP-1) F waiting for its first F.
TEST(PipelineSchedule, ZeroBubbleFormulaNeedsSmallW) {
  for (const Times& t : {Times{1, 1, 2}, Times{1, 2, 1.5}, Times{2, 1, 1.5}}) {
    for (int pp : {4, 8}) {
      SCOPED_TRACE(::testing::Message() << "PP " << pp << " F " << t.f << " B " << t.b);
      const PipelineResult r =
          simulate_pipeline(setting(PipelineSchedule::kZB1P, pp, 3 * pp, t.f, t.b, t.w));
      EXPECT_GT(r.bubble_s, (pp - 1) * (t.f + t.b - t.w) + 0.1);
      EXPECT_NEAR(r.bubble_s, (pp - 1) * std::max(t.f, t.b), 1e-9);
    }
  }
}

// DualPipe: bubble (PP/2-1)(F&B + B - 2W) exactly when F = B, W <= F and F+W <= F&B <= F+B+W.
// The middle ranks have it; they run m - PP - 1 overlapped pairs, so the step takes
// m(F+B+W) - (m-PP-1)(F+B+W - F&B) + the bubble.
TEST(PipelineSchedule, DualPipeMatchesTable2) {
  struct Case {
    double f, b, w, fb;
  };
  for (const Case& c : {Case{1, 1, 1, 3}, Case{1, 1, 1, 2}, Case{1, 1, 1, 2.5}, Case{2, 2, 1, 4.5},
                        Case{1, 1, 0.5, 1.5}, Case{1, 1, 0, 1}}) {
    for (int pp : {2, 4, 8, 16}) {
      for (int m : {2 * pp, 2 * pp + 2, 4 * pp, 8 * pp}) {
        SCOPED_TRACE(::testing::Message() << "PP " << pp << " m " << m << " F&B " << c.fb);
        PipelineSetting s = setting(PipelineSchedule::kDualPipe, pp, m, c.f, c.b, c.w);
        s.overlapped_fb_s = c.fb;
        const PipelineResult r = simulate_pipeline(s);
        const double full = c.f + c.b + c.w;
        const double bubble = (pp / 2 - 1) * (c.fb + c.b - 2 * c.w);
        EXPECT_NEAR(r.bubble_s, bubble, 1e-9);
        EXPECT_NEAR(r.time_s, m * full - (m - pp - 1) * (full - c.fb) + bubble, 1e-9);
      }
    }
  }
}

TEST(PipelineSchedule, DualPipeOverlapDefaultsToNone) {
  PipelineSetting s = setting(PipelineSchedule::kDualPipe, 4, 8, 1, 2, 0.5);
  const PipelineResult unset = simulate_pipeline(s);
  s.overlapped_fb_s = 3.5;
  EXPECT_DOUBLE_EQ(unset.time_s, simulate_pipeline(s).time_s);
  s.overlapped_fb_s = 2.5;  // a real overlap shortens the step
  EXPECT_LT(simulate_pipeline(s).time_s, unset.time_s - 1);
}

// Rank 0 of the report's Figure 5 (PP 8, 20 micro-batches, 10 from each end): 6 forwards of its
// own direction, then F6 and the first reverse forward, 3 x (B, W, F) of the reverse direction,
// then the overlapped pairs, (F0_7 & B1_3), (F1_4 & B0_0), (F0_8 & B1_4), (F1_5 & B0_1), ...
TEST(PipelineSchedule, DualPipeOrderFollowsFigure5) {
  PipelineSetting s = setting(PipelineSchedule::kDualPipe, 8, 20, 1, 1, 1);
  s.overlapped_fb_s = 2;
  const PipelineResult r = simulate_pipeline(s);
  const std::vector<PipelineOp>& ops = r.stage_ops[0];
  ASSERT_GE(ops.size(), 21u);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(ops[i].kind, kF);
    EXPECT_EQ(ops[i].direction, 0);
    EXPECT_EQ(ops[i].micro_batch, i);
  }
  EXPECT_EQ(ops[7].kind, kF);
  EXPECT_EQ(ops[7].direction, 1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ops[8 + 3 * i].kind, kB);
    EXPECT_EQ(ops[9 + 3 * i].kind, kW);
    EXPECT_EQ(ops[10 + 3 * i].kind, kF);
    EXPECT_EQ(ops[10 + 3 * i].micro_batch, i + 1);
  }
  const int want[4][4] = {{0, 7, 1, 3}, {1, 4, 0, 0}, {0, 8, 1, 4}, {1, 5, 0, 1}};
  for (int i = 0; i < 4; ++i) {
    const PipelineOp& o = ops[17 + i];
    EXPECT_EQ(o.kind, PipelineOpKind::kForwardBackward);
    EXPECT_EQ(o.direction, want[i][0]);
    EXPECT_EQ(o.micro_batch, want[i][1]);
    EXPECT_EQ(o.backward_direction, want[i][2]);
    EXPECT_EQ(o.backward_micro_batch, want[i][3]);
  }
  // Every stage runs each micro-batch's F, B and W once: 20 (F + B + W) less the overlap.
  for (const auto& stage_ops : r.stage_ops) {
    int forwards = 0;
    for (const PipelineOp& o : stage_ops)
      forwards += o.kind == kF || o.kind == PipelineOpKind::kForwardBackward;
    EXPECT_EQ(forwards, 20);
  }
}

// Table 2's memory columns: activations PP, PP, PP + 1 micro-batches; parameters 1x, 1x, 2x.
TEST(PipelineSchedule, ActivationAndParameterMemory) {
  for (int pp : {2, 4, 8, 16}) {
    SCOPED_TRACE(pp);
    const PipelineResult one =
        simulate_pipeline(setting(PipelineSchedule::k1F1B, pp, 3 * pp, 1, 1, 1));
    const PipelineResult zb =
        simulate_pipeline(setting(PipelineSchedule::kZB1P, pp, 3 * pp, 1, 1, 1));
    const PipelineResult dp =
        simulate_pipeline(setting(PipelineSchedule::kDualPipe, pp, 3 * pp, 1, 1, 1));
    EXPECT_EQ(one.stage_peak_activations[0], pp);
    EXPECT_EQ(one.stage_peak_activations[pp - 1], 1);  // 1F1B: PP - stage
    EXPECT_EQ(zb.stage_peak_activations[0], pp);
    EXPECT_EQ(zb.peak_activations, pp);  // later stages hold B's activations until the W
    EXPECT_EQ(dp.stage_peak_activations[0], pp + 1);
    EXPECT_EQ(dp.peak_activations, pp + 1);
    EXPECT_EQ(one.parameter_copies, 1);
    EXPECT_EQ(zb.parameter_copies, 1);
    EXPECT_EQ(dp.parameter_copies, 2);
  }
  // Fewer micro-batches than stages: stage 0 holds them all.
  EXPECT_EQ(simulate_pipeline(setting(PipelineSchedule::k1F1B, 8, 3, 1, 1, 1)).peak_activations, 3);
}

// The peak in bytes: each micro-batch in flight weighs its position's bytes.
TEST(PipelineSchedule, ActivationBytesWeighEachPosition) {
  // OneFOneBTwoStagesByHand's timeline: stage 0 holds F0 and F1 (position 0) before BW0, stage 1
  // one micro-batch (position 1) at a time.
  PipelineSetting one = setting(PipelineSchedule::k1F1B, 2, 2, 1, 1, 1);
  one.position_activation_bytes = {3, 5};
  EXPECT_EQ(simulate_pipeline(one).stage_peak_activation_bytes, (std::vector<double>{6, 5}));
  // InterleavedTwoStagesByHand's: every forward before any backward; stage 0 holds chunks 0 and
  // 1 (positions 0 and 2) of both micro-batches, stage 1 positions 1 and 3.
  PipelineSetting inter = setting(PipelineSchedule::kInterleaved1F1B, 2, 2, 1, 1, 0);
  inter.virtual_stages = 2;
  inter.position_activation_bytes = {1, 10, 100, 1000};
  EXPECT_EQ(simulate_pipeline(inter).stage_peak_activation_bytes, (std::vector<double>{202, 2020}));
  for (int pp : {4, 8}) {
    SCOPED_TRACE(pp);
    PipelineSetting dual = setting(PipelineSchedule::kDualPipe, pp, 2 * pp, 1, 1, 1);
    dual.overlapped_fb_s = 2;
    // The same bytes everywhere: the peak in chunks times them.
    dual.position_activation_bytes.assign(static_cast<std::size_t>(pp), 1.5);
    const PipelineResult even = simulate_pipeline(dual);
    for (int st = 0; st < pp; ++st)
      EXPECT_EQ(even.stage_peak_activation_bytes[st], 1.5 * even.stage_peak_activations[st]);
    // Bytes on the first position alone: stage 0 holds it in direction 0, whose first stage it
    // is (PP micro-batches in flight, as 1F1B's first stage), stage PP - 1 in direction 1 (the
    // mirrored order), the same. On the last position alone: stage 0 is direction 1's last
    // stage, one at a time. Together PP + 1, its peak in chunks.
    dual.position_activation_bytes.assign(static_cast<std::size_t>(pp), 0);
    dual.position_activation_bytes.front() = 1;
    const PipelineResult first = simulate_pipeline(dual);
    dual.position_activation_bytes.front() = 0;
    dual.position_activation_bytes.back() = 1;
    const PipelineResult last = simulate_pipeline(dual);
    EXPECT_EQ(first.stage_peak_activation_bytes.front(), pp);
    EXPECT_EQ(first.stage_peak_activation_bytes.back(), pp);
    EXPECT_EQ(last.stage_peak_activation_bytes.front(), 1);
    EXPECT_EQ(even.stage_peak_activations.front(), pp + 1);
  }
  // Without bytes, none; with the wrong number, an error naming it.
  EXPECT_TRUE(simulate_pipeline(setting(PipelineSchedule::k1F1B, 2, 2, 1, 1, 1))
                  .stage_peak_activation_bytes.empty());
  one.position_activation_bytes = {1, 2, 3};
  EXPECT_EQ(error_of([&] { simulate_pipeline(one); }),
            "pipeline position_activation_bytes has 3 positions for 2 stages x 1 chunks");
  one.position_activation_bytes = {1, -2};
  EXPECT_EQ(error_of([&] { simulate_pipeline(one); }),
            "pipeline position_activation_bytes must be finite and >= 0, got -2");
}

TEST(PipelineSchedule, P2pTimeByHand) {
  // The 1F1B case above with 0.5 s a transfer: F0 reaches stage 1 at 1.5, BW0 at stage 0 at 5,
  //   stage 0 F0 [0,1] F1 [1,2]                 BW0 [5,7]            BW1 [8,10]
  //   stage 1          F0 [1.5,2.5] BW0 [2.5,4.5] F1 [4.5,5.5] BW1 [5.5,7.5]
  // 1 s (two transfers) longer.
  PipelineSetting s = setting(PipelineSchedule::k1F1B, 2, 2, 1, 1, 1);
  s.p2p_s = 0.5;
  const PipelineResult r = simulate_pipeline(s);
  expect_timeline(r.stage_ops[0], {{kF, 0, 0, 1}, {kF, 1, 1, 2}, {kBW, 0, 5, 7}, {kBW, 1, 8, 10}});
  expect_timeline(r.stage_ops[1],
                  {{kF, 0, 1.5, 2.5}, {kBW, 0, 2.5, 4.5}, {kF, 1, 4.5, 5.5}, {kBW, 1, 5.5, 7.5}});
  EXPECT_DOUBLE_EQ(r.time_s, 10);
  // One micro-batch goes down and back: PP (F + B + W) + 2 (PP-1) p2p; ZB-H1's last W is stage
  // 0's, after its B.
  for (int pp : {1, 2, 4, 16}) {
    PipelineSetting one = setting(PipelineSchedule::k1F1B, pp, 1, 1, 2, 0.5);
    one.p2p_s = 0.25;
    EXPECT_DOUBLE_EQ(simulate_pipeline(one).time_s, pp * 3.5 + 2 * (pp - 1) * 0.25);
    one.schedule = PipelineSchedule::kZB1P;
    EXPECT_DOUBLE_EQ(simulate_pipeline(one).time_s, pp * 3 + 0.5 + 2 * (pp - 1) * 0.25);
  }
  // DualPipe, PP 2, 4 micro-batches (2 from each end), F = B = W = 1, F&B = 3, p2p 0.5; rank 0
  // (rank 1 mirrors it): own-direction d0, reverse d1, BW fused, FB overlapped:
  //   F d0.0 [0,1]  F d1.0 [1.5,2.5] (rank 1's F d1.0 ends at 1, + 0.5)  F d0.1 [2.5,3.5]
  //   BW d1.0 [3.5,5.5]  FB (F d1.1, BW d0.0) [6,9] (rank 1's BW d0.0 ends at 5.5, + 0.5)
  //   BW d1.1 [9,11]  B d0.1 [11.5,12.5] (rank 1's BW d0.1 ends at 11)  W d0.1 [12.5,13.5]
  // 3 transfers on the critical path: 1.5 s more than the 12 s = 4 (F + B + W) without them.
  PipelineSetting dual = setting(PipelineSchedule::kDualPipe, 2, 4, 1, 1, 1);
  EXPECT_DOUBLE_EQ(simulate_pipeline(dual).time_s, 12);
  dual.p2p_s = 0.5;
  const PipelineResult d = simulate_pipeline(dual);
  EXPECT_DOUBLE_EQ(d.time_s, 13.5);
  ASSERT_EQ(d.stage_ops[0].size(), 8u);
  EXPECT_EQ(d.stage_ops[0][4].kind, PipelineOpKind::kForwardBackward);
  EXPECT_DOUBLE_EQ(d.stage_ops[0][4].start_s, 6);
  EXPECT_DOUBLE_EQ(d.stage_ops[0][6].start_s, 11.5);
}

// Interleaved 1F1B, PP 2, v = 2 chunks a stage, 2 micro-batches (= PP: every forward warms up
// first, Megatron-LM's rule), a chunk's F = 1 and fused backward B + W = 1. Positions: stage 0
// chunk 0, stage 1 chunk 0, stage 0 chunk 1, stage 1 chunk 1.
//   t       0    1    2    3    4    5    6    7    8    9
//   stage 0 F00  F01  F10  F11  .    .    B10  B11  B00  B01
//   stage 1 .    F00  F01  F10  F11  B10  B11  B00  B01  .
// (Fcm: chunk c of micro-batch m.) Time 10, each stage busy 8: bubble 2 = (PP-1)(F+B+W) of a
// chunk; plain 1F1B with the stage's F = B = 2 would idle (PP-1)(2+2) = 4 of (m+PP-1) 4 = 12.
TEST(PipelineSchedule, InterleavedTwoStagesByHand) {
  PipelineSetting s = setting(PipelineSchedule::kInterleaved1F1B, 2, 2, 1, 1, 0);
  s.virtual_stages = 2;
  const PipelineResult r = simulate_pipeline(s);
  expect_timeline(r.stage_ops[0], {{kF, 0, 0, 1},
                                   {kF, 1, 1, 2},
                                   {kF, 0, 2, 3},
                                   {kF, 1, 3, 4},
                                   {kBW, 0, 6, 7},
                                   {kBW, 1, 7, 8},
                                   {kBW, 0, 8, 9},
                                   {kBW, 1, 9, 10}});
  expect_timeline(r.stage_ops[1], {{kF, 0, 1, 2},
                                   {kF, 1, 2, 3},
                                   {kF, 0, 3, 4},
                                   {kF, 1, 4, 5},
                                   {kBW, 0, 5, 6},
                                   {kBW, 1, 6, 7},
                                   {kBW, 0, 7, 8},
                                   {kBW, 1, 8, 9}});
  const std::vector<int> chunks{0, 0, 1, 1, 1, 1, 0, 0};
  for (std::size_t i = 0; i < chunks.size(); ++i) EXPECT_EQ(r.stage_ops[0][i].chunk, chunks[i]);
  EXPECT_DOUBLE_EQ(r.time_s, 10);
  EXPECT_DOUBLE_EQ(r.bubble_s, 2);
  EXPECT_EQ(r.stage_peak_activations, (std::vector<int>{4, 4}));  // chunks, all forwards first
  // Chunk 1's backwards run first: its weights (positions 2 and 3) are final at 8 and 7, before
  // the stages' ends at 10 and 9, chunk 0's (positions 0 and 1) at them.
  EXPECT_EQ(r.stage_end_s, (std::vector<double>{10, 9}));
  EXPECT_EQ(r.position_weights_done_s, (std::vector<double>{10, 9, 8, 7}));
  EXPECT_EQ(r.parameter_copies, 1);
}

// Interleaved 1F1B against its closed form (Narayanan et al. 2021, section 2.2.2): with m a
// multiple of PP, every stage idles (PP-1)(F+B+W) of a chunk, i.e. (PP-1)/v of a stage's, and the
// step takes m v (F+B+W) + that. v = 1 is plain 1F1B.
TEST(PipelineSchedule, InterleavedMatchesClosedForm) {
  for (const Times& t : {Times{1, 1, 1}, Times{1, 2, 0}, Times{2, 1, 0.5}}) {
    for (int pp : {2, 4, 8, 16}) {
      for (int v : {1, 2, 3, 4}) {
        for (int m : {pp, 2 * pp, 3 * pp}) {
          SCOPED_TRACE(::testing::Message()
                       << "PP " << pp << " v " << v << " m " << m << " F " << t.f << " B " << t.b);
          PipelineSetting s = setting(PipelineSchedule::kInterleaved1F1B, pp, m, t.f, t.b, t.w);
          s.virtual_stages = v;
          const PipelineResult r = simulate_pipeline(s);
          const double chunk = t.f + t.b + t.w;
          EXPECT_NEAR(r.bubble_s, (pp - 1) * chunk, 1e-9);
          EXPECT_NEAR(r.time_s, m * v * chunk + (pp - 1) * chunk, 1e-9);
          for (double busy : r.stage_busy_s) EXPECT_NEAR(busy, m * v * chunk, 1e-9);
          if (v == 1) {  // 1F1B's order, so 1F1B's memory: PP - stage micro-batches in flight
            PipelineSetting plain = s;
            plain.schedule = PipelineSchedule::k1F1B;
            EXPECT_EQ(r.stage_peak_activations, simulate_pipeline(plain).stage_peak_activations);
            EXPECT_EQ(r.peak_activations, std::min(pp, m));
          }
        }
      }
    }
  }
}

// Without its operations (the training sweep's setting) a simulation gives every other field
// as with them, on buffers reused from the call before (larger and smaller settings in turn);
// the busy time by kind is the sum of the kept operations' durations of each kind.
TEST(PipelineSchedule, WithoutOperationsTheSameResult) {
  struct Case {
    PipelineSchedule schedule;
    int stages, micro_batches, v;
  };
  const std::vector<Case> cases{
      {PipelineSchedule::kDualPipe, 8, 40, 1},       {PipelineSchedule::k1F1B, 2, 3, 1},
      {PipelineSchedule::kZB1P, 16, 48, 1},          {PipelineSchedule::kDualPipe, 2, 4, 1},
      {PipelineSchedule::kInterleaved1F1B, 4, 8, 3}, {PipelineSchedule::k1F1B, 6, 13, 1}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.schedule)) + " PP " + std::to_string(c.stages));
    PipelineSetting kept = setting(c.schedule, c.stages, c.micro_batches, 1.0, 1.3, 0.4);
    kept.virtual_stages = c.v;
    kept.p2p_s = 0.05;
    if (c.schedule == PipelineSchedule::kDualPipe) kept.overlapped_fb_s = 2.2;
    PipelineSetting dropped = kept;
    dropped.keep_operations = false;
    const PipelineResult a = simulate_pipeline(kept), b = simulate_pipeline(dropped);
    EXPECT_TRUE(b.stage_ops.empty());
    ASSERT_EQ(a.stage_ops.size(), static_cast<std::size_t>(c.stages));
    EXPECT_EQ(a.time_s, b.time_s);
    EXPECT_EQ(a.bubble_s, b.bubble_s);
    EXPECT_EQ(a.stage_busy_s, b.stage_busy_s);
    EXPECT_EQ(a.stage_peak_activations, b.stage_peak_activations);
    EXPECT_EQ(a.peak_activations, b.peak_activations);
    EXPECT_EQ(a.parameter_copies, b.parameter_copies);
    ASSERT_EQ(b.stage_kind_s.size(), static_cast<std::size_t>(c.stages));
    double max_end = 0;  // the step ends with the last operation of any stage
    for (const auto& ops : a.stage_ops)
      for (const PipelineOp& o : ops) max_end = std::max(max_end, o.end_s);
    EXPECT_EQ(b.time_s, max_end);
    for (int st = 0; st < c.stages; ++st) {
      std::array<double, kPipelineOpKinds> by_kind{};
      double last_end = 0;
      for (const PipelineOp& o : a.stage_ops[st]) {
        by_kind[static_cast<std::size_t>(o.kind)] += o.end_s - o.start_s;
        last_end = std::max(last_end, o.end_s);
      }
      double sum = 0;
      for (std::size_t k = 0; k < kPipelineOpKinds; ++k) {
        EXPECT_NEAR(b.stage_kind_s[st][k], by_kind[k], 1e-9);
        sum += b.stage_kind_s[st][k];
      }
      EXPECT_NEAR(sum, b.stage_busy_s[st], 1e-9);
      EXPECT_LE(last_end, b.time_s);
    }
  }
}

TEST(PipelineSchedule, BadSettingsRefused) {
  auto error = [](PipelineSetting s) { return error_of([&] { simulate_pipeline(s); }); };
  const PipelineSetting good = setting(PipelineSchedule::k1F1B, 4, 8, 1, 1, 1);
  PipelineSetting s = good;
  s.stages = 0;
  EXPECT_EQ(error(s), "pipeline stages (PP degree) must be >= 1, got 0");
  s = good;
  s.micro_batches = -2;
  EXPECT_EQ(error(s), "pipeline micro-batches must be >= 1, got -2");
  s = good;
  s.f_s = -1;
  EXPECT_EQ(error(s), "pipeline forward time f_s must be a finite number of seconds >= 0, got -1");
  s = good;
  s.b_s = std::nan("");
  EXPECT_NE(error(s).find("backward-for-inputs time b_s must be a finite"), std::string::npos);
  s = good;
  s.w_s = std::numeric_limits<double>::infinity();
  EXPECT_NE(error(s).find("backward-for-weights time w_s must be a finite"), std::string::npos);
  s = good;
  s.p2p_s = -0.5;
  EXPECT_NE(error(s).find("p2p time p2p_s must be"), std::string::npos);
  s = good;
  s.overlapped_fb_s = -1;
  EXPECT_NE(error(s).find("overlapped F&B time overlapped_fb_s must be"), std::string::npos);
  s = good;
  s.stages = 1 << 12;
  s.micro_batches = 1 << 12;
  EXPECT_NE(error(s).find("exceeds"), std::string::npos);

  s = good;
  s.schedule = PipelineSchedule::kDualPipe;
  s.stages = 3;
  s.micro_batches = 6;
  EXPECT_EQ(error(s),
            "DualPipe needs an even number of pipeline stages (each holds a chunk of each "
            "direction), got 3");
  s.stages = 4;
  s.micro_batches = 9;
  EXPECT_EQ(error(s),
            "DualPipe needs an even number of micro-batches, at least 2 x 4 stages = 8 (half fed "
            "from each end), got 9");
  s.micro_batches = 6;
  EXPECT_NE(error(s).find("got 6"), std::string::npos);
  s.micro_batches = 8;
  EXPECT_EQ(error(s), "(nothing thrown)");

  s = good;
  s.virtual_stages = 2;
  EXPECT_EQ(error(s), "2 virtual stages a stage need the interleaved 1F1B schedule, not 1F1B");
  s.schedule = PipelineSchedule::kInterleaved1F1B;
  s.micro_batches = 6;
  EXPECT_EQ(error(s),
            "interleaved 1F1B needs micro-batches a multiple of the 4 stages (Megatron-LM's "
            "schedule), got 6");
  s.virtual_stages = 0;
  EXPECT_EQ(error(s), "pipeline virtual stages (model chunks a stage) must be >= 1, got 0");
  EXPECT_EQ(error_of([] { parse_pipeline_schedule("gpipe"); }),
            "unknown pipeline schedule 'gpipe': expected 1f1b, zb1p, dualpipe or interleaved");
}

// Stages of their own times: 1F1B over 2 stages, 4 micro-batches, stage 0 F 1 s and B 2 s,
// stage 1 twice that. Worked by hand: stage 1 runs F and B of each micro-batch back to back
// from t = 1 (its first input) to 1 + 4 x 6 = 25, then stage 0's last B, 25 to 27. Stage 0 is
// busy 4 x 3 = 12 s of the 27: its idle 15 s is the bubble; stage 1 idles 3 s.
TEST(PipelineSchedule, StagesOfTheirOwnTimesByHand) {
  PipelineSetting s;
  s.schedule = PipelineSchedule::k1F1B;
  s.stages = 2;
  s.micro_batches = 4;
  s.stage_times = {{1, 2, 0, 3}, {2, 4, 0, 6}};
  const PipelineResult r = simulate_pipeline(s);
  EXPECT_DOUBLE_EQ(r.time_s, 27);
  EXPECT_DOUBLE_EQ(r.stage_busy_s[0], 12);
  EXPECT_DOUBLE_EQ(r.stage_busy_s[1], 24);
  EXPECT_DOUBLE_EQ(r.bubble_s, 15);
  // Every stage given the same times is the uniform setting, DualPipe's F&B included.
  PipelineSetting u;
  u.schedule = PipelineSchedule::kDualPipe;
  u.stages = 4;
  u.micro_batches = 10;
  u.f_s = 1, u.b_s = 1.5, u.w_s = 0.5, u.p2p_s = 0.1, u.overlapped_fb_s = 2.5;
  PipelineSetting each = u;
  each.stage_times.assign(4, {1, 1.5, 0.5, 2.5});
  EXPECT_DOUBLE_EQ(simulate_pipeline(each).time_s, simulate_pipeline(u).time_s);
  // The count must match the stages.
  each.stage_times.pop_back();
  EXPECT_EQ(error_of([&] { simulate_pipeline(each); }),
            "pipeline stage_times has 3 stages' times for 4 stages");
}

}  // namespace
