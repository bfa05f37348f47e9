// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_routing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <numeric>
#include <sstream>

#include "collectives/ep/ep_hash.h"
#include "collectives/pattern.h"
#include "core/config.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace cobench::coll::ep {

namespace {

constexpr double kMasked = -std::numeric_limits<double>::infinity();

// Uniform in (0, 1) from the hash of (seed, rank, token, item, salt).
double unit(std::uint64_t seed, int rank, int token, int item, std::uint64_t salt) {
  const std::uint64_t h =
      mix(mix(seed ^ salt, static_cast<std::uint64_t>(rank), static_cast<std::uint64_t>(token)),
          static_cast<std::uint64_t>(item), salt);
  return (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;  // 2^53
}

// Sum of the two largest finite keys of `members`; -inf when none. With `product`, keys are u
// in (0, 1) (masked: 0) and the score is the product, log of which is the sum.
double top2_sum(const std::vector<double>& key, const std::vector<int>& members, bool product) {
  const double masked = product ? 0.0 : kMasked;
  double a = masked, b = masked;
  for (int e : members) {
    const double k = key[static_cast<std::size_t>(e)];
    if (k > a) {
      b = a;
      a = k;
    } else if (k > b) {
      b = k;
    }
  }
  if (a == masked) return masked;
  if (b == masked) return a;
  return product ? a * b : a + b;
}

// Masks (sets to -inf, or 0 with `product`) every expert outside the `keep` best sets by
// top2_sum, ties going to the lower set index (a stable sort's order).
void keep_best_sets(std::vector<double>& key, const std::vector<std::vector<int>>& sets, int keep,
                    bool product = false) {
  if (keep <= 0 || keep >= static_cast<int>(sets.size())) return;
  thread_local std::vector<int> order;
  thread_local std::vector<double> score;
  order.resize(sets.size());
  score.resize(sets.size());
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t s = 0; s < sets.size(); ++s) score[s] = top2_sum(key, sets[s], product);
  std::nth_element(order.begin(), order.begin() + keep, order.end(), [&](int x, int y) {
    return score[x] > score[y] || (score[x] == score[y] && x < y);
  });
  for (std::size_t i = static_cast<std::size_t>(keep); i < order.size(); ++i)
    for (int e : sets[static_cast<std::size_t>(order[i])])
      key[static_cast<std::size_t>(e)] = product ? 0.0 : kMasked;
}

// The bounds of `sets` as consecutive ranges covering the experts in order (set s holds
// bounds[s] .. bounds[s + 1] - 1); empty when some set is not such a range.
std::vector<int> range_bounds(const std::vector<std::vector<int>>& sets) {
  std::vector<int> bounds{0};
  for (const std::vector<int>& members : sets) {
    for (std::size_t i = 0; i < members.size(); ++i)
      if (members[i] != bounds.back() + static_cast<int>(i)) return {};
    bounds.push_back(bounds.back() + static_cast<int>(members.size()));
  }
  return bounds;
}

void hashed_weights(const EpConfig& c, int rank, int t, float* w) {
  double sum = 0;
  thread_local std::vector<double> raw;
  raw.resize(static_cast<std::size_t>(c.top_k));
  for (int j = 0; j < c.top_k; ++j) sum += raw[j] = 0.5 + unit(c.seed, rank, t, j, 0x77);
  for (int j = 0; j < c.top_k; ++j) w[j] = static_cast<float>(raw[j] / sum);
}

// The experts of each group and of each node, and each expert's Zipf weight (e + 1)^s.
struct RoutingTables {
  std::vector<std::vector<int>> groups, nodes;
  /// Where groups and nodes are both consecutive ranges of experts: the cells they cut the
  /// experts into (cell i is cell_bounds[i] .. cell_bounds[i + 1] - 1, inside one group and one
  /// node) and each cell's group and node. Empty otherwise (the member lists are used).
  std::vector<int> cell_bounds, cell_group, cell_node;
  /// The cells of group g are group_cells[g] .. group_cells[g + 1] - 1; of node n, node_cells'.
  std::vector<int> group_cells, node_cells;
  bool node_is_cell = false;  ///< node n is cell n (nodes inside groups)
  /// The cells cut into pieces the vector hashing keeps the two best keys of, side by side;
  /// piece_cell[p] is the cell of piece p (one piece a cell where cells are small).
  PieceTable pieces;
  std::vector<int> piece_cell;
  std::vector<double> popularity;  ///< (e + 1)^s; 1 under uniform routing
};

RoutingTables routing_tables(const EpConfig& c, const NodeLayout& layout) {
  const int ranks = static_cast<int>(layout.node_of_rank.size());
  RoutingTables t;
  t.groups.resize(static_cast<std::size_t>(c.num_groups));
  t.nodes.resize(static_cast<std::size_t>(layout.num_nodes));
  const double s = c.routing == RoutingKind::kZipf ? c.zipf_exponent : 0.0;
  for (int e = 0; e < c.num_experts; ++e) {
    t.groups[static_cast<std::size_t>(e / (c.num_experts / c.num_groups))].push_back(e);
    t.nodes[static_cast<std::size_t>(layout.node_of_rank[rank_of_expert(c, ranks, e)])].push_back(
        e);
    t.popularity.push_back(std::pow(static_cast<double>(e + 1), s));
  }
  const std::vector<int> g = range_bounds(t.groups), n = range_bounds(t.nodes);
  if (!g.empty() && !n.empty()) {
    std::merge(g.begin(), g.end(), n.begin(), n.end(), std::back_inserter(t.cell_bounds));
    t.cell_bounds.erase(std::unique(t.cell_bounds.begin(), t.cell_bounds.end()),
                        t.cell_bounds.end());
    std::size_t gi = 0, ni = 0;  // the group and node the cell starting at `first` lies in
    for (std::size_t cell = 0; cell + 1 < t.cell_bounds.size(); ++cell) {
      const int first = t.cell_bounds[cell];
      while (g[gi + 1] <= first) ++gi;
      while (n[ni + 1] <= first) ++ni;
      t.cell_group.push_back(static_cast<int>(gi));
      t.cell_node.push_back(static_cast<int>(ni));
    }
    // Pieces of at most 16 experts: enough of them to fill the vector lanes where cells are few
    // and large, few enough that merging them into cells costs little.
    t.pieces = PieceTable::from_bounds(t.cell_bounds, 16, &t.piece_cell);
    const auto first_cells = [](const std::vector<int>& set_of_cell, std::size_t sets) {
      std::vector<int> first(sets + 1);
      for (std::size_t set = 0; set <= sets; ++set)  // cells are in set order
        first[set] = static_cast<int>(
            std::lower_bound(set_of_cell.begin(), set_of_cell.end(), static_cast<int>(set)) -
            set_of_cell.begin());
      return first;
    };
    t.group_cells = first_cells(t.cell_group, t.groups.size());
    t.node_cells = first_cells(t.cell_node, t.nodes.size());
    t.node_is_cell = true;
    for (std::size_t nd = 0; nd < t.node_cells.size(); ++nd)
      t.node_is_cell = t.node_is_cell && t.node_cells[nd] == static_cast<int>(nd);
  }
  return t;
}

// The definition (ep_routing.h): keys log(u) (e + 1)^s, the group and node limits by the sum of
// their two best keys, the top_k keys. Writes the top_k experts, ascending.
void route_token_by_keys(const EpConfig& c, const RoutingTables& tab, int rank, int t,
                         std::vector<double>& key, std::vector<int>& order, int* out) {
  for (int e = 0; e < c.num_experts; ++e)
    key[static_cast<std::size_t>(e)] =
        std::log(unit(c.seed, rank, t, e, 0x5)) * tab.popularity[static_cast<std::size_t>(e)];
  keep_best_sets(key, tab.groups, c.topk_groups);
  keep_best_sets(key, tab.nodes, c.max_nodes);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + c.top_k, order.end(), [&](int x, int y) {
    return key[static_cast<std::size_t>(x)] > key[static_cast<std::size_t>(y)];
  });
  std::copy(order.begin(), order.begin() + c.top_k, out);
  std::sort(out, out + c.top_k);
}

