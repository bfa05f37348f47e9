// SPDX-License-Identifier: Apache-2.0
// A test double of a device-memory backend over a host one (MPI): memory_kind() is kDevice, and
// allocate() returns a pointer whose host view is poison (0xA5 bytes) that never holds the data.
// The data lives in a separate shadow block that only copy_from_host, copy_to_host and the data
// plane's all_to_all/all_to_allv reach (translating the pointer). Code that reads a buffer it got
// from allocate() directly sees poison; code that writes into one loses the write (and release()
// counts it); a pointer not from allocate() passed to the data plane throws. Copies are counted.
// Split communicators share the memory, as ranks of one GPU do.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/collectives/forwarding_communicator.h"

namespace cobench::coll::test {

struct FakeDeviceMemory {
  static constexpr unsigned char kPoison = 0xA5;
  struct Block {
    std::unique_ptr<std::byte[]> host_view;  ///< what allocate() returned: poison only
    std::vector<std::byte> data;             ///< the "device" contents
  };
  std::map<const std::byte*, Block> blocks;  ///< by the pointer allocate() returned
  std::int64_t copies_in = 0, copies_out = 0, bytes_in = 0, bytes_out = 0, synchronizes = 0;
  std::int64_t written_host_views = 0;  ///< blocks released with their host view written to
  bool flip = false;  ///< flip a received byte in every byte all_to_allv (this process's)

  /// The shadow bytes of [p, p + bytes), which must lie in one allocated block.
  std::byte* data_of(const void* p, std::size_t bytes) {
    const auto* b = static_cast<const std::byte*>(p);
    auto it = blocks.upper_bound(b);
    COBENCH_CHECK(it != blocks.begin(), "a pointer the fake device did not allocate");
    --it;
    const auto offset = static_cast<std::size_t>(b - it->first);
    COBENCH_CHECK(offset + bytes <= it->second.data.size(),
                  "a range outside the fake device's allocation");
    return it->second.data.data() + offset;
  }
};

class FakeDeviceCommunicator final : public ForwardingCommunicator {
 public:
  FakeDeviceCommunicator(Communicator& inner, std::shared_ptr<FakeDeviceMemory> memory,
                         std::unique_ptr<Communicator> owned = nullptr)
      : ForwardingCommunicator(inner), mem_(std::move(memory)), owned_(std::move(owned)) {}

  MemoryKind memory_kind() const override { return MemoryKind::kDevice; }

  void* allocate(std::size_t bytes) override {
    FakeDeviceMemory::Block b;
    b.host_view = std::make_unique<std::byte[]>(std::max<std::size_t>(bytes, 1));
    std::memset(b.host_view.get(), FakeDeviceMemory::kPoison, std::max<std::size_t>(bytes, 1));
    b.data.assign(bytes, std::byte{0x3C});  // "uninitialized" device memory, not the poison
    std::byte* p = b.host_view.get();
    mem_->blocks.emplace(p, std::move(b));
    return p;
  }
  void release(void* p) noexcept override {
    const auto it = mem_->blocks.find(static_cast<const std::byte*>(p));
    if (it == mem_->blocks.end()) return;
    const std::size_t n = std::max<std::size_t>(it->second.data.size(), 1);
    for (std::size_t i = 0; i < n; ++i)
      if (it->second.host_view[i] != std::byte{FakeDeviceMemory::kPoison}) {
        ++mem_->written_host_views;
        break;
      }
    mem_->blocks.erase(it);
  }
  void copy_from_host(void* d, const void* s, std::size_t b) override {
    if (b != 0) std::memcpy(mem_->data_of(d, b), s, b);
    ++mem_->copies_in;
    mem_->bytes_in += static_cast<std::int64_t>(b);
  }
  void copy_to_host(void* d, const void* s, std::size_t b) override {
    if (b != 0) std::memcpy(d, mem_->data_of(s, b), b);
    ++mem_->copies_out;
    mem_->bytes_out += static_cast<std::int64_t>(b);
  }
  void all_to_all(const void* s, void* r, std::size_t n, DataType t) override {
    const std::size_t bytes = n * size_of(t) * static_cast<std::size_t>(size());
    in_.all_to_all(mem_->data_of(s, bytes), mem_->data_of(r, bytes), n, t);
  }
  void all_to_allv(const void* s, const std::vector<std::size_t>& sc,
                   const std::vector<std::size_t>& sd, void* r, const std::vector<std::size_t>& rc,
                   const std::vector<std::size_t>& rd, DataType t) override {
    std::size_t send_end = 0, recv_end = 0;
    for (std::size_t p = 0; p < sc.size(); ++p) send_end = std::max(send_end, sd[p] + sc[p]);
    for (std::size_t p = 0; p < rc.size(); ++p) recv_end = std::max(recv_end, rd[p] + rc[p]);
    std::byte* recv = mem_->data_of(r, recv_end * size_of(t));
    in_.all_to_allv(mem_->data_of(s, send_end * size_of(t)), sc, sd, recv, rc, rd, t);
    std::size_t first = 0;
    while (first < rc.size() && rc[first] == 0) ++first;
    if (mem_->flip && t == DataType::kUInt8 && first < rc.size())
      recv[rd[first] + rc[first] - 1] ^= std::byte{0x40};
  }
  void synchronize() override { ++mem_->synchronizes; }
  // The EP exchange uses none of these: reaching one fails the test loudly.
  void all_reduce(const void*, void*, std::size_t, DataType) override { unused("all_reduce"); }
  void all_gather(const void*, void*, std::size_t, DataType) override { unused("all_gather"); }
  void reduce_scatter(const void*, void*, std::size_t, DataType) override {
    unused("reduce_scatter");
  }
  void send_recv(const void*, int, void*, int, std::size_t, DataType) override {
    unused("send_recv");
  }
  void broadcast(const void*, void*, std::size_t, DataType, int) override { unused("broadcast"); }
  void reduce(const void*, void*, std::size_t, DataType, int) override { unused("reduce"); }
  std::unique_ptr<Communicator> split(int color, int key) override {
    std::unique_ptr<Communicator> sub = in_.split(color, key);
    Communicator& inner = *sub;
    return std::make_unique<FakeDeviceCommunicator>(inner, mem_, std::move(sub));
  }

 private:
  [[noreturn]] static void unused(const char* what) {
    COBENCH_THROW(std::string("the fake device does not implement ") + what);
  }
  std::shared_ptr<FakeDeviceMemory> mem_;
  std::unique_ptr<Communicator> owned_;
};

}  // namespace cobench::coll::test
