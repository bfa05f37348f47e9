#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reads cobench results files (docs/results-format.md) for the Python scripts.

The one loader the dashboard and comparison scripts use: it validates each file against
docs/results.schema.json, checks that stored statistics agree with their values, and flattens
records into a pandas DataFrame with one row per (record, metric).

    python3 scripts/cobench_results.py results/*.json     # validate and print a summary table
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

import jsonschema
import pandas as pd

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "results.schema.json"
SCHEMA_ID = "cobench.results/1"


class ResultsError(ValueError):
    """A results file that does not follow the format; the message names the file and path."""


def _schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


def _json_path(error: jsonschema.ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _close(stored: float, computed: float, magnitude: float = 0.0) -> bool:
    """Equal to 1e-9 of the larger of the two and the values' magnitude: a standard deviation of
    equal values may be stored as 1e-22 by one summation order and computed as 0 by another."""
    scale = max(abs(stored), abs(computed), magnitude, 1e-300)
    return abs(stored - computed) <= 1e-9 * scale


def _check_statistics(doc: dict, source: str) -> None:
    for i, record in enumerate(doc["records"]):
        for name, m in record["metrics"].items():
            values = m["values"]
            if "median" not in m or not values:
                continue
            expected = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
                "mean": statistics.fmean(values),
                "stddev": statistics.stdev(values) if len(values) > 1 else 0.0,
            }
            magnitude = max(abs(v) for v in values)
            for key, computed in expected.items():
                if not _close(m[key], computed, magnitude):
                    raise ResultsError(
                        f"{source}: $.records[{i}].metrics.{name}.{key}: stored {m[key]} "
                        f"disagrees with {computed} computed from the values")


def validate(doc: dict, source: str = "<memory>") -> dict:
    """Raises ResultsError unless `doc` is a valid results document; returns it."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise ResultsError(f"{source}: {_json_path(first)}: {first.message}")
    _check_statistics(doc, source)
    return doc


def load(path: str | Path) -> dict:
    """Reads and validates one results file."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not valid JSON: line {e.lineno} column {e.colno}: {e.msg}")
    return validate(doc, str(path))


def to_frame(docs: list[dict]) -> pd.DataFrame:
    """One row per (run, record, metric) with the run's host and time and the metric summary."""
    rows = []
    for doc in docs:
        run = doc["run"]
        for record in doc["records"]:
            for name, m in record["metrics"].items():
                peak = m.get("peak", {})
                rows.append({
                    "host": run["host"],
                    "utc_time": run["utc_time"],
                    "git_commit": run["git_commit"],
                    "suite": record["suite"],
                    "benchmark": record["benchmark"],
                    "backend": record["backend"],
                    "metric": name,
                    "unit": m["unit"],
                    "repetitions": len(m["values"]),
                    "median": m.get("median", math.nan),
                    "stddev": m.get("stddev", math.nan),
                    "peak_name": peak.get("name"),
                    "fraction_of_peak": peak.get("fraction", math.nan),
                    "verification": record["verification"]["status"],
                    **{f"param.{k}": v for k, v in record["parameters"].items()},
                })
    return pd.DataFrame(rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="results files")
    args = parser.parse_args(argv)
    docs, bad = [], 0
    for f in args.files:
        try:
            docs.append(load(f))
        except ResultsError as e:
            print(e, file=sys.stderr)
            bad += 1
    frame = to_frame(docs)
    if not frame.empty:
        print(frame[["host", "benchmark", "metric", "unit", "median", "verification"]]
              .to_string(index=False))
    print(f"{len(docs)} valid, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
