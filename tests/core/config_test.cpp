// SPDX-License-Identifier: Apache-2.0
// Locations are counted by hand from the literal texts below (1-based line:column).
#include "core/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/error.h"

#include "tests/test_util.h"

namespace {

using cobench::test::error_of;
using cobench::test::replace;

using cobench::Error;
using namespace cobench::config;

constexpr const char* kNode =
    "node:\n"
    "  name: h800\n"
    "  gpu:\n"
    "    hbm_bandwidth: 3.35 TB/s\n"
    "    count: 8\n";

TEST(Config, ReadsNestedValuesWithUnits) {
  const Node root = parse_yaml(kNode, "c.yaml");
  auto node = root.map({"node"}).required("node");
  auto m = node.map({"name", "gpu"});
  EXPECT_EQ(m.required("name").as_string(), "h800");
  auto gpu = m.required("gpu").map({"hbm_bandwidth", "count", "hbm_capacity"});
  EXPECT_DOUBLE_EQ(gpu.required("hbm_bandwidth").as_bandwidth().value, 3.35e12);
  EXPECT_EQ(gpu.required("count").as_int(), 8);
  EXPECT_FALSE(gpu.optional("hbm_capacity").has_value());
  EXPECT_EQ(gpu.required("count").path(), "node.gpu.count");
  EXPECT_EQ(gpu.keys(), (std::vector<std::string>{"hbm_bandwidth", "count"}));
}

TEST(Config, UnitErrorNamesFileLineColumnAndKey) {
  const Node root = parse_yaml("node:\n  gpu:\n    hbm_bandwidth: 3.35 TB/z\n", "c.yaml");
  auto gpu = root.map({"node"}).required("node").map({"gpu"}).required("gpu");
  const std::string e =
      error_of([&] { gpu.map({"hbm_bandwidth"}).required("hbm_bandwidth").as_bandwidth(); });
  EXPECT_EQ(e.substr(0, e.find("; accepted")),
            "c.yaml:3:20: key 'node.gpu.hbm_bandwidth': bad bandwidth '3.35 TB/z': unknown unit "
            "'TB/z'");
}

TEST(Config, UnknownKeyIsAnErrorWithASuggestion) {
  const Node root =
      parse_yaml("gpu:\n  hbm_capacity: 80 GiB\n  hbm_bandwdth: 3.35 TB/s\n", "t.yaml");
  auto gpu = root.map({"gpu"}).required("gpu");
  const std::string e = error_of([&] { gpu.map({"hbm_capacity", "hbm_bandwidth"}); });
  EXPECT_EQ(e,
            "t.yaml:3:3: key 'gpu.hbm_bandwdth': unknown key (did you mean 'hbm_bandwidth'?); "
            "accepted keys here: hbm_capacity, hbm_bandwidth");
}

TEST(Config, RepeatedAndMissingKeys) {
  const Node dup = parse_yaml("a: 1\nb: 2\na: 3\n", "d.yaml");
  EXPECT_EQ(error_of([&] { dup.map({"a", "b"}); }), "d.yaml:3:1: key 'a': repeated key");
  const Node root = parse_yaml("x:\n  a: 1\n", "m.yaml");
  auto x = root.map({"x"}).required("x").map({"a", "b"});
  EXPECT_EQ(error_of([&] { x.required("b"); }), "m.yaml:2:3: key 'x': missing required key 'b'");
}

TEST(Config, ScalarTypeErrors) {
  const Node root = parse_yaml("n: 1.5\nflag: yes\nlist: [1, 2]\n", "s.yaml");
  auto m = root.map({"n", "flag", "list"});
  EXPECT_EQ(error_of([&] { m.required("n").as_int(); }),
            "s.yaml:1:4: key 'n': expected an integer, got '1.5'");
  EXPECT_EQ(error_of([&] { m.required("flag").as_bool(); }),
            "s.yaml:2:7: key 'flag': expected true or false, got 'yes'");
  EXPECT_EQ(error_of([&] { m.required("list").as_string(); }),
            "s.yaml:3:7: key 'list': expected a string");
  const auto elems = m.required("list").elements();
  ASSERT_EQ(elems.size(), 2u);
  EXPECT_EQ(elems[1].as_int(), 2);
  EXPECT_EQ(elems[1].path(), "list[1]");
  EXPECT_EQ(error_of([&] { m.required("n").elements(); }), "s.yaml:1:4: key 'n': expected a list");
}

TEST(Config, YamlSyntaxErrorHasLineAndColumn) {
  const std::string e = error_of([] { parse_yaml("a: [1, 2\nb: 3\n", "y.yaml"); });
  EXPECT_EQ(e.rfind("y.yaml:", 0), 0u) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
}

TEST(Config, JsonValuesAndLocations) {
  // Tabs are legal JSON whitespace; columns count them as one character.
  const Node root = parse_json("{\n\t\"gpu\": {\"hbm\": \"80 GiB\", \"sm\": 132}\n}", "g.json");
  auto gpu = root.map({"gpu"}).required("gpu").map({"hbm", "sm"});
  EXPECT_DOUBLE_EQ(gpu.required("hbm").as_bytes().value, 85899345920.0);
  EXPECT_EQ(gpu.required("sm").as_int(), 132);
  const auto loc = gpu.required("sm").location();
  EXPECT_EQ(loc.line, 2);
  EXPECT_EQ(loc.column, 33);
  const Node bad = parse_json("{\"gpu\": {\"hbm_cap\": 1}}", "k.json");
  EXPECT_EQ(error_of([&] { bad.map({"gpu"}).required("gpu").map({"hbm"}); }),
            "k.json:1:10: key 'gpu.hbm_cap': unknown key; accepted keys here: hbm");
}

TEST(Config, JsonSyntaxErrorHasLineAndColumn) {
  // The trailing comma is legal YAML but not JSON: the strict parser rejects it at the '}'.
  const std::string e = error_of([] { parse_json("{\n  \"a\": 1,\n}\n", "j.json"); });
  EXPECT_EQ(e.rfind("j.json:3:1: JSON syntax error: ", 0), 0u) << e;
}

TEST(Config, LoadFileChoosesTheParserByExtension) {
  const auto dir = std::filesystem::path(testing::TempDir());
  const auto json_path = dir / "cobench_config_test.json";
  { std::ofstream(json_path) << "{\"a\": 1,}"; }
  EXPECT_NE(error_of([&] { load_file(json_path); }).find("JSON syntax error"), std::string::npos);
  const auto yaml_path = dir / "cobench_config_test.yaml";
  { std::ofstream(yaml_path) << "a: 1\n"; }
  EXPECT_EQ(load_file(yaml_path).map({"a"}).required("a").as_int(), 1);
  EXPECT_EQ(error_of([&] { load_file(dir / "no_such_file.yaml"); }),
            (dir / "no_such_file.yaml").string() + ": cannot open file");
  std::filesystem::remove(json_path);
  std::filesystem::remove(yaml_path);
}

}  // namespace
