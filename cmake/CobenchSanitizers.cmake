# ASan + UBSan on host code (the asan preset). CUDA device code is not instrumented.
add_library(cobench_sanitizers INTERFACE)
if(COBENCH_SANITIZE)
  set(_cobench_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_compile_options(cobench_sanitizers INTERFACE $<$<COMPILE_LANGUAGE:CXX>:${_cobench_san}>)
  target_link_options(cobench_sanitizers INTERFACE ${_cobench_san})
endif()
