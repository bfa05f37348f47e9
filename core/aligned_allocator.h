// SPDX-License-Identifier: Apache-2.0
// An allocator whose storage starts on an Alignment-byte boundary, for host arrays that kernels
// read in whole-cache-line vectors: a 64-byte load at an address 16 mod 64 touches two lines.
#pragma once

#include <cstddef>
#include <limits>
#include <new>
#include <vector>

namespace cobench {

template <class T, std::size_t Alignment>
struct AlignedAllocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = AlignedAllocator<U, Alignment>;
  };
  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U, Alignment>&) noexcept {}  // NOLINT: a rebind

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{Alignment}));
  }
  void deallocate(T* p, std::size_t) noexcept {
    ::operator delete (p, std::align_val_t{Alignment});
  }
  template <class U>
  bool operator==(const AlignedAllocator<U, Alignment>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const AlignedAllocator<U, Alignment>&) const noexcept {
    return false;
  }
};

/// A vector whose data() is a multiple of 64 bytes: it starts on a cache line.
template <class T>
using CacheAlignedVector = std::vector<T, AlignedAllocator<T, 64>>;

}  // namespace cobench
