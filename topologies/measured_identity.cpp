// SPDX-License-Identifier: Apache-2.0
#include "topologies/measured_identity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/error.h"
#include "core/results_io.h"

namespace cobench::topo {
namespace {

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

std::string gpu_product(const std::string& name) {
  std::string token;
  const std::string s = lower(name) + " ";
  for (char ch : s) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      token += ch;
      continue;
    }
    size_t letters = 0;
    while (letters < token.size() && std::isalpha(static_cast<unsigned char>(token[letters])))
      ++letters;
    size_t digits = letters;
    while (digits < token.size() && std::isdigit(static_cast<unsigned char>(token[digits])))
      ++digits;
    if (letters >= 1 && letters <= 3 && digits - letters >= 2 && token.size() - digits <= 1 &&
        token != "nvidia")
      return token;
    token.clear();
  }
  return "";
}

namespace {

struct GpuId {
  std::string name, cc;
  std::int64_t sms = 0;
};

bool same_gpu(const GpuId& a, const GpuId& b) {
  const std::string ma = gpu_product(a.name), mb = gpu_product(b.name);
  if (ma.empty() || ma != mb) return lower(a.name) == lower(b.name) && !a.name.empty();
  if (!a.cc.empty() && !b.cc.empty() && a.cc != b.cc) return false;
  return a.sms == 0 || b.sms == 0 || a.sms == b.sms;
}

std::string describe(const GpuId& g) {
  if (g.name.empty()) return "no CUDA device";
  std::string s = g.name;
  if (!g.cc.empty()) s += " (cc " + g.cc;
  if (g.sms > 0) s += fmt::format("{}{} SMs", g.cc.empty() ? " (" : ", ", g.sms);
  if (!g.cc.empty() || g.sms > 0) s += ")";
  return s;
}

GpuId results_gpu(const nlohmann::json& sysinfo) {
  GpuId g;
  if (!sysinfo.is_object() || !sysinfo.contains("cuda_devices")) return g;
  const auto& devices = sysinfo["cuda_devices"];
  if (!devices.is_array() || devices.empty() || !devices[0].is_object()) return g;
  const auto& d = devices[0];
  if (d.contains("name") && d["name"].is_string()) g.name = d["name"].get<std::string>();
  if (d.contains("compute_capability") && d["compute_capability"].is_string())
    g.cc = d["compute_capability"].get<std::string>();
  if (d.contains("sms") && d["sms"].is_number_integer()) g.sms = d["sms"].get<std::int64_t>();
  return g;
}

GpuId cluster_gpu(const ClusterSpec& c) {
  GpuId g;
  if (c.node.gpus_per_node > 0 && c.node.gpu) {
    g.name = c.node.gpu->name;
    g.cc = c.node.gpu->compute_capability;
    g.sms = c.node.gpu->sms.value_or(0);
  }
  return g;
}

std::string results_cpu(const nlohmann::json& sysinfo) {
  if (sysinfo.is_object() && sysinfo.contains("cpu") && sysinfo["cpu"].is_object() &&
      sysinfo["cpu"].contains("model") && sysinfo["cpu"]["model"].is_string())
    return sysinfo["cpu"]["model"].get<std::string>();
  return "";
}

}  // namespace

std::string component_of_input(const std::string& input) {
  if (input.starts_with("gpu.") || input == "pcie.h2d_bandwidth") return "gpu";
  if (input == "cpu.memory_bandwidth" || input == "storage.read_bandwidth") return "host";
  return "link";
}

std::string results_gpu_identity(const nlohmann::json& sysinfo) {
  return describe(results_gpu(sysinfo));
}

std::string cluster_gpu_identity(const ClusterSpec& c) { return describe(cluster_gpu(c)); }

