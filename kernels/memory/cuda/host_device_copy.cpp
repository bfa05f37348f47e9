// SPDX-License-Identifier: Apache-2.0
#include "kernels/memory/cuda/host_device_copy.h"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/cuda/cuda_check.h"
#include "core/error.h"

namespace cobench::memory::cuda {
namespace {

constexpr std::uint64_t kHostSeed = 1, kDeviceSeed = 2;
constexpr std::int64_t kChunkWords = std::int64_t{1} << 21;  // 16 MiB staging for the device fill

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }
cudaEvent_t as_event(void* e) { return static_cast<cudaEvent_t>(e); }

// "" when words [0, n) of `got` hold copy_pattern(i + first, seed), else the first mismatch.
std::string check_words(const std::uint64_t* got, std::int64_t n, std::int64_t first,
                        std::uint64_t seed, const char* where) {
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint64_t want = copy_pattern(static_cast<std::uint64_t>(first + i), seed);
    if (got[i] != want)
      return fmt::format("{}: word {} is {:#018x}, expected {:#018x}", where, first + i, got[i],
                         want);
  }
  return "";
}

}  // namespace

const char* copy_direction_name(CopyDirection d) {
  switch (d) {
    case CopyDirection::kH2D:
      return "h2d";
    case CopyDirection::kD2H:
      return "d2h";
    case CopyDirection::kBidirectional:
      return "bidir";
  }
  return "?";
}

const char* host_memory_name(HostMemory h) {
  return h == HostMemory::kPinned ? "pinned" : "pageable";
}

HostDeviceCopy::HostDeviceCopy(std::size_t bytes, HostMemory host)
    : words_(static_cast<std::int64_t>(bytes / 8)), host_(host) {
  COBENCH_CHECK(words_ > 0, fmt::format("{} bytes is less than one 8-byte word", bytes));
  const std::size_t size = static_cast<std::size_t>(words_) * 8;
  try {
    for (std::uint64_t** p : {&host_in_, &host_out_}) {
      if (host == HostMemory::kPinned) {
        COBENCH_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(p), size, cudaHostAllocDefault));
      } else {
        *p = static_cast<std::uint64_t*>(std::malloc(size));
        COBENCH_CHECK(*p != nullptr, fmt::format("cannot allocate {} bytes of host memory", size));
      }
    }
    COBENCH_CUDA_CHECK(cudaMalloc(&device_in_, size));
    COBENCH_CUDA_CHECK(cudaMalloc(&device_out_, size));
    for (void*& s : streams_) {
      cudaStream_t created = nullptr;
      COBENCH_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
      s = created;
    }
    for (void*& e : events_) {
      cudaEvent_t created = nullptr;
      COBENCH_CUDA_CHECK(cudaEventCreate(&created));
      e = created;
    }
    // Sources hold their pattern (every page touched), destinations zeros.
    for (std::int64_t i = 0; i < words_; ++i)
      host_in_[i] = copy_pattern(static_cast<std::uint64_t>(i), kHostSeed);
    std::memset(host_out_, 0, size);
    COBENCH_CUDA_CHECK(cudaMemset(device_in_, 0, size));
    std::vector<std::uint64_t> chunk(static_cast<std::size_t>(std::min(words_, kChunkWords)));
    for (std::int64_t first = 0; first < words_; first += kChunkWords) {
      const std::int64_t n = std::min(kChunkWords, words_ - first);
      for (std::int64_t i = 0; i < n; ++i)
        chunk[static_cast<std::size_t>(i)] =
            copy_pattern(static_cast<std::uint64_t>(first + i), kDeviceSeed);
      COBENCH_CUDA_CHECK(cudaMemcpy(static_cast<std::uint64_t*>(device_out_) + first, chunk.data(),
                                    static_cast<std::size_t>(n) * 8, cudaMemcpyHostToDevice));
    }
    // A pageable cudaMemcpy may return before its DMA lands, and the copies run on non-blocking
    // streams that do not wait for the legacy stream: the fill must be complete before run().
    COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  } catch (...) {
    release();
    throw;
  }
}

