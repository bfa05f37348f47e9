# ASan + UBSan on host code (the asan preset). CUDA device code is not instrumented.
# Executables also link cobench_sanitizer_defaults, which compiles in the default options and
# the leak suppressions (cmake/sanitizer_defaults.cpp); those that start Open MPI link
# cobench_sanitizer_defaults_mpi instead (the full unwinder its suppressions need).
add_library(cobench_sanitizers INTERFACE)
add_library(cobench_sanitizer_defaults INTERFACE)
add_library(cobench_sanitizer_defaults_mpi INTERFACE)
target_link_libraries(cobench_sanitizer_defaults_mpi INTERFACE cobench_sanitizer_defaults)
if(COBENCH_SANITIZE)
  set(_cobench_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_compile_options(cobench_sanitizers INTERFACE $<$<COMPILE_LANGUAGE:CXX>:${_cobench_san}>)
  target_link_options(cobench_sanitizers INTERFACE ${_cobench_san})
  target_sources(cobench_sanitizer_defaults INTERFACE
                 "${PROJECT_SOURCE_DIR}/cmake/sanitizer_defaults.cpp")
  target_compile_definitions(cobench_sanitizer_defaults_mpi INTERFACE COBENCH_SANITIZER_MPI)
endif()
