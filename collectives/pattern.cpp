// SPDX-License-Identifier: Apache-2.0
#include "collectives/pattern.h"

#include <fmt/format.h>

#include <cstring>

#include "collectives/ops/collective_op.h"
#include "core/error.h"

namespace cobench::coll {

void fill_pattern(void* host, std::size_t count, DataType t, std::uint64_t seed, int rank) {
  for (std::size_t i = 0; i < count; ++i) {
    const int v = pattern_value(seed, rank, i);
    switch (t) {
      case DataType::kFloat32:
        static_cast<float*>(host)[i] = static_cast<float>(v);
        break;
      case DataType::kInt32:
        static_cast<std::int32_t*>(host)[i] = v;
        break;
      case DataType::kUInt8:
        COBENCH_THROW("uint8 buffers are not a verified collective type: use float32 or int32");
    }
  }
}

std::vector<double> expected_result(Collective c, std::size_t count, std::uint64_t seed, int rank,
                                    int ranks) {
  return collective_op(c).expected(count, seed, rank, ranks);
}

Mismatch compare(const void* host, DataType t, const std::vector<double>& expected) {
  Mismatch m;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    double got = 0;
    switch (t) {
      case DataType::kFloat32:
        got = static_cast<const float*>(host)[i];
        break;
      case DataType::kInt32:
        got = static_cast<const std::int32_t*>(host)[i];
        break;
      case DataType::kUInt8:
        COBENCH_THROW("uint8 buffers are not a verified collective type: use float32 or int32");
    }
    const double want = expected[i];
    if (got != want) {
      if (m.wrong == 0) {
        m.first = static_cast<std::int64_t>(i);
        m.got = got;
        m.want = want;
      }
      ++m.wrong;
    }
  }
  return m;
}

std::string Mismatch::describe() const {
  if (wrong == 0) return "all elements match";
  return fmt::format("{} elements differ; first at index {}: got {}, expected {}", wrong, first,
                     got, want);
}

}  // namespace cobench::coll
