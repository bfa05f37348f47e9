// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_exchange.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "kernels/numerics/fp8.h"

namespace cobench::coll::ep {

// One all-to-all-v step: per-peer record counts, and the buffers.
struct EpExchange::Stage {
  std::vector<std::size_t> send_counts, send_displs, recv_counts, recv_displs;
  std::vector<std::byte> send, recv;
  std::size_t sent = 0, received = 0;  // records

  void plan_send(const std::vector<std::size_t>& counts, std::size_t record_bytes) {
    send_counts = counts;
    send_displs.assign(counts.size(), 0);
    sent = 0;
    for (std::size_t p = 0; p < counts.size(); ++p) {
      send_displs[p] = sent;
      sent += counts[p];
    }
    send.resize(sent * record_bytes);
  }

  // Swaps the counts (inside the timed region, as DeepEP's layout step), then the records.
  void exchange(Communicator& comm, std::size_t record_bytes) {
    const auto n = static_cast<std::size_t>(comm.size());
    std::vector<std::int32_t> out(n), in(n);
    for (std::size_t p = 0; p < n; ++p) out[p] = static_cast<std::int32_t>(send_counts[p]);
    comm.all_to_all(out.data(), in.data(), 1, DataType::kInt32);
    recv_counts.assign(n, 0);
    recv_displs.assign(n, 0);
    received = 0;
    for (std::size_t p = 0; p < n; ++p) {
      recv_counts[p] = static_cast<std::size_t>(in[p]);
      recv_displs[p] = received;
      received += recv_counts[p];
    }
    recv.resize(received * record_bytes);
    comm.all_to_allv(send.data(), scaled(send_counts, record_bytes),
                     scaled(send_displs, record_bytes), recv.data(),
                     scaled(recv_counts, record_bytes), scaled(recv_displs, record_bytes),
                     DataType::kUInt8);
  }

  // The reverse exchange: `back_send` holds one record per received record (same order);
  // `back_recv` gets one per sent record, in send order.
  void reverse(Communicator& comm, const std::vector<std::byte>& back_send,
               std::vector<std::byte>& back_recv, std::size_t record_bytes) const {
    back_recv.resize(sent * record_bytes);
    comm.all_to_allv(back_send.data(), scaled(recv_counts, record_bytes),
                     scaled(recv_displs, record_bytes), back_recv.data(),
                     scaled(send_counts, record_bytes), scaled(send_displs, record_bytes),
                     DataType::kUInt8);
  }

  static std::vector<std::size_t> scaled(const std::vector<std::size_t>& v, std::size_t k) {
    std::vector<std::size_t> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i] * k;
    return out;
  }
};

namespace {

int read_int(const std::byte* p) {
  std::int32_t v = 0;
  std::memcpy(&v, p, 4);
  return v;
}

void write_int(std::byte* p, int v) {
  const auto x = static_cast<std::int32_t>(v);
  std::memcpy(p, &x, 4);
}

// Distinct values of f(expert) over a token's experts, in first-seen order.
template <class F>
int distinct(const Routing& r, int t, F f, int* out) {
  int n = 0;
  for (int j = 0; j < r.top_k; ++j) {
    const int v = f(r.experts_of(t)[j]);
    if (std::find(out, out + n, v) == out + n) out[n++] = v;
  }
  return n;
}

void add_bf16(const std::byte* src, int hidden, float* dst) {
  for (int i = 0; i < hidden; ++i) {
    std::uint16_t b = 0;
    std::memcpy(&b, src + 2 * i, 2);
    dst[i] += num::decode_bf16(b);
  }
}

}  // namespace

EpExchange::EpExchange(const EpConfig& c, Communicator& world, const NodeLayout& layout,
                       bool hierarchical)
    : c_(c), world_(world), layout_(layout), hierarchical_(hierarchical) {
  validate(c_, world.size());
  COBENCH_CHECK(world.memory_kind() == MemoryKind::kHost,
                "the EP exchange runs on host buffers (the MPI backend)");
  COBENCH_CHECK(static_cast<int>(layout.node_of_rank.size()) == world.size(),
                "the node layout must cover every rank");
  record_bytes_ = 8 + 8 * static_cast<std::size_t>(c.top_k) + dispatch_payload_bytes(c.hidden);
  combine_bytes_ = 8 + combine_payload_bytes(c.hidden);
  payload_bytes_ = dispatch_payload_bytes(c.hidden);
  flat_ = std::make_unique<Stage>();
  rail_stage_ = std::make_unique<Stage>();
  node_stage_ = std::make_unique<Stage>();
  if (hierarchical_) {
    COBENCH_CHECK(layout.uniform(),
                  "hierarchical dispatch needs the same number of ranks on every node");
    node_ = world.split(layout.node, layout.local_rank);
    rail_ = world.split(layout.local_rank, layout.node);
  }
}

