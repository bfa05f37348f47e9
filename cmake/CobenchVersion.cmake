# cobench/version.h: version, git commit (with "-dirty" when the tree has changes) and build type,
# recorded in every result's provenance.
find_package(Git QUIET)
# The commit is read at every build (cmake/CobenchGitCommit.cmake writes cobench/git_commit.h,
# which version.h includes), and once here so that the header exists after configuring.
set(_cobench_commit_header "${PROJECT_BINARY_DIR}/generated/cobench/git_commit.h")
set(_cobench_commit_command "${CMAKE_COMMAND}" "-DSRC=${PROJECT_SOURCE_DIR}"
    "-DOUT=${_cobench_commit_header}" "-DGIT=${GIT_EXECUTABLE}"
    -P "${PROJECT_SOURCE_DIR}/cmake/CobenchGitCommit.cmake")
execute_process(COMMAND ${_cobench_commit_command})
add_custom_target(cobench_git_commit COMMAND ${_cobench_commit_command}
                  BYPRODUCTS "${_cobench_commit_header}" VERBATIM)
set(COBENCH_BUILD_TYPE "${CMAKE_BUILD_TYPE}")
if(COBENCH_SANITIZE)
  string(APPEND COBENCH_BUILD_TYPE "+asan+ubsan")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/version.h.in"
               "${PROJECT_BINARY_DIR}/generated/cobench/version.h" @ONLY)
