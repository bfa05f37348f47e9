// SPDX-License-Identifier: Apache-2.0
#include "core/json_strict.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/control_characters.h"
#include "core/error.h"

namespace cobench {
namespace {

using nlohmann::json;

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string without_tag(const std::string& what) {
  if (what.rfind("[json.exception.", 0) == 0)
    if (const auto end = what.find("] "); end != std::string::npos) return what.substr(end + 2);
  return what;
}

// A SAX pass over the document that stops at the first repeated key, out-of-range number or
// too deep nesting, and knows the JSON path of where it stopped.
class StrictChecker : public nlohmann::json_sax<json> {
 public:
  std::string error;  ///< "$.path: what", or "not valid JSON: ..."; empty when the text is fine

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t v, const string_t& text) override {
    if (!std::isfinite(v)) return fail(path(), fmt::format("number {} is out of range", text));
    return value();
  }
  bool string(string_t& s) override {
    if (const std::string c = first_control_character(s); !c.empty())
      return fail(path(), fmt::format("text holds the control character {} (names and labels are "
                                      "printed to terminals and reports)",
                                      c));
    return value();
  }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(true); }
  bool key(string_t& k) override {
    Frame& f = frames_.back();
    if (const std::string c = first_control_character(k); !c.empty())
      return fail(path(/*to_value=*/false), fmt::format("a key holds the control character {}", c));
    if (!f.keys.insert(k).second)
      return fail(path(/*to_value=*/false), fmt::format("repeated key '{}'", k));
    f.key = k;
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = fmt::format("not valid JSON: {}", without_tag(e.what()));
    return false;
  }

 private:
  struct Frame {
    bool object = false;
    std::set<std::string> keys;
    std::string key;        // the current key of an object
    std::size_t index = 0;  // the current element of an array
  };

  // A value ended: the enclosing array moves on to its next element.
  bool value() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    return true;
  }
  bool open(bool object) {
    if (frames_.size() >= kMaxJsonDepth)
      return fail(path(), fmt::format("nested deeper than {} levels", kMaxJsonDepth));
    frames_.push_back(Frame{object, {}, {}, 0});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return value();
  }
  // The JSON path of the value being read (`to_value`), else of its enclosing object or array.
  std::string path(bool to_value = true) const {
    std::string p = "$";
    const std::size_t n = to_value ? frames_.size() : frames_.size() - 1;
    for (std::size_t i = 0; i < n; ++i) {
      const Frame& f = frames_[i];
      p += f.object ? "." + f.key : fmt::format("[{}]", f.index);
    }
    return p;
  }
  bool fail(const std::string& where, const std::string& what) {
    error = fmt::format("{}: {}", where, what);
    return false;
  }

  std::vector<Frame> frames_;
};

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, std::string_view source) {
  StrictChecker check;
  try {
    json::sax_parse(text.begin(), text.end(), &check);
  } catch (const json::exception& e) {
    if (check.error.empty()) check.error = fmt::format("not valid JSON: {}", without_tag(e.what()));
  }
  if (!check.error.empty()) throw Error(fmt::format("{}: {}", source, check.error));
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // not expected after the strict pass
    throw Error(fmt::format("{}: not valid JSON: {}", source, without_tag(e.what())));
  }
}

}  // namespace cobench
