// SPDX-License-Identifier: Apache-2.0
// `cobench results validate FILE...`, `cobench results from-gbench IN -o OUT` and
// `cobench results from-nccl-tests IN... -o OUT`.
#include <fmt/format.h>

#include <set>
#include <string>

#include "apps/cobench/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/gbench_convert.h"
#include "core/json_strict.h"
#include "core/nccl_tests_convert.h"
#include "core/provenance.h"
#include "core/results_io.h"
#include "core/sysinfo/sysinfo.h"

namespace cobench::app {
namespace {

results::Backend parse_backend(const std::string& s) {
  for (auto b : {results::Backend::kCpu, results::Backend::kCuda, results::Backend::kMpi,
                 results::Backend::kNccl})
    if (results::to_string(b) == s) return b;
  throw UsageError(fmt::format("--backend '{}': expected cpu, cuda, mpi or nccl", s));
}

// What an input gives that a results file cannot hold (a negative time, a bandwidth below zero)
// is refused before anything is written, naming the input and its benchmark:
// "g.json: benchmark 'BM_X': metrics.real_time.values[0]: -1e-09 is negative; ...".
void check_converted(const results::Results& r, const std::string& input) {
  results::checked_text(results::Results{r.run, {}}, input);
  for (const results::Record& rec : r.records) {
    try {
      results::checked_text(results::Results{r.run, {rec}}, input);
    } catch (const Error& e) {
      std::string what = e.what();
      const std::string at = input + ": $.records[0].";
      if (what.rfind(at, 0) == 0) what = what.substr(at.size());
      throw Error(fmt::format("{}: benchmark '{}': {}", input, rec.benchmark, what));
    }
  }
}

// A converting subcommand `name` of `cmd`: its input file(s), which must exist, and the results
// file it writes (-o, --out).
template <class Input>
CLI::App* add_converter(CLI::App& cmd, const std::string& name, const std::string& about,
                        Input& input, const std::string& input_help, std::string& out) {
  CLI::App* sub = cmd.add_subcommand(name, about);
  sub->add_option("input", input, input_help)->required()->check(CLI::ExistingFile);
  sub->add_option("-o,--out", out, "Results file to write (never overwritten)")->required();
  return sub;
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
  CLI::App* conv = add_converter(*cmd, "from-gbench",
                                 "Convert Google Benchmark JSON (--benchmark_out_format=json) to a "
                                 "results file with this node's provenance",
                                 c->in, "Google Benchmark JSON file", c->out);
  conv->add_option("--suite", c->suite, "Suite name of the records")->capture_default_str();
  conv->add_option("--backend", c->backend, "cpu, cuda, mpi or nccl")->capture_default_str();
  conv->callback([&action, c, argv] {
    action = [c, argv] {
      // The strict reader of results files: a repeated key, NaN or 1e400 is refused here too.
      const nlohmann::json doc = parse_json_strict(read_file(c->in), c->in);
      results::RunHeader header = make_run_header(argv);
      const sysinfo::NodeInfo node = sysinfo::discover();
      header.sysinfo = sysinfo::to_json(node);
      for (const auto& [lib, version] : node.versions) header.library_versions[lib] = version;
      const results::Results r =
          results::from_gbench(doc, header, c->suite, parse_backend(c->backend), c->in);
      check_converted(r, c->in);
      results::write(c->out, r);
      fmt::print("{}: {} records\n", c->out, r.records.size());
      return 0;
    };
  });

  struct FromNcclTests {
    std::vector<std::string> in;
    std::string out;
  };
  auto n = std::make_shared<FromNcclTests>();
  CLI::App* nccl = add_converter(
      *cmd, "from-nccl-tests",
      "Convert nccl-tests JSON (-J FILE, nccl-tests 2.17 and later) to one results file, with "
      "the provenance the files record (hosts, GPUs, NCCL version and NCCL_* variables)",
      n->in, "nccl-tests JSON files of one job's tests (one per binary)", n->out);
  nccl->callback([&action, n, argv] {
    action = [n, argv] {
      results::Results all;
      std::set<std::string> names;
      for (std::size_t i = 0; i < n->in.size(); ++i) {
        const std::string& file = n->in[i];
        const results::Results r = results::from_nccl_tests(
            parse_json_strict(read_file(file), file), make_run_header(argv), file);
        if (i == 0) {
          all.run = r.run;
          all.run.extra["nccl_tests"] = nlohmann::json::array({r.run.extra["nccl_tests"]});
          all.run.extra["converted_from"] = n->in;
        } else {
          if (r.run.sysinfo["hosts"] != all.run.sysinfo["hosts"] ||
              r.run.sysinfo["cuda_devices"] != all.run.sysinfo["cuda_devices"])
            throw Error(fmt::format(
                "{}: ran on other hosts or GPUs than {} ({} against {}): convert them to "
                "separate results files",
                file, n->in[0], r.run.sysinfo["hosts"].dump(), all.run.sysinfo["hosts"].dump()));
          all.run.extra["nccl_tests"].push_back(r.run.extra["nccl_tests"]);
        }
        check_converted(r, file);
        for (const results::Record& rec : r.records) {
          if (!names.insert(rec.benchmark).second)
            throw Error(
                fmt::format("{}: {} is also in an earlier file: convert the runs of one "
                            "test to separate results files",
                            file, rec.benchmark));
          all.records.push_back(rec);
        }
      }
      results::write(n->out, all);
      fmt::print("{}: {} records from {} nccl-tests file(s)\n", n->out, all.records.size(),
                 n->in.size());
      return 0;
    };
  });
}

}  // namespace cobench::app
