#!/usr/bin/env bash
# Host memory bandwidth, cobench against Debian's mbw (a well-known single-threaded memory copy
# benchmark) on the same machine in the same run. Reports, it does not assert: speed depends on
# the machine and on what else runs.
#   microbench/memory_vs_mbw.sh BENCH_BINARY [MiB per array, default 512] [rounds, default 3]
# mbw times copies of an array of N MiB on one thread (MEMCPY: memcpy, DUMB: an element loop,
# MCBLOCK: memcpy in blocks) and reports MiB copied per second (binary MiB, each byte counted once
# although it is read and written). cobench_bench_memory's one-thread streams over the same array
# size report decimal B/s with STREAM's counting (a copy counts 16 B per 8-byte element); this
# script converts them to mbw's convention and prints, per round (interleaved, so both see the same
# background load):
#   copy ratio = cobench copy (bytes copied/s) / best mbw method
#   read ratio = cobench read (bytes read/s) / (2 x best mbw method: the bytes mbw reads + writes)
# Exit 77 (ctest: skipped) when mbw is not installed.
set -euo pipefail
bench=${1:?usage: memory_vs_mbw.sh BENCH_BINARY [MIB] [ROUNDS]}
mib=${2:-512}
rounds=${3:-3}
if ! command -v mbw >/dev/null; then
  echo "memory_vs_mbw: mbw is not installed (Debian package mbw, in scripts/setup.sh): skipped"
  exit 77
fi
filter="BM_HostStream/op:(read|copy)/mib:${mib}/threads:1/"
if ! "$bench" --benchmark_list_tests --benchmark_filter="$filter" | grep -q .; then
  echo "memory_vs_mbw: $bench has no one-thread stream of $mib MiB" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 1; r <= rounds; r++)); do
  mbw -q -n 5 -t0 -t1 -t2 "$mib" >"$tmp/mbw.txt"
  "$bench" --benchmark_filter="$filter" --benchmark_min_time=0.5 --benchmark_format=json \
    >"$tmp/bench.json" 2>/dev/null
  python3 - "$tmp/mbw.txt" "$tmp/bench.json" "$r" <<'PY'
import json, re, sys
mbw_text, bench_json, round_ = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), sys.argv[3]
mbw = {m: float(v) * 1048576 for m, v in
       re.findall(r"AVG\s+Method:\s+(\w+).*?Copy:\s+([\d.]+) MiB/s", mbw_text)}
ours = {}
for b in bench_json["benchmarks"]:
    if b.get("error_occurred") or not b.get("label", "").startswith("verified"):
        sys.exit(f"memory_vs_mbw: {b['name']} did not verify: {b.get('error_message', '')}")
    op = re.search(r"op:(\w+)", b["name"]).group(1)
    ours[op] = b["memory_bytes_per_s"]
best_method = max(mbw, key=mbw.get)
best = mbw[best_method]
copy = ours["copy"] / 2  # STREAM counts read + write; mbw counts the bytes copied
print(f"round {round_}: mbw " + ", ".join(f"{m} {v / 1e9:.2f} GB/s" for m, v in mbw.items())
      + f"; cobench 1-thread copy {copy / 1e9:.2f} GB/s copied, read {ours['read'] / 1e9:.2f} GB/s")
print(f"round {round_}: copy ratio {copy / best:.3f} (vs mbw {best_method}), "
      f"read ratio {ours['read'] / (2 * best):.3f} (vs 2 x mbw {best_method})")
PY
done
