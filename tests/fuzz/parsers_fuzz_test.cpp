// SPDX-License-Identifier: Apache-2.0
// A seeded mutation loop over every parser of cobench's input files (issue 16): cluster, model,
// scenario and perf YAML, Hugging Face config.json, results JSON. Each seed file is mutated (byte
// flips, deletions, duplicated and swapped lines, numeric edge values, very long strings, deep
// nesting, repeated keys, null) and the parser must accept it or refuse it with cobench::Error:
// another exception type, a crash, a sanitizer report or a hang (COBENCH_FUZZ_HANG_SECONDS, 30 s)
// fails, printing the seed and the iteration of the input and writing it to a file. Accepted
// clusters and models also go through topologies::analyze, whose JSON must hold only finite
// numbers and non-negative integers.
//
// Environment: COBENCH_FUZZ_SEED (default 16), COBENCH_FUZZ_ITERATIONS (per parser; the default
// keeps the whole run within seconds), COBENCH_FUZZ_ONLY=I (replay iteration I alone, with
// COBENCH_FUZZ_SEED), COBENCH_FUZZ_OUT (directory for failing inputs, default the temp dir).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <typeinfo>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "core/json_strict.h"
#include "core/results.h"
#include "topologies/analysis.h"
#include "topologies/cluster.h"
#include "topologies/hf_config.h"
#include "topologies/model_arch.h"
#include "topologies/perf_model.h"
#include "topologies/scenario.h"

#if defined(__SANITIZE_ADDRESS__)
#define COBENCH_FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COBENCH_FUZZ_ASAN 1
#endif
#endif
#if defined(COBENCH_FUZZ_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif

namespace {

namespace fs = std::filesystem;
using namespace cobench;

const fs::path kTestData = COBENCH_TEST_DATA_DIR;
const fs::path kRepo = kTestData / ".." / "..";
const fs::path kTopologies = kRepo / "topologies";

// ---------------------------------------------------------------------------------------------
// Settings.

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v, &end, 10);
  if (end == v || *end != '\0') {
    ADD_FAILURE() << name << "='" << v << "' is not a non-negative integer";
    return fallback;
  }
  return x;
}

std::uint64_t fuzz_seed() { return env_u64("COBENCH_FUZZ_SEED", 16); }

/// Iterations per parser: `fallback` unless COBENCH_FUZZ_ITERATIONS is set.
std::uint64_t fuzz_iterations(std::uint64_t fallback) {
  return env_u64("COBENCH_FUZZ_ITERATIONS", fallback);
}

bool sanitized() {
#if defined(COBENCH_FUZZ_ASAN)
  return true;
#else
  return false;
#endif
}

bool optimized() {
#if defined(NDEBUG)
  return true;
#else
  return false;
#endif
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness (splitmix64): the same seed gives the same inputs everywhere.

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); 0 when n is 0.
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  std::uint64_t s_;
};

std::uint64_t hash_name(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

// ---------------------------------------------------------------------------------------------
// Mutations.

std::vector<std::string> edge_values() {
  return {"0",
          "-1",
          "1",
          "-0",
          "1e308",
          "-1e308",
          "1e309",
          "1e-320",
          "4.9e-324",
          "9223372036854775807",
          "9223372036854775808",
          "-9223372036854775808",
          "18446744073709551616",
          "99999999999999999999999999",
          "2147483648",
          "4294967296",
          "576460752303423488",
          "0.5",
          "1.5",
          "nan",
          "NaN",
          ".nan",
          "inf",
          "-inf",
          ".inf",
          "-.inf",
          "Infinity",
          "-Infinity",
          "0x7fffffff",
          "1_000",
          "null",
          "~",
          "true",
          "false",
          "\"\"",
          "''",
          "[]",
          "{}",
          "[1, 2]",
          "{a: 1}",
          "\"x\"",
          "0 B",
          "1e308 TB",
          "-5 GB/s",
          "nan GB/s",
          "inf us",
          "1e308 PFLOP/s",
          "0 us",
          "1 TiB",
          "18446744073709551616 B",
          "*a",
          "&a 1",
          "!!binary AAAA",
          "!!str 1",
          "|\n  text",
          "\"\\u0000\"",
          "\"\\ud800\""};
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(s.substr(start));
      break;
    }
    lines.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) s += '\n';
    s += lines[i];
  }
  return s;
}

