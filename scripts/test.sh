#!/usr/bin/env bash
# Runs every test cobench has, as CI does (.ci/run calls exactly this):
#   1. setup (installs only what is missing)
#   2. Release build of the `default` preset (CUDA when a toolkit is found), warnings as errors,
#      and ctest (GPU tests skip with a reason where there is no GPU)
#   3. the `asan` preset (ASan + UBSan on the CPU code) and the same CPU tests
#   4. pytest for the Python scripts
#   5. scripts/gpu-check.sh --dry-run: the GPU machine's call, here without a GPU (packed
#      dependencies only; borrows build/default's cobench; a few minutes of building)
#   6. clang-format check of every C++/CUDA file
# Ends with one summary line "test.sh: N passed, N failed, N skipped" and exits non-zero on any
# failure. Options: --no-asan skips step 3 locally (ignored when CI=true), -j N sets build jobs.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

asan=1
jobs=$(nproc 2>/dev/null || echo 2)
while (($#)); do
  case "$1" in
    --no-asan) asan=0 ;;
    -j) jobs="$2"; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ "${CI:-}" == "true" && $asan -eq 0 ]]; then
  echo "test.sh: CI=true: the asan step is never skipped in CI"
  asan=1
fi

reports="$root/build/test-reports"
rm -rf "$reports" && mkdir -p "$reports"
failed_steps=()
step() { echo; echo "==== test.sh: $* ===="; }

step "setup"
./scripts/setup.sh || { echo "test.sh: setup failed" >&2; exit 1; }

build_and_test() {  # preset
  local preset=$1
  step "configure, build and ctest: preset $preset"
  cmake --preset "$preset" -DCOBENCH_WERROR=ON >"$reports/$preset-configure.log" 2>&1 ||
    { cat "$reports/$preset-configure.log"; failed_steps+=("configure $preset"); return; }
  grep -E '^-- cobench' "$reports/$preset-configure.log"
  cmake --build --preset "$preset" -j "$jobs" || { failed_steps+=("build $preset"); return; }
  ctest --preset "$preset" -j "$jobs" --output-junit "$reports/ctest-$preset.xml" ||
    failed_steps+=("ctest $preset")
}

build_and_test default
if ((asan)); then
  build_and_test asan
else
  echo "test.sh: --no-asan: skipping the sanitizer build"
fi

step "pytest"
COBENCH_BIN="$root/build/default/apps/cobench/cobench" \
  "$root/.venv/bin/python" -m pytest scripts/tests -q --junitxml="$reports/pytest.xml" ||
  failed_steps+=("pytest")

step "gpu-check dry run"
# One JUnit case for the summary; the dry run's own log and $OUT stay in build/.
dry_log="$reports/gpu-check-dry-run.log"
dry_start=$SECONDS
# Its progress lines as they come (not apt's download lines), the whole log in the file.
COBENCH_BIN="$root/build/default/apps/cobench/cobench" \
  ./scripts/gpu-check.sh --dry-run -j "$jobs" 2>&1 | tee "$dry_log" |
  grep --line-buffered -v -E '^(Get|Fetched|W):'
dry_rc=${PIPESTATUS[0]}
echo "gpu-check dry run: exit $dry_rc after $((SECONDS - dry_start)) s (log: $dry_log)"
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo "<testsuite name=\"gpu-check\" tests=\"1\" failures=\"$((dry_rc != 0))\">"
  echo "  <testcase name=\"gpu-check.sh --dry-run\" time=\"$((SECONDS - dry_start))\">"
  ((dry_rc)) && echo "    <failure message=\"exit $dry_rc; see $dry_log\"/>"
  echo '  </testcase>'
  echo '</testsuite>'
} >"$reports/gpu-check-dry-run.xml"
((dry_rc == 0)) || failed_steps+=("gpu-check dry run")

step "clang-format"
mapfile -t sources < <(git ls-files '*.h' '*.hpp' '*.cpp' '*.cc' '*.cu' '*.cuh')
bad_format=()
for f in "${sources[@]}"; do
  [[ -f "$f" ]] || continue
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad_format+=("$f")
done
if ((${#bad_format[@]})); then
  echo "clang-format would change: ${bad_format[*]} (run clang-format -i on them)"
  failed_steps+=("clang-format")
else
  echo "clang-format: ${#sources[@]} files clean"
fi

# Count test cases across every JUnit report.
read -r passed failed skipped < <("$root/.venv/bin/python" - "$reports" <<'PY'
import sys, glob, xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/*.xml"):
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            f += 1
        elif case.find("skipped") is not None:
            s += 1
        else:
            p += 1
print(p, f, s)
PY
)
echo
if ((${#failed_steps[@]})); then
  echo "test.sh: failed steps: ${failed_steps[*]}"
  ((failed == 0)) && failed=${#failed_steps[@]}
fi
echo "test.sh: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
((${#failed_steps[@]} == 0))
