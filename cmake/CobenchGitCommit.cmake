# Run as a script (cmake -P) at every build: writes cobench/git_commit.h with the source tree's
# commit ("-dirty" when tracked files have changes), rewriting it only when that changed, so the
# provenance of a build names the commit it was built from, not the one it was configured at.
# Inputs: SRC (source dir), OUT (header path), GIT (git executable, may be empty).
# The environment variable COBENCH_GIT_COMMIT, when set, is the commit: a copy of the tree without
# .git (scripts/gpu-check.sh on the GPU machine passes what `gpu-check.sh --pack` recorded).
set(commit "unknown")
if(DEFINED ENV{COBENCH_GIT_COMMIT} AND NOT "$ENV{COBENCH_GIT_COMMIT}" STREQUAL "")
  if("$ENV{COBENCH_GIT_COMMIT}" MATCHES "^[0-9a-f]+(-dirty)?$")
    set(commit "$ENV{COBENCH_GIT_COMMIT}")
  else()
    message(WARNING "COBENCH_GIT_COMMIT='$ENV{COBENCH_GIT_COMMIT}' is not a commit hash "
                    "(optionally with -dirty); ignored")
  endif()
endif()
if(commit STREQUAL "unknown" AND GIT AND EXISTS "${SRC}/.git")
  execute_process(COMMAND "${GIT}" rev-parse HEAD WORKING_DIRECTORY "${SRC}"
                  OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                  RESULT_VARIABLE rc)
  if(rc EQUAL 0 AND head)
    set(commit "${head}")
    execute_process(COMMAND "${GIT}" status --porcelain --untracked-files=no
                    WORKING_DIRECTORY "${SRC}"
                    OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(dirty)
      string(APPEND commit "-dirty")
    endif()
  endif()
endif()
set(content "// Generated at build time by cmake/CobenchGitCommit.cmake; do not edit.\n#pragma once\n\n#define COBENCH_GIT_COMMIT \"${commit}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL content)
  file(WRITE "${OUT}" "${content}")
endif()