/// [begin, end) of every number-like token (digits with sign, point and exponent).
std::vector<std::pair<std::size_t, std::size_t>> numbers_in(const std::string& s) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      std::size_t b = i;
      if (b > 0 && (s[b - 1] == '-' || s[b - 1] == '+')) --b;
      std::size_t e = i;
      while (e < s.size() &&
             (std::isdigit(static_cast<unsigned char>(s[e])) || s[e] == '.' || s[e] == 'e' ||
              s[e] == 'E' ||
              ((s[e] == '-' || s[e] == '+') && (s[e - 1] == 'e' || s[e - 1] == 'E'))))
        ++e;
      out.emplace_back(b, e);
      i = e;
    } else {
      ++i;
    }
  }
  return out;
}

/// Deeply nested flow collections, as YAML or JSON.
std::string deep(Rng& rng, bool json) {
  static const std::size_t kDepths[] = {kMaxJsonDepth, kMaxJsonDepth + 1, 500, 3000, 20000};
  const std::size_t d = kDepths[rng.below(std::size(kDepths))];
  std::string s;
  if (rng.chance(50)) {
    s.append(d, '[');
    s += "1";
    s.append(d, ']');
  } else {
    for (std::size_t i = 0; i < d; ++i) s += json ? "{\"a\": " : "{a: ";
    s += "1";
    s.append(d, '}');
  }
  return s;
}

std::string long_string(Rng& rng, bool json) {
  const std::size_t n = rng.chance(50) ? 4096 : 200000;
  std::string body(n, static_cast<char>('a' + rng.below(26)));
  return json || rng.chance(50) ? "\"" + body + "\"" : body;
}

std::string edge_value(Rng& rng, bool json) {
  static const std::vector<std::string> kEdges = edge_values();
  switch (rng.below(10)) {
    case 0:
      return long_string(rng, json);
    case 1:
      return deep(rng, json);
    default:
      return rng.pick(kEdges);
  }
}

constexpr std::size_t kMaxInput = 1 << 20;

/// One mutation of `s`; `corpus` gives lines to splice in from other seeds.
void mutate_once(std::string& s, Rng& rng, bool json, const std::vector<std::string>& corpus) {
  static const char kSpecial[] = ":{}[],\"'\n -#&*!|>%@`\\\t?0\xff";
  switch (rng.below(14)) {
    case 0:  // flip a bit
      if (!s.empty()) s[rng.below(s.size())] ^= static_cast<char>(1u << rng.below(8));
      break;
    case 1:  // a special character
      if (!s.empty()) s[rng.below(s.size())] = kSpecial[rng.below(sizeof kSpecial - 1)];
      break;
    case 2: {  // delete a span
      if (s.empty()) break;
      const std::size_t at = rng.below(s.size());
      s.erase(at, 1 + rng.below(rng.chance(80) ? 8 : 256));
      break;
    }
    case 3: {  // truncate
      s.resize(rng.below(s.size() + 1));
      break;
    }
    case 4:
    case 5: {  // duplicate a line: a repeated key, an extra element
      std::vector<std::string> lines = split_lines(s);
      const std::size_t i = rng.below(lines.size());
      const std::size_t to = rng.chance(70) ? i + 1 : rng.below(lines.size() + 1);
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(to), lines[i]);
      s = join_lines(lines);
      break;
    }
    case 6: {  // delete or swap lines
      std::vector<std::string> lines = split_lines(s);
      if (lines.size() < 2) break;
      const std::size_t i = rng.below(lines.size());
      if (rng.chance(50))
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
      else
        std::swap(lines[i], lines[rng.below(lines.size())]);
      s = join_lines(lines);
      break;
    }
    case 7:
    case 8:
    case 9: {  // a number replaced by an edge value
      const auto nums = numbers_in(s);
      if (nums.empty()) break;
      const auto [b, e] = nums[rng.below(nums.size())];
      s.replace(b, e - b, edge_value(rng, json));
      break;
    }
    case 10: {  // the value after "key:" replaced
      std::vector<std::string> lines = split_lines(s);
      std::vector<std::size_t> with_value;
      for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].find(": ") != std::string::npos) with_value.push_back(i);
      if (with_value.empty()) break;
      std::string& line = lines[rng.pick(with_value)];
      const std::size_t colon = line.find(": ");
      std::string tail;
      if (json && !line.empty() && line.back() == ',') tail = ",";
      line = line.substr(0, colon + 2) + edge_value(rng, json) + tail;
      s = join_lines(lines);
      break;
    }
    case 11: {  // a line of another seed spliced in
      if (corpus.empty()) break;
      const std::vector<std::string> other = split_lines(rng.pick(corpus));
      std::vector<std::string> lines = split_lines(s);
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(rng.below(lines.size() + 1)),
                   rng.pick(other));
      s = join_lines(lines);
      break;
    }
    case 12: {  // indentation changed
      std::vector<std::string> lines = split_lines(s);
      std::string& line = lines[rng.below(lines.size())];
      if (rng.chance(50))
        line.insert(0, rng.chance(50) ? "  " : "\t");
      else if (line.size() >= 2)
        line.erase(0, 2);
      s = join_lines(lines);
      break;
    }
    default: {  // null, or a value inserted anywhere
      const std::size_t at = rng.below(s.size() + 1);
      s.insert(at, rng.chance(50) ? std::string(json ? "null" : "~") : edge_value(rng, json));
      break;
    }
  }
}

