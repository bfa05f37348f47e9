// SPDX-License-Identifier: Apache-2.0
#include "core/provenance.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cobench/version.h"

extern char** environ;

namespace cobench {

std::string utc_now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms));
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

results::RunHeader make_run_header(const std::vector<std::string>& command_line) {
  results::RunHeader h;
  h.cobench_version = COBENCH_VERSION;
  h.git_commit = COBENCH_GIT_COMMIT;
  h.utc_time = utc_now_iso8601();
  h.host = host_name();
  h.command_line = command_line;
  h.build_type = COBENCH_BUILD_TYPE;
  h.library_versions = {
      {"compiler", COBENCH_CXX_COMPILER},
      {"fmt",
       fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
      {"nlohmann_json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR,
                                    NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH)},
      {"yaml-cpp", COBENCH_YAML_CPP_VERSION},
  };
  for (const char* name : kRecordedEnvironment) {
    const char* value = std::getenv(name);
    h.environment[name] = value ? nlohmann::json(value) : nlohmann::json(nullptr);
  }
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "NCCL_", 5) != 0) continue;
    const char* eq = std::strchr(*e, '=');
    if (eq) h.environment[std::string(*e, static_cast<size_t>(eq - *e))] = std::string(eq + 1);
  }
  return h;
}

}  // namespace cobench
