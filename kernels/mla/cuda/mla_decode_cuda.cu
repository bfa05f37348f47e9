// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "core/cuda/cuda_check.h"
#include "core/error.h"
#include "kernels/mla/cuda/mla_decode_cuda.h"
#include "kernels/mla/cuda/mla_split_tc.h"
#include "kernels/numerics/fp8.h"

namespace cobench::mla::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kHeadsPerWarp = 4;
constexpr int kHeadsPerBlock = kWarps * kHeadsPerWarp;  // 32
constexpr int kTileTokens = 16;
static_assert(kTileTokens <= kWarps * 32, "one thread looks up each token of a tile");
constexpr int kQk = static_cast<int>(kQkDims);  // 576 = 18 x 32
constexpr int kV = static_cast<int>(kVDims);    // 512 = 16 x 32
constexpr int kQkPerLane = kQk / 32;
constexpr int kVPerLane = kV / 32;

// Element e (< 576) of a cached token, dequantized.
__device__ float cached_value(const std::uint8_t* tok, int e, bool fp8) {
  if (!fp8 || e >= kLatentDims) {
    // FP8 layout: 512 codes, 4 FP32 scales (16 B), then the RoPE part in BF16.
    const int offset = fp8 ? static_cast<int>(kLatentDims + 16) + 2 * (e - kV) : 2 * e;
    std::uint16_t bits;
    memcpy(&bits, tok + offset, 2);
    return num::decode_bf16(bits);
  }
  float scale;
  memcpy(&scale, tok + kLatentDims + 4 * (e / kFp8ScaleGroup), 4);
  return num::decode_fp8(tok[e], num::Fp8Format::kE4M3) * scale;
}