EpExchange::~EpExchange() = default;

void EpExchange::write_record(std::byte* dst, const Routing& mine, int t,
                              const std::byte* payloads) const {
  const auto k = static_cast<std::size_t>(c_.top_k);
  write_int(dst, world_.rank());
  write_int(dst + 4, t);
  std::memcpy(dst + 8, mine.experts_of(t), 4 * k);
  std::memcpy(dst + 8 + 4 * k, mine.weights_of(t), 4 * k);
  std::memcpy(dst + 8 + 8 * k, payloads + payload_bytes_ * static_cast<std::size_t>(t),
              payload_bytes_);
}

void EpExchange::dispatch(const Routing& mine, const std::byte* payloads) {
  COBENCH_CHECK(mine.top_k == c_.top_k, "the routing's top_k differs from the configuration");
  tokens_ = mine.tokens;
  dispatch_traffic_ = combine_traffic_ = Traffic{};
  // DeepEP's logical counts: a payload per (token, destination node), own node included.
  std::vector<int> seen(static_cast<std::size_t>(c_.top_k));
  for (int t = 0; t < mine.tokens; ++t) {
    const int nodes = distinct(
        mine, t, [&](int e) { return layout_.node_of_rank[rank_of_expert(c_, world_.size(), e)]; },
        seen.data());
    dispatch_traffic_.logical_network += static_cast<double>(nodes * payload_bytes_);
    combine_traffic_.logical_network +=
        static_cast<double>(nodes * combine_payload_bytes(c_.hidden));
  }
  hierarchical_ ? dispatch_hierarchical(mine, payloads) : dispatch_flat(mine, payloads);
  dispatch_traffic_.logical_intra = static_cast<double>(received() * payload_bytes_);
  combine_traffic_.logical_intra =
      static_cast<double>(received() * combine_payload_bytes(c_.hidden));
  // The combine records' headers (the partials are written by the caller through partial()).
  combine_send_.resize(received() * combine_bytes_);
  for (std::size_t i = 0; i < received(); ++i) {
    write_int(combine_send_.data() + i * combine_bytes_, record(i).token);
    write_int(combine_send_.data() + i * combine_bytes_ + 4, 0);
  }
}

void EpExchange::dispatch_flat(const Routing& mine, const std::byte* payloads) {
  const int ranks = world_.size();
  std::vector<int> dest(static_cast<std::size_t>(c_.top_k));
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks), 0);
  auto rank_of = [&](int e) { return rank_of_expert(c_, ranks, e); };
  for (int t = 0; t < mine.tokens; ++t) {
    const int n = distinct(mine, t, rank_of, dest.data());
    for (int i = 0; i < n; ++i) ++counts[static_cast<std::size_t>(dest[i])];
  }
  Stage& s = *flat_;
  s.plan_send(counts, record_bytes_);
  std::vector<std::size_t> fill(counts.size(), 0);
  for (int t = 0; t < mine.tokens; ++t) {
    const int n = distinct(mine, t, rank_of, dest.data());
    for (int i = 0; i < n; ++i) {
      const auto d = static_cast<std::size_t>(dest[i]);
      write_record(s.send.data() + (s.send_displs[d] + fill[d]++) * record_bytes_, mine, t,
                   payloads);
    }
  }
  s.exchange(world_, record_bytes_);
  const std::size_t cp = combine_payload_bytes(c_.hidden);
  for (int d = 0; d < ranks; ++d) {
    if (d == world_.rank()) continue;
    const bool remote = layout_.node_of_rank[d] != layout_.node;
    const double sent = static_cast<double>(s.send_counts[d]);
    const double got = static_cast<double>(s.recv_counts[d]);  // combine sends these back
    (remote ? dispatch_traffic_.payload.network : dispatch_traffic_.payload.intra) +=
        sent * static_cast<double>(payload_bytes_);
    (remote ? dispatch_traffic_.wire.network : dispatch_traffic_.wire.intra) +=
        sent * static_cast<double>(record_bytes_);
    (remote ? combine_traffic_.payload.network : combine_traffic_.payload.intra) +=
        got * static_cast<double>(cp);
    (remote ? combine_traffic_.wire.network : combine_traffic_.wire.intra) +=
        got * static_cast<double>(combine_bytes_);
  }
}

