// SPDX-License-Identifier: Apache-2.0
// The finite field GF(q), q = p^n a prime power (up to kMaxGaloisOrder), for the Slim Fly's
// MMS graph (direct_network.h). Elements are 0 .. q - 1: the base-p digits of an element are
// the coefficients of a polynomial over GF(p) of degree < n; addition is digit-wise mod p and
// multiplication is polynomial multiplication modulo a monic irreducible polynomial of degree n
// (the first, in the order of their base-p codes, that makes the product table free of zero
// divisors: that property is what irreducibility means for a product modulo f). 0 and 1 are
// the field's zero and one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cobench::topo {

inline constexpr std::int32_t kMaxGaloisOrder = 256;

class GaloisField {
 public:
  /// Throws cobench::Error when q is not a prime power in 2 .. kMaxGaloisOrder.
  explicit GaloisField(std::int32_t q);

  std::int32_t order() const { return q_; }
  std::int32_t characteristic() const { return p_; }
  std::int32_t add(std::int32_t a, std::int32_t b) const { return add_[index(a, b)]; }
  std::int32_t mul(std::int32_t a, std::int32_t b) const { return mul_[index(a, b)]; }
  std::int32_t neg(std::int32_t a) const { return neg_[static_cast<std::size_t>(a)]; }
  std::int32_t sub(std::int32_t a, std::int32_t b) const { return add(a, neg(b)); }
  /// The smallest element whose powers are every nonzero element.
  std::int32_t primitive() const { return primitive_; }
  /// primitive()^e for e >= 0.
  std::int32_t power_of_primitive(std::int64_t e) const;

 private:
  std::size_t index(std::int32_t a, std::int32_t b) const {
    return static_cast<std::size_t>(a) * static_cast<std::size_t>(q_) + static_cast<std::size_t>(b);
  }
  std::int32_t q_ = 0, p_ = 0, primitive_ = 0;
  std::vector<std::int32_t> add_, mul_, neg_;
};

/// p when q = p^n for a prime p and n >= 1; 0 otherwise.
std::int32_t prime_power_base(std::int64_t q);

}  // namespace cobench::topo
