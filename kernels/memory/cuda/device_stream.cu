// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include <climits>
#include <vector>

#include "core/cuda/cuda_check.h"
#include "core/error.h"
#include "kernels/memory/cuda/device_stream.h"

namespace cobench::memory::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kUnroll = 4;       // independent 16-byte vectors in flight per thread
constexpr int kBlocksPerSm = 8;  // 2048 resident threads per SM on sm_90
constexpr std::int64_t kModA = 1021, kModB = 997;

__device__ std::int64_t global_id() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ std::int64_t grid_stride() { return static_cast<std::int64_t>(gridDim.x) * blockDim.x; }

__global__ void init_kernel(double* a, double* b, double* c, std::int64_t n) {
  for (std::int64_t i = global_id(); i < n; i += grid_stride()) {
    a[i] = static_cast<double>(i % kModA);
    b[i] = static_cast<double>(i % kModB);
    c[i] = 0.0;
  }
}

__global__ void __launch_bounds__(kThreads)
    read_kernel(const double2* __restrict__ a, std::int64_t nv, double* partial) {
  const std::int64_t stride = grid_stride();
  std::int64_t i = global_id();
  double s0 = 0.0, s1 = 0.0;
  for (; i + (kUnroll - 1) * stride < nv; i += kUnroll * stride) {
    double2 v[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) v[k] = a[i + k * stride];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) s0 += v[k].x, s1 += v[k].y;
  }
  for (; i < nv; i += stride) s0 += a[i].x, s1 += a[i].y;
  double s = s0 + s1;
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
  __shared__ double warp_sums[kThreads / 32];
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = s;
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0.0;
    for (int w = 0; w < kThreads / 32; ++w) t += warp_sums[w];
    partial[blockIdx.x] = t;
  }
}

__global__ void __launch_bounds__(kThreads) write_kernel(double2* __restrict__ c, std::int64_t nv) {
  const std::int64_t stride = grid_stride();
  const double2 three = make_double2(3.0, 3.0);
  std::int64_t i = global_id();
  for (; i + (kUnroll - 1) * stride < nv; i += kUnroll * stride)
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) c[i + k * stride] = three;
  for (; i < nv; i += stride) c[i] = three;
}

__global__ void __launch_bounds__(kThreads)
    copy_kernel(const double2* __restrict__ a, double2* __restrict__ c, std::int64_t nv) {
  const std::int64_t stride = grid_stride();
  std::int64_t i = global_id();
  for (; i + (kUnroll - 1) * stride < nv; i += kUnroll * stride) {
    double2 v[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) v[k] = a[i + k * stride];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) c[i + k * stride] = v[k];
  }
  for (; i < nv; i += stride) c[i] = a[i];
}

__device__ double2 triad(double2 a, double2 b) {
  return make_double2(a.x + 3.0 * b.x, a.y + 3.0 * b.y);
}

// No __launch_bounds__: under it ptxas caps this kernel at 32 registers and spills (sm_90a,
// CUDA 13); with 36 (allocated as 40) 6 blocks of 256 threads fit an SM, and the grid is sized
// from the occupancy (DeviceStream's constructor).
__global__ void triad_kernel(const double2* __restrict__ a, const double2* __restrict__ b,
                             double2* __restrict__ c, std::int64_t nv) {
  const std::int64_t stride = grid_stride();
  std::int64_t i = global_id();
  for (; i + (kUnroll - 1) * stride < nv; i += kUnroll * stride) {
    double2 va[kUnroll], vb[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) va[k] = a[i + k * stride], vb[k] = b[i + k * stride];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) c[i + k * stride] = triad(va[k], vb[k]);
  }
  for (; i < nv; i += stride) c[i] = triad(a[i], b[i]);
}

