// SPDX-License-Identifier: Apache-2.0
// Runs as an MPI singleton (no mpirun needed): the check before and after MPI_Init.
#include "core/mpi_check.h"

#include <gtest/gtest.h>

#include <string>

namespace {

std::string error_of(int code) {
  try {
    COBENCH_MPI_CHECK(code);
  } catch (const cobench::Error& err) {
    return err.what();
  }
  return "(nothing thrown)";
}

TEST(MpiCheck, NamesTheCallTheClassAndMpisText) {
  const std::string before = error_of(MPI_ERR_COUNT);
  EXPECT_NE(before.find("MPI error at tests/core/mpi_check_test.cpp:"), std::string::npos)
      << before;
  EXPECT_NE(before.find("(MPI is not initialized: no error text)"), std::string::npos) << before;

  ASSERT_EQ(MPI_Init(nullptr, nullptr), MPI_SUCCESS);
  const std::string after = error_of(MPI_ERR_COUNT);
  EXPECT_NE(after.find("code -> MPI error class " + std::to_string(MPI_ERR_COUNT)),
            std::string::npos)
      << after;
  EXPECT_NE(after.find("invalid count"), std::string::npos) << after;
  EXPECT_EQ(error_of(MPI_SUCCESS), "(nothing thrown)");
  MPI_Finalize();
}

}  // namespace
