// SPDX-License-Identifier: Apache-2.0
// The CUDA-library check macros, exercised with status values, so they run without a GPU.
#include "core/cuda/cuda_check.h"

#include <gtest/gtest.h>

#include <string>

#include "core/cuda/cublas_check.h"
#include "core/cuda/device_check.h"
// Whether NCCL is linked (tests/CMakeLists.txt), not whether <nccl.h> is on the include path: a
// machine can have the header without the library, and the check needs nccl_check.cpp.
#if COBENCH_HAVE_NCCL
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

#if COBENCH_HAVE_NCCL
TEST(CudaCheck, Nccl) {
  const std::string e = error_of([] { COBENCH_NCCL_CHECK(ncclInvalidArgument); });
  EXPECT_NE(e.find("NCCL error at tests/core/cuda_check_test.cpp:"), std::string::npos) << e;
  EXPECT_NE(e.find("ncclInvalidArgument -> ncclInvalidArgument (4): "), std::string::npos) << e;
}
#endif

// Which devices a build's architecture list runs on, worked from CUDA's compatibility rules.
TEST(CudaArch, ArchSpecificRealAndPtxEntries) {
  using cobench::cuda_arch_unsupported;
  EXPECT_EQ(cuda_arch_unsupported(90, "90a,100a"), "");   // H100/H200
  EXPECT_EQ(cuda_arch_unsupported(100, "90a;100a"), "");  // B200
  // sm_90a code does not run on Blackwell, nor on Ada.
  EXPECT_NE(cuda_arch_unsupported(100, "90a"), "");
  const std::string ada = cuda_arch_unsupported(89, "90a,100a");
  EXPECT_NE(ada.find("the device is sm_89; this build has kernels for 90a,100a only"),
            std::string::npos)
      << ada;
  EXPECT_NE(cuda_arch_unsupported(120, "90a,100a"), "");
  // SASS runs on later minors of its major: sm_80 code on sm_86, not on sm_90.
  EXPECT_EQ(cuda_arch_unsupported(86, "80-real"), "");
  EXPECT_NE(cuda_arch_unsupported(90, "80-real"), "");
  EXPECT_NE(cuda_arch_unsupported(75, "80-real"), "");
  // PTX is compiled by the driver for any later device.
  EXPECT_EQ(cuda_arch_unsupported(90, "80"), "");
  EXPECT_EQ(cuda_arch_unsupported(120, "89-virtual"), "");
  EXPECT_NE(cuda_arch_unsupported(86, "89"), "");
  EXPECT_NE(cuda_arch_unsupported(90, ""), "");
  // A family target runs on later minors of its major: 100f on 10.3, not on 12.0.
  EXPECT_EQ(cuda_arch_unsupported(103, "100f"), "");
  EXPECT_NE(cuda_arch_unsupported(120, "100f"), "");
  // CMake's symbolic lists were chosen for the machine: not second-guessed.
  EXPECT_EQ(cuda_arch_unsupported(89, "native"), "");
  EXPECT_EQ(cuda_arch_unsupported(120, "all-major"), "");
}

TEST(CudaArch, NoDeviceSaysWhy) {
  using cobench::cuda_device_unavailable;
  using cobench::cuda_device_unsupported;
  // Without a driver (CI) the reason is the runtime's; with a device this build targets, "".
  const std::string why = cuda_device_unsupported();
  if (!cuda_device_unavailable().empty()) {
    EXPECT_EQ(why, cuda_device_unavailable());
  }
}

}  // namespace
