// SPDX-License-Identifier: Apache-2.0
// Summary statistics of repeated measurements.
#pragma once

#include <span>

namespace cobench {

struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  double stddev = 0;  ///< sample standard deviation (n - 1 in the denominator); 0 for one value
};

/// Summary of `values`; an empty span throws cobench::Error.
Summary summarize(std::span<const double> values);

}  // namespace cobench
