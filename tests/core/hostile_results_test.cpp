// SPDX-License-Identifier: Apache-2.0
// Hostile results files and output paths (issue 16): strict JSON (repeated keys, numbers beyond a
// double, deep nesting, control characters; and in YAML names), values no measurement can have
// (negative times and bandwidths), records that compare, history and the dashboard could not tell
// apart, text that would inject HTML or links into Markdown, and names that clash when two runs
// finish in the same second.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <limits>
#include <string>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/control_characters.h"
#include "core/error.h"
#include "core/json_strict.h"
#include "core/markdown.h"
#include "core/provenance.h"
#include "core/results.h"
#include "core/results_io.h"

namespace {

namespace fs = std::filesystem;
using namespace cobench::results;
using nlohmann::json;

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const cobench::Error& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

std::string strict_error(const std::string& text) {
  return error_of([&] { cobench::parse_json_strict(text, "r.json"); });
}

std::string results_error(const json& doc) {
  return error_of([&] { from_json(doc, "r.json"); });
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

Record record(const std::string& benchmark, Backend backend, const std::string& unit,
              std::vector<double> values) {
  Record rec;
  rec.suite = "kv";
  rec.benchmark = benchmark;
  rec.backend = backend;
  rec.parameters = {{"bytes", 1024}};
  rec.metrics.push_back({"time", unit, std::move(values), std::nullopt});
  return rec;
}

Results run_of(std::vector<Record> records) {
  Results r;
  r.run = cobench::make_run_header({"cobench", "test"});
  r.run.utc_time = "2026-11-29T05:30:00.250Z";
  r.run.host = "node-1";
  r.records = std::move(records);
  return r;
}

TEST(StrictJson, RepeatedKeysAreRefusedWithTheirPath) {
  EXPECT_EQ(strict_error(R"({"schema": 1, "schema": 2})"), "r.json: $: repeated key 'schema'");
  EXPECT_EQ(strict_error(R"({"records": [{"a": 1}, {"m": {"v": [1], "v": [2]}}]})"),
            "r.json: $.records[1].m: repeated key 'v'");
  // The same key in two objects is no repetition.
  EXPECT_EQ(cobench::parse_json_strict(R"([{"a": 1}, {"a": 2}])", "r.json")[1]["a"], 2);
}

TEST(StrictJson, NumbersBeyondADoubleNaNAndSyntaxErrorsAreRefused) {
  EXPECT_NE(strict_error(R"({"v": [1, 1e400]})").find("r.json: not valid JSON: "),
            std::string::npos);
  EXPECT_NE(strict_error(R"({"v": [1, 1e400]})").find("number overflow parsing '1e400'"),
            std::string::npos);
  EXPECT_NE(strict_error("{\"v\": " + std::string(400, '9') + "}").find("number overflow"),
            std::string::npos);
  EXPECT_NE(strict_error(R"({"v": NaN})").find("r.json: not valid JSON: "), std::string::npos);
  EXPECT_NE(strict_error(R"({"v": Infinity})").find("r.json: not valid JSON: "), std::string::npos);
  EXPECT_NE(strict_error(R"({"v": [1, 2)").find("r.json: not valid JSON: "), std::string::npos);
  // The largest double is a number.
  EXPECT_EQ(cobench::parse_json_strict(R"([1.7976931348623157e308])", "r.json")[0].get<double>(),
            1.7976931348623157e308);
}

// What a terminal or renderer obeys unseen: C0 (ESC, BEL, newline), DEL, C1, the bidirectional
// marks, embeddings, overrides and isolates, the line and paragraph separators. Other text,
// accents and typographic quotes included, passes.
TEST(ControlCharacters, NamesTheFirstAndItsOffset) {
  std::size_t at = 99;
  EXPECT_EQ(cobench::first_control_character("BM_Copy/bytes:4096", &at), "");
  EXPECT_EQ(at, 99u);
  EXPECT_EQ(cobench::first_control_character("ab\x1b[31m\n", &at), "U+001B");
  EXPECT_EQ(at, 2u);
  EXPECT_EQ(cobench::first_control_character("a\tb"), "U+0009");
  EXPECT_EQ(cobench::first_control_character(std::string("a\0b", 3)), "U+0000");
  EXPECT_EQ(cobench::first_control_character("a\x7f"), "U+007F");
  EXPECT_EQ(cobench::first_control_character("x\xc2\x85", &at), "U+0085");  // NEL, UTF-8 C2 85
  EXPECT_EQ(at, 1u);
  EXPECT_EQ(cobench::first_control_character("\xc2\xa0"), "");            // no-break space U+00A0
  EXPECT_EQ(cobench::first_control_character("\xe2\x80\xae"), "U+202E");  // right-to-left override
  EXPECT_EQ(cobench::first_control_character("\xe2\x80\x8f"), "U+200F");  // right-to-left mark
  EXPECT_EQ(cobench::first_control_character("\xe2\x80\xa8"), "U+2028");  // line separator
  EXPECT_EQ(cobench::first_control_character("\xe2\x81\xa6"), "U+2066");  // left-to-right isolate
  EXPECT_EQ(cobench::first_control_character("\xe2\x81\xaa"), "");        // U+206A: not a mark here
  EXPECT_EQ(cobench::first_control_character("H800\xe2\x80\x99s \xc3\xa9t\xc3\xa9"), "");  // ’ é
  EXPECT_EQ(cobench::first_control_character("\xe2\x80"), "");  // a truncated sequence
}

TEST(StrictJson, ControlCharactersAreRefusedWithTheirPath) {
  EXPECT_EQ(strict_error(R"({"records": [{"benchmark": "BM_x\u001b[2J"}]})"),
            "r.json: $.records[0].benchmark: text holds the control character U+001B (names and "
            "labels are printed to terminals and reports)");
  EXPECT_EQ(strict_error(R"({"a": "x\ny"})"),
            "r.json: $.a: text holds the control character U+000A (names and labels are printed "
            "to terminals and reports)");
  EXPECT_EQ(strict_error("{\"a\": \"x\xe2\x80\xaey\"}"),
            "r.json: $.a: text holds the control character U+202E (names and labels are printed "
            "to terminals and reports)");
  EXPECT_EQ(strict_error(R"({"s": {"k\u0007": 1}})"),
            "r.json: $.s: a key holds the control character U+0007");
  // A backslash and an "n" are text, as is a typographic apostrophe.
  EXPECT_EQ(cobench::parse_json_strict(R"({"a": "x\\ny"})", "r.json")["a"], "x\\ny");
  EXPECT_EQ(cobench::parse_json_strict("{\"a\": \"H800\xe2\x80\x99s\"}", "r.json")["a"],
            "H800\xe2\x80\x99s");
}

TEST(Config, ControlCharactersInANameAreRefusedAtTheirLine) {
  const cobench::config::Node root =
      cobench::config::parse_yaml("cluster:\n  name: \"H100\\e[31m\"\n", "c.yaml");
  EXPECT_EQ(error_of([&] {
              root.map({"cluster"}).required("cluster").map({"name"}).required("name").as_string();
            }),
            "c.yaml:2:9: key 'cluster.name': expected text without control characters, got U+001B "
            "(a name is printed to terminals and reports)");
  const cobench::config::Node keyed = cobench::config::parse_yaml("\"na\\tme\": x\n", "c.yaml");
  EXPECT_EQ(error_of([&] { keyed.map({"name"}); }),
            "c.yaml:1:1: a key holds the control character U+0009");
}

TEST(StrictJson, NestingIsBoundedAtOneHundredLevels) {
  const std::string deepest = std::string(100, '[') + std::string(100, ']');
  EXPECT_NO_THROW(cobench::parse_json_strict(deepest, "r.json"));
  const std::string deeper = std::string(101, '[') + std::string(101, ']');
  EXPECT_NE(strict_error(deeper).find("nested deeper than 100 levels"), std::string::npos);
  // A million levels (a stack overflow for a recursive reader) is the same error.
  const std::string bomb = std::string(1000000, '[') + std::string(1000000, ']');
  EXPECT_NE(strict_error(bomb).find("nested deeper than 100 levels"), std::string::npos);
}

TEST(HostileResults, NegativeTimesSizesAndRatesAreRefused) {
  for (const char* unit : {"s", "B", "B/s", "FLOP", "FLOP/s", "1/s", "Hz", "W"}) {
    SCOPED_TRACE(unit);
    json doc = to_json(run_of({record("BM_Copy", Backend::kCpu, unit, {1.0, -2.0, 3.0})}));
    EXPECT_EQ(results_error(doc), fmt::format("r.json: $.records[0].metrics.time.values[1]: -2 is "
                                              "negative; a value in '{}' cannot be",
                                              unit));
  }
  // A dimensionless value (an error, a change) and a temperature may be negative; zero is a
  // value of any unit.
  for (const char* unit : {"1", "C"}) {
    const Results r = from_json(
        to_json(run_of({record("BM_Copy", Backend::kCpu, unit, {-1.0, 0.0, 2.0})})), "r.json");
    EXPECT_EQ(r.records[0].metrics[0].values[0], -1.0);
  }
  EXPECT_NO_THROW(
      from_json(to_json(run_of({record("BM_Copy", Backend::kCpu, "s", {0.0, 0.0})})), "r.json"));
}

TEST(HostileResults, DuplicateRecordsAreRefusedNamingBothPaths) {
  const Record a = record("BM_Copy/bytes:1024", Backend::kCpu, "s", {1, 2, 3});
  Record b = record("BM_Other", Backend::kCpu, "s", {1, 2, 3});
  Record again = a;
  again.metrics[0].values = {7, 8, 9};
  EXPECT_EQ(results_error(to_json(run_of({a, b, again}))),
            "r.json: $.records[2]: duplicate record: suite 'kv', benchmark 'BM_Copy/bytes:1024' "
            "and backend 'cpu' are those of $.records[0]");
  // Other parameters do not make it another record: compare and history match by suite,
  // benchmark and backend.
  again.parameters["bytes"] = 2048;
  EXPECT_NE(results_error(to_json(run_of({a, again}))).find("duplicate record"), std::string::npos);
  // The same benchmark on another backend (an MPI and an NCCL collective) is another record.
  Record nccl = a;
  nccl.backend = Backend::kNccl;
  EXPECT_EQ(from_json(to_json(run_of({a, nccl})), "r.json").records.size(), 2u);
}

TEST(HostileResults, HeaderFieldsFollowTheSchemaExactly) {
  const json good = to_json(run_of({}));
  for (const char* t : {"2026-11-29T05:30:00Z\n", "2026-11-29T05:30:00<img src=x>Z",
                        "2026-11-29T05:30:00.Z", "2026-1x-29T05:30:00Z", "2026-11-29 05:30:00Z"}) {
    json bad = good;
    bad["run"]["utc_time"] = t;
    EXPECT_NE(results_error(bad).find("r.json: $.run.utc_time: "), std::string::npos) << t;
  }
  for (const char* t : {"2026-11-29T05:30:00Z", "2026-11-29T05:30:00.123456Z"}) {
    json ok = good;
    ok["run"]["utc_time"] = t;
    EXPECT_EQ(from_json(ok, "r.json").run.utc_time, t);
  }
  json bad = good;
  bad["run"]["library_versions"] = json::array({"fmt 9"});
  EXPECT_EQ(results_error(bad), "r.json: $.run.library_versions: expected an object");
}

TEST(HostileResults, NonFiniteNumbersAndStatisticsBeyondADoubleAreRefused) {
  json doc = to_json(run_of({record("BM_Copy", Backend::kCpu, "s", {1, 2})}));
  json bad = doc;
  bad["records"][0]["parameters"]["bytes"] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(results_error(bad),
            "r.json: $.records[0].parameters.bytes: expected a finite number, got inf");
  // Two values near the largest double: their mean is beyond it (a stored mean cannot agree).
  bad = doc;
  json& m = bad["records"][0]["metrics"]["time"];
  m["values"] = {1.7e308, 1.7e308};
  m["median"] = m["min"] = m["max"] = m["mean"] = 1.7e308;
  m["stddev"] = 0.0;
  EXPECT_NE(results_error(bad).find("r.json: $.records[0].metrics.time."), std::string::npos);
  EXPECT_NE(results_error(bad).find("is beyond the range of a double"), std::string::npos);
}

TEST(HostileResults, TheFileReaderAppliesTheStrictRules) {
  const fs::path dir = fresh_dir("cobench_hostile_results");
  const std::string good = to_json(run_of({record("BM_Copy", Backend::kCpu, "s", {1, 2})})).dump();
  auto write = [&](const std::string& name, const std::string& text) {
    cobench::write_file_atomic_no_overwrite(dir / name, text);
    return (dir / name).string();
  };
  const std::string twice =
      write("twice.json", good.substr(0, good.size() - 1) + R"(, "schema": "x"})");
  EXPECT_EQ(error_of([&] { read(twice); }), twice + ": $: repeated key 'schema'");
  const std::string truncated = write("truncated.json", good.substr(0, good.size() / 2));
  EXPECT_NE(error_of([&] { read(truncated); }).find(truncated + ": not valid JSON: "),
            std::string::npos);
  // A UTF-8 byte order mark is allowed (both readers skip it).
  EXPECT_EQ(read(write("bom.json", "\xEF\xBB\xBF" + good)).records.size(), 1u);
  fs::remove_all(dir);
}

TEST(HostileConfig, ARepeatedKeyInAnUnreadJsonMapIsLocated) {
  // A Hugging Face config is read through foreign_map: its sub-maps may never be opened.
  const std::string text =
      "{\"hidden_size\": 64,\n \"rope_scaling\": {\"factor\": 2,\n"
      "   \"factor\": 4}}";
  EXPECT_EQ(error_of([&] { cobench::config::parse_json(text, "config.json"); }),
            "config.json:3:4: key 'rope_scaling.factor': repeated key");
  EXPECT_EQ(
      error_of([&] { cobench::config::parse_json(R"({"a": [{"b": 1, "b": 1}]})", "c.json"); }),
      "c.json:1:17: key 'a[0].b': repeated key");
  EXPECT_NO_THROW(cobench::config::parse_json(R"({"a": {"b": 1}, "c": {"b": 2}})", "c.json"));
}

TEST(Markdown, TextFromInputsMakesNoHtmlLinkOrCell) {
  EXPECT_EQ(cobench::markdown_text("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;");
  EXPECT_EQ(cobench::markdown_text("[x](javascript:alert(1))"), "\\[x\\](javascript:alert(1))");
  EXPECT_EQ(cobench::markdown_text("![i](http://e/x.png)"), "!\\[i\\](http://e/x.png)");
  EXPECT_EQ(cobench::markdown_text("a|b\nc\\`d`*e*~f~ &amp;"),
            "a\\|b c\\\\\\`d\\`\\*e\\*\\~f\\~ &amp;amp;");
  EXPECT_EQ(cobench::markdown_text("BM_Fp8Gemm_Cpu/m:128"), "BM_Fp8Gemm_Cpu/m:128");
  EXPECT_EQ(cobench::markdown_code("a`b\n\n<img src=x>"), "`a'b  <img src=x>`");
}

TEST(OutputPaths, ARunNeverLosesItsFileToANameTakenInTheSameSecond) {
  const fs::path dir = fresh_dir("cobench_same_second");
  const Results first = run_of({record("BM_A", Backend::kCpu, "s", {1})});
  const Results second = run_of({record("BM_B", Backend::kCpu, "s", {2})});
  const fs::path a = write_new_run(dir, first, "run");
  const fs::path b = write_new_run(dir, second, "run");
  EXPECT_EQ(a.filename(), "20261129T053000Z_node-1_run.json");
  EXPECT_NE(a, b);
  const std::string stem = b.filename().string();
  EXPECT_EQ(stem.rfind(fmt::format("20261129T053000Z_node-1_run-{}-", ::getpid()), 0), 0u) << stem;
  EXPECT_EQ(b.extension(), ".json");
  EXPECT_EQ(read(a).records[0].benchmark, "BM_A");
  EXPECT_EQ(read(b).records[0].benchmark, "BM_B");
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 2u) << "no temporary file is left";
  // A host name too long for a file name is cut.
  Results long_host = first;
  long_host.run.host = std::string(300, 'h');
  EXPECT_EQ(write_new_run(dir, long_host, "run").filename(),
            "20261129T053000Z_" + std::string(64, 'h') + "_run.json");
  fs::remove_all(dir);
}

TEST(OutputPaths, AnUnusableDirectoryIsRefusedUpFront) {
  const fs::path dir = fresh_dir("cobench_out_check");
  EXPECT_NO_THROW(cobench::check_writable_directory(dir, "--out 'd'"));
  EXPECT_EQ(error_of([&] { cobench::check_writable_directory(dir / "missing", "--out 'm'"); }),
            "--out 'm': no such directory");
  cobench::write_file_atomic_no_overwrite(dir / "file", "x");
  EXPECT_EQ(error_of([&] { cobench::check_writable_directory(dir / "file", "--out 'f'"); }),
            "--out 'f': not a directory");
  // /proc takes no new file, not even from root.
  if (fs::is_directory("/proc/self")) {
    EXPECT_NE(error_of([&] {
                cobench::check_writable_directory("/proc/self", "--out 'p'");
              }).find("--out 'p': cannot create a file there: "),
              std::string::npos);
  }
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += e.exists();
  EXPECT_EQ(entries, 1u) << "the probe file is removed";
  fs::remove_all(dir);
}

}  // namespace
