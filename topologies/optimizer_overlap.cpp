// SPDX-License-Identifier: Apache-2.0
#include "topologies/optimizer_overlap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace cobench::topo {
namespace {

void check_time(double v, const char* what) {
  if (!(std::isfinite(v) && v >= 0))
    throw Error(fmt::format("optimizer timeline: {} must be a finite time >= 0, got {}", what, v));
}

}  // namespace

double gradients_reduced_s(std::vector<GradientGroup> groups, double pipeline_end_s) {
  check_time(pipeline_end_s, "the pipeline's end");
  for (const GradientGroup& g : groups) {
    check_time(g.ready_s, "a group's ready time");
    check_time(g.reduce_scatter_s, "a group's reduce-scatter");
  }
  std::sort(groups.begin(), groups.end(),
            [](const GradientGroup& x, const GradientGroup& y) { return x.ready_s < y.ready_s; });
  double links_free_s = 0;
  for (const GradientGroup& g : groups)
    links_free_s = std::max(links_free_s, g.ready_s) + g.reduce_scatter_s;
  return std::max(links_free_s, pipeline_end_s);
}

}  // namespace cobench::topo
