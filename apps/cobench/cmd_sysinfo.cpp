// SPDX-License-Identifier: Apache-2.0
// `cobench sysinfo [--json] [--out FILE] [--cluster-node FILE]`
#include <fmt/format.h>

#include "apps/cobench/commands.h"
#include "core/atomic_file.h"
#include "core/provenance.h"
#include "core/results_io.h"
#include "core/sysinfo/gpu_clocks.h"
#include "core/sysinfo/sysinfo.h"

namespace cobench::app {

void add_sysinfo(CLI::App& app, Action& action, const std::vector<std::string>& argv) {
  struct Options {
    bool json = false;
    std::string out;
    std::string cluster_node;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("sysinfo",
                                     "Describe this node: CPU, memory, GPUs, NICs, "
                                     "CUDA devices and library versions");
  cmd->add_flag("--json", opts->json, "Print JSON instead of text");
  cmd->add_option("--out", opts->out,
                  "Also write a results file (the run header with this snapshot); never "
                  "overwrites");
  cmd->add_option("--cluster-node", opts->cluster_node,
                  "Write this node as the node part of a cluster description (YAML; '-' for "
                  "stdout); never overwrites");
  cmd->callback([&action, opts, argv] {
    if (opts->json && opts->cluster_node == "-")
      throw CLI::ValidationError("--json",
                                 "cannot share stdout with --cluster-node -: write the "
                                 "node description to a file, or drop --json");
    action = [opts, argv] {
      const sysinfo::NodeInfo node = sysinfo::discover();
      const sysinfo::GpuClocks clocks = sysinfo::read_gpu_clocks();
      const nlohmann::json snapshot = sysinfo::to_json(node);
      // With the node description on stdout, stdout carries only its YAML: the report goes to
      // stderr (and JSON, which would need stdout too, is refused before anything runs).
      std::FILE* report = opts->cluster_node == "-" ? stderr : stdout;
      if (opts->json) {
        nlohmann::json printed = snapshot;
        printed["gpu_clocks"] = sysinfo::to_json(clocks);
        fmt::print("{}\n", printed.dump(2));
      } else {
        fmt::print(report, "{}", sysinfo::to_text(node));
        for (const auto& s : clocks.devices) {
          std::string reasons;
          for (const auto& r : sysinfo::throttle_reason_names(s.throttle_mask))
            reasons += (reasons.empty() ? "" : ",") + r;
          fmt::print(report,
                     "{:<20} {} MHz of {} MHz, memory {} MHz, {} C, {:.0f} W, reasons [{}]{}\n",
                     fmt::format("clocks gpu {}", s.index), s.sm_clock_mhz, s.max_sm_clock_mhz,
                     s.memory_clock_mhz, s.temperature_c, s.power_w, reasons,
                     sysinfo::is_throttled(s.throttle_mask) ? " THROTTLED" : "");
        }
      }
      if (!opts->cluster_node.empty()) {
        const std::string yaml = sysinfo::to_cluster_node_yaml(node);
        if (opts->cluster_node == "-") {
          fmt::print("{}", yaml);
        } else {
          write_file_atomic_no_overwrite(opts->cluster_node, yaml);
          fmt::print(stderr, "cobench: wrote node description {}\n", opts->cluster_node);
        }
      }
      if (!opts->out.empty()) {
        results::Results r;
        r.run = make_run_header(argv);
        r.run.sysinfo = snapshot;
        r.run.gpu_clocks = {{"start", sysinfo::to_json(clocks)}};
        for (const auto& [lib, version] : node.versions) r.run.library_versions[lib] = version;
        results::write(opts->out, r);
        fmt::print(stderr, "cobench: wrote {}\n", opts->out);
      }
      return 0;
    };
  });
}

}  // namespace cobench::app
