// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the tests.
#pragma once

#include <string>

#include "core/error.h"

namespace cobench::test {

/// The message of the cobench::Error `fn` throws, or "(nothing thrown)".
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

/// `s` with the first `from` replaced by `to` (a bad-input variant of a good document).
inline std::string replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

}  // namespace cobench::test
