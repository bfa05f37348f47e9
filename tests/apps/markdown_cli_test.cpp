// SPDX-License-Identifier: Apache-2.0
// Markdown output of `cobench analyze` (issue 16): a name from an input file (here a cluster's)
// that is HTML or a Markdown link shows as text, escaped, and makes no element or link.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/atomic_file.h"
#include "tests/command_util.h"
#include "tests/test_util.h"
#include "topologies/data_files.h"

namespace {

namespace fs = std::filesystem;
using cobench::test::CommandResult;

TEST(MarkdownCli, AnalyzeEscapesHtmlAndLinksFromInputNames) {
  const fs::path dir = cobench::test::fresh_dir("cobench_markdown_cli");
  const std::string good =
      cobench::read_file(cobench::topo::find_data_file("clusters", "h100-ib-256"));
  const fs::path evil = dir / "evil.yaml";
  cobench::write_file_atomic_no_overwrite(
      evil, cobench::test::replace(good, "name: H100 SXM x 256 (IB NDR, rail-optimized)",
                                   "name: \"<img src=x onerror=alert(1)> [x](javascript:1)\""));
  const CommandResult r = cobench::test::run_command(
      std::string(COBENCH_BINARY) + " analyze --model deepseek-v3 --format markdown --cluster " +
          evil.string(),
      /*stdout_only=*/true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("# DeepSeek-V3 on &lt;img src=x onerror=alert(1)&gt; \\[x\\](javascript:1)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("<img"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[x](javascript"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
