#!/usr/bin/env bash
# The single entry point: sets up if needed, builds cobench (Release, CUDA when a toolkit is
# found) and runs the main job on this machine. Today that is `cobench sysinfo`, which prints
# this node's description. Arguments, if any, are passed to cobench instead:
#   ./scripts/run.sh                       # cobench sysinfo
#   ./scripts/run.sh sysinfo --json        # any cobench command
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
./scripts/setup.sh >/dev/null
if [[ ! -f build/default/CMakeCache.txt ]]; then
  cmake --preset default >/dev/null
fi
cmake --build --preset default --target cobench -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
if (($#)); then
  exec build/default/apps/cobench/cobench "$@"
fi
exec build/default/apps/cobench/cobench sysinfo
