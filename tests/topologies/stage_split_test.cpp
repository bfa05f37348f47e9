// SPDX-License-Identifier: Apache-2.0
// The whole-layer stage split (stage_split.h), worked by hand.
#include "topologies/stage_split.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "tests/test_util.h"

namespace cobench::topo {
namespace {

// 8 equal layers over 4 stages: 2 a stage, nothing else to place.
TEST(StageSplit, EqualLayersSplitEvenly) {
  SplitCosts c;
  c.moe_layers = 8, c.moe_s = 1;
  const RankLoad r = heaviest_rank(c, 4, /*mirrored=*/false);
  EXPECT_EQ(r.moe_layers, 2);
  EXPECT_EQ(r.dense_layers, 0);
  EXPECT_NEAR(r.cost_s, 2, 1e-9);
}

// 7 layers of 1 s and heads of 1.5 s over 4 stages. Bound 2 fails: the last stage holds the heads
// alone (a layer more is 2.5), and 3 stages of 2 hold 6 of the 7 layers. Bound 2.5 fits: the
// heads and one layer, then 2, 2 and 2; the heaviest is the heads' stage.
TEST(StageSplit, TheHeadsStageHoldsFewerLayers) {
  SplitCosts c;
  c.moe_layers = 7, c.moe_s = 1, c.heads_s = 1.5;
  const RankLoad r = heaviest_rank(c, 4, false);
  EXPECT_TRUE(r.heads);
  EXPECT_EQ(r.moe_layers, 1);
  EXPECT_NEAR(r.cost_s, 2.5, 1e-9);
}

// DualPipe's pairs (0, 3) and (1, 2) of 4 stages: 3 dense layers of 1 s, 13 MoE of 2 s and heads
// of 3 s, 32 s in all, 16 a pair: the heads' pair with k dense layers holds (13 - k) / 2 MoE, the
// other (16 - (3 - k)) / 2; k = 1 (6 and 7 MoE) and k = 3 (5 and 8) both place all 13.
TEST(StageSplit, MirroredPairsShareTheHeadsRankWithTheFirstLayers) {
  SplitCosts c;
  c.dense_layers = 3, c.dense_s = 1, c.moe_layers = 13, c.moe_s = 2, c.heads_s = 3;
  const std::vector<RankLoad> pairs = split_ranks(c, 4, /*mirrored=*/true);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_TRUE(pairs[0].heads);
  EXPECT_FALSE(pairs[1].heads);
  EXPECT_EQ(pairs[0].positions, 2);
  EXPECT_EQ(pairs[1].position, 1);
  for (const RankLoad& p : pairs) EXPECT_NEAR(p.cost_s, 16, 1e-9);
  EXPECT_EQ(pairs[0].dense_layers + pairs[1].dense_layers, 3);
  EXPECT_EQ(pairs[0].moe_layers + pairs[1].moe_layers, 13);
}

// Where taking layers greedily from the outside in is not the lightest split (a helper's
// counterexamples, PP 4): 2 dense layers of 3 s and 2 MoE of 2 s pair as D + M, 5 s each (the
// greedy gave 6); 2 dense of 1 s and 2 MoE of 2 s as D + M, 3 s each (the greedy gave 4).
TEST(StageSplit, MirroredPairsFindTheLightestSplit) {
  SplitCosts c;
  c.dense_layers = 2, c.dense_s = 3, c.moe_layers = 2, c.moe_s = 2;
  EXPECT_NEAR(heaviest_rank(c, 4, true).cost_s, 5, 1e-9);
  c.dense_s = 1;
  EXPECT_NEAR(heaviest_rank(c, 4, true).cost_s, 3, 1e-9);
}

// 6 MoE layers of 1 s and heads of 2.5 s over two pairs: the heads' pair with k layers costs
// 2.5 + k, the other 6 - k; k = 1 gives 3.5 and 5, k = 2 gives 4.5 and 4 (the least maximum).
TEST(StageSplit, TheHeaviestPairIsTheLeastMaximum) {
  SplitCosts c;
  c.moe_layers = 6, c.moe_s = 1, c.heads_s = 2.5;
  const RankLoad r = heaviest_rank(c, 4, true);
  EXPECT_TRUE(r.heads);
  EXPECT_EQ(r.moe_layers, 2);
  EXPECT_NEAR(r.cost_s, 4.5, 1e-9);
}

// A dense model's pairs: 10 layers of 1 s and heads of 2 s over two pairs, 6 s each: the heads
// and 4 layers, and 6 layers.
TEST(StageSplit, ADenseModelsPairsTakeAnyLayers) {
  SplitCosts c;
  c.dense_layers = 10, c.dense_s = 1, c.heads_s = 2;
  const std::vector<RankLoad> pairs = split_ranks(c, 4, true);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].dense_layers, 4);
  EXPECT_EQ(pairs[1].dense_layers, 6);
  EXPECT_EQ(pairs[0].moe_layers + pairs[1].moe_layers, 0);
  EXPECT_NEAR(pairs[0].cost_s, 6, 1e-9);
  EXPECT_NEAR(pairs[1].cost_s, 6, 1e-9);
}

