// SPDX-License-Identifier: Apache-2.0
// Deterministic fixtures for the tracking tests: results runs with known answers, noise from a
// splitmix64 generator and Box-Muller (the same numbers with every standard library).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/results.h"
#include "core/results_io.h"

namespace cobench::test {

/// Standard-normal numbers from a seed.
class Noise {
 public:
  explicit Noise(std::uint64_t seed) : state_(seed) {}
  double uniform() {  // in (0, 1)
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (static_cast<double>(z >> 11) + 0.5) / 9007199254740992.0;
  }
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

/// A run header that validates; `cpu` is the sysinfo CPU model, `gpus` the CUDA device names.
inline results::RunHeader fixture_header(const std::string& utc, const std::string& commit,
                                         const std::string& cpu = "AMD EPYC 9654",
                                         const std::vector<std::string>& gpus = {"NVIDIA H200"}) {
  results::RunHeader h;
  h.cobench_version = "0.1.0";
  h.git_commit = commit;
  h.utc_time = utc;
  h.host = "node-1";
  h.command_line = {"fixture"};
  h.build_type = "Release";
  nlohmann::json cuda = nlohmann::json::array();
  for (std::size_t i = 0; i < gpus.size(); ++i) cuda.push_back({{"index", i}, {"name", gpus[i]}});
  h.sysinfo = {{"cpu", {{"model", cpu}, {"vendor", "AuthenticAMD"}}}, {"cuda_devices", cuda}};
  return h;
}

/// A record with one metric.
inline results::Record fixture_record(const std::string& suite, const std::string& benchmark,
                                      const std::string& metric, const std::string& unit,
                                      std::vector<double> values,
                                      results::Verification v = results::Verification::kPassed) {
  results::Record r;
  r.suite = suite;
  r.benchmark = benchmark;
  r.metrics.push_back({metric, unit, std::move(values), std::nullopt});
  r.verification = v;
  return r;
}

/// `n` repetitions around `center` with relative noise `rel` (standard deviation).
inline std::vector<double> noisy(double center, double rel, int n, Noise& noise) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(center * (1 + rel * noise.normal()));
  return v;
}

/// The UTC time of run `i` of a history: one a day from 2026-11-01 (i < 28 * 24).
inline std::string run_time(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-11-%02dT%02d:00:00Z", 1 + i / 24, i % 24);
  return buf;
}

/// A history of `runs` runs of one benchmark (suite "gemm", "BM_Step", metric "time", 5
/// repetitions each with `rel_noise` relative noise) whose time grows by `step` from run
/// `step_at` on; written to `dir` as results files, one per run.
inline std::vector<std::filesystem::path> write_history(const std::filesystem::path& dir, int runs,
                                                        int step_at, double step, double rel_noise,
                                                        std::uint64_t seed) {
  std::filesystem::create_directories(dir);
  Noise noise(seed);
  std::vector<std::filesystem::path> files;
  for (int i = 0; i < runs; ++i) {
    results::Results r;
    r.run = fixture_header(run_time(i), "c" + std::to_string(1000 + i));
    const double center = 1e-3 * (i >= step_at ? 1 + step : 1.0);
    r.records.push_back(
        fixture_record("gemm", "BM_Step", "time", "s", noisy(center, rel_noise, 5, noise)));
    const auto path = dir / results::default_file_name(r.run, "quick");
    results::write(path, r);
    files.push_back(path);
  }
  return files;
}

}  // namespace cobench::test