void EpExchange::dispatch_hierarchical(const Routing& mine, const std::byte* payloads) {
  const int ranks = world_.size();
  auto node_of = [&](int e) { return layout_.node_of_rank[rank_of_expert(c_, ranks, e)]; };
  auto rank_of = [&](int e) { return rank_of_expert(c_, ranks, e); };
  std::vector<int> dest(static_cast<std::size_t>(c_.top_k));

  // Stage 1: one copy per other destination node, to the rank with this local index there.
  Stage& s1 = *rail_stage_;
  std::vector<std::size_t> counts(static_cast<std::size_t>(layout_.num_nodes), 0);
  std::size_t own = 0;
  for (int t = 0; t < mine.tokens; ++t) {
    const int n = distinct(mine, t, node_of, dest.data());
    for (int i = 0; i < n; ++i)
      dest[i] == layout_.node ? ++own : ++counts[static_cast<std::size_t>(dest[i])];
  }
  s1.plan_send(counts, record_bytes_);
  own_records_.resize(own * record_bytes_);
  std::vector<std::size_t> fill(counts.size(), 0);
  std::size_t own_fill = 0;
  for (int t = 0; t < mine.tokens; ++t) {
    const int n = distinct(mine, t, node_of, dest.data());
    for (int i = 0; i < n; ++i) {
      const auto d = static_cast<std::size_t>(dest[i]);
      std::byte* slot = dest[i] == layout_.node
                            ? own_records_.data() + own_fill++ * record_bytes_
                            : s1.send.data() + (s1.send_displs[d] + fill[d]++) * record_bytes_;
      write_record(slot, mine, t, payloads);
    }
  }
  s1.exchange(*rail_, record_bytes_);

  // Stage 2: every record held for this node goes to the local ranks holding its experts.
  held_.clear();
  for (std::size_t i = 0; i < own; ++i) held_.push_back(own_records_.data() + i * record_bytes_);
  held_own_ = own;
  for (std::size_t i = 0; i < s1.received; ++i) held_.push_back(s1.recv.data() + i * record_bytes_);
  Stage& s2 = *node_stage_;
  const int local = layout_.ranks_per_node[static_cast<std::size_t>(layout_.node)];
  std::vector<std::size_t> local_counts(static_cast<std::size_t>(local), 0);
  auto for_each_forward = [&](auto&& fn) {
    for (std::size_t h = 0; h < held_.size(); ++h) {
      int seen_n = 0;
      for (int j = 0; j < c_.top_k; ++j) {
        const int e = read_int(held_[h] + 8 + 4 * j);
        const int r = rank_of(e);
        if (layout_.node_of_rank[r] != layout_.node) continue;
        if (std::find(dest.begin(), dest.begin() + seen_n, r) != dest.begin() + seen_n) continue;
        dest[static_cast<std::size_t>(seen_n++)] = r;
        fn(h, layout_.local_rank_of_rank[r]);
      }
    }
  };
  for_each_forward([&](std::size_t, int l) { ++local_counts[static_cast<std::size_t>(l)]; });
  s2.plan_send(local_counts, record_bytes_);
  forward_origin_.assign(s2.sent, 0);
  std::vector<std::size_t> local_fill(local_counts.size(), 0);
  for_each_forward([&](std::size_t h, int l) {
    const auto d = static_cast<std::size_t>(l);
    const std::size_t slot = s2.send_displs[d] + local_fill[d]++;
    std::memcpy(s2.send.data() + slot * record_bytes_, held_[h], record_bytes_);
    forward_origin_[slot] = h;
  });
  s2.exchange(*node_, record_bytes_);

  const double p = static_cast<double>(payload_bytes_), r = static_cast<double>(record_bytes_);
  const double cp = static_cast<double>(combine_payload_bytes(c_.hidden));
  const double cr = static_cast<double>(combine_bytes_);
  const double s1_sent = static_cast<double>(s1.sent), s1_got = static_cast<double>(s1.received);
  dispatch_traffic_.payload.network = s1_sent * p;
  dispatch_traffic_.wire.network = s1_sent * r;
  combine_traffic_.payload.network = s1_got * cp;
  combine_traffic_.wire.network = s1_got * cr;
  for (int l = 0; l < local; ++l) {
    if (l == layout_.local_rank) continue;
    const double sent = static_cast<double>(s2.send_counts[static_cast<std::size_t>(l)]);
    const double got = static_cast<double>(s2.recv_counts[static_cast<std::size_t>(l)]);
    dispatch_traffic_.payload.intra += sent * p;
    dispatch_traffic_.wire.intra += sent * r;
    combine_traffic_.payload.intra += got * cp;
    combine_traffic_.wire.intra += got * cr;
  }
}

