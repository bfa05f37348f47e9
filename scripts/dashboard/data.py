# SPDX-License-Identifier: Apache-2.0
"""Inputs of the dashboard: results files (validated by cobench_results) flattened into one
pandas row per (run, record, metric), and the JSON of `cobench analyze` and `cobench history`."""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd

import cobench_results as cr

FRACTION_SUFFIXES = ("fraction", "_of_peak")


class InputError(ValueError):
    """An input the dashboard cannot use; the message names the file."""


def _hidden(path: Path, root: Path) -> bool:
    """Hidden files and directories under a searched directory (a run's work directory, a
    temporary file) are not part of the results, as for `cobench history`."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def results_paths(inputs: list[str]) -> list[Path]:
    """Files as given, directories searched recursively for results files (*.json whose
    `schema` is cobench.results/...; other JSON there is skipped with a note), sorted. A *.json
    file that is not strict JSON (a truncated results file) is an error, as when given by name
    and as in `cobench history`: it is never skipped as "not a results file"."""
    paths = set()
    for name in inputs:
        p = Path(name)
        if p.is_dir():
            for f in sorted(p.rglob("*.json")):
                if _hidden(f, p) or not f.is_file():
                    continue
                try:
                    doc = cr.read_json_head(f)
                except cr.ResultsError as e:
                    raise InputError(str(e)) from e
                if cr.is_results_doc(doc):
                    paths.add(f)
                else:
                    print(f"dashboard: skipping {f}: not a cobench results file", file=sys.stderr)
        elif p.is_file():
            paths.add(p)
        else:
            raise InputError(f"{name}: no such file or directory")
    return sorted(paths)


def load_runs(paths: list[Path]) -> list[dict]:
    """Validated documents, each with the file it came from under `_file`, in time order; their
    records are structs (cobench_results.load_records: record.suite, metric.values)."""
    runs = []
    for p in paths:
        try:
            doc = cr.load_records(p)
        except cr.ResultsError as e:
            raise InputError(str(e)) from e
        runs.append({**doc, "_file": str(p)})
    runs.sort(key=lambda d: (d["run"]["utc_time"], d["_file"]))
    # A run is its header: two files holding the same one are a copy, which would count the run
    # twice (cobench history refuses the same, track/history.cpp).
    by_time: dict[str, list[dict]] = {}
    for b in runs:
        same_time = by_time.setdefault(b["run"]["utc_time"], [])
        for a in same_time:
            if msgspec.to_builtins(a["run"]) == msgspec.to_builtins(b["run"]):
                raise InputError(f"{b['_file']} holds the same run as {a['_file']} (host "
                                 f"'{b['run']['host']}', {b['run']['utc_time']}): a copy counts "
                                 "a run twice; keep one of them")
        same_time.append(b)
    return runs


def _cpu_name(sysinfo: dict) -> str:
    cpu = sysinfo.get("cpu") or {}
    return str(cpu.get("model") or "")


def _gpu_names(sysinfo: dict) -> list[str]:
    devices = sysinfo.get("cuda_devices") or []
    return sorted({str(d.get("name", "")) for d in devices if isinstance(d, dict)} - {""})


def machine_key(run: dict) -> str:
    """The machine a run was measured on: the key `cobench` writes in run.machine (a hash of the
    hardware in its sysinfo, core/machine_identity.h), else, for files written before it, the
    host name."""
    machine = run.get("machine")
    if isinstance(machine, dict) and isinstance(machine.get("key"), str):
        return machine["key"]
    return "host:" + run["host"]


def machine_labels(runs: list[dict]) -> dict[str, str]:
    """Machine key -> the name pages show: the latest run's host, with the key's first 8 digits
    where the run has a key (two VMs both called "vm" are two machines)."""
    labels = {}
    for doc in runs:  # ordered by time: the latest host wins
        run = doc["run"]
        key = machine_key(run)
        labels[key] = run["host"] if key.startswith("host:") else f"{run['host']} ({key[:8]})"
    return labels


def suites(doc: dict) -> set[str]:
    """The suites of a document's records: structs (load_runs) or dicts (cobench_results.load)."""
    return {r["suite"] if isinstance(r, dict) else r.suite for r in doc["records"]}


def machines(runs: list[dict]) -> pd.DataFrame:
    """One row per machine (machine_key; `host` holds its label): CPU and GPU names (from the
    latest run with a sysinfo), run count."""
    rows = {}
    labels = machine_labels(runs)
    for doc in runs:
        run, sysinfo = doc["run"], doc["run"].get("sysinfo") or {}
        key = machine_key(run)
        host = labels[key]
        row = rows.setdefault(key, {"host": host, "cpu": "", "gpus": "", "runs": 0,
                                    "suites": set(), "first": run["utc_time"]})
        row["runs"] += 1
        row["suites"].update(suites(doc))
        row["last"] = run["utc_time"]
        if _cpu_name(sysinfo):
            row["cpu"] = _cpu_name(sysinfo)
        if _gpu_names(sysinfo):
            row["gpus"] = ", ".join(_gpu_names(sysinfo))
    frame = pd.DataFrame([{**r, "suites": ", ".join(sorted(r["suites"]))} for r in rows.values()],
                         columns=["host", "cpu", "gpus", "runs", "suites", "first", "last"])
    return frame.sort_values("host", ignore_index=True)


