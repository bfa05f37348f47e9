// SPDX-License-Identifier: Apache-2.0
// The CUDA-library check macros, exercised with status values, so they run without a GPU.
#include "core/cuda/cuda_check.h"

#include <gtest/gtest.h>

#include <string>

#include "core/cuda/cublas_check.h"
#if __has_include(<nccl.h>)
#include "core/cuda/nccl_check.h"
#endif

#include "tests/test_util.h"

namespace {

using cobench::test::error_of;
using cobench::test::replace;

cudaError_t fake_cuda_malloc() { return cudaErrorMemoryAllocation; }
cublasStatus_t fake_cublas() { return CUBLAS_STATUS_NOT_INITIALIZED; }

TEST(CudaCheck, NamesTheCallTheErrorAndTheLocation) {
  const int line = __LINE__ + 1;
  const std::string e = error_of([] { COBENCH_CUDA_CHECK(fake_cuda_malloc()); });
  EXPECT_EQ(e, "CUDA error at tests/core/cuda_check_test.cpp:" + std::to_string(line) +
                   ": fake_cuda_malloc() -> cudaErrorMemoryAllocation (2): out of memory");
  EXPECT_NO_THROW(COBENCH_CUDA_CHECK(cudaSuccess));
}

TEST(CudaCheck, CublasAndCublasLt) {
  const std::string e = error_of([] { COBENCH_CUBLAS_CHECK(fake_cublas()); });
  EXPECT_NE(e.find("cuBLAS error at tests/core/cuda_check_test.cpp:"), std::string::npos) << e;
  EXPECT_NE(e.find("fake_cublas() -> CUBLAS_STATUS_NOT_INITIALIZED (1): "), std::string::npos) << e;
  const std::string lt = error_of([] { COBENCH_CUBLASLT_CHECK(CUBLAS_STATUS_INVALID_VALUE); });
  EXPECT_NE(lt.find("cuBLASLt error at"), std::string::npos) << lt;
  EXPECT_NE(lt.find("CUBLAS_STATUS_INVALID_VALUE (7)"), std::string::npos) << lt;
}

#if __has_include(<nccl.h>)
TEST(CudaCheck, Nccl) {
  const std::string e = error_of([] { COBENCH_NCCL_CHECK(ncclInvalidArgument); });
  EXPECT_NE(e.find("NCCL error at tests/core/cuda_check_test.cpp:"), std::string::npos) << e;
  EXPECT_NE(e.find("ncclInvalidArgument -> ncclInvalidArgument (4): "), std::string::npos) << e;
}
#endif

}  // namespace
