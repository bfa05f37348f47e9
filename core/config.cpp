// SPDX-License-Identifier: Apache-2.0
#include "core/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/control_characters.h"
#include "core/error.h"
#include "core/units.h"

namespace cobench::config {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Levenshtein distance, for "did you mean" on unknown keys.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

[[noreturn]] void fail_at(const std::string& file, int line, int column, std::string_view msg) {
  throw Error(fmt::format("{}:{}:{}: {}", file, line, column, msg));
}

// (line, column), 1-based, of a byte offset in text.
std::pair<int, int> line_column(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  int line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

YAML::Node load_yaml(std::string_view text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // yaml-cpp's "bad file" is its recursion limit: lists or maps nested a few hundred deep.
    const std::string what = e.msg == "bad file"
                                 ? std::string(
                                       "nested too deeply here (yaml-cpp stops at a few "
                                       "hundred levels of lists or maps)")
                                 : e.msg;
    fail_at(file, e.mark.line + 1, e.mark.column + 1, fmt::format("YAML syntax error: {}", what));
  }
  // A file of nothing (or only comments) has no position of its own: "f.yaml:0:0" said nothing.
  if (root.IsNull() && root.Mark().line < 0)
    fail_at(file, 1, 1, "the file is empty (or only comments): expected a map of keys to values");
  return root;
}

// Every map of a JSON document, however deep and whether or not it is ever read, must not repeat
// a key: a Hugging Face config.json is read through foreign_map, whose unread sub-maps would
// otherwise never be looked at (nlohmann keeps the last of two, another reader the first).
void check_repeated_keys(const YAML::Node& n, const std::shared_ptr<const std::string>& file,
                         const std::string& path) {
  auto child = [&path](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i)
      check_repeated_keys(n[i], file, fmt::format("{}[{}]", path, i));
  } else if (n.IsMap()) {
    std::vector<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
      if (std::find(seen.begin(), seen.end(), key) != seen.end())
        Node(it->first, file, child(key)).fail("repeated key");
      seen.push_back(key);
      check_repeated_keys(it->second, file, child(key));
    }
  }
}

}  // namespace

Node::Node(YAML::Node node, std::shared_ptr<const std::string> file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {}

Location Node::location() const {
  const YAML::Mark m = node_.Mark();
  return {*file_, m.line + 1, m.column + 1};
}

void Node::fail(std::string_view message) const {
  const Location loc = location();
  if (path_.empty()) fail_at(loc.file, loc.line, loc.column, message);
  fail_at(loc.file, loc.line, loc.column, fmt::format("key '{}': {}", path_, message));
}

std::string Node::scalar(std::string_view what) const {
  if (node_.IsScalar()) return node_.Scalar();
  const char* got = node_.IsNull() ? "null" : node_.IsSequence() ? "a list" : "a map";
  fail(fmt::format("expected {}, got {}", what, got));
}

std::string Node::as_string() const {
  if (!node_.IsScalar()) fail("expected a string");
  if (const std::string c = first_control_character(node_.Scalar()); !c.empty())
    fail(
        fmt::format("expected text without control characters, got {} (a name is printed to "
                    "terminals and reports)",
                    c));
  return node_.Scalar();
}

std::string Node::as_name() const {
  std::string s = as_string();
  if (s.find_first_not_of(" \t") == std::string::npos)
    fail("expected a name, got an empty string (a name titles the reports)");
  return s;
}

double Node::as_double() const {
  const std::string s = scalar("a number");
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value))
    fail(fmt::format("expected a number, got '{}'", s));
  // A plain number is held to the range of a quantity with a unit (units.h): "1e308" as a price
  // would print inf once multiplied.
  if (value != 0 && !is_model_quantity(std::abs(value)))
    fail(fmt::format("expected 0 or a number of magnitude {:g} to {:g}, got '{}'", kMinQuantity,
                     kMaxQuantity, s));
  return value;
}

std::int64_t Node::as_int() const {
  return as_int_in(std::numeric_limits<std::int64_t>::min(),
                   std::numeric_limits<std::int64_t>::max());
}

std::int64_t Node::as_int_at_least(std::int64_t min) const {
  const std::int64_t v = as_int();
  if (v < min) fail(fmt::format("expected an integer >= {}, got {}", min, v));
  return v;
}

