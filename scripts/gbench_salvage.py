#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Keeps every benchmark a Google Benchmark run finished, even when the run was killed.

Google Benchmark writes --benchmark_out=FILE --benchmark_out_format=json as it goes: the
context, then one entry per finished run (flushed after each benchmark), and the closing `]}`
only at the end. A run stopped by `timeout` leaves a file without that end, which
`cobench results from-gbench` rejects as invalid JSON. This script reads such files, keeps
every complete entry, merges several runs of the same binary (one per filter) into one
document, and drops a later entry whose run_name an earlier file already had (so a benchmark
that two filters both ran is not counted as extra repetitions).

    gbench_salvage.py OUT.json IN.json [IN.json ...]

Writes OUT.json (valid Google Benchmark JSON, context of the first input that has one) and
prints one line per input to stderr. Exit status: 0 written, 3 no complete benchmark in any
input (nothing written), 2 usage or I/O error. Standard library only: it runs on the GPU
machine's python3 (scripts/gpu-check.sh).
"""
from __future__ import annotations

import json
import os
import sys

_DECODER = json.JSONDecoder()


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _string_end(text: str, i: int) -> int:
    """Index just past the JSON string starting at text[i] == '"', or -1 if it is cut off."""
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        else:
            i += 1
    return -1


def salvage(text: str) -> tuple[dict | None, list[dict], bool]:
    """(context or None, complete benchmark entries, whether the text was cut off).

    Complete JSON is returned as is. Otherwise the top-level object is read key by key:
    "context" when its value is complete, and "benchmarks" entry by entry up to the first one
    that is cut off.
    """
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and isinstance(doc.get("benchmarks"), list):
            return doc.get("context"), list(doc["benchmarks"]), False
    except json.JSONDecodeError:
        pass
    context = None
    entries: list[dict] = []
    i = _skip_ws(text, 0)
    if i >= len(text) or text[i] != "{":
        return None, [], True
    i += 1
    while True:
        i = _skip_ws(text, i)
        if i >= len(text) or text[i] != '"':
            break
        end = _string_end(text, i)
        if end < 0:
            break
        key = json.loads(text[i:end])
        i = _skip_ws(text, end)
        if i >= len(text) or text[i] != ":":
            break
        i = _skip_ws(text, i + 1)
        if key == "benchmarks" and i < len(text) and text[i] == "[":
            i += 1
            while True:
                i = _skip_ws(text, i)
                try:
                    entry, i = _DECODER.raw_decode(text, i)
                except json.JSONDecodeError:
                    return context, entries, True
                if isinstance(entry, dict):
                    entries.append(entry)
                i = _skip_ws(text, i)
                if i < len(text) and text[i] == ",":
                    i += 1
                    continue
                break  # "]" (then the file would have parsed) or cut off after an entry
            return context, entries, True
        try:
            value, i = _DECODER.raw_decode(text, i)
        except json.JSONDecodeError:
            break
        if key == "context" and isinstance(value, dict):
            context = value
        i = _skip_ws(text, i)
        if i < len(text) and text[i] == ",":
            i += 1
    return context, entries, True


def merge(inputs: list[tuple[str, str]]) -> tuple[dict | None, list[str]]:
    """Merge (name, text) pairs; returns (document or None when no entry survived, report)."""
    context = None
    merged: list[dict] = []
    seen: set[str] = set()
    report = []
    for name, text in inputs:
        ctx, entries, cut = salvage(text)
        if context is None and ctx is not None:
            context = ctx
        kept = dropped = 0
        names_here = set()
        for e in entries:
            run = e.get("run_name", e.get("name"))
            if run in seen:
                dropped += 1
                continue
            names_here.add(run)
            merged.append(e)
            kept += 1
        seen |= names_here
        state = "cut off, complete entries kept" if cut else "complete"
        line = f"{name}: {kept} entries ({state})"
        if dropped:
            line += f"; {dropped} dropped (benchmark already in an earlier file)"
        report.append(line)
    if not merged:
        return None, report
    doc = {"context": context if context is not None else {}, "benchmarks": merged}
    return doc, report


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print("usage: gbench_salvage.py OUT.json IN.json [IN.json ...]", file=sys.stderr)
        return 2
    out, paths = argv[1], argv[2:]
    inputs = []
    for p in paths:
        try:
            with open(p, encoding="utf-8", errors="replace") as f:
                inputs.append((p, f.read()))
        except OSError as e:
            print(f"gbench_salvage: {p}: {e.strerror}", file=sys.stderr)
            return 2
    doc, report = merge(inputs)
    for line in report:
        print(f"gbench_salvage: {line}", file=sys.stderr)
    if doc is None:
        print("gbench_salvage: no complete benchmark entry in any input; nothing written",
              file=sys.stderr)
        return 3
    tmp = out + ".part"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, out)
    except OSError as e:
        print(f"gbench_salvage: {out}: {e.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