std::string mutate(std::string s, Rng& rng, bool json, const std::vector<std::string>& corpus) {
  const std::size_t n = 1 + rng.below(rng.chance(75) ? 2 : 6);
  for (std::size_t k = 0; k < n && s.size() < kMaxInput; ++k) mutate_once(s, rng, json, corpus);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Crash and hang reporting: what is being parsed, printed from a signal handler, the sanitizer's
// death callback or the watchdog, with the input written to a file.

char g_context[512];
const std::string* g_input = nullptr;
std::atomic<std::int64_t> g_started_ns{0};  // 0: not parsing

void write_str(int fd, const char* s) {
  const ssize_t n = ::write(fd, s, std::strlen(s));
  (void)n;
}

/// Async-signal-safe: prints the context and writes the input to /tmp/cobench-fuzz-crash.txt.
void report_current_input() {
  if (g_context[0] == '\0') return;
  write_str(2, "\n*** cobench fuzz: the parser died on ");
  write_str(2, g_context);
  write_str(2, "\n");
  if (g_input != nullptr) {
    const int fd = ::open("/tmp/cobench-fuzz-crash.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      const ssize_t n = ::write(fd, g_input->data(), g_input->size());
      (void)n;
      ::close(fd);
      write_str(2, "*** the input is in /tmp/cobench-fuzz-crash.txt\n");
    }
  }
}

#if !defined(COBENCH_FUZZ_ASAN)
void on_signal(int sig) {
  report_current_input();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}
#endif

void install_crash_handlers() {
  static bool installed = false;
  if (installed) return;
  installed = true;
#if defined(COBENCH_FUZZ_ASAN)
  __sanitizer_set_death_callback(report_current_input);
#else
  static std::vector<char> alt(1 << 16);
  stack_t ss{};
  ss.ss_sp = alt.data();
  ss.ss_size = alt.size();
  sigaltstack(&ss, nullptr);
  for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK;
    sigaction(sig, &sa, nullptr);
  }
#endif
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Aborts the process when one input runs longer than COBENCH_FUZZ_HANG_SECONDS.
class Watchdog {
 public:
  Watchdog()
      : limit_ns_(static_cast<std::int64_t>(env_u64("COBENCH_FUZZ_HANG_SECONDS", 30)) *
                  1'000'000'000) {
    thread_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stop_) {
        cv_.wait_for(lock, std::chrono::milliseconds(200));
        const std::int64_t started = g_started_ns.load();
        if (started != 0 && now_ns() - started > limit_ns_) {
          write_str(2, "\n*** cobench fuzz: hang (COBENCH_FUZZ_HANG_SECONDS exceeded)");
          report_current_input();
          std::_Exit(3);
        }
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::int64_t limit_ns_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// The loop.

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> read_dir(const fs::path& dir, std::string_view ext) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ext) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  for (const auto& f : files) texts.push_back(read_text(f));
  return texts;
}

struct Target {
  std::string name;
  bool json = false;
  std::vector<std::string> seeds;
  /// Parses one input; returns normally when accepted, throws cobench::Error when refused.
  std::function<void(const std::string& text, Rng& rng)> parse;
  std::uint64_t iterations = 0;  ///< default per run (Release); fewer under the sanitizers
};

/// An accepted input whose analysis holds a non-finite number or a negative integer.
struct InsaneAnalysis : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Stats {
  std::uint64_t accepted = 0, refused = 0;
};

void write_failing_input(const std::string& target, std::uint64_t seed, std::uint64_t it,
                         const std::string& text) {
  const char* out = std::getenv("COBENCH_FUZZ_OUT");
  const fs::path dir = out && *out ? fs::path(out) : fs::temp_directory_path();
  const fs::path file = dir / ("cobench-fuzz-" + target + "-" + std::to_string(seed) + "-" +
                               std::to_string(it) + ".txt");
  std::ofstream(file, std::ios::binary) << text;
  std::fprintf(stderr, "  input written to %s\n", file.c_str());
}

Stats run_target(const Target& t) {
  install_crash_handlers();
  Watchdog watchdog;
  const std::uint64_t seed = fuzz_seed();
  std::uint64_t n = fuzz_iterations(t.iterations);
  std::uint64_t first = 0;
  if (const char* only = std::getenv("COBENCH_FUZZ_ONLY"); only && *only) {
    first = env_u64("COBENCH_FUZZ_ONLY", 0);
    n = first + 1;
  }
  Stats stats;
  int failures = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t it = first; it < n; ++it) {
    Rng rng(seed ^ hash_name(t.name) ^ (it * 0xd1b54a32d192ed03ULL));
    const std::string text = mutate(rng.pick(t.seeds), rng, t.json, t.seeds);
    std::snprintf(g_context, sizeof g_context,
                  "target %s, COBENCH_FUZZ_SEED=%llu COBENCH_FUZZ_ONLY=%llu (%zu bytes)",
                  t.name.c_str(), static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(it), text.size());
    g_input = &text;
    g_started_ns = now_ns();
    std::string failure;
    try {
      t.parse(text, rng);
      ++stats.accepted;
    } catch (const Error&) {
      ++stats.refused;
    } catch (const InsaneAnalysis& e) {
      failure = e.what();
    } catch (const std::exception& e) {
      failure = std::string("threw ") + typeid(e).name() + " (not cobench::Error): " + e.what();
    } catch (...) {
      failure = "threw something that is not a std::exception";
    }
    g_started_ns = 0;
    g_input = nullptr;
    if (!failure.empty()) {
      ADD_FAILURE() << t.name << ": seed " << seed << " iteration " << it << ": " << failure
                    << "\n  replay: COBENCH_FUZZ_SEED=" << seed << " COBENCH_FUZZ_ONLY=" << it
                    << "\n  input (first 2000 bytes):\n"
                    << text.substr(0, 2000);
      write_failing_input(t.name, seed, it, text);
      if (++failures >= 5) break;  // enough to act on
    }
  }
  g_context[0] = '\0';
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: seed %llu, iterations %llu..%llu: %llu accepted, %llu refused, %.2f s\n",
              t.name.c_str(), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(first), static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(stats.accepted),
              static_cast<unsigned long long>(stats.refused), s);
  return stats;
}

