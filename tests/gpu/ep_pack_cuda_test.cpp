// SPDX-License-Identifier: Apache-2.0
// The EP pack and combine CUDA kernels (kernels/ep/cuda/) against the host reference, byte for
// byte: tokens with zero, tiny, large and mixed blocks, repeated and unordered slots, tokens with
// no partials. Skips, with the runtime's reason, without a usable device.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/cuda/cuda_check.h"
#include "core/cuda/device_check.h"
#include "core/error.h"
#include "kernels/ep/cuda/ep_pack_cuda.h"
#include "kernels/ep/ep_pack_ref.h"

namespace cobench::ep_kernels {
namespace {

// A device copy of a host vector, freed at the end of the scope.
template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(const std::vector<T>& host) : n_(host.size()) {
    COBENCH_CUDA_CHECK(
        cudaMalloc(reinterpret_cast<void**>(&p_), std::max<std::size_t>(n_, 1) * sizeof(T)));
    if (n_ != 0)
      COBENCH_CUDA_CHECK(cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~DeviceArray() { cudaFree(p_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return p_; }
  std::vector<T> to_host() const {
    std::vector<T> out(n_);
    COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
    if (n_ != 0)
      COBENCH_CUDA_CHECK(cudaMemcpy(out.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return out;
  }

 private:
  T* p_ = nullptr;
  std::size_t n_;
};

// Deterministic values: sin-based, with blocks scaled from 1e-30 to 1e6 and one block all zero.
std::vector<float> token_rows(int tokens, int hidden) {
  std::vector<float> x(static_cast<std::size_t>(tokens) * hidden);
  for (int t = 0; t < tokens; ++t)
    for (int k = 0; k < hidden; ++k) {
      const int block = k / kScaleBlock;
      const float magnitude = std::pow(10.0f, static_cast<float>((t * 7 + block * 5) % 37 - 30));
      x[static_cast<std::size_t>(t) * hidden + k] =
          (t == 1 && block == 2)
              ? 0.0f
              : magnitude * std::sin(0.37f * static_cast<float>(k) + 1.3f * static_cast<float>(t));
    }
  return x;
}

TEST(EpPackCuda, PackIsByteExactWithTheReference) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  const int tokens = 5, hidden = 7168;
  const std::vector<float> x = token_rows(tokens, hidden);
  const std::vector<int> slot_token{3, 0, 1, 1, 4, 2, 0, 3, 4};
  const int slots = static_cast<int>(slot_token.size());
  std::vector<std::byte> want(slots * packed_slot_bytes(hidden));
  pack_fp8_ref(x.data(), tokens, hidden, slot_token.data(), slots, want.data());
  const DeviceArray<float> dx(x);
  const DeviceArray<int> dslots(slot_token);
  const DeviceArray<std::byte> dout(std::vector<std::byte>(want.size(), std::byte{0xEE}));
  cuda::pack_fp8(dx.get(), tokens, hidden, dslots.get(), slot_token.data(), slots, dout.get(),
                 nullptr);
  const std::vector<std::byte> got = dout.to_host();
  std::size_t first_diff = want.size();
  for (std::size_t i = 0; i < want.size() && first_diff == want.size(); ++i)
    if (got[i] != want[i]) first_diff = i;
  EXPECT_EQ(first_diff, want.size()) << "first differing byte";
}

TEST(EpPackCuda, CombineIsBitExactWithTheReference) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
  const int tokens = 7, hidden = 7168;
  const std::vector<int> offsets{0, 3, 3, 11, 12, 12, 20, 28};  // tokens 1 and 4: none
  const int records = offsets.back();
  std::vector<std::uint16_t> partials(static_cast<std::size_t>(records) * hidden);
  for (std::size_t i = 0; i < partials.size(); ++i)
    partials[i] = num::encode_bf16(std::sin(0.001f * static_cast<float>(i)) * 3.0f);
  std::vector<float> weights(static_cast<std::size_t>(records));
  for (int r = 0; r < records; ++r) weights[r] = 0.1f + 0.137f * static_cast<float>(r % 9);
  std::vector<std::uint16_t> want(static_cast<std::size_t>(tokens) * hidden);
  combine_bf16_ref(partials.data(), weights.data(), offsets.data(), tokens, hidden, want.data());
  const DeviceArray<std::uint16_t> dp(partials);
  const DeviceArray<float> dw(weights);
  const DeviceArray<int> doff(offsets);
  const DeviceArray<std::uint16_t> dout(std::vector<std::uint16_t>(want.size(), 0xFFFF));
  cuda::combine_bf16(dp.get(), dw.get(), doff.get(), offsets.data(), tokens, hidden, dout.get(),
                     nullptr);
  const std::vector<std::uint16_t> got = dout.to_host();
  std::size_t diffs = 0;
  for (std::size_t i = 0; i < want.size(); ++i) diffs += got[i] != want[i];
  EXPECT_EQ(diffs, 0u);
}

TEST(EpPackCuda, BadArgumentsAreErrorsBeforeAnyLaunch) {
  // Host-side checks: no device needed.
  const int bad_slot[] = {5};
  EXPECT_THROW(cuda::pack_fp8(nullptr, 2, 256, nullptr, bad_slot, 1, nullptr, nullptr), Error);
  const int offsets[] = {0, 3, 2};
  EXPECT_THROW(cuda::combine_bf16(nullptr, nullptr, nullptr, offsets, 2, 128, nullptr, nullptr),
               Error);
}

}  // namespace
}  // namespace cobench::ep_kernels
