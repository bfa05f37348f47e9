// SPDX-License-Identifier: Apache-2.0
#include "topologies/data_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "topologies/hf_config.h"

namespace cobench::topo {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("COBENCH_DATA_DIR"); env && *env) return env;
  return COBENCH_TOPOLOGIES_DIR;
}

std::vector<std::string> list_data_files(std::string_view kind) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(data_dir() / kind, ec))
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::filesystem::path find_data_file(std::string_view kind, std::string_view name_or_path) {
  const std::filesystem::path as_path(name_or_path);
  const bool is_path = name_or_path.find('/') != std::string_view::npos ||
                       name_or_path.ends_with(".yaml") || name_or_path.ends_with(".yml") ||
                       name_or_path.ends_with(".json");
  if (is_path) {
    if (!std::filesystem::exists(as_path))
      throw Error(
          fmt::format("{} file '{}': no such file", kind.substr(0, kind.size() - 1), name_or_path));
    return as_path;
  }
  const std::filesystem::path file = data_dir() / kind / (std::string(name_or_path) + ".yaml");
  if (std::filesystem::exists(file)) return file;
  const std::filesystem::path dir = data_dir() / kind;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    const char* env = std::getenv("COBENCH_DATA_DIR");
    throw Error(fmt::format("unknown {} '{}': the directory {} does not exist{}",
                            kind.substr(0, kind.size() - 1), name_or_path, dir.string(),
                            env && *env ? fmt::format(" (COBENCH_DATA_DIR='{}')", env) : ""));
  }
  std::string known;
  for (const auto& n : list_data_files(kind)) known += (known.empty() ? "" : ", ") + n;
  if (known.empty()) known = "none (no .yaml file there)";
  throw Error(fmt::format("unknown {} '{}' (in {}); known: {}", kind.substr(0, kind.size() - 1),
                          name_or_path, (data_dir() / kind).string(), known));
}

ModelArch load_model(std::string_view name_or_path) {
  const std::filesystem::path file = find_data_file("models", name_or_path);
  const config::Node root = config::load_file(file);
  if (file.extension() == ".json") return load_hf_config(root);
  return load_model_yaml(root);
}

ClusterSpec load_cluster_file(std::string_view name_or_path) {
  return load_cluster(config::load_file(find_data_file("clusters", name_or_path)));
}

}  // namespace cobench::topo
