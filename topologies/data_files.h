// SPDX-License-Identifier: Apache-2.0
// Finding the shipped data files: topologies/models/<name>.yaml, topologies/clusters/<name>.yaml
// and topologies/scenarios/<name>.yaml under the data directory ($COBENCH_DATA_DIR, else the
// source tree's topologies/ directory compiled in). A name with a '/' or ending in .yaml, .yml or
// .json is a path instead; a .json model is a Hugging Face config.json.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "topologies/cluster.h"
#include "topologies/model_arch.h"

namespace cobench::topo {

std::filesystem::path data_dir();

/// Resolves `name_or_path` in `kind` ("models", "clusters", "scenarios"); an unknown name is an
/// error listing the names that exist.
std::filesystem::path find_data_file(std::string_view kind, std::string_view name_or_path);
std::vector<std::string> list_data_files(std::string_view kind);

ModelArch load_model(std::string_view name_or_path);
ClusterSpec load_cluster_file(std::string_view name_or_path);

}  // namespace cobench::topo
