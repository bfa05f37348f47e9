// SPDX-License-Identifier: Apache-2.0
#include "core/error.h"

#include <fmt/format.h>

#include <cstring>

namespace cobench {
namespace {
std::string& context_storage() {
  static std::string context;
  return context;
}

// __FILE__ is absolute in CMake builds; the path inside the repository reads better.
std::string_view short_path(const char* file) {
  std::string_view path(file);
  constexpr std::string_view kSourceDir = COBENCH_SOURCE_DIR;
  if (path.starts_with(kSourceDir)) path.remove_prefix(kSourceDir.size());
  return path;
}

std::string with_context(std::string message) {
  if (!error_context().empty()) message += fmt::format(" ({})", error_context());
  return message;
}
}  // namespace

void set_error_context(std::string context) { context_storage() = std::move(context); }
const std::string& error_context() { return context_storage(); }

void throw_error_at(std::string_view what, const char* file, int line, std::string_view detail) {
  throw Error(with_context(fmt::format("{} at {}:{}: {}", what, short_path(file), line, detail)));
}

void throw_library_error(std::string_view library, const char* file, int line,
                         std::string_view call, long long code, std::string_view name,
                         std::string_view text) {
  throw Error(with_context(fmt::format("{} error at {}:{}: {} -> {} ({}): {}", library,
                                       short_path(file), line, call, name, code, text)));
}

}  // namespace cobench
