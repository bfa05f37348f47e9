// SPDX-License-Identifier: Apache-2.0
// GF(p^n) by polynomial arithmetic over GF(p) modulo an irreducible polynomial
// (galois_field.h).
#include "topologies/galois_field.h"

#include <fmt/format.h>

#include "core/error.h"

namespace cobench::topo {
namespace {

// The base-p digits of a (n of them, lowest first).
std::vector<std::int32_t> digits(std::int32_t a, std::int32_t p, std::int32_t n) {
  std::vector<std::int32_t> d(static_cast<size_t>(n));
  for (auto& x : d) x = a % p, a /= p;
  return d;
}

std::int32_t from_digits(const std::vector<std::int32_t>& d, std::int32_t p) {
  std::int32_t a = 0;
  for (size_t i = d.size(); i-- > 0;) a = a * p + d[i];
  return a;
}

// a x b modulo the monic polynomial x^n + f(x) (f's digits given, degree < n), over GF(p).
std::int32_t poly_mul(std::int32_t a, std::int32_t b, const std::vector<std::int32_t>& f,
                      std::int32_t p, std::int32_t n) {
  const std::vector<std::int32_t> da = digits(a, p, n), db = digits(b, p, n);
  std::vector<std::int32_t> prod(static_cast<size_t>(2 * n), 0);
  for (std::int32_t i = 0; i < n; ++i)
    for (std::int32_t j = 0; j < n; ++j)
      prod[static_cast<size_t>(i + j)] = (prod[static_cast<size_t>(i + j)] +
                                          da[static_cast<size_t>(i)] * db[static_cast<size_t>(j)]) %
                                         p;
  // Reduce from the top: x^k = x^(k-n) x^n = -x^(k-n) f(x).
  for (std::int32_t k = 2 * n - 1; k >= n; --k) {
    const std::int32_t c = prod[static_cast<size_t>(k)];
    if (c == 0) continue;
    prod[static_cast<size_t>(k)] = 0;
    for (std::int32_t i = 0; i < n; ++i) {
      auto& t = prod[static_cast<size_t>(k - n + i)];
      t = ((t - c * f[static_cast<size_t>(i)]) % p + p) % p;
    }
  }
  prod.resize(static_cast<size_t>(n));
  return from_digits(prod, p);
}

}  // namespace

std::int32_t prime_power_base(std::int64_t q) {
  if (q < 2) return 0;
  std::int64_t p = 2;
  while (p * p <= q && q % p != 0) ++p;
  if (q % p != 0) return static_cast<std::int32_t>(q);  // q is prime
  while (q % p == 0) q /= p;
  return q == 1 ? static_cast<std::int32_t>(p) : 0;
}

GaloisField::GaloisField(std::int32_t q) : q_(q) {
  p_ = q >= 2 && q <= kMaxGaloisOrder ? prime_power_base(q) : 0;
  if (p_ == 0)
    throw Error(fmt::format("GF({}): expected a prime power from 2 to {}", q, kMaxGaloisOrder));
  std::int32_t n = 0;
  for (std::int32_t v = 1; v < q; v *= p_) ++n;
  const auto qs = static_cast<size_t>(q);
  add_.resize(qs * qs), mul_.resize(qs * qs), neg_.resize(qs);
  for (std::int32_t a = 0; a < q; ++a) {
    const std::vector<std::int32_t> da = digits(a, p_, n);
    std::vector<std::int32_t> dn(da.size());
    for (size_t i = 0; i < da.size(); ++i) dn[i] = (p_ - da[i]) % p_;
    neg_[static_cast<size_t>(a)] = from_digits(dn, p_);
    for (std::int32_t b = 0; b < q; ++b) {
      const std::vector<std::int32_t> db = digits(b, p_, n);
      std::vector<std::int32_t> s(da.size());
      for (size_t i = 0; i < da.size(); ++i) s[i] = (da[i] + db[i]) % p_;
      add_[index(a, b)] = from_digits(s, p_);
    }
  }
  // The first f (lower coefficients, as a base-p code) with no zero divisors modulo x^n + f.
  bool found = false;
  for (std::int32_t code = 0; code < q && !found; ++code) {
    const std::vector<std::int32_t> f = digits(code, p_, n);
    bool field = true;
    for (std::int32_t a = 0; a < q && field; ++a)
      for (std::int32_t b = 0; b < q; ++b) {
        const std::int32_t m = poly_mul(a, b, f, p_, n);
        mul_[index(a, b)] = m;
        if (a != 0 && b != 0 && m == 0) {
          field = false;
          break;
        }
      }
    found = field;
  }
  if (!found) throw Error(fmt::format("GF({}): no irreducible polynomial found", q));
  for (std::int32_t g = 2; g < q && primitive_ == 0; ++g) {
    std::int32_t x = g, order = 1;
    while (x != 1) x = mul(x, g), ++order;
    if (order == q - 1) primitive_ = g;
  }
  if (q == 2) primitive_ = 1;
}

std::int32_t GaloisField::power_of_primitive(std::int64_t e) const {
  std::int32_t x = 1;
  for (std::int64_t i = 0; i < e % (q_ - 1); ++i) x = mul(x, primitive_);
  return x;
}

}  // namespace cobench::topo