// Counts the elements of c that differ from what `op` writes (closed forms of the inputs) and
// keeps the smallest such index: mismatch[0] count, mismatch[1] first index.
__global__ void check_kernel(const double* c, std::int64_t n, StreamOp op,
                             unsigned long long* mismatch) {
  for (std::int64_t i = global_id(); i < n; i += grid_stride()) {
    const double a = static_cast<double>(i % kModA), b = static_cast<double>(i % kModB);
    const double want = op == StreamOp::kWrite ? 3.0 : op == StreamOp::kCopy ? a : a + 3.0 * b;
    if (c[i] != want) {
      atomicAdd(&mismatch[0], 1ull);
      atomicMin(&mismatch[1], static_cast<unsigned long long>(i));
    }
  }
}

}  // namespace

std::int64_t expected_read_sum(std::int64_t n) {
  const std::int64_t q = n / kModA, r = n % kModA;
  return q * (kModA * (kModA - 1) / 2) + r * (r - 1) / 2;
}

double theoretical_peak_bytes_per_s(double memory_clock_khz, double bus_width_bits) {
  return memory_clock_khz * 1e3 * 2.0 * bus_width_bits / 8.0;
}

DevicePeakBandwidth device_peak_bandwidth() {
  int dev = 0, khz = 0, bits = 0;
  COBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  const cudaError_t clock = cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, dev);
  const cudaError_t width = cudaDeviceGetAttribute(&bits, cudaDevAttrGlobalMemoryBusWidth, dev);
  if (clock != cudaSuccess || width != cudaSuccess || khz <= 0 || bits <= 0) {
    cudaGetLastError();  // an attribute this runtime does not report is not an error here
    return {0.0, "memory clock or bus width not reported by the device"};
  }
  return {theoretical_peak_bytes_per_s(khz, bits),
          fmt::format("{} MHz x {} bit x 2 (theoretical, device attributes)", khz / 1000, bits)};
}

DeviceStream::DeviceStream(std::size_t bytes_per_array)
    : n_(static_cast<std::int64_t>(bytes_per_array / sizeof(double2)) * 2) {
  COBENCH_CHECK(n_ > 0,
                fmt::format("{} bytes per array is less than one 16-byte vector", bytes_per_array));
  int dev = 0, sms = 0;
  COBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  sms = std::max(1, sms);
  sm_blocks_ = sms * kBlocksPerSm;
  // One full wave per kernel: as many blocks as fit on the SMs at once (registers decide; the
  // triad takes more than the others), so no pass ends with a partial second wave.
  const auto wave = [sms](auto kernel) {
    int per_sm = 0;
    COBENCH_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, 0));
    return sms * std::max(1, per_sm);
  };
  blocks_[static_cast<int>(StreamOp::kRead)] = wave(read_kernel);
  blocks_[static_cast<int>(StreamOp::kWrite)] = wave(write_kernel);
  blocks_[static_cast<int>(StreamOp::kCopy)] = wave(copy_kernel);
  blocks_[static_cast<int>(StreamOp::kTriad)] = wave(triad_kernel);
  const std::size_t bytes = static_cast<std::size_t>(n_) * sizeof(double);
  try {
    COBENCH_CUDA_CHECK(cudaMalloc(&a_, bytes));
    COBENCH_CUDA_CHECK(cudaMalloc(&b_, bytes));
    COBENCH_CUDA_CHECK(cudaMalloc(&c_, bytes));
    COBENCH_CUDA_CHECK(
        cudaMalloc(&partial_, static_cast<std::size_t>(blocks(StreamOp::kRead)) * sizeof(double)));
    COBENCH_CUDA_CHECK(cudaMalloc(&mismatch_, 2 * sizeof(unsigned long long)));
    init_kernel<<<sm_blocks_, kThreads>>>(a_, b_, c_, n_);
    COBENCH_CUDA_CHECK(cudaGetLastError());
    COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  } catch (...) {
    for (void* p : {static_cast<void*>(a_), static_cast<void*>(b_), static_cast<void*>(c_),
                    static_cast<void*>(partial_), static_cast<void*>(mismatch_)})
      cudaFree(p);
    throw;
  }
}

