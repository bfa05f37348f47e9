// SPDX-License-Identifier: Apache-2.0
// Parses link-failure specs against a fabric graph and takes their links down
// (fabric_failure.h).
#include "topologies/fabric_failure.h"

#include <fmt/format.h>

#include <algorithm>

#include <charconv>

#include "core/control_characters.h"
#include "core/error.h"

namespace cobench::topo {
namespace {

constexpr std::string_view kForms =
    "expected uplink:LEAF:SPINE (LEAF as the report names it: 3 in an FT2 or FT3, p2.1 in an "
    "MPFT, r3.0 in a multi-rail tree; SPINE: the aggregation switch in an FT3), "
    "core:POD:AGG:CORE (FT3), plane:P (MPFT) or rail:R (multi-rail)";

// A whole decimal number >= 0, or -1.
std::int64_t parse_index(std::string_view text) {
  std::int64_t v = -1;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end || v < 0) return -1;
  return v;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == sep) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

// The rails (planes) a prefix letter names: 'p' an MPFT's, 'r' a multi-rail tree's.
char rail_letter(FabricKind k) {
  return k == FabricKind::kMultiPlaneFatTree ? 'p' : k == FabricKind::kMultiRail ? 'r' : '\0';
}

std::string leaf_range(const FabricGraph& g) {
  const char letter = rail_letter(g.kind());
  if (letter == '\0') return fmt::format("0 to {}", g.leaves() - 1);
  return fmt::format("{}0.0 to {}{}.{}", letter, letter, g.rails() - 1, g.leaves_per_rail() - 1);
}

std::int32_t parse_leaf(const FabricGraph& g, std::string_view spec, std::string_view text) {
  const char letter = rail_letter(g.kind());
  std::int64_t rail = 0, index = -1;
  if (letter == '\0') {
    index = parse_index(text);
  } else {
    const auto dot = text.find('.');
    if (text.size() < 4 || text[0] != letter || dot == std::string_view::npos)
      throw Error(fmt::format("--fail '{}': leaf '{}': the fabric is {}; expected {}", spec, text,
                              to_string(g.kind()), leaf_range(g)));
    rail = parse_index(text.substr(1, dot - 1));
    index = parse_index(text.substr(dot + 1));
    if (rail >= g.rails())
      throw Error(fmt::format("--fail '{}': {} {} is not in the fabric: expected {}0 to {}{}", spec,
                              letter == 'p' ? "plane" : "rail", rail, letter, letter,
                              g.rails() - 1));
  }
  const std::int32_t leaf =
      rail < 0 || index < 0 || index > g.leaves()
          ? -1
          : g.leaf_id(static_cast<std::int32_t>(rail), static_cast<std::int32_t>(index));
  if (leaf < 0)
    throw Error(fmt::format("--fail '{}': leaf '{}' is not in the fabric: expected {}", spec, text,
                            leaf_range(g)));
  return leaf;
}

// Every link of the rail's leaves: its NICs' links and the leaves' spine cables.
void rail_links(const FabricGraph& g, std::int32_t rail, LinkFailure& f) {
  for (std::int32_t nic = 0; nic < g.nics(); ++nic)
    if (g.rail_of_nic(nic) == rail) {
      f.links.push_back(g.nic_to_leaf(nic));
      f.links.push_back(g.leaf_to_nic(nic));
    }
  for (std::int32_t i = 0; i < g.leaves_per_rail(); ++i)
    for (std::int32_t s = 0; s < g.spines_per_tree(); ++s) {
      f.links.push_back(g.leaf_to_spine(g.leaf_id(rail, i), s));
      f.links.push_back(g.spine_to_leaf(g.leaf_id(rail, i), s));
    }
}

}  // namespace

