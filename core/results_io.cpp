// SPDX-License-Identifier: Apache-2.0
#include "core/results_io.h"

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_strict.h"

namespace cobench::results {

std::string checked_text(const Results& r, std::string_view source) {
  std::string text = to_json(r).dump(2) + "\n";
  (void)from_json(parse_json_strict(text, source), source);
  return text;
}

void write(const std::filesystem::path& path, const Results& r) {
  write_file_atomic_no_overwrite(path, checked_text(r, path.string()));
}

std::filesystem::path write_new_run(const std::filesystem::path& dir, const Results& r,
                                    std::string_view tag) {
  const std::filesystem::path path = dir / default_file_name(r.run, tag);
  return write_file_atomic_unique(path, checked_text(r, path.string()));
}

Results read(const std::filesystem::path& path) {
  return from_json(parse_json_strict(read_file(path), path.string()), path.string());
}

std::string default_file_name(const RunHeader& header, std::string_view tag) {
  // Host and tag at most 64 characters each: the name stays far below a file name's 255 bytes.
  auto clean = [](std::string_view s) {
    std::string out(s.substr(0, 64));
    for (char& c : out) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
      if (!ok) c = '-';
    }
    return out;
  };
  std::string stamp;
  bool fraction = false;  // fractional seconds are dropped, the zone letter kept
  for (char c : header.utc_time) {
    if (c == '.') fraction = true;
    if (c == 'Z') fraction = false;
    if (!fraction && c != '-' && c != ':') stamp += c;
  }
  return fmt::format("{}_{}_{}.json", stamp, clean(header.host), clean(tag));
}

}  // namespace cobench::results