DeviceStream::~DeviceStream() {
  cudaFree(a_);  // never throws from a destructor; a failing free leaks at worst
  cudaFree(b_);
  cudaFree(c_);
  cudaFree(partial_);
  cudaFree(mismatch_);
}

void DeviceStream::run(StreamOp op, cudaStream_t stream) {
  const std::int64_t nv = n_ / 2;
  const auto* a = reinterpret_cast<const double2*>(a_);
  const auto* b = reinterpret_cast<const double2*>(b_);
  auto* c = reinterpret_cast<double2*>(c_);
  switch (op) {
    case StreamOp::kRead:
      read_kernel<<<blocks(op), kThreads, 0, stream>>>(a, nv, partial_);
      break;
    case StreamOp::kWrite:
      write_kernel<<<blocks(op), kThreads, 0, stream>>>(c, nv);
      break;
    case StreamOp::kCopy:
      copy_kernel<<<blocks(op), kThreads, 0, stream>>>(a, c, nv);
      break;
    case StreamOp::kTriad:
      triad_kernel<<<blocks(op), kThreads, 0, stream>>>(a, b, c, nv);
      break;
  }
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

void DeviceStream::clear_results() {
  COBENCH_CUDA_CHECK(cudaMemset(c_, 0xFF, static_cast<std::size_t>(n_) * sizeof(double)));
  COBENCH_CUDA_CHECK(cudaMemset(
      partial_, 0xFF, static_cast<std::size_t>(blocks(StreamOp::kRead)) * sizeof(double)));
}

std::string DeviceStream::verify(StreamOp op) const {
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  if (op == StreamOp::kRead) {
    std::vector<double> partial(static_cast<std::size_t>(blocks(StreamOp::kRead)));
    COBENCH_CUDA_CHECK(cudaMemcpy(partial.data(), partial_, partial.size() * sizeof(double),
                                  cudaMemcpyDeviceToHost));
    double sum = 0.0;
    for (double x : partial) sum += x;  // exact: integers below 2^53
    const auto want = static_cast<double>(expected_read_sum(n_));
    return sum == want ? "" : fmt::format("read sum {} where {} was expected", sum, want);
  }
  const unsigned long long start[2] = {0ull, ULLONG_MAX};
  COBENCH_CUDA_CHECK(cudaMemcpy(mismatch_, start, sizeof start, cudaMemcpyHostToDevice));
  check_kernel<<<sm_blocks_, kThreads>>>(c_, n_, op, mismatch_);
  COBENCH_CUDA_CHECK(cudaGetLastError());
  unsigned long long got[2] = {0ull, 0ull};
  COBENCH_CUDA_CHECK(cudaMemcpy(got, mismatch_, sizeof got, cudaMemcpyDeviceToHost));
  if (got[0] == 0) return "";
  double first = 0.0;
  COBENCH_CUDA_CHECK(cudaMemcpy(&first, c_ + got[1], sizeof first, cudaMemcpyDeviceToHost));
  return fmt::format("{}: {} of {} elements wrong, the first at index {} holds {}",
                     stream_op_name(op), got[0], n_, got[1], first);
}

std::int64_t DeviceStream::bytes_per_pass(StreamOp op) const {
  return n_ * stream_bytes_per_element(op);
}

void DeviceStream::set_element(StreamArray array, std::int64_t i, double value) {
  COBENCH_CHECK(i >= 0 && i < n_, fmt::format("element {} is outside [0, {})", i, n_));
  double* base = array == StreamArray::kA ? a_ : array == StreamArray::kB ? b_ : c_;
  COBENCH_CUDA_CHECK(cudaMemcpy(base + i, &value, sizeof value, cudaMemcpyHostToDevice));
}

}  // namespace cobench::memory::cuda
