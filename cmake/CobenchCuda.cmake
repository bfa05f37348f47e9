# CUDA is optional and auto-detected. Where nvcc exists every .cu file is compiled for sm_90a
# (plus sm_100a when the toolkit knows it); never "native", which fails on GPU-less builders.
# CUDA translation units are C++17: CMake 3.25 has no CUDA20 dialect for nvcc.
set(COBENCH_HAVE_CUDA OFF)
if(COBENCH_ENABLE_CUDA OR COBENCH_REQUIRE_CUDA)
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # The architectures this toolkit knows (compute_89 ...), for the default list and for the
    # accumulator probe's extra targets (kernels/CMakeLists.txt).
    execute_process(COMMAND "${CMAKE_CUDA_COMPILER}" --list-gpu-arch
                    OUTPUT_VARIABLE _cobench_archs ERROR_QUIET)
    set(COBENCH_CUDA_KNOWN_ARCHS "${_cobench_archs}")
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # sm_100a where the toolkit knows it (the list must be set before enabling the language).
      set(CMAKE_CUDA_ARCHITECTURES 90a)
      if(_cobench_archs MATCHES "compute_100")
        list(APPEND CMAKE_CUDA_ARCHITECTURES 100a)
      endif()
    endif()
    # Hopper code here needs the arch-specific target: WGMMA exists on sm_90a only, and a plain
    # sm_90 build would trap where the kernels pick it on an sm_90 device.
    foreach(_cobench_arch IN LISTS CMAKE_CUDA_ARCHITECTURES)
      if(_cobench_arch MATCHES "^90(-real|-virtual)?$")
        message(FATAL_ERROR "CMAKE_CUDA_ARCHITECTURES=${CMAKE_CUDA_ARCHITECTURES}: use 90a for "
                            "Hopper (cobench's WGMMA kernels exist for sm_90a only)")
      endif()
    endforeach()
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(COBENCH_HAVE_CUDA ON)
    message(STATUS "cobench: CUDA ${CUDAToolkit_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES}")
  elseif(COBENCH_REQUIRE_CUDA)
    message(FATAL_ERROR "COBENCH_REQUIRE_CUDA=ON but no CUDA compiler was found "
                        "(put nvcc on PATH or set CMAKE_CUDA_COMPILER)")
  else()
    message(STATUS "cobench: no CUDA compiler found; CUDA targets are skipped")
  endif()
endif()