// ---------------------------------------------------------------------------------------------
// The analysis of accepted inputs must be made of sane numbers.

/// Paths of numbers that are not finite, and of integers below zero.
void insane_numbers(const nlohmann::json& j, const std::string& path,
                    std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) insane_numbers(v, path + "." + k, out);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i)
      insane_numbers(j[i], path + "[" + std::to_string(i) + "]", out);
  } else if (j.is_number_float()) {
    const double v = j.get<double>();
    if (!std::isfinite(v)) out.push_back(path + " = " + std::to_string(v));
  } else if (j.is_number_integer() && !j.is_number_unsigned()) {
    if (j.get<std::int64_t>() < 0) out.push_back(path + " = " + j.dump());
  }
}

constexpr std::int64_t kMaxPricedNodes = 4;

/// Analyzes `m` on `c`; throws InsaneAnalysis when the JSON holds a non-finite number or a negative
/// integer. cobench::Error from analyze itself is a refusal.
void check_analysis(const topo::ModelArch& m, topo::ClusterSpec c) {
  // The speed-versus-cost frontier sweeps 256 batch sizes x every whole-node EP degree (seconds
  // per cluster of hundreds of nodes under the sanitizers): priced clusters of a few nodes only.
  if (c.nodes > kMaxPricedNodes) c.gpu_hour_usd.reset();
  const topo::Analysis a = topo::analyze(m, c);
  std::vector<std::string> bad;
  insane_numbers(a.json, "$", bad);
  if (bad.empty()) return;
  std::string msg = "analyze(" + m.name + ", " + c.name + ") JSON:";
  for (std::size_t i = 0; i < bad.size() && i < 10; ++i) msg += "\n    " + bad[i];
  throw InsaneAnalysis(msg);
}

