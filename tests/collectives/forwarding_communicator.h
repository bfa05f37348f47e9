// SPDX-License-Identifier: Apache-2.0
// A Communicator that forwards every call to another one; tests derive from it to inject faults
// (a corrupted element, a flipped byte) and prove that verification catches them.
#pragma once

#include "collectives/communicator.h"

namespace cobench::coll::test {

class ForwardingCommunicator : public Communicator {
 public:
  explicit ForwardingCommunicator(Communicator& inner) : in_(inner) {}
  int rank() const override { return in_.rank(); }
  int size() const override { return in_.size(); }
  std::string_view backend() const override { return in_.backend(); }
  MemoryKind memory_kind() const override { return in_.memory_kind(); }
  void* allocate(std::size_t b) override { return in_.allocate(b); }
  void release(void* p) noexcept override { in_.release(p); }
  void copy_from_host(void* d, const void* s, std::size_t b) override {
    in_.copy_from_host(d, s, b);
  }
  void copy_to_host(void* d, const void* s, std::size_t b) override { in_.copy_to_host(d, s, b); }
  void all_reduce(const void* s, void* r, std::size_t n, DataType t) override {
    in_.all_reduce(s, r, n, t);
  }
  void all_gather(const void* s, void* r, std::size_t n, DataType t) override {
    in_.all_gather(s, r, n, t);
  }
  void reduce_scatter(const void* s, void* r, std::size_t n, DataType t) override {
    in_.reduce_scatter(s, r, n, t);
  }
  void all_to_all(const void* s, void* r, std::size_t n, DataType t) override {
    in_.all_to_all(s, r, n, t);
  }
  void all_to_allv(const void* s, const std::vector<std::size_t>& sc,
                   const std::vector<std::size_t>& sd, void* r, const std::vector<std::size_t>& rc,
                   const std::vector<std::size_t>& rd, DataType t) override {
    in_.all_to_allv(s, sc, sd, r, rc, rd, t);
  }
  void send_recv(const void* s, int sp, void* r, int rp, std::size_t n, DataType t) override {
    in_.send_recv(s, sp, r, rp, n, t);
  }
  void broadcast(const void* s, void* r, std::size_t n, DataType t, int root) override {
    in_.broadcast(s, r, n, t, root);
  }
  void reduce(const void* s, void* r, std::size_t n, DataType t, int root) override {
    in_.reduce(s, r, n, t, root);
  }
  void synchronize() override { in_.synchronize(); }
  void barrier() override { in_.barrier(); }
  double max_over_ranks(double v) override { return in_.max_over_ranks(v); }
  std::int64_t sum_over_ranks(std::int64_t v) override { return in_.sum_over_ranks(v); }
  std::vector<double> max_over_ranks(const std::vector<double>& v) override {
    return in_.max_over_ranks(v);
  }
  std::vector<std::int64_t> all_gather_values(std::int64_t v) override {
    return in_.all_gather_values(v);
  }
  std::vector<std::string> all_gather_strings(const std::string& s) override {
    return in_.all_gather_strings(s);
  }
  std::unique_ptr<Communicator> split(int c, int k) override { return in_.split(c, k); }

 protected:
  Communicator& in_;
};

}  // namespace cobench::coll::test