// A second review's counterexamples: free dense layers beside MoE ones in a pair (a crash once);
// a line whose even-share fill gave up and left the first stage empty (3 dense layers of 5 s and
// 4 MoE of 4 s over 6 stages: 8 s at most, every stage holding a layer).
TEST(StageSplit, FreeLayersAndNoEmptyStage) {
  SplitCosts pair;
  pair.dense_layers = 1, pair.moe_layers = 1, pair.moe_s = 1;
  const std::vector<RankLoad> one = split_ranks(pair, 2, true);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].dense_layers, 1);
  EXPECT_EQ(one[0].moe_layers, 1);
  EXPECT_NEAR(one[0].cost_s, 1, 1e-9);
  SplitCosts line;
  line.dense_layers = 3, line.dense_s = 5, line.moe_layers = 4, line.moe_s = 4;
  const std::vector<RankLoad> stages = split_ranks(line, 6, false);
  ASSERT_EQ(stages.size(), 6u);
  for (const RankLoad& r : stages) {
    EXPECT_GE(r.dense_layers + r.moe_layers, 1) << "position " << r.position;
    EXPECT_LE(r.cost_s, 8 + 1e-9) << "position " << r.position;
  }
}

// DualPipe's first pair holds the first layers (the front of the model) where no lighter split
// leaves its front position empty: 2 dense layers of 1 s and 6 MoE of 1 s over 2 pairs, heads 0:
// 4 s each, the first pair with a dense layer at least (4 MoE on it and both dense layers on the
// other tie, with the first position holding nothing).
TEST(StageSplit, TheFirstPairHoldsTheFirstLayers) {
  SplitCosts c;
  c.dense_layers = 2, c.dense_s = 1, c.moe_layers = 6, c.moe_s = 1;
  const std::vector<RankLoad> pairs = split_ranks(c, 4, true);
  EXPECT_GE(pairs[0].dense_layers, 1);
  EXPECT_NEAR(pairs[0].cost_s, 4, 1e-9);
  EXPECT_NEAR(pairs[1].cost_s, 4, 1e-9);
}

// The split is the same in any unit of time: 6 equal layers over 4 stages ties at every even
// share (1.5 layers), and a tie, up to rounding, takes the layer; at 0.1 s or 0.3 s a layer the
// sums differ from the exact shares in their last bits.
TEST(StageSplit, TiesDoNotTurnOnRounding) {
  auto counts = [](double each) {
    SplitCosts c;
    c.moe_layers = 6, c.moe_s = each;
    std::vector<double> n;
    for (const RankLoad& r : split_ranks(c, 4, false)) n.push_back(r.moe_layers);
    return n;
  };
  EXPECT_EQ(counts(1), (std::vector<double>{2, 1, 2, 1}));
  EXPECT_EQ(counts(0.1), counts(1));
  EXPECT_EQ(counts(0.3), counts(1));
  EXPECT_EQ(counts(1.0 / 3), counts(1));
}

// One stage holds everything.
TEST(StageSplit, OneStageHoldsEverything) {
  SplitCosts c;
  c.dense_layers = 3, c.dense_s = 1, c.moe_layers = 5, c.moe_s = 2, c.heads_s = 4;
  const RankLoad r = heaviest_rank(c, 1, false);
  EXPECT_EQ(r.dense_layers, 3);
  EXPECT_EQ(r.moe_layers, 5);
  EXPECT_TRUE(r.heads);
  EXPECT_NEAR(r.cost_s, 17, 1e-9);
}

