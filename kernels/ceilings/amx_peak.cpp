// SPDX-License-Identifier: Apache-2.0
#include "kernels/ceilings/amx_peak.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "core/amx.h"
#include "core/error.h"
#include "kernels/ceilings/timed_pass.h"

namespace cobench::ceilings {

AmxPeak measure_amx_peak(std::int64_t steps, int threads) {
  constexpr std::int64_t kMaxSteps = std::int64_t{1} << 21;  // 8 x steps stays below 2^24
  COBENCH_CHECK(
      steps > 0 && steps <= kMaxSteps,
      fmt::format("AMX rounds must be in 1 .. {} (exact sums), got {}", kMaxSteps, steps));
  COBENCH_CHECK(amx_bf16_usable(), "this CPU or OS does not run AMX-BF16 tiles");
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::vector<float>> out(static_cast<size_t>(threads), std::vector<float>(1024));
  const double seconds = detail::timed_pass(
      threads, [&](int t) { detail::amx_peak_rounds(steps, out[static_cast<size_t>(t)].data()); });

  AmxPeak p;
  p.threads = threads, p.seconds = seconds;
  p.flop_per_s = 4.0 * 16 * 16 * 32 * 2 * static_cast<double>(steps) * threads / p.seconds;
  const double per_round[4] = {2, 4, 4, 8};
  for (int t = 0; t < threads && p.error.empty(); ++t)
    for (int i = 0; i < 1024; ++i) {
      const double want = per_round[i / 256] * static_cast<double>(steps);
      const float got = out[static_cast<size_t>(t)][static_cast<size_t>(i)];
      if (static_cast<double>(got) != want) {
        p.error = fmt::format("thread {} accumulator {} element {}: {} where {} was expected", t,
                              i / 256, i % 256, got, want);
        break;
      }
    }
  return p;
}

}  // namespace cobench::ceilings
