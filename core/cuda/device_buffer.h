// SPDX-License-Identifier: Apache-2.0
// Device memory behind a header that needs no CUDA include: DeviceBuffer<T> owns cudaMalloc'ed
// storage (freed on destruction, also on a throw), copies to and from host vectors. Every call is
// checked: failures throw cobench::Error. A buffer of 0 elements holds no allocation (nullptr).
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace cobench {

namespace detail {
void* device_alloc(std::size_t bytes);
void device_free(void* p) noexcept;
void copy_to_device(void* dst, const void* src, std::size_t bytes);
void copy_to_host(void* dst, const void* src, std::size_t bytes);
void device_zero(void* p, std::size_t bytes);
void device_synchronize();
}  // namespace detail

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n)
      : p_(static_cast<T*>(detail::device_alloc(n * sizeof(T)))), n_(n) {}
  template <class Alloc>
  explicit DeviceBuffer(const std::vector<T, Alloc>& h) : DeviceBuffer(h.size()) {
    upload(h);
  }
  ~DeviceBuffer() { detail::device_free(p_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      detail::device_free(p_);
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return p_; }
  std::size_t size() const { return n_; }
  template <class Alloc>
  void upload(const std::vector<T, Alloc>& h) {
    detail::copy_to_device(p_, h.data(), std::min(h.size(), n_) * sizeof(T));
  }
  std::vector<T> download() const {
    std::vector<T> h(n_);
    detail::copy_to_host(h.data(), p_, n_ * sizeof(T));
    return h;
  }
  void zero() { detail::device_zero(p_, n_ * sizeof(T)); }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace cobench