// The same choice, faster: uniform keys compared as u itself (log is increasing, so the order of
// keys, and of two-key sums as products, is the order of u), the hash's (rank, token) half once
// a token, and the top_k by insertion. Returns false, writing nothing, when the limits leave
// fewer than top_k experts (the definition then picks among masked keys in partial_sort's
// order, which route_token_by_keys reproduces).
bool route_token_fast(const EpConfig& c, const RoutingTables& tab, int rank, int t,
                      std::vector<double>& key, int* out) {
  const bool uniform = c.routing != RoutingKind::kZipf;
  // unit(seed, rank, t, e, 0x5) = mix(base, e, 0x5).
  const std::uint64_t base =
      mix(c.seed ^ 0x5, static_cast<std::uint64_t>(rank), static_cast<std::uint64_t>(t));
  thread_local std::vector<std::uint64_t> hash;
  hash.resize(key.size());
  mix_range(active_hash_path(), base, 0, kKeySalt, c.num_experts, hash.data());
  for (int e = 0; e < c.num_experts; ++e) {
    const std::uint64_t h = hash[static_cast<std::size_t>(e)];
    const double u = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;
    key[static_cast<std::size_t>(e)] =
        uniform ? u : std::log(u) * tab.popularity[static_cast<std::size_t>(e)];
  }
  const double masked = uniform ? 0.0 : kMasked;
  keep_best_sets(key, tab.groups, c.topk_groups, uniform);
  keep_best_sets(key, tab.nodes, c.max_nodes, uniform);
  constexpr int kMaxTopK = 64;
  if (c.top_k > kMaxTopK) return false;
  double best[kMaxTopK];
  int chosen[kMaxTopK];
  int n = 0;
  for (int e = 0; e < c.num_experts; ++e) {
    const double k = key[static_cast<std::size_t>(e)];
    if (k == masked || (n == c.top_k && !(k > best[n - 1]))) continue;
    int i = n < c.top_k ? n++ : n - 1;
    for (; i > 0 && best[i - 1] < k; --i) {
      best[i] = best[i - 1];
      chosen[i] = chosen[i - 1];
    }
    best[i] = k;
    chosen[i] = e;
  }
  if (n < c.top_k) return false;
  std::copy(chosen, chosen + c.top_k, out);
  std::sort(out, out + c.top_k);
  return true;
}

