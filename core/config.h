// SPDX-License-Identifier: Apache-2.0
// Configuration files (YAML and JSON) read into located nodes. Every error names the file,
// line:column (1-based), the key path and what was expected, e.g.
//   clusters/h800.yaml:12:20: key 'node.gpu.hbm_bandwidth': bad bandwidth '3.35 TB/z': ...
// Maps are opened with the list of keys they accept: an unknown key (a typo) or a repeated key
// is an error at once, never a silent fall-back to a default.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.h"

namespace cobench::config {

/// A position in a file, 1-based.
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
};

class MapReader;

/// One value of a parsed document with its location and its key path from the root.
class Node {
 public:
  Node(YAML::Node node, std::shared_ptr<const std::string> file, std::string path);

  const std::string& path() const { return path_; }  ///< "node.gpu.hbm_capacity", "" for root
  Location location() const;

  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool is_null() const { return node_.IsNull(); }

  std::string as_string() const;
  /// A string with something in it besides spaces: "expected a name, got an empty string".
  std::string as_name() const;
  double as_double() const;
  std::int64_t as_int() const;
  /// An integer of at least `min`: "expected an integer >= <min>, got <v>" otherwise.
  std::int64_t as_int_at_least(std::int64_t min) const;
  /// An integer from `min` to `max`: "expected an integer from <min> to <max>, got <v>" otherwise,
  /// a number beyond 64 bits included.
  std::int64_t as_int_in(std::int64_t min, std::int64_t max) const;
  /// A number greater than zero.
  double as_positive_double() const;
  bool as_bool() const;
  Bytes as_bytes() const;
  Seconds as_seconds() const;
  Bandwidth as_bandwidth() const;
  FlopRate as_flop_rate() const;
  /// The same quantities, required to be greater than zero.
  Bytes as_positive_bytes() const;
  Seconds as_positive_seconds() const;
  Bandwidth as_positive_bandwidth() const;
  FlopRate as_positive_flop_rate() const;

  /// The elements of a sequence (error if this is not one).
  std::vector<Node> elements() const;
  /// Opens a map that accepts exactly `accepted` keys; unknown or repeated keys throw here.
  MapReader map(std::initializer_list<std::string_view> accepted) const;
  /// Opens a map of a third-party format (a Hugging Face config.json) whose other keys are not
  /// ours to judge: any key may be read and unread keys are ignored; repeated keys still throw.
  MapReader foreign_map() const;

  /// Throws cobench::Error "<file>:<line>:<col>: key '<path>': <message>".
  [[noreturn]] void fail(std::string_view message) const;

 private:
  /// The scalar text; "expected <what>, got null" (or a list, a map) otherwise.
  std::string scalar(std::string_view what) const;

  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
};

/// Read access to a map whose keys were checked against its accepted list.
class MapReader {
 public:
  /// `open`: any key is accepted (foreign formats); else only `accepted`.
  MapReader(const Node& map_node, YAML::Node node, std::shared_ptr<const std::string> file,
            std::vector<std::string> accepted, bool open = false);

  bool has(std::string_view key) const;
  /// The value at `key`; an error at the map's location when it is missing.
  Node required(std::string_view key) const;
  std::optional<Node> optional(std::string_view key) const;
  /// Keys in file order.
  std::vector<std::string> keys() const;

 private:
  void check_accepted(std::string_view key) const;
  std::string child_path(std::string_view key) const;

  Node self_;
  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::vector<std::string> accepted_;
  bool open_ = false;
};

/// Parses YAML text; `name` is the file name used in messages.
Node parse_yaml(std::string_view text, const std::string& name);
/// Parses strict JSON (RFC 8259) text; syntax errors carry line:column.
Node parse_json(std::string_view text, const std::string& name);
/// The largest input file read_text_file (and so load_file) reads.
inline constexpr std::uintmax_t kMaxInputFileBytes = std::uintmax_t{64} << 20;
/// The text of a regular file of at most `max_bytes`; throws Error naming the file when it does
/// not exist, is not a regular file (a directory, /dev/zero, a FIFO), is larger, or cannot be read.
std::string read_text_file(const std::filesystem::path& path,
                           std::uintmax_t max_bytes = kMaxInputFileBytes);
/// Loads a .json file as JSON and anything else (.yaml, .yml) as YAML (through read_text_file).
Node load_file(const std::filesystem::path& path);

}  // namespace cobench::config
