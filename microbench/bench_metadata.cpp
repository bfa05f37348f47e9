// SPDX-License-Identifier: Apache-2.0
#include "microbench/bench_metadata.h"

#include <fmt/format.h>

#include <mutex>
#include <utility>

#include "core/error.h"

namespace cobench::bench {
namespace {

std::mutex g_mutex;
std::optional<Metadata> g_reported;  // since the last take_reported()

}  // namespace

void report(const benchmark::State& state, Metadata md) {
  if (state.thread_index() != 0) return;
  for (const PeakRef& p : md.peaks)
    COBENCH_CHECK(p.value > 0 && !p.metric.empty(),
                  fmt::format("benchmark metadata: the peak '{}' of metric '{}' is {}; expected "
                              "a positive value for a named metric",
                              p.name, p.metric, p.value));
  COBENCH_CHECK(md.parameters.is_object(), "benchmark metadata: parameters must be an object");
  for (const auto& [k, v] : md.parameters.items())
    COBENCH_CHECK(v.is_number() || v.is_string() || v.is_boolean(),
                  fmt::format("benchmark metadata: parameter '{}' is {}; expected a number, "
                              "string or boolean",
                              k, v.dump()));
  const std::lock_guard lock(g_mutex);
  if (g_reported && g_reported->verdict == Verdict::kFailed && md.verdict != Verdict::kFailed)
    return;  // a failure in one repetition stands
  g_reported = std::move(md);
}

Metadata verified(std::string detail) {
  Metadata md;
  md.verdict = Verdict::kVerified;
  md.detail = std::move(detail);
  return md;
}

Metadata verified_run(benchmark::State& state, const std::string& what, double reference_error,
                      nlohmann::json shape) {
  state.SetLabel("verified: " + what);
  Metadata md = verified(what);
  md.reference_error = reference_error;
  md.parameters = std::move(shape);
  return md;
}

void fail_verification(benchmark::State& state, const std::string& detail) {
  Metadata md;
  md.verdict = Verdict::kFailed;
  md.detail = detail;
  report(state, std::move(md));
  state.SkipWithError(detail.c_str());
}

nlohmann::json to_json(const Metadata& md) {
  nlohmann::json j = nlohmann::json::object();
  if (md.verdict != Verdict::kNotChecked)
    j["verification"] = md.verdict == Verdict::kVerified ? "passed" : "failed";
  if (!md.detail.empty()) j["verification_detail"] = md.detail;
  if (md.reference_error) j["reference_error"] = *md.reference_error;
  if (!md.model_input.empty()) j["model_input"] = md.model_input;
  if (!md.model_metric.empty()) j["model_metric"] = md.model_metric;
  if (!md.parameters.empty()) j["parameters"] = md.parameters;
  if (!md.peaks.empty()) {
    nlohmann::json peaks = nlohmann::json::array();
    for (const PeakRef& p : md.peaks)
      peaks.push_back({{"metric", p.metric}, {"name", p.name}, {"value", p.value}});
    j["peaks"] = peaks;
  }
  return j;
}

namespace detail {
std::optional<Metadata> take_reported() {
  const std::lock_guard lock(g_mutex);
  return std::exchange(g_reported, std::nullopt);
}
}  // namespace detail

}  // namespace cobench::bench
