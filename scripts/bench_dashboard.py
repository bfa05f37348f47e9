#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Times the dashboard on generated results: N records (default 10^5) over M machines.

    .venv/bin/python scripts/bench_dashboard.py [--records N] [--machines M]

The records are the committed quick run's (results/cpu-dev-vm/20261129T212216Z_vm_run.json: GEMM,
MLA, memory, collectives and EP records) repeated with a `variant` parameter until N, split
evenly over M results files of M machines (each its own machine key), every machine measuring
the same configurations (so the cross-machine page holds them all) at values scaled by 1 + m/10.
Prints the seconds to read, validate and build the site (wall clock, and the CPU time of this
process: the two differ where other work shares the cores), and the pages written. The files and
the site are made in a temporary directory and removed."""
from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard.site import build_site  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "results" / "cpu-dev-vm" / "20261129T212216Z_vm_run.json"


def scaled(metric: dict, factor: float) -> dict:
    m = copy.deepcopy(metric)
    m["values"] = [factor * v for v in m["values"]]
    for stat in ("median", "min", "max", "mean", "stddev"):
        if stat in m:
            m[stat] = factor * m[stat]
    if "peak" in m and "fraction" in m["peak"]:
        m["peak"]["fraction"] = factor * m["peak"]["fraction"]
    return m


def machine_file(source: dict, records: int, machine: int) -> dict:
    doc = copy.deepcopy(source)
    host = f"bench-{machine}"
    doc["run"]["host"] = host
    doc["run"]["machine"] = {"key": f"{machine + 1:016x}", "label": host, "fields": {}}
    factor = 1.0 + machine / 10
    out = []
    base = source["records"]
    for i in range(records):
        r = copy.deepcopy(base[i % len(base)])
        variant = i // len(base)
        r["benchmark"] = f"{r['benchmark']}/variant:{variant}"
        r["parameters"]["variant"] = variant
        r["metrics"] = {k: scaled(v, factor) for k, v in r["metrics"].items()}
        out.append(r)
    doc["records"] = out
    return doc


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records in all")
    parser.add_argument("--machines", type=int, default=4, help="results files, one a machine")
    args = parser.parse_args(argv)
    if args.records < 1 or args.machines < 1 or args.records < args.machines:
        parser.error("--records and --machines must be >= 1, records >= machines")
    source = json.loads(SOURCE.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="cobench-bench-dashboard-") as tmp:
        files = []
        for m in range(args.machines):
            path = Path(tmp) / f"machine-{m}.json"
            path.write_text(json.dumps(machine_file(source, args.records // args.machines, m)))
            files.append(str(path))
        size = sum(Path(f).stat().st_size for f in files)
        start, cpu = time.perf_counter(), time.process_time()
        pages = build_site(files, Path(tmp) / "site")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"bench_dashboard: {args.records // args.machines * args.machines} records in "
          f"{args.machines} files ({size / 1e6:.1f} MB): site of {len(pages)} pages built in "
          f"{seconds:.2f} s ({cpu:.2f} s of CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
