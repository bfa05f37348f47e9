// SPDX-License-Identifier: Apache-2.0
// How a model's whole layers split over the positions of a pipeline (its model chunks in order:
// stage 0 to PP - 1, or chunk c of stage s at c x PP + s when interleaved), with the LM heads
// after the last layer on the last position and the embedding on the first. A rank holds one
// position (1F1B, ZB1P; an interleaved rank's chunks are each bounded the same way) or, under
// DualPipe, the mirrored pair r and PP - 1 - r: DeepSeek-V3's technical report (arXiv
// 2412.19437, section 2.2) puts "the shallowest layers (including the embedding layer) and
// deepest layers (including the output head) of the model on the same PP rank". Which split
// DeepSeek ran is not published: this is the one whose heaviest rank is lightest, whole layers
// only, the dense layers first and the MoE layers (the MTP modules' last) after them.
#pragma once

#include <vector>

namespace cobench::topo {

/// What a rank's memory holds, where the split must also keep every rank within capacity_bytes:
/// each layer's state (weights, gradients, optimizer shard) and, for each micro-batch in flight,
/// what its backward keeps. Weighed only where every rank holds one position, or a mirrored pair.
struct SplitMemory {
  double capacity_bytes = 0;                            ///< 0: memory is not weighed
  double dense_bytes = 0, moe_bytes = 0;                ///< one layer's state
  double dense_kept = 0, moe_kept = 0, heads_kept = 0;  ///< kept for the backward, a micro-batch
  /// The vocabulary's state (the embedding, the head and their copies) on the rank holding the
  /// first position, on the one holding the heads, and on one holding both (instead of the two).
  double first_bytes = 0, heads_bytes = 0, both_bytes = 0;
  /// Per position: the micro-batches in flight whose kept activations the rank holding it has at
  /// its peak. Mirrored: a pair's layers count at the mean of its two positions'.
  std::vector<double> in_flight;
};

/// The model's layers in pipeline order and what one costs (a micro-batch's F + B + W).
struct SplitCosts {
  double dense_layers = 0, moe_layers = 0;     ///< whole numbers
  double dense_s = 0, moe_s = 0, heads_s = 0;  ///< one layer's; every LM head's together
  SplitMemory memory;
};

/// One rank's share of the split.
struct RankLoad {
  double dense_layers = 0, moe_layers = 0;
  bool heads = false;  ///< the rank holds the last position, with the LM heads
  int positions = 1;   ///< positions the rank holds: 1, or 2 under DualPipe
  /// The position it holds (mirrored: the first of its two, `position` and positions - 1 -
  /// `position`).
  int position = 0;
  double cost_s = 0;        ///< its layers' and heads' costs
  double memory_bytes = 0;  ///< its state and kept activations, where memory is weighed
};

/// The heaviest rank of the split of whole layers over `positions` positions that makes it
/// lightest, ranks of one position each or (`mirrored`, an even number of positions) of the pairs
/// r and positions - 1 - r. In a line: the least bound at which each position from the last,
/// taking as many layers as fit, places them all (bisection), then each position filled towards
/// an even share of what is left. Mirrored: the least bound at which a dynamic program over
/// where the dense layers go (a pair's front position takes them in order, or none, holding
/// nothing then; its back position takes MoE layers, so a pair may hold any number; of
/// placements with the same room, the fewest empty fronts) leaves room for every MoE layer, then
/// the MoE layers one at a time to the lightest pair. Where memory is weighed, a rank takes a layer
/// only while its memory stays within the capacity; where no split fits it, the split is the one
/// without it (the caller finds the rank that does not fit). Throws cobench::Error on fewer than
/// one position, an odd number mirrored, or negative, non-finite or fractional inputs.
RankLoad heaviest_rank(const SplitCosts& c, int positions, bool mirrored);

/// Every rank of that split, the one holding the last position first (mirrored: the outermost
/// pair, 0 and positions - 1, then 1 and positions - 2, ...; else positions - 1, - 2, ... 0).
/// heaviest_rank is the first of the heaviest of them.
std::vector<RankLoad> split_ranks(const SplitCosts& c, int positions, bool mirrored);

/// The first of the heaviest ranks of a split.
const RankLoad& heaviest_of(const std::vector<RankLoad>& ranks);

}  // namespace cobench::topo
