# Every dependency is found on the system (find_package or pkg-config); nothing is downloaded.
# scripts/setup.sh installs them on Debian/Ubuntu.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc>=2.0)
# SIMDe (Debian libsimde-dev, header-only): the AVX-512 kernels are written against its x86 API,
# so one source compiles to the native instructions (in a TU built for AVX-512) and to portable
# code (in the tests), which checks the AVX-512 kernels on CPUs without AVX-512.
find_path(COBENCH_SIMDE_INCLUDE_DIR simde/x86/avx512.h REQUIRED)
add_library(cobench_simde INTERFACE)
target_include_directories(cobench_simde SYSTEM INTERFACE "${COBENCH_SIMDE_INCLUDE_DIR}")

if(COBENCH_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(benchmark REQUIRED)
endif()

# yaml-cpp 0.7's package config names its target yaml-cpp; newer ones yaml-cpp::yaml-cpp.
if(TARGET yaml-cpp::yaml-cpp)
  set(COBENCH_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(COBENCH_YAML_TARGET yaml-cpp)
endif()

# Open MPI: optional for the core, required by the collectives (a later issue).
find_package(MPI COMPONENTS CXX)
set(COBENCH_HAVE_MPI ${MPI_CXX_FOUND})

# OpenBLAS, the CPU vendor baseline.
find_package(PkgConfig)
pkg_check_modules(OPENBLAS IMPORTED_TARGET openblas)
set(COBENCH_HAVE_OPENBLAS ${OPENBLAS_FOUND})

# From the CUDA toolkit: cudart, cuBLAS/cuBLASLt (CUDAToolkit targets), NVTX3 (header-only) and
# NCCL (in the toolkit tree here; NCCL_HOME elsewhere). Never CUDA::cuda_driver: binaries must
# start on machines without a driver.
set(COBENCH_HAVE_NCCL OFF)
set(COBENCH_HAVE_NVTX OFF)
if(COBENCH_HAVE_CUDA)
  find_path(COBENCH_NVTX_INCLUDE_DIR nvtx3/nvToolsExt.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  if(COBENCH_NVTX_INCLUDE_DIR)
    set(COBENCH_HAVE_NVTX ON)
  endif()
  find_path(COBENCH_NCCL_INCLUDE_DIR nccl.h
            HINTS $ENV{NCCL_HOME}/include ${CUDAToolkit_INCLUDE_DIRS})
  find_library(COBENCH_NCCL_LIBRARY nccl
               HINTS $ENV{NCCL_HOME}/lib $ENV{NCCL_HOME}/lib64 ${CUDAToolkit_LIBRARY_DIR})
  if(COBENCH_NCCL_INCLUDE_DIR AND COBENCH_NCCL_LIBRARY)
    add_library(cobench::nccl UNKNOWN IMPORTED)
    set_target_properties(cobench::nccl PROPERTIES
      IMPORTED_LOCATION "${COBENCH_NCCL_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${COBENCH_NCCL_INCLUDE_DIR}")
    set(COBENCH_HAVE_NCCL ON)
  endif()
endif()
