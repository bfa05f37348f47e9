// SPDX-License-Identifier: Apache-2.0
// Device memory bandwidth, STREAM-style, over three arrays of doubles in GPU memory, initialized
// on the device a[i] = i mod 1021, b[i] = i mod 997 (as kernels/memory/host_stream.h). Kernels are
// grid-stride loops over 16-byte vectors (double2), four independent vectors per thread and
// iteration; the operations and the bytes each counts per element (STREAM's counting):
//   read   sum += a[i]              8   (one partial sum per block, added up on the host)
//   write  c[i] = 3                 8
//   copy   c[i] = a[i]              16
//   triad  c[i] = a[i] + 3 b[i]     24
// Every pass can be verified: the read's sum against its closed form (exact: integers below
// 2^53), and every element the others wrote by a device kernel that counts mismatches. The
// theoretical peak is the memory clock x the bus width x 2 (double data rate), from the device's
// attributes. Bandwidths are decimal: 1 GB/s = 1e9 B/s. C++17 (the .cu file includes it).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/memory/host_stream.h"

namespace cobench::memory::cuda {

/// sum_{i < n} (i mod 1021): what a read pass over n elements returns.
std::int64_t expected_read_sum(std::int64_t n);

/// memory_clock_khz x 1e3 x 2 x bus_width_bits / 8, in B/s (decimal).
double theoretical_peak_bytes_per_s(double memory_clock_khz, double bus_width_bits);

struct DevicePeakBandwidth {
  double bytes_per_s = 0;  ///< 0 when the device does not report its memory clock or bus width
  std::string how;         ///< "2619 MHz x 5120 bit x 2 (theoretical, device attributes)"
};

/// The current device's theoretical memory bandwidth.
DevicePeakBandwidth device_peak_bandwidth();

enum class StreamArray { kA, kB, kC };

class DeviceStream {
 public:
  /// `bytes_per_array` rounded down to a whole number of 16-byte vectors (at least one).
  explicit DeviceStream(std::size_t bytes_per_array);
  ~DeviceStream();
  DeviceStream(const DeviceStream&) = delete;
  DeviceStream& operator=(const DeviceStream&) = delete;

  /// Launches one pass of `op` on `stream` (no synchronization); throws cobench::Error.
  void run(StreamOp op, cudaStream_t stream = nullptr);
  /// Fills the destination array and the read's partial sums with NaN, so the next verify()
  /// checks what the next pass wrote, not what an earlier one left.
  void clear_results();
  /// Waits for the device and checks the last pass of `op`: "" or what was wrong.
  std::string verify(StreamOp op) const;
  /// Bytes one pass of `op` counts (elements x stream_bytes_per_element).
  std::int64_t bytes_per_pass(StreamOp op) const;
  std::int64_t elements() const { return n_; }
  /// The grid of `op`'s kernel: SMs x the blocks of it that fit on one SM at once (one wave).
  int blocks(StreamOp op) const { return blocks_[static_cast<int>(op)]; }

  /// Overwrites element i of an array (tests use it to check that verify() catches it).
  void set_element(StreamArray array, std::int64_t i, double value);

 private:
  std::int64_t n_ = 0;            // elements per array, even
  int blocks_[4] = {1, 1, 1, 1};  // by StreamOp
  int sm_blocks_ = 1;             // init and check kernels: SMs x kBlocksPerSm
  double *a_ = nullptr, *b_ = nullptr, *c_ = nullptr;
  double* partial_ = nullptr;               // [blocks(kRead)]: the read pass's per-block sums
  unsigned long long* mismatch_ = nullptr;  // [2]: count, first index
};

}  // namespace cobench::memory::cuda