// The two best keys of a set as the limits use them (a the best, b the next; `masked` where
// none), merged from its parts, and its score (top2_sum's).
struct Top2 {
  double a, b;
  void add(double x) {
    if (x > a) {
      b = a;
      a = x;
    } else if (x > b) {
      b = x;
    }
  }
  void add(const Top2& o) {
    add(o.a);
    add(o.b);
  }
  double score(double masked, bool product) const {
    return a == masked ? masked : b == masked ? a : product ? a * b : a + b;
  }
};

constexpr int kMaxTopK = 64;
constexpr int kFewSets = 16;  // kept sets chosen by insertion (mark_best)

// Inserts key x of expert e into the top_k so far (best descending, ties in arrival order)
// where it enters.
template <class Key>
void insert_top(Key x, int e, int top_k, Key* best, int* chosen, int& n) {
  if (n == top_k && !(x > best[n - 1])) return;
  int i = n < top_k ? n++ : n - 1;
  for (; i > 0 && best[i - 1] < x; --i) {
    best[i] = best[i - 1];
    chosen[i] = chosen[i - 1];
  }
  best[i] = x;
  chosen[i] = e;
}

// The `keep` (<= kFewSets) best of score[0 .. count - 1], ties to the lower index, into
// chosen (best first); returns how many (min(keep, count)). With 8 columns (score i in column
// i % 8) and keep < 8, the keep-th largest of the columns' maxima (keep distinct scores) bounds
// the keep-th best from below: the scores reaching it are gathered, without branches, and only
// they are ranked.
int select_best(const double* score, int count, int keep, int* chosen) {
  constexpr int kColumns = 8;
  double best[kFewSets];
  int n = 0;
  if (keep >= kColumns || count < 2 * kColumns) {
    for (int i = 0; i < count; ++i) insert_top(score[i], i, keep, best, chosen, n);
    return n;
  }
  double column_max[kColumns];
  std::copy(score, score + kColumns, column_max);
  int i = kColumns;
  for (; i + kColumns <= count; i += kColumns)
    for (int j = 0; j < kColumns; ++j)
      column_max[j] = score[i + j] > column_max[j] ? score[i + j] : column_max[j];
  for (int j = 0; i + j < count; ++j)
    column_max[j] = score[i + j] > column_max[j] ? score[i + j] : column_max[j];
  for (int j = 0; j < kColumns; ++j) insert_top(column_max[j], j, keep, best, chosen, n);
  const double bound = best[keep - 1];
  thread_local std::vector<int> reaching;
  reaching.resize(static_cast<std::size_t>(count));
  int m = 0;
  for (i = 0; i < count; ++i) {
    reaching[static_cast<std::size_t>(m)] = i;
    m += score[i] >= bound ? 1 : 0;
  }
  n = 0;
  for (int k = 0; k < m; ++k) {
    const int at = reaching[static_cast<std::size_t>(k)];
    insert_top(score[at], at, keep, best, chosen, n);
  }
  return n;
}

