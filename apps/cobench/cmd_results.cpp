// SPDX-License-Identifier: Apache-2.0
// `cobench results validate FILE...` and `cobench results from-gbench IN -o OUT`.
#include <fmt/format.h>

#include "apps/cobench/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/gbench_convert.h"
#include "core/provenance.h"
#include "core/results_io.h"
#include "core/sysinfo/sysinfo.h"

namespace cobench::app {
namespace {

results::Backend parse_backend(const std::string& s) {
  for (auto b : {results::Backend::kCpu, results::Backend::kCuda, results::Backend::kMpi,
                 results::Backend::kNccl})
    if (results::to_string(b) == s) return b;
  throw Error(fmt::format("unknown backend '{}': expected cpu, cuda, mpi or nccl", s));
}

}  // namespace

void add_results(CLI::App& app, Action& action, const std::vector<std::string>& argv) {
  CLI::App* cmd = app.add_subcommand("results", "Validate and convert results files");
  cmd->require_subcommand(1);

  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* validate = cmd->add_subcommand("validate", "Check results files against the format");
  validate->add_option("files", *files, "Results files")->required()->check(CLI::ExistingFile);
  validate->callback([&action, files] {
    action = [files] {
      int bad = 0;
      for (const auto& f : *files) {
        try {
          const results::Results r = results::read(f);
          fmt::print("{}: ok ({} records)\n", f, r.records.size());
        } catch (const std::exception& e) {  // each file is judged; none stops the others
          fmt::print(stderr, "{}\n", e.what());
          ++bad;
        }
      }
      return bad ? 1 : 0;
    };
  });

  struct Convert {
    std::string in, out, suite = "gbench", backend = "cpu";
  };
  auto c = std::make_shared<Convert>();
  CLI::App* conv = cmd->add_subcommand(
      "from-gbench",
      "Convert Google Benchmark JSON (--benchmark_out_format=json) to a results "
      "file with this node's provenance");
  conv->add_option("input", c->in, "Google Benchmark JSON file")
      ->required()
      ->check(CLI::ExistingFile);
  conv->add_option("-o,--out", c->out, "Results file to write (never overwritten)")->required();
  conv->add_option("--suite", c->suite, "Suite name of the records")->capture_default_str();
  conv->add_option("--backend", c->backend, "cpu, cuda, mpi or nccl")->capture_default_str();
  conv->callback([&action, c, argv] {
    action = [c, argv] {
      nlohmann::json doc;
      try {
        doc = nlohmann::json::parse(read_file(c->in));
      } catch (const nlohmann::json::parse_error& e) {
        throw Error(fmt::format("{}: not valid JSON: {}", c->in, e.what()));
      }
      results::RunHeader header = make_run_header(argv);
      const sysinfo::NodeInfo node = sysinfo::discover();
      header.sysinfo = sysinfo::to_json(node);
      for (const auto& [lib, version] : node.versions) header.library_versions[lib] = version;
      const results::Results r =
          results::from_gbench(doc, header, c->suite, parse_backend(c->backend), c->in);
      results::write(c->out, r);
      fmt::print("{}: {} records\n", c->out, r.records.size());
      return 0;
    };
  });
}

}  // namespace cobench::app
