// SPDX-License-Identifier: Apache-2.0
// Parses traffic-matrix files into flows (fabric_traffic.h).
#include "topologies/fabric_traffic.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "core/config.h"
#include "core/error.h"
#include "core/units.h"

namespace cobench::topo {
namespace {

struct Field {
  std::string_view text;
  size_t column = 0;  // 1-based
};

std::vector<Field> fields_of(std::string_view line) {
  std::vector<Field> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) fields.push_back({line.substr(start, i - start), start + 1});
  }
  return fields;
}

}  // namespace

std::vector<Flow> parse_traffic(std::string_view text, const std::string& name, std::int32_t gpus) {
  if (gpus < 2)
    throw Error(fmt::format("{}: a traffic matrix needs 2 or more GPUs; got {}", name, gpus));
  std::vector<Flow> flows;
  size_t line_no = 0, pos = 0;
  // A UTF-8 byte order mark opens the file, as the YAML and JSON readers allow.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    const std::vector<Field> f = fields_of(line);
    if (f.empty()) {
      if (end == text.size()) break;
      continue;
    }
    auto where = [&](const Field& field) {
      return fmt::format("{}:{}:{}", name, line_no, field.column);
    };
    // Old Mac line ends (CR alone) made one line of the file: "got 6 field(s)".
    if (const size_t cr = line.find('\r');
        cr != std::string_view::npos &&
        line.find_first_not_of(" \t\r", cr) != std::string_view::npos)
      throw Error(fmt::format(
          "{}:{}:{}: a carriage return (CR) inside the line: expected lines ending in LF or "
          "CRLF",
          name, line_no, cr + 1));
    if (f.size() != 3)
      throw Error(
          fmt::format("{}: expected 'SRC DST BYTES', got {} field(s)", where(f[0]), f.size()));
    std::int32_t gpu[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      const Field& field = f[static_cast<size_t>(k)];
      std::int64_t v = -1;
      const char* last = field.text.data() + field.text.size();
      const auto [p, ec] = std::from_chars(field.text.data(), last, v);
      if (ec != std::errc() || p != last)
        throw Error(fmt::format("{}: {} '{}': expected a whole GPU id", where(field),
                                k == 0 ? "SRC" : "DST", printable(field.text)));
      if (v < 0 || v >= gpus)
        throw Error(
            fmt::format("{}: {} GPU {} is out of range: the simulation holds GPUs 0 to "
                        "{} (--gpus)",
                        where(field), k == 0 ? "SRC" : "DST", v, gpus - 1));
      gpu[k] = static_cast<std::int32_t>(v);
    }
    if (gpu[0] == gpu[1])
      throw Error(fmt::format("{}: a flow from GPU {} to itself: expected two different GPUs",
                              where(f[0]), gpu[0]));
    const Field& size = f[2];
    double bytes = 0;
    const char* last = size.text.data() + size.text.size();
    const auto [p, ec] = std::from_chars(size.text.data(), last, bytes);
    if (ec == std::errc() && p == last) {
      // A plain number of bytes.
    } else if (ec == std::errc() && bytes < 0) {
      bytes = -1;  // "-5MiB": negative, said below
    } else {
      try {
        bytes = parse_bytes(size.text).value;
      } catch (const Error& e) {
        throw Error(fmt::format("{}: BYTES '{}': expected a number of bytes or a size (64MiB): {}",
                                where(size), printable(size.text),
                                printable(size.text) == size.text ? e.what() : "not a size"));
      }
    }
    if (!std::isfinite(bytes) || !(bytes > 0))
      throw Error(fmt::format("{}: BYTES '{}': expected a positive, finite size", where(size),
                              printable(size.text)));
    // A plain number is held to the range a size with a unit has (units.h): 1e308 bytes summed
    // to inf, 1e-320 printed "4.941e-324 GB/s".
    if (!is_model_quantity(bytes))
      throw Error(fmt::format("{}: BYTES '{}': expected a size from {:g} to {:g} B", where(size),
                              printable(size.text), kMinQuantity, kMaxQuantity));
    // A flow moves whole bytes: 0.5 or 1b (an eighth of one) printed busbw in 1e-06 GB/s.
    const std::optional<double> whole = whole_bytes(bytes);
    if (!whole)
      throw Error(fmt::format("{}: BYTES '{}': expected a whole number of bytes >= 1, got {:g} B",
                              where(size), printable(size.text), bytes));
    flows.push_back({gpu[0], gpu[1], *whole});
    if (static_cast<std::int64_t>(flows.size()) > kMaxPhaseFlows)
      throw Error(
          fmt::format("{}:{}: more than {} flows: at most that many are simulated in one "
                      "phase",
                      name, line_no, kMaxPhaseFlows));
  }
  if (flows.empty())
    throw Error(fmt::format("{}: no flows (expected lines 'SRC DST BYTES')", name));
  return flows;
}

std::string printable(std::string_view text, std::size_t most) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < most; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out +=
        c > 0x20 && c < 0x7f ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  }
  if (text.size() > most) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

std::vector<Flow> load_traffic_file(const std::string& path, std::int32_t gpus) {
  return parse_traffic(config::read_text_file(path), printable(path, 4096), gpus);
}

Collective traffic_matrix(std::vector<Flow> flows) {
  if (flows.empty()) throw Error("a traffic matrix needs at least one flow; got none");
  std::map<std::int32_t, double> sent;
  std::map<std::int32_t, bool> seen;
  for (const Flow& f : flows) {
    sent[f.src_gpu] += f.bytes;
    seen[f.src_gpu] = seen[f.dst_gpu] = true;
  }
  double most = 0;
  for (const auto& [gpu, bytes] : sent) most = std::max(most, bytes);
  Collective c{CollectiveKind::kMatrix, static_cast<std::int64_t>(seen.size()), 1, most, {}};
  Phase p;
  p.flows = std::move(flows);
  c.phases.push_back(std::move(p));
  return c;
}

}  // namespace cobench::topo