// Marks in `kept` the `keep` best sets by score, ties to the lower index (keep_best_sets's
// choice); all of them when keep <= 0 or keep >= the sets. A few are kept by insertion in one
// pass (a later set enters only with a larger score than the last kept, so ties stay with the
// lower index), more by nth_element: the same sets either way.
void mark_best(const std::vector<double>& score, int keep, std::vector<char>& kept) {
  const int sets = static_cast<int>(score.size());
  if (keep <= 0 || keep >= sets) {
    kept.assign(static_cast<std::size_t>(sets), 1);
    return;
  }
  kept.assign(static_cast<std::size_t>(sets), 0);
  if (keep <= kFewSets) {
    int chosen[kFewSets];
    select_best(score.data(), sets, keep, chosen);
    for (int i = 0; i < keep; ++i) kept[static_cast<std::size_t>(chosen[i])] = 1;
    return;
  }
  thread_local std::vector<int> order;
  order.resize(static_cast<std::size_t>(sets));
  std::iota(order.begin(), order.end(), 0);
  std::nth_element(order.begin(), order.begin() + keep, order.end(), [&](int x, int y) {
    return score[x] > score[y] || (score[x] == score[y] && x < y);
  });
  for (int i = 0; i < keep; ++i) kept[static_cast<std::size_t>(order[i])] = 1;
}