LinkFailure parse_link_failure(const FabricGraph& g, std::string_view spec) {
  // A control character would reach the terminal in every message below: refused, not echoed.
  std::size_t at = 0;
  if (const std::string c = first_control_character(spec, &at); !c.empty())
    throw UsageError(fmt::format("--fail: the spec holds {} at byte {}: {}", c, at, kForms));
  const std::vector<std::string_view> parts = split(spec, ':');
  LinkFailure f{std::string(spec), "", {}};
  // An empty field ('uplink::') is malformed whatever the cluster, as a spec of no form is.
  if (std::any_of(parts.begin(), parts.end(), [](std::string_view p) { return p.empty(); }))
    throw UsageError(fmt::format("--fail '{}': an empty field: {}", spec, kForms));
  if (!g.has_network())
    throw Error(fmt::format("--fail '{}': the cluster has no scale-out fabric to fail", spec));
  if (g.direct())
    throw Error(fmt::format(
        "--fail '{}': link failures are simulated on the fat trees (ft2, ft3, mpft, multi-rail), "
        "not on a {}",
        spec, to_string(g.kind())));
  if (parts[0] == "core" && parts.size() == 4) {
    if (g.kind() != FabricKind::kFatTree3)
      throw Error(fmt::format(
          "--fail '{}': the fabric is {}; core:POD:AGG:CORE needs an ft3 (fail an uplink with "
          "uplink:LEAF:SPINE, LEAF {})",
          spec, to_string(g.kind()), leaf_range(g)));
    if (g.cores_per_group() == 0)
      throw Error(fmt::format(
          "--fail '{}': the ft3 has {} pod and no core tier: no aggregation-core cable to fail",
          spec, g.pods()));
    const std::int64_t pod = parse_index(parts[1]), agg = parse_index(parts[2]),
                       core = parse_index(parts[3]);
    const std::int64_t counts[] = {g.pods(), g.spines_per_tree(), g.cores_per_group()};
    const std::int64_t values[] = {pod, agg, core};
    const char* names[] = {"pod", "aggregation switch", "core"};
    for (int i = 0; i < 3; ++i)
      if (values[i] < 0 || values[i] >= counts[i])
        throw Error(fmt::format("--fail '{}': {} '{}' is not in the fabric: expected 0 to {}", spec,
                                names[i], parts[static_cast<size_t>(i) + 1], counts[i] - 1));
    const auto p = static_cast<std::int32_t>(pod), a = static_cast<std::int32_t>(agg),
               c = static_cast<std::int32_t>(core);
    f.links = {g.aggregation_to_core(p, a, c), g.core_to_aggregation(p, a, c)};
    f.description = fmt::format("{} <-> {}", g.vertex_name(g.link_from(f.links[0])),
                                g.vertex_name(g.link_to(f.links[0])));
    return f;
  }
  if (parts[0] == "uplink" && parts.size() == 3) {
    if (g.spines_per_tree() == 0)
      throw Error(fmt::format(
          "--fail '{}': the fabric has one leaf a tree and no spines: no uplink to fail", spec));
    const std::int32_t leaf = parse_leaf(g, spec, parts[1]);
    const std::int64_t spine = parse_index(parts[2]);
    if (spine < 0 || spine >= g.spines_per_tree())
      throw Error(fmt::format("--fail '{}': spine '{}' is not in the tree: expected 0 to {}", spec,
                              parts[2], g.spines_per_tree() - 1));
    const auto s = static_cast<std::int32_t>(spine);
    f.links = {g.leaf_to_spine(leaf, s), g.spine_to_leaf(leaf, s)};
    f.description = fmt::format("{} <-> {}", g.vertex_name(g.link_from(f.links[0])),
                                g.vertex_name(g.link_to(f.links[0])));
    return f;
  }
  if ((parts[0] == "plane" || parts[0] == "rail") && parts.size() == 2) {
    const bool plane = parts[0] == "plane";
    const FabricKind needs = plane ? FabricKind::kMultiPlaneFatTree : FabricKind::kMultiRail;
    if (g.kind() != needs)
      throw Error(
          fmt::format("--fail '{}': the fabric is {}; {}:N needs {} (fail an uplink with "
                      "uplink:LEAF:SPINE, LEAF {})",
                      spec, to_string(g.kind()), parts[0], to_string(needs), leaf_range(g)));
    const std::int64_t rail = parse_index(parts[1]);
    if (rail < 0 || rail >= g.rails())
      throw Error(fmt::format("--fail '{}': {} '{}' is not in the fabric: expected 0 to {}", spec,
                              parts[0], parts[1], g.rails() - 1));
    rail_links(g, static_cast<std::int32_t>(rail), f);
    f.description = fmt::format("{} {} down ({} leaves, {} links)", parts[0], rail,
                                g.leaves_per_rail(), f.links.size());
    return f;
  }
  // No form at all: a malformed option whatever the cluster (a usage error); the errors above
  // are well-formed specs that this cluster's fabric lacks.
  throw UsageError(fmt::format("--fail '{}': {}", spec, kForms));
}

void apply_link_failures(FabricGraph& g, std::span<const LinkFailure> failures) {
  for (const LinkFailure& f : failures)
    for (std::int32_t l : f.links) g.fail_link(l);
}

}  // namespace cobench::topo
