#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reads cobench results files (docs/results-format.md) for the Python scripts.

The one loader the dashboard and comparison scripts use: it validates each file against
docs/results.schema.json, checks that stored statistics agree with their values, and flattens
records into a pandas DataFrame with one row per (record, metric). load() tries
scripts/results_fast.py first (the same checks at C speed, for 10^5 records); where that cannot
vouch for a file, parse() and validate() here, the reference, decide and name the problem.
load_records() is load() with the records kept as results_fast's typed structs (the dashboard).

    python3 scripts/cobench_results.py results/*.json     # validate and print a summary table
"""
from __future__ import annotations

import argparse
import calendar
import contextlib
import gc
import json
import math
import re
import statistics
import sys
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import msgspec
import pandas as pd

import results_fast

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "results.schema.json"
SCHEMA_ID = "cobench.results/1"


class ResultsError(ValueError):
    """A results file that does not follow the format; the message names the file and path."""


# The JSON rules of the C++ reader (core/json_strict.h): strict RFC 8259 (no NaN or Infinity), no
# key repeated in an object, no number beyond the range of a double, at most this deep.
MAX_DEPTH = 100
# Units of quantities that cannot be negative (a time, a size, a rate, a frequency, a power).
NON_NEGATIVE_UNITS = ("s", "B", "B/s", "FLOP", "1/s", "FLOP/s", "Hz", "W")
# The schema's pattern, matched whole: JSON Schema's "$" is the end of the text, Python's "$"
# also matches before a final newline.
_UTC_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
# The characters no string of a results file may hold (core/control_characters.h, the C++
# reader's set): C0, DEL, C1, and the marks a terminal or renderer obeys unseen (U+200E/F,
# U+2028/9, U+202A-E, U+2066-9). Names and labels are printed to terminals and reports.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e"
                      "\u2066-\u2069]")
# Where a JSON text may hold one: raw (all but C0, which JSON forbids raw) or as an escape. A
# match sends the text to the reference checks (an escaped backslash before "n" matches too; the
# reference then finds the text clean).
_CONTROL_IN_JSON = re.compile(
    "[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
    "|\\\\[bfnrt]|\\\\u(00[01]|007[fF]|00[89]|20(0[eEfF]|2[89a-eA-E])|206[6-9])")


class _JsonError(ValueError):
    pass


class _Object(dict):
    """A JSON object that remembers the first key it saw twice."""
    repeated = None


def _object(pairs: list) -> _Object:
    obj = _Object(pairs)  # the last value of a repeated key wins, as before
    if len(obj) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                obj.repeated = key
                break
            seen.add(key)
    return obj


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonError(f"number {text} is out of range")
    return value


def _int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:  # more digits than Python converts: far beyond a double anyway
        raise _JsonError(f"number {text[:20]}... is out of range") from None
    if abs(value) > sys.float_info.max:
        raise _JsonError(f"number {text[:20]}... is out of range")
    return value


def _constant(name: str):
    raise _JsonError(f"{name} is not a JSON number")


def _check_tree(doc, source: str) -> None:
    """Repeated keys, lone surrogates (not Unicode text) and nesting depth, in document order."""
    stack = [("$", doc, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise ResultsError(f"{source}: {path}: not valid JSON: a lone UTF-16 surrogate")
            if m := _CONTROL.search(value):
                raise ResultsError(
                    f"{source}: {path}: text holds the control character U+{ord(m.group()):04X} "
                    "(names and labels are printed to terminals and reports)")
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth + 1 > MAX_DEPTH:
            raise ResultsError(f"{source}: {path}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            if getattr(value, "repeated", None) is not None:
                raise ResultsError(f"{source}: {path}: repeated key '{value.repeated}'")
            children = []
            for key, child in value.items():
                if _SURROGATE.search(key):
                    raise ResultsError(f"{source}: {path}: not valid JSON: a lone UTF-16 "
                                       "surrogate in a key")
                if m := _CONTROL.search(key):
                    raise ResultsError(f"{source}: {path}: a key holds the control character "
                                       f"U+{ord(m.group()):04X}")
                children.append((f"{path}.{key}", child, depth + 1))
        else:
            children = [(f"{path}[{i}]", child, depth + 1) for i, child in enumerate(value)]
        stack.extend(reversed(children))


# A JSON text can hold a lone surrogate only as a \\u escape (UTF-8 cannot encode one).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _plain_tree(doc, limit: int) -> bool:
    """Whether no container is nested deeper than `limit` and every number is within a double's
    range (Python's own parse turns 1e999 into inf and keeps 10^400 as an int): one pass over the
    values, level by level, without paths."""
    level, depth = [doc], 0
    while level:
        depth += 1
        if depth > limit:
            return False
        deeper = []
        for container in level:
            for v in (container.values() if isinstance(container, dict) else container):
                if isinstance(v, (dict, list)):
                    deeper.append(v)
                elif type(v) is float:
                    if v - v != 0.0:  # inf (NaN is refused while parsing)
                        return False
                elif type(v) is int and not -_DOUBLE_MAX <= v <= _DOUBLE_MAX:
                    return False
        level = deeper
    return True


_DOUBLE_MAX = sys.float_info.max


def _tree_ok(doc, text: str, repeated: bool) -> bool:
    """The quick checks of the common case: no key repeated (seen while parsing), no surrogate
    escape in the text, nesting within the limit, every number in range. False sends the text to
    the strict parse and _check_tree, which name the first problem and its path."""
    return not repeated and not _SURROGATE_ESCAPE.search(text) and \
        not _CONTROL_IN_JSON.search(text) and (
        not isinstance(doc, (dict, list)) or _plain_tree(doc, MAX_DEPTH))


def parse(text: str | bytes, source: str = "<memory>"):
    """Parses JSON as strictly as the C++ reader; ResultsError names `source` (and the path)."""
    repeated = []

    def pairs_hook(pairs: list) -> dict:  # a plain dict: a dict subclass costs 2x the parse
        obj = dict(pairs)
        if len(obj) != len(pairs):
            repeated.append(True)  # the strict parse below names the key and its path
        return obj

    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        # Python's own number conversions first, at C speed; _tree_ok then looks for a number
        # beyond a double, and the strict parse below names it.
        try:
            doc = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=_constant)
        except json.JSONDecodeError:
            raise
        except ValueError:  # an integer of more digits than Python converts
            doc, repeated = None, [None]
        if not _tree_ok(doc, text, bool(repeated)):
            doc = json.loads(text, object_pairs_hook=_object, parse_float=_float,
                             parse_int=_int, parse_constant=_constant)
            _check_tree(doc, source)
    except UnicodeDecodeError as e:
        raise ResultsError(f"{source}: not valid JSON: not UTF-8 text at byte {e.start}") from e
    except json.JSONDecodeError as e:
        raise ResultsError(
            f"{source}: not valid JSON: line {e.lineno} column {e.colno}: {e.msg}") from e
    except _JsonError as e:
        raise ResultsError(f"{source}: not valid JSON: {e}") from e
    except RecursionError as e:
        raise ResultsError(f"{source}: nested deeper than {MAX_DEPTH} levels") from e
    return doc


def read_json(path: str | Path):
    """A file's JSON document, read as strictly as the C++ reader reads results files."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror}") from e
    return parse(raw, str(path))


class _Head(msgspec.Struct):
    """The `schema` of a JSON object, all else skipped unparsed (in C)."""
    schema: Any = None


def read_json_head(path: str | Path):
    """A file's JSON document, or, where it is a JSON object that claims to be a results file,
    only its `schema` (is_results_doc says so; load() then reads the file, as strictly as
    read_json and with its messages): a directory of results is then parsed once, not twice.
    Anything else is read by read_json."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror}") from e
    try:
        head = msgspec.json.decode(raw, type=_Head)
    except (msgspec.DecodeError, RecursionError):
        head = None
    if head is not None and is_results_doc({"schema": head.schema}):
        return {"schema": head.schema}
    return parse(raw, str(path))


def is_results_doc(doc) -> bool:
    """Whether a JSON document claims to be a results file (its schema names cobench.results/);
    validate() then says whether it is a good one."""
    return isinstance(doc, dict) and isinstance(doc.get("schema"), str) \
        and doc["schema"].startswith("cobench.results/")


def _schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


# Schema keywords newer than draft 7, as draft 7 writes them, for the compiled validator.
_DRAFT7_FORMS = {"$defs": "definitions", "dependentRequired": "dependencies"}


def _as_draft7(node):
    """The schema in draft 7's words: `$defs` -> `definitions` (and the references into it),
    `dependentRequired` -> `dependencies` (its array form means the same)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = value.replace("#/$defs/", "#/definitions/")
            elif key == "$schema":
                out[key] = "http://json-schema.org/draft-07/schema#"
            else:
                out[_DRAFT7_FORMS.get(key, key)] = _as_draft7(value)
        return out
    if isinstance(node, list):
        return [_as_draft7(v) for v in node]
    return node


_fast_validator = None


def _fast_valid(doc: dict) -> bool:
    """Whether the schema holds, by a validator compiled to Python code (fastjsonschema: about
    10x jsonschema's speed, for the dashboard's 10^5 records). A document it refuses goes to
    jsonschema, the reference, for the message; tests/test_hostile_results.py checks that every
    bad file is still refused."""
    global _fast_validator
    if _fast_validator is None:
        _fast_validator = fastjsonschema.compile(_as_draft7(_schema()))
    try:
        _fast_validator(doc)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


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


# Below this magnitude the squares of deviations stay finite in a double: the sample standard
# deviation is computed in floats (two passes, fsum); above it exactly, by statistics.stdev.
_FLOAT_STDEV_LIMIT = 1e150


def _stdev(values: list) -> float:
    if len(values) < 2:
        return 0.0
    if max(abs(v) for v in values) >= _FLOAT_STDEV_LIMIT:
        return statistics.stdev(values)
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _statistics(values: list) -> dict:
    ordered = sorted(values)
    n, mid = len(ordered), len(ordered) // 2
    out = {"median": float(ordered[mid]) if n % 2 else None,
           "min": float(ordered[0]), "max": float(ordered[-1])}
    for key, f in (("median", statistics.median), ("mean", statistics.fmean),
                   ("stddev", _stdev)):
        if out.get(key) is not None:
            continue
        try:
            out[key] = float(f(ordered))
        except OverflowError:
            out[key] = math.inf
    return out


def _check_statistics(doc: dict, source: str) -> None:
    for i, record in enumerate(doc["records"]):
        for name, m in record["metrics"].items():
            path = f"$.records[{i}].metrics.{name}"
            values = m["values"]
            if "median" in m and not values:
                raise ResultsError(f"{source}: {path}.median: statistics without values")
            if not values:
                continue
            expected = _statistics(values)
            if "median" in m:
                for key in ("median", "mean", "stddev"):
                    if not math.isfinite(expected[key]):
                        raise ResultsError(f"{source}: {path}.{key}: the values' {key} is beyond "
                                           "the range of a double")
                magnitude = max(abs(v) for v in values)
                for key, computed in expected.items():
                    if not _close(m[key], computed, magnitude):
                        raise ResultsError(
                            f"{source}: {path}.{key}: stored {m[key]} "
                            f"disagrees with {computed} computed from the values")
            peak = m.get("peak", {})
            if peak and not math.isfinite(expected["median"] / peak["value"]):
                raise ResultsError(
                    f"{source}: {path}.peak.value: {peak['value']} makes the fraction median / "
                    "peak beyond the range of a double")
            if "fraction" in peak:
                computed = expected["median"] / peak["value"]
                if not _close(peak["fraction"], computed):
                    raise ResultsError(
                        f"{source}: {path}.peak.fraction: stored {peak['fraction']} "
                        f"disagrees with {computed} computed from the values")


def _check_unique_records(doc: dict, source: str) -> None:
    """A record is identified by its suite, benchmark and backend (compare, history and the
    dashboard match records by them): one file holds each once."""
    _check_unique_keys([(r["suite"], r["benchmark"], r["backend"]) for r in doc["records"]],
                       source)


def _check_unique_keys(keys: list[tuple[str, str, str]], source: str) -> None:
    """_check_unique_records of the records' (suite, benchmark, backend), in file order."""
    seen = {}
    for i, key in enumerate(keys):
        if key in seen:
            raise ResultsError(
                f"{source}: $.records[{i}]: duplicate record: suite '{key[0]}', benchmark "
                f"'{key[1]}' and backend '{key[2]}' are those of $.records[{seen[key]}]")
        seen[key] = i


def _is_calendar_time(text: str) -> bool:
    """A date and time of the calendar (the C++ reader's is_utc_time): month 13, 30 February or
    hour 25 match the pattern but are none; second 60 is a leap second."""
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    if year < 1 or not 1 <= month <= 12 or day < 1:
        return False
    if day > calendar.monthrange(year, month)[1]:
        return False
    return int(text[11:13]) < 24 and int(text[14:16]) < 60 and int(text[17:19]) <= 60


def _check_header_time(doc: dict, source: str) -> None:
    text = doc["run"]["utc_time"]
    if not _UTC_TIME.fullmatch(text) or not _is_calendar_time(text):
        raise ResultsError(f"{source}: $.run.utc_time: '{text}' is not an ISO 8601 UTC time of "
                           "the calendar (YYYY-MM-DDTHH:MM:SS[.fraction]Z, year from 0001)")


def _header_valid(header: dict) -> bool:
    """Whether the schema holds for a document's schema and run (its records given as [])."""
    return _fast_valid(header)


def validate(doc: dict, source: str = "<memory>") -> dict:
    """Raises ResultsError unless `doc` is a valid results document; returns it."""
    if not _fast_valid(doc):
        validator = jsonschema.Draft202012Validator(_schema())
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            raise ResultsError(f"{source}: {_json_path(first)}: {first.message}")
    _check_header_time(doc, source)
    _check_statistics(doc, source)
    _check_unique_records(doc, source)
    return doc


@contextlib.contextmanager
def no_cyclic_gc():
    """Python's cyclic garbage collector off while a large document is built: a results file of
    10^5 records is about 10^7 objects, and the collections that their allocation triggers scan
    them all again and again (4x the parse's time). The documents hold no reference cycles;
    reference counting still frees everything, and the collector's state is restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(path: str | Path) -> dict:
    """Reads and validates one results file (strict JSON, as the C++ reader). A file goes first
    through results_fast (the same checks, at C speed where they can be), and where that cannot
    vouch for it, through parse() and validate(), the reference, which name the first problem."""
    return _load(path, True)


def load_records(path: str | Path) -> dict:
    """load(), the same checks and messages, but the records as the typed structs of
    results_fast (record.suite, metric.median: attributes, a field a file leaves out
    msgspec.UNSET): no dict made per record and metric of 10^5 records (the dashboard)."""
    return _load(path, False)


def _load(path: str | Path, builtins: bool) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror}") from e
    with no_cyclic_gc():
        fast = results_fast.load(raw, _header_valid, builtins)
        if fast is None:
            doc = validate(parse(raw, str(path)), str(path))
            if builtins:
                return doc
            try:
                return results_fast.as_structs(doc)
            except msgspec.ValidationError as e:  # valid, but not of the structs' types
                raise ResultsError(f"{path}: a valid results file the dashboard's typed reader "
                                   f"cannot hold ({e}); please report it") from e
        doc, metrics = fast
        _check_header_time(doc, str(path))
        if not results_fast.statistics_agree(metrics):
            # names the metric (or agrees, at the margin)
            _check_statistics(doc if builtins else msgspec.to_builtins(doc), str(path))
        if builtins:
            _check_unique_records(doc, str(path))
        else:
            _check_unique_keys([(r.suite, r.benchmark, r.backend) for r in doc["records"]],
                               str(path))
        return doc


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