// route_token_fast under uniform routing where groups and nodes are ranges
// (RoutingTables::cell_bounds), on the keys' bits (ep_hash.h's key_bits, u's order, 0 for
// masked): the vector hashing keeps each piece's two best bits, merged into each cell's; a
// group's and then a node's two best are merged from their cells' (a node's from the cells of
// kept groups only, as masking would leave them) and scored as u a * u b, top2_sum's product;
// the top_k are taken from the cells of kept groups and nodes in expert order, hashing again only
// the experts of cells whose best key reaches a bound. Returns false where route_token_fast
// would.
bool route_token_cells_uniform(const EpConfig& c, const RoutingTables& tab, std::uint64_t base,
                               int* out) {
  const HashPath path = active_hash_path();
  const std::size_t cells = tab.cell_group.size();
  struct Scratch {
    std::vector<std::uint64_t> piece_a, piece_b, cell_a, cell_b, hash;
    std::vector<double> score, piece_score;
    std::vector<char> group_kept, node_kept;
    std::vector<int> kept_nodes, candidates, kept_cells;
    std::vector<std::pair<std::uint64_t, int>> reaching;  // key bits, expert
  };
  thread_local Scratch w;
  const std::size_t lanes = tab.pieces.blocks.size() * PieceTable::kLanes;
  w.piece_a.resize(lanes);
  w.piece_b.resize(lanes);
  // Where a node is one cell and a cell one piece, the nodes' scores come with the hashing.
  const bool node_is_piece =
      tab.node_is_cell && static_cast<std::size_t>(tab.pieces.pieces) == cells;
  w.piece_score.resize(node_is_piece ? lanes : 0);
  piece_top2(path, base, tab.pieces, w.piece_a.data(), w.piece_b.data(),
             node_is_piece ? w.piece_score.data() : nullptr);
  const auto merge = merge_top2;
  const std::uint64_t* cell_a = w.piece_a.data();
  const std::uint64_t* cell_b = w.piece_b.data();
  if (static_cast<std::size_t>(tab.pieces.pieces) != cells) {
    w.cell_a.assign(cells, 0);
    w.cell_b.assign(cells, 0);
    for (std::size_t p = 0; p < static_cast<std::size_t>(tab.pieces.pieces); ++p) {
      const auto cell = static_cast<std::size_t>(tab.piece_cell[p]);
      merge(w.cell_a[cell], w.cell_b[cell], w.piece_a[p], w.piece_b[p]);
    }
    cell_a = w.cell_a.data();
    cell_b = w.cell_b.data();
  }
  // A set's score from its cells first .. last - 1 (of kept groups only with `only_kept`):
  // Top2::score of the two best u, masked (0) where none.
  const auto score_of = [&](int first, int last, bool only_kept) {
    std::uint64_t a = 0, b = 0;
    if (only_kept) {
      for (int cell = first; cell < last; ++cell)
        if (w.group_kept[static_cast<std::size_t>(tab.cell_group[cell])])
          merge(a, b, cell_a[cell], cell_b[cell]);
    } else {
      range_top2(path, cell_a + first, cell_b + first, last - first, a, b);
    }
    return key_pair_score(a, b);  // Top2::score of their u
  };
  const int groups = static_cast<int>(tab.groups.size());
  w.score.resize(static_cast<std::size_t>(groups));
  for (int g = 0; g < groups; ++g)
    w.score[static_cast<std::size_t>(g)] =
        score_of(tab.group_cells[g], tab.group_cells[g + 1], false);
  mark_best(w.score, c.topk_groups, w.group_kept);
  // The kept nodes, ascending: a few by select_best over the candidates, more by mark_best.
  const int nodes = static_cast<int>(tab.nodes.size()), keep = c.max_nodes;
  w.kept_nodes.clear();
  if (keep > 0 && keep < nodes && keep <= kFewSets) {
    // Every cell holds an expert (best key > 0), so the nodes with a cell in a kept group score
    // above 0 and the others 0: where at least `keep` nodes do, only they are candidates.
    w.candidates.clear();
    w.score.clear();
    for (int g = 0, last = -1; g < groups; ++g) {
      if (!w.group_kept[static_cast<std::size_t>(g)] ||
          tab.group_cells[g] == tab.group_cells[g + 1])
        continue;
      const int from =
                    std::max(last + 1, tab.cell_node[static_cast<std::size_t>(tab.group_cells[g])]),
                to = tab.cell_node[static_cast<std::size_t>(tab.group_cells[g + 1] - 1)] + 1;
      if (from >= to) continue;
      const std::size_t at = w.candidates.size();
      w.candidates.resize(at + static_cast<std::size_t>(to - from));
      std::iota(w.candidates.begin() + static_cast<std::ptrdiff_t>(at), w.candidates.end(), from);
      if (node_is_piece)  // node n is cell n, inside group g: its score came with the hashing
        w.score.insert(w.score.end(), w.piece_score.begin() + from, w.piece_score.begin() + to);
      else
        for (int nd = from; nd < to; ++nd)
          w.score.push_back(score_of(tab.node_cells[nd], tab.node_cells[nd + 1], true));
      last = to - 1;
    }
    if (static_cast<int>(w.candidates.size()) < keep) {  // all nodes then
      w.candidates.resize(static_cast<std::size_t>(nodes));
      std::iota(w.candidates.begin(), w.candidates.end(), 0);
      w.score.clear();
      for (int nd = 0; nd < nodes; ++nd)
        w.score.push_back(score_of(tab.node_cells[nd], tab.node_cells[nd + 1], true));
    }
    const int count = static_cast<int>(w.candidates.size());
    int chosen[kFewSets];
    const int n = select_best(w.score.data(), count, keep, chosen);
    for (int i = 0; i < n; ++i)
      w.kept_nodes.push_back(w.candidates[static_cast<std::size_t>(chosen[i])]);
    std::sort(w.kept_nodes.begin(), w.kept_nodes.end());
  } else {
    w.score.resize(static_cast<std::size_t>(nodes));
    for (int nd = 0; nd < nodes; ++nd)
      w.score[static_cast<std::size_t>(nd)] =
          score_of(tab.node_cells[nd], tab.node_cells[nd + 1], true);
    mark_best(w.score, keep, w.node_kept);
    for (int nd = 0; nd < nodes; ++nd)
      if (w.node_kept[static_cast<std::size_t>(nd)]) w.kept_nodes.push_back(nd);
  }
  if (c.top_k > kMaxTopK) return false;
  // The kept cells, in expert order. The two best keys of each are keys of distinct experts, so
  // the top_k-th largest of them (where there are top_k) bounds the top_k-th best key from below:
  // only the keys reaching it are gathered, without branches, and ranked in expert order (ties
  // to the lower expert, as insertion over all of them would).
  w.kept_cells.clear();
  for (int nd : w.kept_nodes)
    for (int cell = tab.node_cells[nd]; cell < tab.node_cells[nd + 1]; ++cell)
      if (w.group_kept[static_cast<std::size_t>(tab.cell_group[cell])])
        w.kept_cells.push_back(cell);
  std::uint64_t best[kMaxTopK];
  int chosen[kMaxTopK];
  int n = 0;
  for (int cell : w.kept_cells) {
    insert_top(cell_a[cell], 0, c.top_k, best, chosen, n);
    if (cell_b[cell] > 0) insert_top(cell_b[cell], 0, c.top_k, best, chosen, n);
  }
  const std::uint64_t bound = n == c.top_k ? best[n - 1] : 1;
  w.reaching.clear();
  for (int cell : w.kept_cells) {
    if (cell_a[cell] < bound) continue;  // no key of it reaches the bound
    const int first = tab.cell_bounds[cell], len = tab.cell_bounds[cell + 1] - first;
    w.hash.resize(static_cast<std::size_t>(len));
    mix_range(path, base, static_cast<std::uint64_t>(first), kKeySalt, len, w.hash.data());
    const std::size_t at = w.reaching.size();
    w.reaching.resize(at + static_cast<std::size_t>(len));
    std::size_t m = at;
    for (int i = 0; i < len; ++i) {
      const std::uint64_t x = (w.hash[static_cast<std::size_t>(i)] >> 11) + 1;
      w.reaching[m] = {x, first + i};
      m += x >= bound ? 1 : 0;
    }
    w.reaching.resize(m);
  }
  if (static_cast<int>(w.reaching.size()) < c.top_k) return false;
  if (static_cast<int>(w.reaching.size()) == c.top_k) {  // all of them, already in expert order
    for (int j = 0; j < c.top_k; ++j) out[j] = w.reaching[static_cast<std::size_t>(j)].second;
    return true;
  }
  n = 0;
  for (const auto& [x, e] : w.reaching) insert_top(x, e, c.top_k, best, chosen, n);
  std::copy(chosen, chosen + c.top_k, out);
  std::sort(out, out + c.top_k);
  return true;
}