HostDeviceCopy::~HostDeviceCopy() { release(); }

void HostDeviceCopy::release() noexcept {
  // Never throws: a failing free or destroy leaks at worst.
  for (void* e : events_)
    if (e) cudaEventDestroy(as_event(e));
  for (void* s : streams_)
    if (s) cudaStreamDestroy(as_stream(s));
  cudaFree(device_in_);
  cudaFree(device_out_);
  for (std::uint64_t* p : {host_in_, host_out_}) {
    if (host_ == HostMemory::kPinned)
      cudaFreeHost(p);
    else
      std::free(p);
  }
  host_in_ = host_out_ = nullptr;
  device_in_ = device_out_ = nullptr;
  for (void*& e : events_) e = nullptr;
  for (void*& s : streams_) s = nullptr;
}

void HostDeviceCopy::clear_destinations() {
  const std::size_t size = static_cast<std::size_t>(words_) * 8;
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  std::memset(host_out_, 0, size);
  COBENCH_CUDA_CHECK(cudaMemset(device_in_, 0, size));
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
}

double HostDeviceCopy::run(CopyDirection dir) {
  const std::size_t size = static_cast<std::size_t>(words_) * 8;
  cudaStream_t s0 = as_stream(streams_[0]), s1 = as_stream(streams_[1]);
  cudaEvent_t start = as_event(events_[0]), second = as_event(events_[1]),
              stop = as_event(events_[2]);
  COBENCH_CUDA_CHECK(cudaEventRecord(start, s0));
  if (dir == CopyDirection::kBidirectional) {
    // Both copies wait for the start event. From pageable memory a device-to-host
    // cudaMemcpyAsync returns only when it has completed (CUDA's synchronization rules), so the
    // host-to-device copy starts after it: pageable bidir is the two copies one after the other,
    // what pageable transfers cost, not two at once (its label says so).
    COBENCH_CUDA_CHECK(cudaStreamWaitEvent(s1, start, 0));
    COBENCH_CUDA_CHECK(cudaMemcpyAsync(host_out_, device_out_, size, cudaMemcpyDeviceToHost, s1));
    COBENCH_CUDA_CHECK(cudaEventRecord(second, s1));
  }
  if (dir == CopyDirection::kD2H)
    COBENCH_CUDA_CHECK(cudaMemcpyAsync(host_out_, device_out_, size, cudaMemcpyDeviceToHost, s0));
  else
    COBENCH_CUDA_CHECK(cudaMemcpyAsync(device_in_, host_in_, size, cudaMemcpyHostToDevice, s0));
  if (dir == CopyDirection::kBidirectional) COBENCH_CUDA_CHECK(cudaStreamWaitEvent(s0, second, 0));
  COBENCH_CUDA_CHECK(cudaEventRecord(stop, s0));
  COBENCH_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0.0f;
  COBENCH_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  return 1e-3 * static_cast<double>(ms);
}

std::string HostDeviceCopy::verify(CopyDirection dir) const {
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  if (dir != CopyDirection::kH2D) {
    const std::string e = check_words(host_out_, words_, 0, kDeviceSeed, "d2h (host buffer)");
    if (!e.empty()) return e;
  }
  if (dir != CopyDirection::kD2H) {
    std::vector<std::uint64_t> chunk(static_cast<std::size_t>(std::min(words_, kChunkWords)));
    for (std::int64_t first = 0; first < words_; first += kChunkWords) {
      const std::int64_t n = std::min(kChunkWords, words_ - first);
      COBENCH_CUDA_CHECK(cudaMemcpy(chunk.data(), static_cast<std::uint64_t*>(device_in_) + first,
                                    static_cast<std::size_t>(n) * 8, cudaMemcpyDeviceToHost));
      const std::string e = check_words(chunk.data(), n, first, kHostSeed, "h2d (device buffer)");
      if (!e.empty()) return e;
    }
  }
  return "";
}

std::int64_t HostDeviceCopy::bytes_per_pass(CopyDirection dir) const {
  return (dir == CopyDirection::kBidirectional ? 2 : 1) * bytes();
}

}  // namespace cobench::memory::cuda