std::int64_t Node::as_int_in(std::int64_t min, std::int64_t max) const {
  const std::string s = scalar("an integer");
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  const bool digits = end == s.data() + s.size() && !s.empty();
  const bool full_range = min == std::numeric_limits<std::int64_t>::min() &&
                          max == std::numeric_limits<std::int64_t>::max();
  if (ec == std::errc::result_out_of_range && digits) {
    // More than 64 bits: out of any range.
    if (full_range) fail(fmt::format("integer '{}' does not fit in 64 bits", s));
    fail(fmt::format("expected an integer from {} to {}, got {}", min, max, s));
  }
  if (ec != std::errc() || !digits) fail(fmt::format("expected an integer, got '{}'", s));
  if (value < min || value > max)
    fail(fmt::format("expected an integer from {} to {}, got {}", min, max, value));
  return value;
}

double Node::as_positive_double() const {
  const double v = as_double();
  if (!(v > 0)) fail("must be greater than zero");
  return v;
}

bool Node::as_bool() const {
  const std::string s = scalar("true or false");
  if (s == "true") return true;
  if (s == "false") return false;
  fail(fmt::format("expected true or false, got '{}'", s));
}

// Unit-bearing values: the unit parser's message, located here.
#define COBENCH_CONFIG_UNIT(Type, method, parser)          \
  Type Node::method() const {                              \
    const std::string s = scalar("a value with its unit"); \
    try {                                                  \
      return parser(s);                                    \
    } catch (const Error& e) {                             \
      fail(e.what());                                      \
    }                                                      \
  }
COBENCH_CONFIG_UNIT(Bytes, as_bytes, parse_bytes)
COBENCH_CONFIG_UNIT(Seconds, as_seconds, parse_seconds)
COBENCH_CONFIG_UNIT(Bandwidth, as_bandwidth, parse_bandwidth)
COBENCH_CONFIG_UNIT(FlopRate, as_flop_rate, parse_flop_rate)
#undef COBENCH_CONFIG_UNIT

#define COBENCH_CONFIG_POSITIVE(Type, method, plain)       \
  Type Node::method() const {                              \
    const Type v = plain();                                \
    if (!(v.value > 0)) fail("must be greater than zero"); \
    return v;                                              \
  }
COBENCH_CONFIG_POSITIVE(Bytes, as_positive_bytes, as_bytes)
COBENCH_CONFIG_POSITIVE(Seconds, as_positive_seconds, as_seconds)
COBENCH_CONFIG_POSITIVE(Bandwidth, as_positive_bandwidth, as_bandwidth)
COBENCH_CONFIG_POSITIVE(FlopRate, as_positive_flop_rate, as_flop_rate)
#undef COBENCH_CONFIG_POSITIVE

std::vector<Node> Node::elements() const {
  if (!node_.IsSequence()) fail("expected a list");
  std::vector<Node> out;
  for (size_t i = 0; i < node_.size(); ++i)
    out.emplace_back(node_[i], file_, fmt::format("{}[{}]", path_, i));
  return out;
}

MapReader Node::map(std::initializer_list<std::string_view> accepted) const {
  if (!node_.IsMap()) fail("expected a map of keys to values");
  std::vector<std::string> keys(accepted.begin(), accepted.end());
  return MapReader(*this, node_, file_, std::move(keys));
}

MapReader Node::foreign_map() const {
  if (!node_.IsMap()) fail("expected a map of keys to values");
  return MapReader(*this, node_, file_, {}, /*open=*/true);
}

MapReader::MapReader(const Node& map_node, YAML::Node node, std::shared_ptr<const std::string> file,
                     std::vector<std::string> accepted, bool open)
    : self_(map_node),
      node_(std::move(node)),
      file_(std::move(file)),
      accepted_(std::move(accepted)),
      open_(open) {
  std::vector<std::string> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    Node key(it->first, file_, self_.path());
    if (!it->first.IsScalar()) key.fail("a key must be a plain string");
    const std::string name = it->first.Scalar();
    if (const std::string c = first_control_character(name); !c.empty())
      key.fail(fmt::format("a key holds the control character {}", c));
    Node located(it->first, file_, child_path(name));
    if (!open_ && std::find(accepted_.begin(), accepted_.end(), name) == accepted_.end()) {
      std::string hint;
      for (const auto& a : accepted_)
        if (edit_distance(a, name) <= 2) hint = fmt::format(" (did you mean '{}'?)", a);
      located.fail(fmt::format("unknown key{}; accepted keys here: {}", hint, join(accepted_)));
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) located.fail("repeated key");
    seen.push_back(name);
  }
}