// route_token_fast where groups and nodes are ranges (RoutingTables::cell_bounds): one pass
// hashes the keys and keeps each cell's two best; a group's and then a node's two best are merged
// from their cells' (a node's from the cells of kept groups only, as masking would leave them);
// the top_k are taken from the cells of kept groups and nodes alone, in expert order. Returns
// false where route_token_fast would.
bool route_token_cells(const EpConfig& c, const RoutingTables& tab, int rank, int t,
                       std::vector<double>& key, int* out) {
  const bool uniform = c.routing != RoutingKind::kZipf;
  const std::uint64_t base =
      mix(c.seed ^ 0x5, static_cast<std::uint64_t>(rank), static_cast<std::uint64_t>(t));
  if (uniform) return route_token_cells_uniform(c, tab, base, out);
  const double masked = kMasked;
  const std::size_t cells = tab.cell_group.size();
  thread_local std::vector<Top2> cell_top, set_top;
  thread_local std::vector<double> score;
  thread_local std::vector<char> group_kept, node_kept;
  thread_local std::vector<std::uint64_t> hash;
  cell_top.resize(cells);
  hash.resize(key.size());
  mix_range(active_hash_path(), base, 0, kKeySalt, c.num_experts, hash.data());
  // Each cell's two best without branches (a branch mispredicts on every new maximum).
  double* k = key.data();
  for (std::size_t cell = 0; cell < cells; ++cell) {
    double a = masked, b = masked;
    for (int e = tab.cell_bounds[cell]; e < tab.cell_bounds[cell + 1]; ++e) {
      const std::uint64_t h = hash[static_cast<std::size_t>(e)];
      const double u = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;
      const double x = std::log(u) * tab.popularity[static_cast<std::size_t>(e)];
      k[e] = x;
      const double lo = std::min(a, x);
      a = std::max(a, x);
      b = std::max(b, lo);
    }
    cell_top[cell] = Top2{a, b};
  }
  const auto best_sets = [&](const std::vector<int>& set_of, std::size_t sets, int keep,
                             const std::vector<char>* only_groups, std::vector<char>& kept) {
    set_top.assign(sets, Top2{masked, masked});
    for (std::size_t cell = 0; cell < cells; ++cell)
      if (!only_groups || (*only_groups)[static_cast<std::size_t>(tab.cell_group[cell])])
        set_top[static_cast<std::size_t>(set_of[cell])].add(cell_top[cell]);
    score.resize(sets);
    for (std::size_t i = 0; i < sets; ++i) score[i] = set_top[i].score(masked, false);
    mark_best(score, keep, kept);
  };
  best_sets(tab.cell_group, tab.groups.size(), c.topk_groups, nullptr, group_kept);
  best_sets(tab.cell_node, tab.nodes.size(), c.max_nodes, &group_kept, node_kept);
  if (c.top_k > kMaxTopK) return false;
  // The top_k of the kept cells by insertion, in expert order (ties stay in that order).
  double best[kMaxTopK];
  int chosen[kMaxTopK];
  int n = 0;
  for (std::size_t cell = 0; cell < cells; ++cell) {
    if (!group_kept[static_cast<std::size_t>(tab.cell_group[cell])] ||
        !node_kept[static_cast<std::size_t>(tab.cell_node[cell])])
      continue;
    for (int e = tab.cell_bounds[cell]; e < tab.cell_bounds[cell + 1]; ++e)
      insert_top(k[e], e, c.top_k, best, chosen, n);
  }
  if (n < c.top_k) return false;
  std::copy(chosen, chosen + c.top_k, out);
  std::sort(out, out + c.top_k);
  return true;
}

