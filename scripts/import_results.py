#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Files results files (docs/results-format.md) under results/<machine>/ by their own names.

scripts/gpu-check.sh returns gemm_gpu.json, mla_gpu.json, memory_gpu.json and sysinfo.json from
each call, the same names from call 1 and call 2: copied as they are, call 2's files would
replace call 1's (call 2's memory_gpu.json holds no model input, call 1's holds three). This
script gives each file the name results/README.md asks for, `<UTC time>_<host>_<tag>.json`, the
time and host from the file's own provenance (run.utc_time, run.host) and the tag from its name,
and never overwrites: a name that exists is an error, and nothing of that call is filed.

    import_results.py --machine NAME [--root results] PATH [PATH ...]

PATH: a results file, or a folder whose top-level *.json are taken (extras.tar.gz, logs and
other files are left alone). A JSON file that is not a results file (no "schema", "run" and
"records"; a raw Google Benchmark file, say) is an error naming it. Prints one line per file
filed. Exit status: 0 filed, 1 an input error (nothing filed), 2 usage. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

_UTC = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$")
_HOST = re.compile(r"[^A-Za-z0-9.-]+")  # no "_": it separates the name's parts
_TAG = re.compile(r"[^A-Za-z0-9._-]+")


class InputError(Exception):
    pass


def _inputs(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.suffix == ".json" and f.is_file())
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    if not files:
        raise InputError(f"no *.json among {', '.join(paths)}")
    return files


def filed_name(path: Path) -> str:
    """`<UTC>_<host>_<tag>.json` from the file's run.utc_time and run.host and its stem."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a readable JSON file: {e}") from e
    if not isinstance(doc, dict) or not {"schema", "run", "records"} <= doc.keys():
        raise InputError(f"{path}: not a results file (expected the keys schema, run and "
                         "records; convert Google Benchmark JSON with `cobench results from-gbench`)")
    run = doc["run"]
    utc = run.get("utc_time") if isinstance(run, dict) else None
    m = _UTC.match(utc) if isinstance(utc, str) else None
    if not m:
        raise InputError(f"{path}: $.run.utc_time: expected YYYY-MM-DDTHH:MM:SS[.fff]Z, got {utc!r}")
    host = _HOST.sub("-", str(run.get("host") or "")).strip("-") or "unknown-host"
    tag = _TAG.sub("-", path.stem).strip("-_.") or "results"
    return f"{''.join(m.groups()[:3])}T{''.join(m.groups()[3:6])}Z_{host}_{tag}.json"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--machine", required=True, help="folder under the root, e.g. h100-sxm")
    ap.add_argument("--root", default="results", help="the results folder (default: results)")
    ap.add_argument("paths", nargs="+", metavar="PATH")
    args = ap.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", args.machine):
        ap.error(f"--machine {args.machine!r}: expected letters, digits, '.', '_' or '-'")
    try:
        files = _inputs(args.paths)
        dest_dir = Path(args.root) / args.machine
        plan = [(f, dest_dir / filed_name(f)) for f in files]
        names = [d.name for _, d in plan]
        for name in names:
            if names.count(name) > 1:
                raise InputError(f"two inputs would be filed as {name}")
        for f, d in plan:
            if d.exists():
                raise InputError(f"{d} exists: results are never overwritten ({f} not filed)")
    except InputError as e:
        print(f"import_results: {e}", file=sys.stderr)
        return 1
    dest_dir.mkdir(parents=True, exist_ok=True)
    for f, d in plan:
        # Atomic and never over an existing file: a temporary beside it, then a hard link.
        tmp = d.with_name(f".{d.name}.{os.getpid()}.tmp")
        tmp.write_bytes(f.read_bytes())
        try:
            os.link(tmp, d)
        except FileExistsError:
            print(f"import_results: {d} appeared meanwhile: not overwritten", file=sys.stderr)
            return 1
        finally:
            tmp.unlink()
        print(f"{f} -> {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
