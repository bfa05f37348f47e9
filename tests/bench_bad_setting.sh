#!/usr/bin/env bash
# A benchmark binary given a bad setting must say what is wrong and exit with the expected status
# (2: a setting read at registration, 1: one that fails each benchmark it concerns, which then
# reports it as its error and the binary exits 1 at the end).
#   tests/bench_bad_setting.sh STATUS EXPECTED_TEXT VAR=VALUE BINARY [ARGS...]
set -uo pipefail
want_status=${1:?usage: bench_bad_setting.sh STATUS TEXT VAR=VALUE BINARY [ARGS...]}
want_text=${2:?}
setting=${3:?}
shift 3
# One BLAS thread: the binaries exit at registration, before any BLAS call, and an OpenBLAS
# thread pool winding down as the process exits is what LeakSanitizer once reported here under
# load (a leak from a thread's start, not reproduced in 170 reruns); a failure shows 40 lines.
out=$(env OPENBLAS_NUM_THREADS=1 "$setting" "$@" 2>&1)
status=$?
if [[ $status -ne $want_status ]]; then
  echo "FAILED: $setting $*: exit status $status, expected $want_status"
  echo "$out" | tail -40
  exit 1
fi
if [[ $out != *"$want_text"* ]]; then
  echo "FAILED: $setting $*: the output does not say: $want_text"
  echo "$out" | tail -40
  exit 1
fi
echo "ok: $setting -> exit $status, \"$want_text\""