Routing route_rank(const EpConfig& c, const RoutingTables& tab, int rank, int ranks) {
  Routing r;
  r.tokens = tokens_of(c, rank, ranks);
  r.top_k = c.top_k;
  r.expert.resize(static_cast<std::size_t>(r.tokens) * r.top_k);
  r.weight.resize(r.expert.size());
  std::vector<double> key(static_cast<std::size_t>(c.num_experts));
  std::vector<int> order(key.size());
  for (int t = 0; t < r.tokens; ++t) {
    int* out = r.expert.data() + static_cast<std::size_t>(t) * r.top_k;
    const bool fast = tab.cell_bounds.empty() ? route_token_fast(c, tab, rank, t, key, out)
                                              : route_token_cells(c, tab, rank, t, key, out);
    if (!fast) route_token_by_keys(c, tab, rank, t, key, order, out);
    hashed_weights(c, rank, t, r.weight.data() + static_cast<std::size_t>(t) * r.top_k);
  }
  return r;
}

}  // namespace

std::vector<Routing> routing_from_text(const std::string& text, const std::string& source,
                                       const EpConfig& c, int ranks,
                                       const std::vector<int>* node_of_rank) {
  std::vector<Routing> out(static_cast<std::size_t>(ranks));
  long long needed = 0;
  for (int r = 0; r < ranks; ++r) {
    out[r].tokens = tokens_of(c, r, ranks);
    out[r].top_k = c.top_k;
    needed += out[r].tokens;
  }
  std::istringstream in(text);
  std::string line;
  long long token = 0;
  int rank = 0, t = 0;
  const int per_group = c.num_experts / c.num_groups;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream fields(line);
    std::vector<int> experts;
    std::string field;
    while (fields >> field) {
      std::size_t used = 0;
      int e = -1;
      try {
        e = std::stoi(field, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != field.size() || e < 0 || e >= c.num_experts)
        throw Error(fmt::format("{}:{}: '{}' is not an expert id in 0 ... {}", source, line_no,
                                field, c.num_experts - 1));
      experts.push_back(e);
    }
    if (experts.empty()) continue;
    if (static_cast<int>(experts.size()) != c.top_k)
      throw Error(fmt::format("{}:{}: {} expert ids; expected --topk {}", source, line_no,
                              experts.size(), c.top_k));
    std::sort(experts.begin(), experts.end());
    if (std::adjacent_find(experts.begin(), experts.end()) != experts.end())
      throw Error(fmt::format("{}:{}: an expert appears twice", source, line_no));
    int groups = 0;
    for (std::size_t i = 0; i < experts.size(); ++i)
      if (i == 0 || experts[i] / per_group != experts[i - 1] / per_group) ++groups;
    if (groups > c.topk_groups)
      throw Error(fmt::format(
          "{}:{}: the experts span {} groups of {} experts; --topk-groups allows at most {}",
          source, line_no, groups, per_group, c.topk_groups));
    if (node_of_rank && c.max_nodes > 0) {
      std::vector<int> nodes;
      for (int e : experts) nodes.push_back((*node_of_rank)[rank_of_expert(c, ranks, e)]);
      std::sort(nodes.begin(), nodes.end());
      const auto distinct = std::unique(nodes.begin(), nodes.end()) - nodes.begin();
      if (distinct > c.max_nodes)
        throw Error(fmt::format("{}:{}: the experts sit on {} nodes; --max-nodes allows at most {}",
                                source, line_no, distinct, c.max_nodes));
    }
    if (token == needed)
      throw Error(
          fmt::format("{}:{}: more tokens than the {} ranks need ({}); remove the lines "
                      "from here on or raise --tokens",
                      source, line_no, ranks, needed));
    while (t == out[static_cast<std::size_t>(rank)].tokens) ++rank, t = 0;
    Routing& r = out[static_cast<std::size_t>(rank)];
    r.expert.insert(r.expert.end(), experts.begin(), experts.end());
    r.weight.resize(r.expert.size());
    hashed_weights(c, rank, t, r.weight.data() + static_cast<std::size_t>(t) * c.top_k);
    ++t;
    ++token;
  }
  if (token < needed)
    throw Error(fmt::format("{}: {} tokens; the {} ranks need {}", source, token, ranks, needed));
  return out;
}

struct RoutingSource::Tables : RoutingTables {};

RoutingSource::RoutingSource(const EpConfig& c, const NodeLayout& layout)
    : c_(c), ranks_(static_cast<int>(layout.node_of_rank.size())) {
  if (c.routing == RoutingKind::kFile)
    from_file_ = routing_from_text(config::read_text_file(c.routing_file), c.routing_file, c,
                                   ranks_, &layout.node_of_rank);
  else
    tables_ = std::make_shared<Tables>(Tables{routing_tables(c, layout)});
}

Routing RoutingSource::rank(int r) const {
  if (!tables_) return from_file_[static_cast<std::size_t>(r)];
  return route_rank(c_, *tables_, r, ranks_);
}

std::vector<Routing> route_all_ranks(const EpConfig& c, const NodeLayout& layout) {
  const RoutingSource source(c, layout);
  const int ranks = static_cast<int>(layout.node_of_rank.size());
  std::vector<Routing> out(static_cast<std::size_t>(ranks));
  parallel_for(ranks, thread_count(0), [&](std::int64_t r) {
    out[static_cast<std::size_t>(r)] = source.rank(static_cast<int>(r));
  });
  return out;
}

}  // namespace cobench::coll::ep