std::string MapReader::child_path(std::string_view key) const {
  return self_.path().empty() ? std::string(key) : fmt::format("{}.{}", self_.path(), key);
}

void MapReader::check_accepted(std::string_view key) const {
  // A programming error (the caller asked for a key it did not declare), not a user error.
  COBENCH_CHECK(open_ || std::find(accepted_.begin(), accepted_.end(), key) != accepted_.end(),
                fmt::format("key '{}' was not declared as accepted", key));
}

bool MapReader::has(std::string_view key) const {
  check_accepted(key);
  return static_cast<bool>(node_[std::string(key)]);
}

std::optional<Node> MapReader::optional(std::string_view key) const {
  check_accepted(key);
  YAML::Node child = node_[std::string(key)];
  if (!child) return std::nullopt;
  return Node(child, file_, child_path(key));
}

Node MapReader::required(std::string_view key) const {
  if (auto n = optional(key)) return *n;
  self_.fail(fmt::format("missing required key '{}'", key));
}

std::vector<std::string> MapReader::keys() const {
  std::vector<std::string> out;
  for (auto it = node_.begin(); it != node_.end(); ++it) out.push_back(it->first.Scalar());
  return out;
}

Node parse_yaml(std::string_view text, const std::string& name) {
  return Node(load_yaml(text, name), std::make_shared<const std::string>(name), "");
}

Node parse_json(std::string_view text, const std::string& name) {
  // nlohmann checks strict JSON syntax and reports where it breaks; yaml-cpp then builds the
  // located tree (JSON is YAML 1.2 flow syntax). After a successful strict parse every tab is
  // whitespace between tokens, so replacing it by a space keeps every line:column.
  try {
    const auto strict = nlohmann::json::parse(text.begin(), text.end());
    (void)strict;
  } catch (const nlohmann::json::parse_error& e) {
    auto [line, column] = line_column(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    if (auto pos = what.find(": "); pos != std::string::npos) what = what.substr(pos + 2);
    fail_at(name, line, column, fmt::format("JSON syntax error: {}", what));
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond the range of a double (1e309): nlohmann gives no position, so point at
    // the first occurrence of the number it names.
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    size_t at = 0;
    if (auto q = what.find('\''); q != std::string::npos)
      if (auto q2 = what.find('\'', q + 1); q2 != std::string::npos)
        if (auto found = text.find(what.substr(q + 1, q2 - q - 1)); found != text.npos) at = found;
    auto [line, column] = line_column(text, at);
    fail_at(name, line, column, fmt::format("JSON number out of range: {}", what));
  }
  std::string yaml_text(text);
  std::replace(yaml_text.begin(), yaml_text.end(), '\t', ' ');
  auto file = std::make_shared<const std::string>(name);
  const YAML::Node root = load_yaml(yaml_text, name);
  check_repeated_keys(root, file, "");
  return Node(root, file, "");
}

std::string read_text_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw Error(fmt::format("{}: cannot open file", path.string()));
  if (ec) throw Error(fmt::format("{}: cannot open file: {}", path.string(), ec.message()));
  if (!fs::is_regular_file(st))
    throw Error(fmt::format("{}: not a regular file ({}); expected a text file", path.string(),
                            fs::is_directory(st) ? "a directory" : "a device, FIFO or socket"));
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw Error(fmt::format("{}: cannot read its size: {}", path.string(), ec.message()));
  if (size > max_bytes)
    throw Error(fmt::format("{}: {} bytes; input files may hold at most {} bytes ({} MiB)",
                            path.string(), size, max_bytes, max_bytes >> 20));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open file", path.string()));
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (in.bad() || static_cast<std::uintmax_t>(in.gcount()) != size)
    throw Error(fmt::format("{}: cannot read file", path.string()));
  // A file that grew after its size was checked is refused rather than read past the limit.
  if (in.peek() != std::char_traits<char>::eof())
    throw Error(fmt::format("{}: the file grew while it was read", path.string()));
  return text;
}

Node load_file(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  if (path.extension() == ".json") return parse_json(text, path.string());
  return parse_yaml(text, path.string());
}

}  // namespace cobench::config
