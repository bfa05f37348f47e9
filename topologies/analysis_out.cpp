// SPDX-License-Identifier: Apache-2.0
#include "topologies/analysis_out.h"

#include <optional>
#include <utility>

namespace cobench::topo {

SectionOut::SectionOut(Analysis& analysis, std::string title, std::string json_key)
    : a_(analysis), title_(std::move(title)), key_(std::move(json_key)) {}

nlohmann::json& SectionOut::json() { return a_.json[key_]; }

nlohmann::json& SectionOut::at(std::string_view path) {
  nlohmann::json* j = &json();
  while (true) {
    const size_t dot = path.find('.');
    j = &(*j)[std::string(path.substr(0, dot))];
    if (dot == std::string_view::npos) return *j;
    path.remove_prefix(dot + 1);
  }
}

void SectionOut::quantity(std::string_view path, std::string label, double value, Shown shown,
                          std::string note) {
  at(path) = value;
  row(path, std::move(label), value * shown.times / shown.per, std::string(shown.unit),
      std::move(note));
}

void SectionOut::count(std::string_view path, std::string label, std::int64_t value,
                       std::string unit, std::string note) {
  at(path) = value;
  row(path, std::move(label), static_cast<double>(value), std::move(unit), std::move(note));
}

void SectionOut::field(std::string_view path, nlohmann::json value) { at(path) = std::move(value); }

void SectionOut::row(std::string_view path, std::string label, double shown_value, std::string unit,
                     std::string note) {
  a_.report.rows.push_back({title_, key_ + "." + std::string(path), std::move(label), std::nullopt,
                            shown_value, std::move(unit), 0, std::move(note), false});
}

}  // namespace cobench::topo