std::string link_mismatch(const results::Results& r, const results::Record& rec,
                          const ClusterSpec& c) {
  const GpuId have = results_gpu(r.run.sysinfo), want = cluster_gpu(c);
  const bool device_path = rec.backend == results::Backend::kNccl;
  const bool gpu_cluster = !want.name.empty();
  if (gpu_cluster && !(device_path && !have.name.empty() && same_gpu(have, want)))
    return fmt::format(
        "it measured the {} path between {}, the cluster's links join {} GPUs ({}, {})",
        to_string(rec.backend), have.name.empty() ? "hosts without a GPU" : describe(have),
        describe(want), c.scale_up.link, c.scale_out.link);
  if (!gpu_cluster && device_path) return "it measured a GPU path, the cluster has no GPUs";
  return "";
}

std::vector<std::string> measured_files(const std::vector<std::string>& paths) {
  std::vector<std::string> all;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(path, ec))
        if (e.path().extension() == ".json") files.push_back(e.path().string());
      if (ec) throw Error(fmt::format("{}: cannot list: {}", path, ec.message()));
      std::sort(files.begin(), files.end());
      // Not recursive: a file in a subdirectory was in it, to the user, and "none" puzzled.
      if (files.empty())
        throw Error(fmt::format(
            "{}: no results files (*.json) in it (its subdirectories are not searched: give "
            "each as --measured)",
            path));
      all.insert(all.end(), files.begin(), files.end());
    } else if (std::filesystem::exists(path, ec)) {
      all.push_back(path);
    } else {
      throw Error(fmt::format("--measured {}: no such file or directory", path));
    }
  }
  return all;
}

void check_measured_identity(const results::Results& r, const std::string& source,
                             const ClusterSpec& c, const std::set<std::string>& measured_as) {
  const GpuId have = results_gpu(r.run.sysinfo), want = cluster_gpu(c);
  const std::string cpu_have = results_cpu(r.run.sysinfo);
  const std::string cpu_want = c.node.cpu ? c.node.cpu->model : "";
  for (size_t i = 0; i < r.records.size(); ++i) {
    const results::Record& rec = r.records[i];
    if (!rec.parameters.contains("model_input") || !rec.parameters["model_input"].is_string() ||
        rec.verification != results::Verification::kPassed)
      continue;
    const std::string input = rec.parameters["model_input"].get<std::string>();
    const std::string part = component_of_input(input);
    if (measured_as.count(part) || measured_as.count("all")) continue;
    std::string mismatch;
    if (part == "gpu") {
      if (want.name.empty() || have.name.empty() || !same_gpu(have, want))
        mismatch =
            fmt::format("it measured {}, the cluster's GPU is {}", describe(have), describe(want));
    } else if (part == "host") {
      if (cpu_want.empty() || lower(cpu_have) != lower(cpu_want))
        mismatch =
            fmt::format("it measured CPU '{}', the cluster's node CPU is {}",
                        cpu_have.empty() ? "unknown" : cpu_have,
                        cpu_want.empty() ? "not given (node.cpu.model)" : "'" + cpu_want + "'");
    } else {
      mismatch = link_mismatch(r, rec, c);
    }
    if (!mismatch.empty())
      throw Error(
          fmt::format("{}: $.records[{}] ({}) measures model input '{}' of another {}: {}; give "
                      "--measured-as {} to use it for cluster '{}' on purpose",
                      source, i, rec.benchmark, input, part == "link" ? "link class" : part,
                      mismatch, part, c.name));
  }
}

MeasuredData measured_data_for(const std::vector<std::string>& paths, const ClusterSpec& c,
                               const std::set<std::string>& measured_as) {
  MeasuredData all;
  for (const std::string& f : measured_files(paths)) {
    const results::Results r = results::read(f);
    const MeasuredInputs in = measured_inputs(r, f);
    const MeasuredTables tables = measured_tables(r, f);
    check_measured_identity(r, f, c, measured_as);
    merge_measured(all.inputs, in);
    merge_tables(all.tables, tables);
  }
  return all;
}

}  // namespace cobench::topo