// 8 MoE layers of 1 s over 4 stages whose ranks hold 4, 3, 2 and 1 micro-batches in flight
// (1F1B's): a layer's state is 1 B and it keeps 1 B a micro-batch, so it weighs 5, 4, 3 and 2 B
// on stages 0 to 3. In 7 B the stages hold 1, 1, 2 and 3 layers, 7 of the 8: nothing fits, and
// the split is the one without memory (2 a stage). In 8 B they hold 1, 2, 2 and 4: the least
// bound places 1, 2, 2 and 3 (at 2 s a stage they would hold 7), the last stage the heaviest.
TEST(StageSplit, MemoryBoundsTheLayersARankTakes) {
  SplitCosts c;
  c.moe_layers = 8, c.moe_s = 1;
  c.memory.moe_bytes = 1, c.memory.moe_kept = 1;
  c.memory.in_flight = {4, 3, 2, 1};
  c.memory.capacity_bytes = 7;
  std::vector<RankLoad> stages = split_ranks(c, 4, false);
  for (const RankLoad& r : stages) {
    EXPECT_EQ(r.moe_layers, 2) << "position " << r.position;
    EXPECT_EQ(r.memory_bytes, 0) << "position " << r.position;
  }
  c.memory.capacity_bytes = 8;
  stages = split_ranks(c, 4, false);  // the last position first
  ASSERT_EQ(stages.size(), 4u);
  const double layers[4] = {3, 2, 2, 1}, bytes[4] = {6, 6, 8, 5};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(stages[i].position, 3 - i);
    EXPECT_EQ(stages[i].moe_layers, layers[i]) << "position " << stages[i].position;
    EXPECT_EQ(stages[i].memory_bytes, bytes[i]) << "position " << stages[i].position;
  }
  EXPECT_NEAR(heaviest_of(stages).cost_s, 3, 1e-9);
}

// DualPipe's pairs with memory: 2 dense layers of 1 s (3 B each) and 6 MoE of 1 s (1 B), nothing
// kept, 4 B of vocabulary on the first pair, 8 B a rank. Without memory, 4 s a pair (one dense
// layer and 3 MoE each, 10 B on the first pair). Within 8 B, a first pair with a dense layer
// holds one MoE at most (8 B), the other pair 6 s; without one (its front position holding the
// embedding alone) it holds 4 MoE, the other both dense layers and 2 MoE: 4 s each.
TEST(StageSplit, MemoryBoundsTheLayersAPairTakes) {
  SplitCosts c;
  c.dense_layers = 2, c.dense_s = 1, c.moe_layers = 6, c.moe_s = 1;
  c.memory.dense_bytes = 3, c.memory.moe_bytes = 1;
  c.memory.first_bytes = c.memory.heads_bytes = c.memory.both_bytes = 4;
  c.memory.in_flight = {1, 1, 1, 1};
  c.memory.capacity_bytes = 8;
  const std::vector<RankLoad> pairs = split_ranks(c, 4, true);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].dense_layers, 0);
  EXPECT_EQ(pairs[0].moe_layers, 4);
  EXPECT_EQ(pairs[0].memory_bytes, 8);
  EXPECT_NEAR(pairs[0].cost_s, 4, 1e-9);
  EXPECT_EQ(pairs[1].dense_layers, 2);
  EXPECT_EQ(pairs[1].moe_layers, 2);
  EXPECT_EQ(pairs[1].memory_bytes, 8);
  EXPECT_NEAR(pairs[1].cost_s, 4, 1e-9);
}

// A review's counterexamples to the pairs' rule that each takes a dense layer while any is left.
// Heads of 10 s, 2 dense layers of 5 s and a MoE of 1 s over 2 pairs: the heads' pair with a
// dense layer holds 15 s; with the MoE alone (its front position holding only the embedding),
// 11 s, the other pair both dense layers, 10 s.
TEST(StageSplit, AFrontPositionMayHoldOnlyTheEmbeddingWhereThatIsLighter) {
  SplitCosts c;
  c.dense_layers = 2, c.dense_s = 5, c.moe_layers = 1, c.moe_s = 1, c.heads_s = 10;
  const std::vector<RankLoad> pairs = split_ranks(c, 4, true);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].dense_layers, 0);
  EXPECT_EQ(pairs[0].moe_layers, 1);
  EXPECT_NEAR(pairs[0].cost_s, 11, 1e-9);
  EXPECT_EQ(pairs[1].dense_layers, 2);
  EXPECT_NEAR(pairs[1].cost_s, 10, 1e-9);
}

