# cobench/version.h: version, git commit (with "-dirty" when the tree has changes) and build type,
# recorded in every result's provenance. The commit is read at configure time.
find_package(Git QUIET)
set(COBENCH_GIT_COMMIT "unknown")
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse HEAD
                  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
                  OUTPUT_VARIABLE _commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                  RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND _commit)
    set(COBENCH_GIT_COMMIT "${_commit}")
    execute_process(COMMAND "${GIT_EXECUTABLE}" status --porcelain --untracked-files=no
                    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
                    OUTPUT_VARIABLE _dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_dirty)
      string(APPEND COBENCH_GIT_COMMIT "-dirty")
    endif()
  endif()
endif()
set(COBENCH_BUILD_TYPE "${CMAKE_BUILD_TYPE}")
if(COBENCH_SANITIZE)
  string(APPEND COBENCH_BUILD_TYPE "+asan+ubsan")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/version.h.in"
               "${PROJECT_BINARY_DIR}/generated/cobench/version.h" @ONLY)