def _median(metric) -> float:
    """A metric's (results_fast struct) stored median, else that of its values; NaN without."""
    if metric.median is not msgspec.UNSET:
        return metric.median
    return statistics.median(metric.values) if metric.values else float("nan")


def _fraction_unit(name: str, metrics: dict) -> str | None:
    """The unit of the metrics a fraction-of-peak counter divides: compute_fraction FLOP/s,
    read_bw_fraction / copy_bw_fraction B/s, peak_fraction (or *_of_peak) the record's FLOP/s
    metric where it has one (GEMMs), else its B/s (memory streams); None for the others
    (roofline_fraction is a fraction of a bound, not of one metric's peak)."""
    if name == "compute_fraction":
        return "FLOP/s"
    if name.endswith("bw_fraction"):
        return "B/s"
    if name == "peak_fraction" or name.endswith("_of_peak"):
        units = {m.unit for m in metrics.values()}
        return "FLOP/s" if "FLOP/s" in units else "B/s"
    return None


def _fraction_counters(names: list[str], metrics: dict) -> dict[str, tuple[str, float]]:
    """Unit -> (name, median) of the record's dimensionless fraction-of-peak counter that applies
    to its metrics of that unit (the first by name, with values), for all units at once."""
    found = {}
    for name in names:
        m = metrics[name]
        if m.unit == "1" and name.endswith(FRACTION_SUFFIXES) and m.values:
            unit = _fraction_unit(name, metrics)
            if unit is not None and unit not in found:
                found[unit] = (name, _median(m))
    return found


def _record_rows(head: tuple, record) -> list[tuple]:
    """The rows of a record (a results_fast struct), in the order of COLUMNS (`head`: the run's
    columns and the index). A metric's peak is the one it states, else one implied by the
    record's fraction-of-peak counter of its unit (median / counter's median; none where the
    counter is not > 0)."""
    params = dict(sorted(record.parameters.items()))
    params_key = _KEY_ENCODER.encode(params)  # sorted already: the configuration's key
    head = head + (record.suite, record.benchmark, record.backend)
    tail = (record.verification.status, params, params_key)
    metrics = record.metrics
    names = sorted(metrics)
    counters = None  # unit -> the record's fraction-of-peak counter, found once
    rows = []
    for name in names:
        m = metrics[name]
        median = m.median if m.median is not _UNSET else _median(m)
        if m.peak is not _UNSET:
            peak_name, peak_value = m.peak.name, m.peak.value
        else:
            if counters is None:
                counters = _fraction_counters(names, metrics)
            counter = counters.get(m.unit)
            if counter is not None and counter[1] > 0:
                peak_name, peak_value = f"{counter[0]} counter", median / counter[1]
            else:
                peak_name, peak_value = None, _NAN
        rows.append(head + (name, m.unit, median, len(m.values), peak_name, peak_value) + tail)
    return rows


_NAN = float("nan")
_UNSET = msgspec.UNSET
# json.dumps(params) as the configuration's key; parameters are numbers, strings and booleans.
_KEY_ENCODER = json.JSONEncoder(default=str)


COLUMNS = ["file", "host", "utc_time", "git_commit", "record", "suite", "benchmark", "backend",
           "metric", "unit", "median", "repetitions", "peak_name", "peak_value", "verification",
           "params", "params_key"]


def to_frame(runs: list[dict]) -> pd.DataFrame:
    """One row per (run, record, metric) of load_runs' documents (records as structs); `params`
    holds the record's parameters as a dict.
    Unlike cobench_results.to_frame it keeps the file, the peak's value (or one implied by a
    fraction-of-peak counter) and computes a median where the file stores none."""
    labels = machine_labels(runs)
    rows = []
    for doc in runs:
        run = doc["run"]
        head = (doc["_file"], labels[machine_key(run)], run["utc_time"], run["git_commit"])
        for i, rec in enumerate(doc["records"]):
            rows.extend(_record_rows(head + (i,), rec))
    return pd.DataFrame.from_records(rows, columns=COLUMNS)


def latest(frame: pd.DataFrame) -> pd.DataFrame:
    """Of each configuration (host, suite, benchmark, backend, parameters) and metric, the row
    of the latest run: a benchmark run at 4 and at 8 ranks keeps both."""
    if frame.empty:
        return frame
    keys = ["host", "suite", "benchmark", "backend", "params_key", "metric"]
    if frame.groupby("host")["file"].nunique().max() == 1:
        # One run per machine: a file holds each (suite, benchmark, backend) once (validated)
        # and a record each metric once, so no row repeats the keys of another.
        order = _record_order(frame, keys[:-1])
        if order is not None:
            return frame.take(order).reset_index(drop=True)
        return frame.sort_values(keys, ignore_index=True)
    ordered = frame.sort_values(["utc_time", "file", "record"])
    return ordered.drop_duplicates(keys, keep="last").sort_values(keys, ignore_index=True)


