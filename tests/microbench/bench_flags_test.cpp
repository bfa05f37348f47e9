// SPDX-License-Identifier: Apache-2.0
// Google Benchmark's own flags that it would take silently (microbench/bench_flags.h): each bad
// value named with what was expected; good values, other flags and non-flags pass through.
#include "microbench/bench_flags.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using cobench::bench::benchmark_flag_error;

std::string error_of(const char* arg) { return benchmark_flag_error(arg).value_or("<none>"); }

TEST(BenchFlags, AnUnknownFormatIsNamedWithTheThreeItTakes) {
  // Google Benchmark 1.7 prints its usage and exits 0 on these: a script would see success.
  EXPECT_EQ(error_of("--benchmark_format=xml"),
            "--benchmark_format: expected console, json or csv, got 'xml'");
  EXPECT_EQ(error_of("--benchmark_out_format=JSON"),
            "--benchmark_out_format: expected console, json or csv, got 'JSON'");
  EXPECT_EQ(error_of("--benchmark_format="),
            "--benchmark_format: expected console, json or csv, got ''");
  EXPECT_EQ(error_of("--benchmark_time_unit=xs"),
            "--benchmark_time_unit: expected ns, us, ms or s, got 'xs'");
}

TEST(BenchFlags, MinTimesMustBeFiniteSecondsFromZero) {
  // nan and inf never end; 1.8's "10x" and "0.5s" are not 1.7's syntax.
  for (const char* bad : {"nan", "inf", "-1", "1x", "0.5s", "", "1e400"}) {
    const std::string arg = std::string("--benchmark_min_time=") + bad;
    EXPECT_EQ(error_of(arg.c_str()),
              "--benchmark_min_time: expected seconds, a finite number >= 0 (e.g. 0.5), got '" +
                  std::string(bad) + "'")
        << arg;
  }
  EXPECT_EQ(error_of("--benchmark_min_warmup_time=-0.5"),
            "--benchmark_min_warmup_time: expected seconds, a finite number >= 0 (e.g. 0.5), got "
            "'-0.5'");
  for (const char* good : {"--benchmark_min_time=0", "--benchmark_min_time=0.01",
                           "--benchmark_min_time=2", "--benchmark_min_warmup_time=1e-3"})
    EXPECT_FALSE(benchmark_flag_error(good).has_value()) << good;
}

TEST(BenchFlags, RepetitionsAreAnIntegerFromOne) {
  for (const char* bad : {"0", "-1", "abc", "2.5", "2147483648", ""}) {
    const std::string arg = std::string("--benchmark_repetitions=") + bad;
    EXPECT_EQ(error_of(arg.c_str()),
              "--benchmark_repetitions: expected an integer from 1, got " + std::string(bad))
        << arg;
  }
  EXPECT_FALSE(benchmark_flag_error("--benchmark_repetitions=5").has_value());
  EXPECT_FALSE(benchmark_flag_error("--benchmark_repetitions=2147483647").has_value());
}

TEST(BenchFlags, GoodValuesOtherFlagsAndArgumentsPassThrough) {
  for (const char* ok :
       {"--benchmark_format=json", "--benchmark_format=console", "--benchmark_out_format=csv",
        "--benchmark_time_unit=ms", "--benchmark_filter=BM_.*", "--benchmark_out=/tmp/x.json",
        "--benchmark_format", "--other=xml", "xml", "-benchmark_format=xml"})
    EXPECT_FALSE(benchmark_flag_error(ok).has_value()) << ok;
}

}  // namespace

namespace {

TEST(BenchFlags, AFilterMustCompileAsAnExtendedRegularExpression) {
  // Google Benchmark printed "Could not compile benchmark re" and exited 0, running nothing.
  EXPECT_EQ(cobench::bench::benchmark_flag_error("--benchmark_filter=(")
                .value_or("<none>")
                .rfind("--benchmark_filter: '(' is not a regular expression: ", 0),
            0u);
  EXPECT_TRUE(cobench::bench::benchmark_flag_error("--benchmark_filter=-[a-").has_value());
  // Alternatives, a negated filter and the empty filter (all benchmarks) pass.
  for (const char* good : {"--benchmark_filter=Triad|Copy/n:1024$", "--benchmark_filter=-Storage",
                           "--benchmark_filter="})
    EXPECT_FALSE(cobench::bench::benchmark_flag_error(good).has_value()) << good;
}

}  // namespace

namespace {

// Google Benchmark opens --benchmark_out after the run and says only "invalid file name".
TEST(BenchFlags, AnOutputFileNeedsAnExistingDirectory) {
  EXPECT_EQ(cobench::bench::benchmark_flag_error("--benchmark_out=/nonexistent-cobench/x.json"),
            "--benchmark_out: the directory '/nonexistent-cobench' of "
            "'/nonexistent-cobench/x.json' does not exist");
  EXPECT_EQ(cobench::bench::benchmark_flag_error("--benchmark_out=/tmp"),
            "--benchmark_out: '/tmp' is a directory; expected a file name");
  EXPECT_EQ(cobench::bench::benchmark_flag_error("--benchmark_out="),
            "--benchmark_out: expected a file name, got ''");
  // A bare name is in the working directory, which exists.
  EXPECT_FALSE(cobench::bench::benchmark_flag_error("--benchmark_out=x.json").has_value());
}

}  // namespace
