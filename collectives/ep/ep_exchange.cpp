// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_exchange.h"

#include <algorithm>

#include "collectives/ep/ep_flat_exchange.h"
#include "collectives/ep/ep_hierarchical_exchange.h"
#include "core/error.h"

namespace cobench::coll::ep {

std::string_view data_path(MemoryKind k) {
  return k == MemoryKind::kDevice ? "host-staged pack, device all-to-all-v"
                                  : "host pack, host all-to-all-v";
}

EpExchange::EpExchange(const EpConfig& c, Communicator& world, const NodeLayout& layout)
    : c_(c),
      world_(world),
      layout_(layout),
      dispatch_record_(c),
      combine_record_(c),
      traffic_(c, layout) {
  validate(c_, world.size());
  COBENCH_CHECK(static_cast<int>(layout.node_of_rank.size()) == world.size(),
                "the node layout must cover every rank");
}

EpExchange::~EpExchange() = default;

void EpExchange::write_record(std::byte* dst, const Routing& mine, int t,
                              const std::byte* payloads) const {
  dispatch_record_.write(dst, world_.rank(), t, mine.experts_of(t), mine.weights_of(t),
                         payloads + dispatch_record_.payload_bytes() * static_cast<std::size_t>(t));
}

void EpExchange::add_returned(const std::byte* recs, std::size_t n, float* out) const {
  const std::size_t bytes = combine_record_.bytes();
  for (std::size_t i = 0; i < n; ++i) {
    const std::byte* rec = recs + i * bytes;
    combine_record_.add_values(
        rec, out + static_cast<std::size_t>(CombineRecordLayout::token(rec)) * c_.hidden);
  }
}

void EpExchange::dispatch(const Routing& mine, const std::byte* payloads) {
  COBENCH_CHECK(mine.top_k == c_.top_k, "the routing's top_k differs from the configuration");
  tokens_ = mine.tokens;
  traffic_.start(mine);
  dispatch_times_ = dispatch_records(mine, payloads, traffic_);
  traffic_.finish(received());
  // The combine records' headers (the partials are written by the caller through set_partial()).
  combine_send_.resize(received() * combine_record_.bytes());
  for (std::size_t i = 0; i < received(); ++i)
    CombineRecordLayout::write_header(combine_send_.data() + i * combine_record_.bytes(),
                                      record(i).token);
}

std::size_t EpExchange::received() const { return delivery().received; }

RecordView EpExchange::record(std::size_t i) const {
  return dispatch_record_.view(delivery().recv.data() + i * dispatch_record_.bytes());
}

void EpExchange::set_partial(std::size_t i, const float* values) {
  COBENCH_CHECK(i < received(), "set_partial: no such received record");
  combine_record_.write_values(combine_send_.data() + i * combine_record_.bytes(), values);
}

void EpExchange::combine(float* out) {
  std::fill(out, out + static_cast<std::size_t>(tokens_) * c_.hidden, 0.0f);
  combine_times_ = combine_records(combine_send_, out);
}

std::unique_ptr<EpExchange> make_ep_exchange(const EpConfig& c, Communicator& world,
                                             const NodeLayout& layout, bool hierarchical) {
  if (hierarchical) return std::make_unique<HierarchicalExchange>(c, world, layout);
  return std::make_unique<FlatExchange>(c, world, layout);
}

}  // namespace cobench::coll::ep