/// The seed models and clusters, parsed once.
const std::vector<topo::ModelArch>& seed_models() {
  static const std::vector<topo::ModelArch> models = [] {
    std::vector<topo::ModelArch> v;
    for (const auto& text : read_dir(kTopologies / "models", ".yaml"))
      v.push_back(topo::load_model_yaml(config::parse_yaml(text, "seed.yaml")));
    return v;
  }();
  return models;
}
const std::vector<topo::ClusterSpec>& seed_clusters() {
  static const std::vector<topo::ClusterSpec> clusters = [] {
    std::vector<topo::ClusterSpec> v;
    for (const auto& text : read_dir(kTopologies / "clusters", ".yaml"))
      v.push_back(topo::load_cluster(config::parse_yaml(text, "seed.yaml")));
    return v;
  }();
  return clusters;
}

/// Analyze one accepted input in `percent` of cases (the analysis costs more than the parse).
constexpr unsigned kAnalyzePercent = 25;

std::uint64_t scaled(std::uint64_t release) {
  // Debug with the sanitizers runs the parsers about 10-20 times slower than Release.
  if (sanitized()) return release / 8;
  if (!optimized()) return release / 4;
  return release;
}

// ---------------------------------------------------------------------------------------------
// One test per parser.

TEST(ParsersFuzz, SeedsParse) {
  // Every seed is accepted unmutated, so mutations start from valid documents; their analyses
  // (where analyze accepts the pair) hold sane numbers.
  EXPECT_GE(seed_models().size(), 5u);  // every file of topologies/models
  EXPECT_GE(seed_clusters().size(), 6u);
  for (const auto& m : seed_models())
    for (const topo::ClusterSpec& c : seed_clusters()) {
      try {
        check_analysis(m, c);
      } catch (const Error&) {  // a refusal (experts that do not divide among the GPUs)
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    }
}

TEST(ParsersFuzz, ClusterYaml) {
  Target t{"cluster", false, read_dir(kTopologies / "clusters", ".yaml"),
           [](const std::string& text, Rng& rng) {
             const topo::ClusterSpec c = topo::load_cluster(config::parse_yaml(text, "c.yaml"));
             if (rng.chance(kAnalyzePercent)) check_analysis(rng.pick(seed_models()), c);
           },
           scaled(4000)};
  ASSERT_FALSE(t.seeds.empty());
  run_target(t);
}

TEST(ParsersFuzz, ModelYaml) {
  Target t{"model", false, read_dir(kTopologies / "models", ".yaml"),
           [](const std::string& text, Rng& rng) {
             const topo::ModelArch m = topo::load_model_yaml(config::parse_yaml(text, "m.yaml"));
             if (rng.chance(kAnalyzePercent)) check_analysis(m, rng.pick(seed_clusters()));
           },
           scaled(4000)};
  ASSERT_FALSE(t.seeds.empty());
  run_target(t);
}

TEST(ParsersFuzz, HfConfigJson) {
  std::vector<std::string> seeds = read_dir(kTestData / "hf", ".json");
  for (auto& s : read_dir(kTestData / "hf" / "hostile", ".json")) seeds.push_back(std::move(s));
  Target t{"hf_config", true, seeds,
           [](const std::string& text, Rng& rng) {
             const topo::ModelArch m = topo::load_hf_config(config::parse_json(text, "c.json"));
             if (rng.chance(kAnalyzePercent)) check_analysis(m, rng.pick(seed_clusters()));
           },
           scaled(4000)};
  ASSERT_FALSE(t.seeds.empty());
  run_target(t);
}

/// Results seeds: the small files whole, and every file cut to its first two records (the
/// mutations then reach the run header and the records rather than gbench extras).
std::vector<std::string> results_seeds() {
  std::vector<std::string> seeds;
  std::vector<std::string> texts = read_dir(kRepo / "results" / "cpu-dev-vm", ".json");
  for (auto& s : read_dir(kTestData, ".json")) texts.push_back(std::move(s));
  for (const auto& text : texts) {
    if (text.size() < 40000) seeds.push_back(text);
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object() && doc.contains("records") && doc["records"].is_array() &&
        doc["records"].size() > 2) {
      doc["records"].erase(doc["records"].begin() + 2, doc["records"].end());
      seeds.push_back(doc.dump(2));
    }
  }
  return seeds;
}

