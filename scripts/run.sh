#!/usr/bin/env bash
# The single entry point: sets up if needed, builds cobench and its benchmarks (Release, CUDA when
# a toolkit is found) and runs the quick suite on this machine: `cobench run --suite quick`
# (the node's description, the benchmarks it supports, one results file under results/<host>/,
# and the bottleneck analysis with the measured values). Arguments, if any, are passed to cobench
# instead:
#   ./scripts/run.sh                       # cobench run --suite quick
#   ./scripts/run.sh sysinfo --json        # any cobench command
# Setup and build say what they do on stderr, a line per stage and the build's progress every 5%
# (a first build of target cobench_run, without the tests, took about 5 minutes on 2 cores: see
# README); their logs are in build/run-logs/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { echo "run.sh: $*" >&2; }
logs=build/run-logs
mkdir -p "$logs"

# The build's "[done/total]" lines as one line every 5%.
build_progress() {
  local line shown=-1 pct
  while IFS= read -r line; do
    [[ $line =~ ^\[([0-9]+)/([0-9]+)\] ]] || continue
    pct=$((100 * BASH_REMATCH[1] / BASH_REMATCH[2]))
    if ((pct / 5 > shown / 5 || shown < 0)); then
      shown=$pct
      say "build: ${BASH_REMATCH[1]}/${BASH_REMATCH[2]} steps ($pct%), $((SECONDS - build_start)) s"
    fi
  done
}

say "setup: checking what is installed (log: $logs/setup.log)"
if ! ./scripts/setup.sh >"$logs/setup.log" 2>&1; then
  cat "$logs/setup.log" >&2
  exit 1
fi
if [[ ! -f build/default/CMakeCache.txt ]]; then
  say "configure: cmake --preset default (log: $logs/configure.log)"
  if ! cmake --preset default >"$logs/configure.log" 2>&1; then
    cat "$logs/configure.log" >&2
    exit 1
  fi
fi
jobs=$(nproc 2>/dev/null || echo 2)
# Target cobench_run: cobench and the binaries its suites run, not the tests (CMakeLists.txt).
say "build: cmake --build --preset default -j $jobs --target cobench_run (log: $logs/build.log)"
build_start=$SECONDS
if ! cmake --build --preset default -j "$jobs" --target cobench_run 2>&1 | tee "$logs/build.log" |
  build_progress; then
  tail -n 40 "$logs/build.log" >&2
  say "build failed; the whole log: $logs/build.log"
  exit 1
fi
say "build: done in $((SECONDS - build_start)) s"
if (($#)); then
  exec build/default/apps/cobench/cobench "$@"
fi
say "running: cobench run --suite quick"
exec build/default/apps/cobench/cobench run --suite quick