std::size_t EpExchange::received() const {
  return hierarchical_ ? node_stage_->received : flat_->received;
}

RecordView EpExchange::record(std::size_t i) const {
  const std::byte* p = (hierarchical_ ? node_stage_->recv : flat_->recv).data() + i * record_bytes_;
  const auto k = static_cast<std::size_t>(c_.top_k);
  RecordView v;
  v.source_rank = read_int(p);
  v.token = read_int(p + 4);
  v.experts = reinterpret_cast<const int*>(p + 8);
  v.weights = reinterpret_cast<const float*>(p + 8 + 4 * k);
  v.payload = p + 8 + 8 * k;
  return v;
}

std::uint16_t* EpExchange::partial(std::size_t i) {
  return reinterpret_cast<std::uint16_t*>(combine_send_.data() + i * combine_bytes_ + 8);
}

void EpExchange::combine(float* out) {
  std::fill(out, out + static_cast<std::size_t>(tokens_) * c_.hidden, 0.0f);
  hierarchical_ ? combine_hierarchical(out) : combine_flat(out);
}

void EpExchange::combine_flat(float* out) {
  flat_->reverse(world_, combine_send_, combine_recv_, combine_bytes_);
  for (std::size_t i = 0; i < flat_->sent; ++i) {
    const std::byte* rec = combine_recv_.data() + i * combine_bytes_;
    add_bf16(rec + 8, c_.hidden, out + static_cast<std::size_t>(read_int(rec)) * c_.hidden);
  }
}

void EpExchange::combine_hierarchical(float* out) {
  const auto h = static_cast<std::size_t>(c_.hidden);
  // Stage 2 back: each forwarded copy's partial returns to this rank; sum per held record.
  node_stage_->reverse(*node_, combine_send_, combine_recv_, combine_bytes_);
  node_sum_.assign(held_.size() * h, 0.0f);
  for (std::size_t slot = 0; slot < node_stage_->sent; ++slot)
    add_bf16(combine_recv_.data() + slot * combine_bytes_ + 8, c_.hidden,
             node_sum_.data() + forward_origin_[slot] * h);
  // This rank's own tokens: their node sum is already here.
  for (std::size_t i = 0; i < held_own_; ++i) {
    const float* sum = node_sum_.data() + i * h;
    float* dst = out + static_cast<std::size_t>(read_int(held_[i] + 4)) * h;
    for (std::size_t j = 0; j < h; ++j) dst[j] += sum[j];
  }
  // Stage 1 back: one BF16 node sum per token that crossed the network.
  const std::size_t remote = held_.size() - held_own_;
  rail_back_send_.resize(remote * combine_bytes_);
  for (std::size_t i = 0; i < remote; ++i) {
    std::byte* rec = rail_back_send_.data() + i * combine_bytes_;
    write_int(rec, read_int(held_[held_own_ + i] + 4));
    write_int(rec + 4, 0);
    const float* sum = node_sum_.data() + (held_own_ + i) * h;
    for (std::size_t j = 0; j < h; ++j) {
      const std::uint16_t b = num::encode_bf16(sum[j]);
      std::memcpy(rec + 8 + 2 * j, &b, 2);
    }
  }
  rail_stage_->reverse(*rail_, rail_back_send_, rail_back_recv_, combine_bytes_);
  for (std::size_t i = 0; i < rail_stage_->sent; ++i) {
    const std::byte* rec = rail_back_recv_.data() + i * combine_bytes_;
    add_bf16(rec + 8, c_.hidden, out + static_cast<std::size_t>(read_int(rec)) * h);
  }
}

}  // namespace cobench::coll::ep
