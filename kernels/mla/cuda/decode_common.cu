// SPDX-License-Identifier: Apache-2.0
#include "kernels/mla/cuda/decode_common.h"

#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "core/cuda/cuda_check.h"
#include "core/error.h"

namespace cobench::mla::cuda {
namespace {

constexpr int kThreads = 128;  // one output column each

// The block's `op`-reduction of one value per thread (kThreads threads).
template <class Op>
__device__ float block_reduce(float x, Op op, float* scratch) {
  for (int o = 16; o > 0; o /= 2) x = op(x, __shfl_xor_sync(0xffffffffu, x, o));
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  __syncthreads();  // the scratch's previous use is over
  if (lane == 0) scratch[warp] = x;
  __syncthreads();
  x = scratch[0];
  for (int w = 1; w < kThreads / 32; ++w) x = op(x, scratch[w]);
  return x;
}

// Grid (heads, batch, cols / 128): one (head, sequence)'s splits for 128 output columns. The
// weights are computed once a block (threads over splits); each thread then sums its column over
// the splits with independent loads in flight.
__global__ void __launch_bounds__(kThreads)
    combine_kernel(const float* part_out, const float* part_lse, int heads, int splits, int cols,
                   float* out, float* lse) {
  extern __shared__ float weight[];  // [splits]
  __shared__ float scratch[kThreads / 32];
  const int h = static_cast<int>(blockIdx.x), seq = static_cast<int>(blockIdx.y);
  const int tid = static_cast<int>(threadIdx.x);
  auto row = [&](int s) { return (static_cast<std::size_t>(seq) * splits + s) * heads + h; };
  float top = -INFINITY;
  for (int s = tid; s < splits; s += kThreads) top = fmaxf(top, part_lse[row(s)]);
  top = block_reduce(
      top, [](float a, float b) { return fmaxf(a, b); }, scratch);
  float sum = 0.0f;
  for (int s = tid; s < splits; s += kThreads) sum += __expf(part_lse[row(s)] - top);
  sum = block_reduce(
      sum, [](float a, float b) { return a + b; }, scratch);
  const float total = top + logf(sum);
  for (int s = tid; s < splits; s += kThreads)
    weight[s] = __expf(part_lse[row(s)] - total);  // 0 for an empty split (lse -inf)
  __syncthreads();
  const int j = static_cast<int>(blockIdx.z) * kThreads + tid;
  float o = 0.0f;
#pragma unroll 8
  for (int s = 0; s < splits; ++s) o = fmaf(weight[s], part_out[row(s) * cols + j], o);
  out[(static_cast<std::size_t>(seq) * heads + h) * cols + j] = o;
  if (blockIdx.z == 0 && tid == 0) lse[static_cast<std::size_t>(seq) * heads + h] = total;
}

}  // namespace

void combine_splits(const float* part_out, const float* part_lse, std::int64_t batch,
                    std::int64_t heads, int splits, int cols, float* out, float* lse,
                    cudaStream_t stream) {
  COBENCH_CHECK(splits >= 1 && splits <= kMaxSplits && cols > 0 && cols % kThreads == 0 &&
                    batch >= 1 && batch <= 65535 && heads >= 1,
                fmt::format("combine: need 1 <= splits <= {}, columns a multiple of {}, 1 <= "
                            "batch <= 65535; got {} splits, {} columns, batch {}",
                            kMaxSplits, kThreads, splits, cols, batch));
  const dim3 grid(static_cast<unsigned>(heads), static_cast<unsigned>(batch),
                  static_cast<unsigned>(cols / kThreads));
  combine_kernel<<<grid, kThreads, static_cast<std::size_t>(splits) * sizeof(float), stream>>>(
      part_out, part_lse, static_cast<int>(heads), splits, cols, out, lse);
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

UploadedPagedCache::UploadedPagedCache(const PagedCache& p)
    : pool(p.pool), block_table(p.block_table), lengths(p.lengths.size()) {
  std::vector<std::int32_t> lens;
  for (std::int64_t s = 0; s < p.batch(); ++s) {
    p.check_sequence(s);  // a length past the block table would read outside the pool
    const std::int64_t n = p.lengths[static_cast<size_t>(s)];
    COBENCH_CHECK(n <= INT32_MAX, fmt::format("sequence {} has {} tokens, past int32", s, n));
    lens.push_back(static_cast<std::int32_t>(n));
  }
  lengths.upload(lens);
}

void run_decode_host(const PagedCache& p, const std::vector<float>& q, std::size_t out_count,
                     std::size_t lse_count, std::size_t workspace_bytes, const DecodeLaunch& launch,
                     std::vector<float>& out, std::vector<float>& lse) {
  const UploadedPagedCache cache(p);
  const DeviceBuffer<float> dq(q);
  DeviceBuffer<float> dout(out_count), dlse(lse_count);
  DeviceBuffer<std::uint8_t> work(workspace_bytes);
  launch(cache, dq.get(), dout.get(), dlse.get(), work.get());
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  out = dout.download();
  lse = dlse.download();
}

}  // namespace cobench::mla::cuda