TEST(ParsersFuzz, ResultsJson) {
  Target t{"results", true, results_seeds(),
           [](const std::string& text, Rng&) {
             (void)results::from_json(parse_json_strict(text, "r.json"), "r.json");
           },
           scaled(1500)};
  ASSERT_FALSE(t.seeds.empty());
  run_target(t);
}

TEST(ParsersFuzz, ScenarioYaml) {
  Target t{"scenario", false, read_dir(kTopologies / "scenarios", ".yaml"),
           [](const std::string& text, Rng&) {
             (void)topo::load_scenario(config::parse_yaml(text, "s.yaml"));
           },
           scaled(2000)};
  ASSERT_FALSE(t.seeds.empty());
  run_target(t);
}

TEST(ParsersFuzz, PerfYaml) {
  Target t{"perf", false, read_dir(kTopologies / "perf", ".yaml"),
           [](const std::string& text, Rng&) {
             (void)topo::load_published_perf(config::parse_yaml(text, "p.yaml"));
           },
           scaled(2000)};
  ASSERT_FALSE(t.seeds.empty());
  run_target(t);
}

}  // namespace

namespace {

// What the loop found, kept as plain regression tests.
TEST(ParsersFuzzFound, HfNumberBeyondDoubleIsAnError) {
  // nlohmann's out_of_range escaped config::parse_json (seed 16, hf_config iteration 103).
  const std::string text = "{\n  \"hidden_size\": 1e309\n}\n";
  try {
    (void)cobench::config::parse_json(text, "c.json");
    ADD_FAILURE() << "accepted";
  } catch (const cobench::Error& e) {
    EXPECT_STREQ(e.what(),
                 "c.json:2:18: JSON number out of range: number overflow parsing '1e309'");
  }
}

}  // namespace

namespace {

std::string cluster_with(const std::string& from, const std::string& to) {
  std::ifstream in(kTopologies / "clusters" / "b200-ib-256.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t at = text.find(from);
  if (at == std::string::npos)
    ADD_FAILURE() << "no '" << from << "' in the seed";
  else
    text.replace(at, from.size(), to);
  return text;
}

TEST(ParsersFuzzFound, QuantitiesStayInRange) {
  // Accepted once and analyzed to inf (seed 16, cluster iterations 1042 and 2005): a quantity
  // that overflows when scaled to its base unit, and one so small that dividing by it does.
  for (const auto& [from, to, error] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"hbm_capacity: 180 GB", "hbm_capacity: 1e308 GB",
            "bad data size '1e308 GB': out of range; expected 0 or from 1e-30 to 1e+30 B"},
           {"hbm_bandwidth: 8 TB/s", "hbm_bandwidth: 4.9e-324 TB/s",
            "bad bandwidth '4.9e-324 TB/s': out of range; expected 0 or from 1e-30 to 1e+30 "
            "B/s"}}) {
    try {
      (void)topo::load_cluster(config::parse_yaml(cluster_with(from, to), "c.yaml"));
      ADD_FAILURE() << to << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(error), std::string::npos) << e.what();
    }
  }
}

}  // namespace