__device__ float warp_sum(float x) {
  for (int o = 16; o > 0; o /= 2) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

__global__ void __launch_bounds__(kWarps * 32)
    split_kernel(DeviceMlaCache c, const float* q, int heads, float scale, int splits,
                 float* part_out, float* part_lse) {
  __shared__ float kv[kTileTokens][kQk];
  const int split = static_cast<int>(blockIdx.y), seq = static_cast<int>(blockIdx.z);
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int head0 = static_cast<int>(blockIdx.x) * kHeadsPerBlock + warp * kHeadsPerWarp;
  const int len = c.lengths[seq];
  const int per = (len + splits - 1) / splits;
  const int t0 = split * per, t1 = min(len, t0 + per);
  const bool fp8 = c.precision == KvPrecision::kFp8;

  float qr[kHeadsPerWarp][kQkPerLane], acc[kHeadsPerWarp][kVPerLane];
  float m[kHeadsPerWarp], l[kHeadsPerWarp];
  for (int h = 0; h < kHeadsPerWarp; ++h) {
    const bool valid = head0 + h < heads;
    const float* qh = q + (static_cast<std::size_t>(seq) * heads + head0 + h) * kQk;
    for (int i = 0; i < kQkPerLane; ++i) qr[h][i] = valid ? qh[lane + 32 * i] : 0.0f;
    for (int i = 0; i < kVPerLane; ++i) acc[h][i] = 0.0f;
    m[h] = -INFINITY;
    l[h] = 0.0f;
  }
  __shared__ const std::uint8_t* token[kTileTokens];  // the tile's cached tokens in the pool
  for (int base = t0; base < t1; base += kTileTokens) {
    const int n = min(kTileTokens, t1 - base);
    __syncthreads();                          // the previous tile is consumed
    if (static_cast<int>(threadIdx.x) < n) {  // one block-table lookup per token, not per value
      const int pos = base + static_cast<int>(threadIdx.x);
      const std::int64_t page = c.block_table[seq * c.max_pages + pos / c.page_tokens];
      token[threadIdx.x] = c.pool + (page * c.page_tokens + pos % c.page_tokens) * c.token_bytes;
    }
    __syncthreads();
    for (int idx = static_cast<int>(threadIdx.x); idx < n * kQk; idx += kWarps * 32)
      kv[idx / kQk][idx % kQk] = cached_value(token[idx / kQk], idx % kQk, fp8);
    __syncthreads();
    for (int t = 0; t < n; ++t) {
      for (int h = 0; h < kHeadsPerWarp; ++h) {
        float s = 0.0f;
        for (int i = 0; i < kQkPerLane; ++i) s += qr[h][i] * kv[t][lane + 32 * i];
        s = warp_sum(s) * scale;  // the same on every lane: the branch below is warp-uniform
        const float top = fmaxf(m[h], s);
        if (top != m[h]) {  // a new maximum: rescale what was summed (exactly 1 otherwise)
          const float alpha = __expf(m[h] - top);
          l[h] *= alpha;
          for (int i = 0; i < kVPerLane; ++i) acc[h][i] *= alpha;
          m[h] = top;
        }
        const float p = __expf(s - top);  // NaN from a NaN slot: it reaches l and the output
        l[h] += p;
        for (int i = 0; i < kVPerLane; ++i) acc[h][i] = fmaf(p, kv[t][lane + 32 * i], acc[h][i]);
      }
    }
  }
  for (int h = 0; h < kHeadsPerWarp; ++h) {
    if (head0 + h >= heads) continue;
    const std::size_t row = (static_cast<std::size_t>(seq) * splits + split) * heads + head0 + h;
    const bool empty = l[h] == 0.0f;  // a split past the sequence's end
    for (int i = 0; i < kVPerLane; ++i)
      part_out[row * kV + lane + 32 * i] = empty ? 0.0f : acc[h][i] / l[h];
    if (lane == 0) part_lse[row] = empty ? -INFINITY : m[h] + logf(l[h]);
  }
}

constexpr int kCombineThreads = 128;                  // one output column each
constexpr int kCombineChunks = kV / kCombineThreads;  // blocks a (head, sequence)
constexpr int kMaxSplits = 8192;                      // the weights fit in shared memory

// The block's `op`-reduction of one value per thread (kCombineThreads threads).
template <class Op>
__device__ float block_reduce(float x, Op op, float* scratch) {
  for (int o = 16; o > 0; o /= 2) x = op(x, __shfl_xor_sync(0xffffffffu, x, o));
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  __syncthreads();  // the scratch's previous use is over
  if (lane == 0) scratch[warp] = x;
  __syncthreads();
  x = scratch[0];
  for (int w = 1; w < kCombineThreads / 32; ++w) x = op(x, scratch[w]);
  return x;
}

// Grid (heads, batch, 512 / 128): merges one (head, sequence)'s splits for 128 output columns:
// lse = log sum_s exp(lse_s), out = sum_s exp(lse_s - lse) out_s. The split weights are computed
// once a block (threads over splits) into shared memory; each thread then sums its column over
// the splits with independent loads in flight.
__global__ void __launch_bounds__(kCombineThreads)
    combine_kernel(const float* part_out, const float* part_lse, int heads, int splits, float* out,
                   float* lse) {
  extern __shared__ float weight[];  // [splits]
  __shared__ float scratch[kCombineThreads / 32];
  const int h = static_cast<int>(blockIdx.x), seq = static_cast<int>(blockIdx.y);
  const int tid = static_cast<int>(threadIdx.x);
  auto row = [&](int s) { return (static_cast<std::size_t>(seq) * splits + s) * heads + h; };
  float top = -INFINITY;
  for (int s = tid; s < splits; s += kCombineThreads) top = fmaxf(top, part_lse[row(s)]);
  top = block_reduce(
      top, [](float a, float b) { return fmaxf(a, b); }, scratch);
  float sum = 0.0f;
  for (int s = tid; s < splits; s += kCombineThreads) sum += __expf(part_lse[row(s)] - top);
  sum = block_reduce(
      sum, [](float a, float b) { return a + b; }, scratch);
  const float total = top + logf(sum);
  for (int s = tid; s < splits; s += kCombineThreads)
    weight[s] = __expf(part_lse[row(s)] - total);  // 0 for an empty split (lse -inf)
  __syncthreads();
  const int j = static_cast<int>(blockIdx.z) * kCombineThreads + tid;
  float o = 0.0f;
#pragma unroll 8
  for (int s = 0; s < splits; ++s) o = fmaf(weight[s], part_out[row(s) * kV + j], o);
  out[(static_cast<std::size_t>(seq) * heads + h) * kV + j] = o;
  if (blockIdx.z == 0 && tid == 0) lse[static_cast<std::size_t>(seq) * heads + h] = total;
}

// Device memory freed when the scope ends, also on a throw.
struct DeviceBuffer {
  void* ptr = nullptr;
  explicit DeviceBuffer(std::size_t bytes) { COBENCH_CUDA_CHECK(cudaMalloc(&ptr, bytes)); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr);
  }
};

}  // namespace

const char* gpu_kernel_name(GpuKernel k) { return k == GpuKernel::kTensorCore ? "tc" : "simt"; }

std::size_t mla_decode_cuda_workspace_bytes(std::int64_t batch, std::int64_t heads, int splits) {
  return static_cast<std::size_t>(batch * splits * heads * (kV + 1)) * sizeof(float);
}