def _record_order(frame: pd.DataFrame, keys: list[str]) -> np.ndarray | None:
    """The row order of frame.sort_values(keys + ["metric"]) where each record's rows lie
    together, in metric order, as to_frame makes them, and no two records share `keys`: the
    records sorted by `keys` (one Python sort of a tuple per record; pandas factorizes every
    string column of every row), each with its rows. None where the frame is not so (it is
    then sorted row by row)."""
    record = frame["record"].to_numpy()
    file = frame["file"].to_numpy()
    metric = frame["metric"].to_numpy()
    new = np.ones(len(frame), dtype=bool)
    new[1:] = (record[1:] != record[:-1]) | (file[1:] != file[:-1])
    if not (metric[1:] > metric[:-1])[~new[1:]].all():
        return None  # a record's metrics out of order, or one repeated
    starts = np.flatnonzero(new)
    if len(set(zip(file[starts].tolist(), record[starts].tolist()))) != len(starts):
        return None  # a record's rows apart
    columns = [frame[k].to_numpy()[starts] for k in keys]
    if not all(pd.api.types.infer_dtype(c, skipna=False) == "string" for c in columns):
        return None  # pandas orders other values (NaN) its own way
    heads = list(zip(*(c.tolist() for c in columns)))
    blocks = sorted(range(len(heads)), key=heads.__getitem__)
    if any(heads[i] == heads[j] for i, j in zip(blocks, blocks[1:])):
        return None  # two records with the same keys: their rows interleave by metric
    blocks = np.asarray(blocks, dtype=np.int64)
    lengths = np.diff(np.append(starts, len(frame)))
    first, counts = starts[blocks], lengths[blocks]
    # each record's rows: first, first + 1, ..., first + count - 1
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(first, counts) + offsets


def load_json(path: str | None, what: str) -> dict | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise InputError(f"{path}: cannot read {what}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: {what} is not valid JSON: line {e.lineno}: {e.msg}") from e
    if not isinstance(doc, dict):
        raise InputError(f"{path}: {what}: expected a JSON object")
    return doc


def _paper_status(row: dict) -> str:
    if row.get("status"):
        return str(row["status"])
    if row.get("paper") is None:
        return "cobench only"
    if row.get("known_difference"):
        return "known difference"
    return "flagged" if row.get("flagged") else "ok"


def paper_rows(doc: dict | None, source: str = "") -> pd.DataFrame:
    """The rows of `cobench analyze --paper --format json`: the deviation as text and a status
    (the row's own, else ok / flagged / known difference / cobench only, without a paper value)."""
    cols = ["section", "quantity", "paper", "cobench", "unit", "deviation", "status", "note"]
    if doc is None:
        return pd.DataFrame(columns=cols)
    if not isinstance(doc.get("rows"), list):
        raise InputError(f"{source}: paper report: expected a `rows` list")
    rows = []
    for r in doc["rows"]:
        dev = r.get("deviation")
        rows.append({c: r.get(c) for c in cols} | {
            "deviation": f"{100 * dev:.2f}%" if isinstance(dev, (int, float)) else "",
            "status": _paper_status(r), "note": r.get("note") or ""})
    return pd.DataFrame(rows, columns=cols).astype({"paper": object, "cobench": object})


def is_side_by_side(doc: dict, source: str = "") -> bool:
    """Whether an analysis is `cobench analyze --cluster A --cluster B ...` (a `clusters` list)
    rather than one cluster's report."""
    if "clusters" not in doc:
        return False
    clusters = doc["clusters"]
    if not isinstance(clusters, list):
        raise InputError(f"{source}: analysis: $.clusters: expected a list of objects (one per "
                         f"cluster), found {_json_type(clusters)}")
    for i, c in enumerate(clusters):
        if not isinstance(c, dict):
            raise InputError(f"{source}: analysis: $.clusters[{i}]: expected an object (one "
                             f"cluster), found {_json_type(c)}")
    return True


def _json_type(value) -> str:
    """What a JSON value is, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def analysis_inputs(doc: dict | None) -> pd.DataFrame:
    """`inputs[]` of `cobench analyze --model M --cluster C --measured R --format json`."""
    cols = ["input", "datasheet", "measured", "used", "source"]
    if doc is None:
        return pd.DataFrame(columns=cols)
    rows = [{c: r.get(c) for c in cols} for r in doc.get("inputs") or []]
    return pd.DataFrame(rows, columns=cols).sort_values("input", ignore_index=True)


def history_series(doc: dict | None, source: str = "") -> list[dict]:
    """The series of `cobench history --format json`, sorted by suite, benchmark, metric."""
    if doc is None:
        return []
    series = doc.get("series")
    if not isinstance(series, list):
        raise InputError(f"{source}: history: expected a `series` list")
    for i, s in enumerate(series):
        for key in ("suite", "benchmark", "metric", "unit", "points"):
            if key not in s:
                raise InputError(f"{source}: $.series[{i}]: missing `{key}`")
    return sorted(series, key=lambda s: (s["suite"], s["benchmark"], s["metric"]))