// Dense layers that cost no time but 5 B of a pair's 6 B: one a pair, each with its MoE layer
// (1 s, 0 B); all on the first pair did not fit, and the split fell back to the one without
// memory.
TEST(StageSplit, FreeDenseLayersSpreadWhereMemoryNeedsIt) {
  SplitCosts c;
  c.dense_layers = 2, c.moe_layers = 2, c.moe_s = 1;
  c.memory.capacity_bytes = 6, c.memory.dense_bytes = 5;
  c.memory.in_flight = {0, 0, 0, 0};
  const std::vector<RankLoad> pairs = split_ranks(c, 4, true);
  ASSERT_EQ(pairs.size(), 2u);
  for (const RankLoad& p : pairs) {
    EXPECT_EQ(p.dense_layers, 1) << "pair " << p.position;
    EXPECT_EQ(p.moe_layers, 1) << "pair " << p.position;
    EXPECT_EQ(p.memory_bytes, 5) << "pair " << p.position;
  }
}

// A review's line of 7 positions that fits its memory with two positions at the capacity exactly:
// in tenths of the units the sums miss the capacity in their last bits, and a tie, up to
// rounding, still fits (it was refused, the split falling back to the one without memory).
TEST(StageSplit, MemoryTiesDoNotTurnOnRounding) {
  auto split = [](double k) {
    SplitCosts c;
    c.dense_layers = 3, c.moe_layers = 5, c.dense_s = 4 * k, c.moe_s = 3 * k, c.heads_s = 4 * k;
    SplitMemory& m = c.memory;
    m.capacity_bytes = 10 * k, m.dense_bytes = 1 * k, m.moe_bytes = 3 * k, m.dense_kept = 3 * k;
    m.moe_kept = 1 * k, m.heads_kept = 2 * k, m.first_bytes = 3 * k, m.heads_bytes = 6 * k;
    m.in_flight = {2, 2, 2, 3, 2, 3, 0};
    return split_ranks(c, 7, false);
  };
  const std::vector<RankLoad> units = split(1), tenths = split(0.1);
  ASSERT_EQ(units.size(), tenths.size());
  for (std::size_t i = 0; i < units.size(); ++i) {
    EXPECT_EQ(units[i].dense_layers, tenths[i].dense_layers) << "position " << units[i].position;
    EXPECT_EQ(units[i].moe_layers, tenths[i].moe_layers) << "position " << units[i].position;
    EXPECT_GT(units[i].memory_bytes, 0) << "position " << units[i].position;  // weighed
    EXPECT_NEAR(tenths[i].memory_bytes, units[i].memory_bytes / 10, 1e-12);
  }
  EXPECT_NEAR(heaviest_of(units).cost_s, 7, 1e-9);
}

TEST(StageSplit, BadInputsAreRefused) {
  SplitCosts c;
  c.moe_layers = 4, c.moe_s = 1;
  EXPECT_EQ(test::error_of([&] { heaviest_rank(c, 3, true); }),
            "a stage split needs an even number of positions, got 3");
  EXPECT_EQ(test::error_of([&] { heaviest_rank(c, 0, false); }),
            "a stage split needs at least one position, got 0");
  c.moe_layers = 4.5;
  EXPECT_EQ(test::error_of([&] { heaviest_rank(c, 2, false); }),
            "a stage split places whole layers, got 0 dense and 4.5 MoE");
  c.moe_layers = 4, c.heads_s = -1;
  EXPECT_EQ(test::error_of([&] { heaviest_rank(c, 2, false); }),
            "a stage split needs costs >= 0, got 0 s, 1 s and -1 s");
  c.heads_s = 0, c.memory.capacity_bytes = 8;
  EXPECT_EQ(test::error_of([&] { heaviest_rank(c, 2, false); }),
            "a stage split weighing memory needs bytes >= 0 and the micro-batches in flight of "
            "its 2 positions, got 0");
  c.memory.in_flight = {1, 1};
  c.memory.moe_kept = -1;
  EXPECT_EQ(test::error_of([&] { heaviest_rank(c, 2, false); }),
            "a stage split weighing memory needs bytes >= 0 and the micro-batches in flight of "
            "its 2 positions, got 2");
}

}  // namespace
}  // namespace cobench::topo
