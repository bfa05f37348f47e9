// SPDX-License-Identifier: Apache-2.0
// `cobench analyze --paper`: every number of the DeepSeek-V3 ISCA 2025 paper (arXiv
// 2505.09343) and its technical report that cobench reproduces, computed from the shipped data
// files (models, clusters, scenarios) and printed beside the paper's value with the deviation.
// docs/model.md gives each formula and its counting convention.
#pragma once

#include "topologies/report.h"

namespace cobench::topo {

/// Builds the report from the files under data_dir() (scenario deepseek-v3-paper).
Report paper_report();

}  // namespace cobench::topo
