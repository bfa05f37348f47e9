#!/usr/bin/env bash
# A disk that fills up while the storage benchmark writes its KV file (issue 16): that run ends
# in an error that says why, the binary still writes its results file with the error recorded,
# and exits 1 (not 0). A file-size limit (SIGXFSZ ignored) stands in for the full disk.
#   tests/bench_full_disk.sh BINARY
set -uo pipefail
bin=${1:?usage: bench_full_disk.sh cobench_bench_memory}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/store"
out=$(
  trap '' XFSZ
  ulimit -f 20000  # 20000 blocks of 1 KiB; the 4096-token file is 157 MiB
  COBENCH_STORAGE_DIR="$dir/store" "$bin" --benchmark_filter='StorageRead/tokens:4096/' \
    --benchmark_min_time=0.01 --benchmark_out="$dir/out.json" --benchmark_out_format=json 2>&1
)
status=$?
fail() { echo "FAILED: $*"; echo "$out" | tail -5; exit 1; }
((status == 1)) || fail "exit status $status, expected 1"
[[ $out == *"File too large"* ]] || fail "the error does not say why the write failed"
[[ $out == *"1 of 1 benchmark runs ended in an error"* ]] || fail "no summary of the errors"
python3 - "$dir/out.json" <<'PY' || fail "the results file does not record the error"
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
assert len(runs) == 1 and runs[0]["error_occurred"], runs
assert "File too large" in runs[0]["error_message"], runs[0]["error_message"]
PY
[[ -z $(ls -A "$dir/store") ]] || fail "the partial KV file was left in $dir/store"
echo "ok: full disk -> exit 1, error recorded"
