// SPDX-License-Identifier: Apache-2.0
#include "core/error.h"

#include <gtest/gtest.h>

#include <string>

namespace {

std::string message_of(void (*fn)()) {
  try {
    fn();
  } catch (const cobench::Error& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

TEST(Error, CheckNamesFileLineConditionAndMessage) {
  const int line = __LINE__ + 1;
  auto fn = [] { COBENCH_CHECK(1 + 1 == 3, "arithmetic is broken"); };
  const std::string msg = message_of(fn);
  EXPECT_EQ(msg, "check failed at tests/core/error_test.cpp:" + std::to_string(line) +
                     ": (1 + 1 == 3) arithmetic is broken");
}

TEST(Error, PassingCheckDoesNotThrow) { EXPECT_NO_THROW(COBENCH_CHECK(2 > 1, "never")); }

TEST(Error, LibraryErrorFormatAndContext) {
  cobench::set_error_context("host node17 rank 3");
  const std::string msg = message_of([] {
    cobench::throw_library_error("NCCL", __FILE__, 42, "ncclAllReduce(a, b)", 4,
                                 "ncclInvalidArgument", "invalid argument");
  });
  cobench::set_error_context("");
  EXPECT_EQ(msg,
            "NCCL error at tests/core/error_test.cpp:42: ncclAllReduce(a, b) -> "
            "ncclInvalidArgument (4): invalid argument (host node17 rank 3)");
  // Without a context nothing is appended.
  EXPECT_EQ(message_of([] { COBENCH_THROW("plain"); }).find("("), std::string::npos);
}

}  // namespace
