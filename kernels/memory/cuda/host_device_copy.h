// SPDX-License-Identifier: Apache-2.0
// Host <-> device transfers over PCIe (or NVLink-C2C): host to device (h2d), device to host (d2h)
// and both at once (bidir: one copy each way on two streams, the paper's PCIe contention point),
// from pinned (cudaHostAlloc) or pageable (std::malloc) host buffers, by cudaMemcpyAsync. Each
// side's source holds a pattern both sides can recompute, word i of 64 bits =
// copy_pattern(i, seed) with seed 1 for the host's source and 2 for the device's; destinations
// start zeroed, so a copy that did not happen fails verification. A pass is timed with CUDA
// events from before the first copy to after the last. Bytes counted: the buffer size per
// direction (bidir counts both). Bandwidths are decimal (1 GB/s = 1e9 B/s). Host code (C++20).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cobench::memory::cuda {

enum class CopyDirection { kH2D, kD2H, kBidirectional };
enum class HostMemory { kPinned, kPageable };

const char* copy_direction_name(CopyDirection d);  ///< "h2d", "d2h", "bidir"
const char* host_memory_name(HostMemory h);        ///< "pinned", "pageable"

/// Word i of a source buffer: i x 0x9E3779B97F4A7C15 (a bijection on 64 bits) xor the seed.
constexpr std::uint64_t copy_pattern(std::uint64_t i, std::uint64_t seed) {
  return (i * 0x9E3779B97F4A7C15ull) ^ (seed * 0xD1B54A32D192ED03ull);
}

class HostDeviceCopy {
 public:
  /// Buffers of `bytes` rounded down to whole 8-byte words (at least one); throws cobench::Error.
  HostDeviceCopy(std::size_t bytes, HostMemory host);
  ~HostDeviceCopy();
  HostDeviceCopy(const HostDeviceCopy&) = delete;
  HostDeviceCopy& operator=(const HostDeviceCopy&) = delete;

  /// One pass of `dir`, waited for; its time in seconds (CUDA events).
  double run(CopyDirection dir);
  /// Checks what the last pass of `dir` copied (the device side is downloaded first): "" or what
  /// was wrong.
  std::string verify(CopyDirection dir) const;
  /// Zeroes both destinations, so the next verify() checks what the next pass copied.
  void clear_destinations();
  /// Bytes one pass counts: the buffer size, twice for bidir.
  std::int64_t bytes_per_pass(CopyDirection dir) const;
  std::int64_t bytes() const { return words_ * 8; }
  HostMemory host() const { return host_; }

  /// The destinations (tests corrupt them to check that verify() catches it): the host buffer d2h
  /// writes and the device buffer h2d writes.
  std::uint64_t* host_destination() { return host_out_; }
  void* device_destination() { return device_in_; }

 private:
  std::int64_t words_ = 0;
  HostMemory host_ = HostMemory::kPinned;
  std::uint64_t* host_in_ = nullptr;               // h2d's source, pattern seed 1
  std::uint64_t* host_out_ = nullptr;              // d2h's destination
  void* device_in_ = nullptr;                      // h2d's destination
  void* device_out_ = nullptr;                     // d2h's source, pattern seed 2
  void* streams_[2] = {nullptr, nullptr};          // cudaStream_t
  void* events_[3] = {nullptr, nullptr, nullptr};  // cudaEvent_t: start, second stream done, stop
  void release() noexcept;
};

}  // namespace cobench::memory::cuda
