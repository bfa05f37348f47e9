#!/usr/bin/env bash
# The single entry point: sets up if needed, builds cobench and its benchmarks (Release, CUDA when
# a toolkit is found) and runs the quick suite on this machine: `cobench run --suite quick`
# (the node's description, the benchmarks it supports, one results file under results/<host>/,
# and the bottleneck analysis with the measured values). Arguments, if any, are passed to cobench
# instead:
#   ./scripts/run.sh                       # cobench run --suite quick
#   ./scripts/run.sh sysinfo --json        # any cobench command
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
./scripts/setup.sh >/dev/null
if [[ ! -f build/default/CMakeCache.txt ]]; then
  cmake --preset default >/dev/null
fi
cmake --build --preset default -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
if (($#)); then
  exec build/default/apps/cobench/cobench "$@"
fi
exec build/default/apps/cobench/cobench run --suite quick
