#!/usr/bin/env bash
# `cobench run` over a benchmark binary whose run ends in an error (a disk that fills up while
# the storage benchmark writes, issue 16): the binary exits 1, the run keeps the records it
# wrote (the error included), says so and exits 1. A build directory holding a stand-in
# cobench_bench_memory (the real one, made to write its KV file under a 20 MB file-size limit)
# plays the suite.
#   tests/run_keeps_error_records.sh COBENCH COBENCH_BENCH_MEMORY
set -uo pipefail
cobench=${1:?usage: run_keeps_error_records.sh COBENCH COBENCH_BENCH_MEMORY}
memory=${2:?}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/build/microbench" "$dir/store" "$dir/out"
cat >"$dir/build/microbench/cobench_bench_memory" <<STANDIN
#!/usr/bin/env bash
out=
for a in "\$@"; do [[ \$a == --benchmark_out=* ]] && out=\$a; done
trap '' XFSZ
ulimit -f 20000
COBENCH_STORAGE_DIR="$dir/store" exec "$memory" --benchmark_filter='StorageRead/tokens:4096/' \
  --benchmark_min_time=0.01 "\$out" --benchmark_out_format=json
STANDIN
chmod +x "$dir/build/microbench/cobench_bench_memory"
out=$("$cobench" run --suite memory --no-analysis --build-dir "$dir/build" --out "$dir/out" 2>&1)
status=$?
fail() { echo "FAILED: $*"; echo "$out" | tail -8; exit 1; }
((status == 1)) || fail "exit status $status, expected 1"
[[ $out == *"0 record(s) failed verification, 1 ended in an error"* ]] || fail "no error count"
files=("$dir"/out/*_run.json)
[[ -f ${files[0]} ]] || fail "no results file in $dir/out"
python3 - "${files[0]}" <<'PY' || fail "the results file does not keep the record and its error"
import json, sys
records = json.load(open(sys.argv[1]))["records"]
assert len(records) == 1, records
v = records[0]["verification"]
assert v["status"] == "error" and "File too large" in v["detail"], v
PY
echo "ok: a run's error record is kept, cobench run exits 1"
