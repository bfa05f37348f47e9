// SPDX-License-Identifier: Apache-2.0
// Host memory bandwidth, STREAM-style, over every core: a pool of worker threads, each pinned to
// a core through hwloc (where hwloc can bind; otherwise unpinned, and pinned() says so), each
// owning a slice of every array that it allocates, binds to its core's NUMA node
// (hwloc_set_area_membind) and first-touches itself, so that the slice lives on the thread's NUMA
// node (by first touch alone where the kernel refuses the binding; placement() says which). Arrays
// of doubles, initialized a[i] = i mod 1021, b[i] = i mod 997; the operations and the bytes each
// counts per element:
//   read   sum += a[i]                8   (4 independent AVX2 sums where the CPU has AVX2)
//   write  w[i] = 3                   8
//   copy   c[i] = a[i]                16  (read + write, as STREAM; mbw counts 8)
//   triad  c[i] = a[i] + 3 b[i]       24
// Write and triad stores bypass the caches (non-temporal, AVX2) where the CPU has AVX2, so no
// read-for-ownership traffic is added. A copy has several ways that differ by CPU (CopyMethod:
// glibc's memcpy, `rep movsb`, an AVX2 loop of non-temporal stores); the first copy pass times
// each (verified, best of two passes) and keeps the fastest, unless one was set. Every pass
// can be verified: the read's sum, and every element the others wrote; clear_outputs() poisons
// the outputs so that a check after timing needs a fresh pass. Bandwidths are decimal: 1 GB/s =
// 1e9 B/s.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cobench::memory {

enum class StreamOp { kRead, kWrite, kCopy, kTriad };

/// How a copy pass moves a slice: glibc's memcpy, x86's `rep movsb`, or an AVX2 loop of aligned
/// loads and non-temporal stores, as write and triad store. Which is fastest differs by CPU (on
/// the Zen 4 VM of docs/mla.md memcpy copied at well under the other two).
enum class CopyMethod { kMemcpy, kRepMovsb, kNonTemporal };
const char* copy_method_name(CopyMethod m);
/// The methods this CPU runs: memcpy everywhere, `rep movsb` on x86-64, non-temporal with AVX2.
std::vector<CopyMethod> copy_methods();

const char* stream_op_name(StreamOp op);
/// Bytes a pass counts per element (8, 8, 16, 24).
std::int64_t stream_bytes_per_element(StreamOp op);

class HostStream {
 public:
  /// `bytes_per_array` rounded down to whole 4 KiB pages per thread; threads <= 0: every core.
  HostStream(std::size_t bytes_per_array, int threads = 0);
  ~HostStream();
  HostStream(const HostStream&) = delete;
  HostStream& operator=(const HostStream&) = delete;

  /// One pass of `op` over the arrays by every thread; returns its wall time in seconds, from the
  /// first thread's start to the last one's end (each thread reads the clock around its slice).
  double run(StreamOp op);
  /// Checks the last pass of `op`; throws nothing, returns an empty string or what was wrong.
  std::string verify(StreamOp op) const;
  /// Poisons every output (c and w to NaN, the read's sums to NaN), each thread its own slice, so
  /// that verify() fails until a pass has written them again: a check after timing then proves
  /// that the kernel still computes, not that an earlier pass once did.
  void clear_outputs();
  /// Bytes one pass of `op` counts (elements x stream_bytes_per_element).
  std::int64_t bytes_per_pass(StreamOp op) const;

  int threads() const;
  std::int64_t elements() const;
  /// "pinned to N of M cores (hwloc)" when every thread's bind succeeded, else why not.
  const std::string& pinned() const;
  /// "memory bound to each worker's NUMA node (N nodes, hwloc)" or "memory placed by first
  /// touch (... why the binding failed)".
  const std::string& placement() const;
  /// "avx2 non-temporal" or "portable" (write, triad, read; copy: copy_choice()).
  const char* kernel() const;

  /// Copy passes from now on use `m` (one of copy_methods(); cobench::Error otherwise).
  void set_copy_method(CopyMethod m);
  /// The method copy passes use; before the first copy pass or set_copy_method, none is chosen
  /// and this is kMemcpy.
  CopyMethod copy_method() const;
  /// How the copy method was chosen: "rep movsb, the fastest of memcpy 11.46, rep movsb 18.07,
  /// avx2 non-temporal 17.63 GB/s copied (best of 2 passes each, verified)" (a method that failed
  /// its verification is named after it, left out), or "memcpy (set)"; empty before the first
  /// copy pass.
  const std::string& copy_choice() const;

 private:
  double pass(StreamOp op);
  void choose_copy_method();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What placement() says after the workers tried to bind their memory: each worker's
/// hwloc_set_area_membind errno (0: bound, -1: not tried for want of a topology), in worker
/// order, on a machine of `numa_nodes` nodes.
std::string describe_placement(int numa_nodes, const std::vector<int>& membind_errno);

/// What pinned() says after the workers tried to bind to `cores` cores: each worker's
/// hwloc_set_cpubind errno (0: bound), in worker order.
std::string describe_pinning(int cores, const std::vector<int>& bind_errno);

/// Best of `passes` all-core read passes over `bytes` (default 512 MiB), in B/s; verified
/// (throws cobench::Error when a pass's sum is wrong).
double measure_read_bandwidth(std::size_t bytes = std::size_t{512} << 20, int passes = 5,
                              int threads = 0);

}  // namespace cobench::memory