void mla_decode_cuda(GpuKernel kernel, const DeviceMlaCache& c, const float* q, std::int64_t heads,
                     float scale, int splits, float* out, float* lse, void* workspace,
                     cudaStream_t stream) {
  COBENCH_CHECK(heads >= 1 && splits >= 1 && c.batch >= 1 && c.batch <= 65535,
                "need heads >= 1, splits >= 1 and 1 <= batch <= 65535");
  COBENCH_CHECK(c.token_bytes == token_bytes(c.precision), "token size does not match precision");
  COBENCH_CHECK(splits <= kMaxSplits, fmt::format("at most {} splits", kMaxSplits));
  // One split: its partial is the result (same layout, [batch, 1, heads, ...]); no combine.
  float* part_out = splits == 1 ? out : static_cast<float*>(workspace);
  float* part_lse = splits == 1 ? lse : part_out + c.batch * splits * heads * kV;
  if (kernel == GpuKernel::kTensorCore) {
    launch_split_tc(c, q, static_cast<int>(heads), scale, splits, part_out, part_lse, stream);
  } else {
    // Head groups vary fastest: the blocks reading one split's cache run together (L2 hits).
    const dim3 grid(static_cast<unsigned>((heads + kHeadsPerBlock - 1) / kHeadsPerBlock),
                    static_cast<unsigned>(splits), static_cast<unsigned>(c.batch));
    split_kernel<<<grid, kWarps * 32, 0, stream>>>(c, q, static_cast<int>(heads), scale, splits,
                                                   part_out, part_lse);
    COBENCH_CUDA_CHECK(cudaGetLastError());
  }
  if (splits == 1) return;
  const dim3 grid(static_cast<unsigned>(heads), static_cast<unsigned>(c.batch), kCombineChunks);
  combine_kernel<<<grid, kCombineThreads, static_cast<std::size_t>(splits) * sizeof(float),
                   stream>>>(part_out, part_lse, static_cast<int>(heads), splits, out, lse);
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

void mla_decode_cuda_host(GpuKernel kernel, const MlaCache& c, const std::vector<float>& q,
                          std::int64_t heads, float scale, int splits, std::vector<float>& out,
                          std::vector<float>& lse) {
  const PagedCache& p = c.paged;
  COBENCH_CHECK(static_cast<std::int64_t>(q.size()) == p.batch() * heads * kQkDims,
                "q must be [batch, heads, 576]");
  std::vector<std::int32_t> lengths(p.lengths.begin(), p.lengths.end());
  for (std::int32_t n : lengths) COBENCH_CHECK(n >= 1, "every sequence needs a cached token");
  DeviceBuffer pool(p.pool.size()), table(p.block_table.size() * sizeof(std::int32_t)),
      lens(lengths.size() * sizeof(std::int32_t)), dq(q.size() * sizeof(float)),
      dout(static_cast<std::size_t>(p.batch() * heads * kV) * sizeof(float)),
      dlse(static_cast<std::size_t>(p.batch() * heads) * sizeof(float)),
      work(mla_decode_cuda_workspace_bytes(p.batch(), heads, splits));
  COBENCH_CUDA_CHECK(cudaMemcpy(pool.ptr, p.pool.data(), p.pool.size(), cudaMemcpyHostToDevice));
  COBENCH_CUDA_CHECK(cudaMemcpy(table.ptr, p.block_table.data(),
                                p.block_table.size() * sizeof(std::int32_t),
                                cudaMemcpyHostToDevice));
  COBENCH_CUDA_CHECK(cudaMemcpy(lens.ptr, lengths.data(), lengths.size() * sizeof(std::int32_t),
                                cudaMemcpyHostToDevice));
  COBENCH_CUDA_CHECK(
      cudaMemcpy(dq.ptr, q.data(), q.size() * sizeof(float), cudaMemcpyHostToDevice));
  const DeviceMlaCache dc{c.precision,
                          p.batch(),
                          p.max_pages,
                          p.page_tokens,
                          p.token_bytes,
                          pool.as<std::uint8_t>(),
                          table.as<std::int32_t>(),
                          lens.as<std::int32_t>()};
  mla_decode_cuda(kernel, dc, dq.as<float>(), heads, scale, splits, dout.as<float>(),
                  dlse.as<float>(), work.ptr, nullptr);
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
  out.resize(static_cast<std::size_t>(p.batch() * heads * kV));
  lse.resize(static_cast<std::size_t>(p.batch() * heads));
  COBENCH_CUDA_CHECK(
      cudaMemcpy(out.data(), dout.ptr, out.size() * sizeof(float), cudaMemcpyDeviceToHost));
  COBENCH_CUDA_CHECK(
      cudaMemcpy(lse.data(), dlse.ptr, lse.size() * sizeof(float), cudaMemcpyDeviceToHost));
}

}  // namespace cobench::mla::cuda
