#!/usr/bin/env bash
# A GPU benchmark binary's smoke test: runs it (Google Benchmark JSON on stdout) and fails when any
# benchmark reports an error, except the one "no CUDA device" entry a binary registers without a
# device, which makes the test skip (exit 77, ctest's SKIP_RETURN_CODE) with the runtime's reason.
#   tests/gpu_bench_smoke.sh BINARY [BENCHMARK ARGS...]
set -uo pipefail
bin=${1:?usage: gpu_bench_smoke.sh BINARY [ARGS...]}
shift
out=$("$bin" "$@" --benchmark_format=json) || { echo "$bin exited with $?"; exit 1; }
python3 -c '
import json, sys
runs = json.loads(sys.argv[1])["benchmarks"]
errors = [(b["name"], b.get("error_message", "")) for b in runs if b.get("error_occurred")]
if not runs:
    sys.exit("no benchmark ran: the filter matched nothing")
if errors and all(m.startswith("no CUDA device") for _, m in errors) and len(runs) == len(errors):
    print("skipped:", errors[0][1])
    sys.exit(77)
for name, message in errors:
    print(f"FAILED {name}: {message}")
sys.exit(1 if errors else 0)
' "$out"
