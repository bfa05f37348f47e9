// SPDX-License-Identifier: Apache-2.0
// cobench's one exception type and the check macros built on it. Library code throws; only the
// thin mains catch, print and choose an exit code. Messages read
//   "<what> at <file>:<line>: <detail>[ (<context>)]"
// where the context (host and rank, set once per process by the communicator) helps on clusters.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace cobench {

/// The exception every cobench library throws.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A command line that does not make sense as a whole (options that exclude or need each other);
/// commands exit 2 on it, as on any other usage error, and 1 on an Error.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

/// Process-wide context appended to library errors, e.g. "host node17 rank 3". Empty by default.
void set_error_context(std::string context);
const std::string& error_context();

/// Throws Error("<what> at <file>:<line>: <detail> (<context>)").
[[noreturn]] void throw_error_at(std::string_view what, const char* file, int line,
                                 std::string_view detail);

/// Throws the error of a failed library call: "<library> error at <file>:<line>: <call> ->
/// <name> (<code>): <text>", with the error context appended.
[[noreturn]] void throw_library_error(std::string_view library, const char* file, int line,
                                      std::string_view call, long long code, std::string_view name,
                                      std::string_view text);

}  // namespace cobench

/// Precondition check: throws cobench::Error naming the condition and the message.
#define COBENCH_CHECK(cond, msg)                                                 \
  do {                                                                           \
    if (!(cond))                                                                 \
      ::cobench::throw_error_at("check failed", __FILE__, __LINE__,              \
                                std::string("(" #cond ") ") + std::string(msg)); \
  } while (0)

/// Throws cobench::Error with a message at this file and line.
#define COBENCH_THROW(msg) ::cobench::throw_error_at("error", __FILE__, __LINE__, (msg))
