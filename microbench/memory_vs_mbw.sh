#!/usr/bin/env bash
# Host memory bandwidth, cobench against Debian's mbw (a well-known single-threaded memory copy
# benchmark) on the same machine in the same run. Reports, it does not assert: speed depends on
# the machine and on what else runs.
#   microbench/memory_vs_mbw.sh BENCH_BINARY [MiB per array, default 512] [rounds, default 3]
# mbw times copies of an array of N MiB on one thread and reports MiB copied per second (binary
# MiB, each byte counted once although it is read and written). What its methods run, in Debian's
# mbw 1.2.2 (bookworm; read from its machine code, `objdump -d /usr/bin/mbw`): the method printed
# MEMCPY runs an element loop and the one printed DUMB runs memcpy (its worker and its printout
# number the two the other way round), and MCBLOCK calls mempcpy for each 256 KiB block of the
# destination with the same source block every time (the source pointer never advances), so its
# source is read from cache: a write stream, not a memory-to-memory copy. The copy ratio is taken
# against the best of MEMCPY and DUMB; MCBLOCK is printed beside it, not compared.
# cobench_bench_memory's one-thread streams over the same array
# size report decimal B/s with STREAM's counting (a copy counts 16 B per 8-byte element); this
# script converts them to mbw's convention. Both tools are taken at their best pass, STREAM's own
# convention ("best rate"), because on a shared machine the mean measures the neighbours; rounds
# are interleaved so both see the same background load. It prints, per round and over all rounds:
#   copy ratio = cobench copy (bytes copied/s) / best mbw memory-to-memory copy (MEMCPY, DUMB)
#   read ratio = cobench read (bytes read/s) / the rate at which that mbw method reads (a copy
#                reads each byte it copies once, so this is its MiB/s in B/s)
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
  mbw -q -n 10 -t0 -t1 -t2 "$mib" >"$tmp/mbw.$r.txt"
  "$bench" --benchmark_filter="$filter" --benchmark_min_time=0.2 --benchmark_repetitions=5 \
    --benchmark_format=json >"$tmp/bench.$r.json" 2>/dev/null
  python3 - "$tmp" "$r" "$rounds" <<'PY'
import json, re, sys
tmp, last, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def best(r):
    """Best pass of each mbw method and of each cobench op (B/s, mbw's convention) in round r."""
    mbw = {}
    for m, v in re.findall(r"^\d+\s+Method:\s+(\w+).*?Copy:\s+([\d.]+) MiB/s",
                           open(f"{tmp}/mbw.{r}.txt").read(), re.M):
        mbw[m] = max(mbw.get(m, 0.0), float(v) * 1048576)
    ours = {}
    for b in json.load(open(f"{tmp}/bench.{r}.json"))["benchmarks"]:
        if b.get("run_type") == "aggregate":  # labelled only where every repetition's agrees
            continue
        if b.get("error_occurred") or not b.get("label", "").startswith("verified"):
            sys.exit(f"memory_vs_mbw: {b['name']} did not verify: {b.get('error_message', '')}")
        op = re.search(r"op:(\w+)", b["name"]).group(1)
        rate = b["memory_bytes_per_s"] / (2 if op == "copy" else 1)  # copy: bytes copied
        ours[op] = max(ours.get(op, 0.0), rate)
    return mbw, ours

def report(label, mbw, ours):
    copies = {m: v for m, v in mbw.items() if m != "MCBLOCK"}  # MCBLOCK re-reads one cached block
    if not copies or "copy" not in ours or "read" not in ours:
        sys.exit(f"memory_vs_mbw: {label}: mbw printed no MEMCPY or DUMB rate, or cobench no copy "
                 "and read rate")
    method = max(copies, key=copies.get)
    print(f"{label}: mbw " + ", ".join(f"{m} {v / 1e9:.2f}" for m, v in mbw.items())
          + f" GB/s; cobench 1-thread copy {ours['copy'] / 1e9:.2f} GB/s copied, read "
          f"{ours['read'] / 1e9:.2f} GB/s")
    print(f"{label}: copy ratio {ours['copy'] / mbw[method]:.3f}, read ratio "
          f"{ours['read'] / mbw[method]:.3f} (against mbw {method}; MCBLOCK, a cached source block, not "
          "compared)")

mbw, ours = best(last)
report(f"round {last}", mbw, ours)
if last == rounds:
    all_mbw, all_ours = {}, {}
    for r in range(1, last + 1):
        m, o = best(r)
        for k, v in m.items(): all_mbw[k] = max(all_mbw.get(k, 0.0), v)
        for k, v in o.items(): all_ours[k] = max(all_ours.get(k, 0.0), v)
    report(f"best of {last} rounds", all_mbw, all_ours)
PY
done
