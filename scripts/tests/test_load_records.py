# SPDX-License-Identifier: Apache-2.0
"""cobench_results.load_records (the dashboard's reader: records kept as results_fast's structs)
against cobench_results.load, the second implementation: the same files accepted, with the same
document (values and their types, once the structs are plain again), the others refused with the
same message; for files that take the fast way and for those that go the reference way."""
from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

import cobench_results as cr
from test_hostile_results import CASES, FAST_PATH_CASES

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ALL_CASES = {**CASES, **FAST_PATH_CASES}


def _read(reader, path: Path):
    try:
        return reader(path)
    except cr.ResultsError as e:
        return str(e)


def _agrees(path: Path) -> dict | None:
    """The document load_records gives (None where refused), checked against load's."""
    expected, got = _read(cr.load, path), _read(cr.load_records, path)
    if isinstance(expected, str):
        assert got == expected
        return None
    assert isinstance(got, dict)
    assert all(not isinstance(r, dict) for r in got["records"])  # structs: attributes
    plain = msgspec.to_builtins(got)
    assert plain == expected
    assert json.dumps(plain, sort_keys=True) == json.dumps(expected, sort_keys=True)
    return got


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_load_records_agrees_with_load(name, tmp_path):
    raw, accepted = ALL_CASES[name]
    f = tmp_path / "r.json"
    f.write_bytes(raw)
    assert (_agrees(f) is not None) == accepted


COMMITTED = [p for p in sorted(REPO.glob("results/**/*.json"))
             + sorted((HERE / "data").glob("*.json")) if cr.is_results_doc(cr.read_json_head(p))]


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_committed_files_read_the_same(path):
    doc = _agrees(path)
    assert doc is not None
    assert [r.suite for r in doc["records"]] == [r["suite"] for r in cr.load(path)["records"]]


def test_committed_files_hold_records():
    assert len(COMMITTED) >= 5
    assert sum(len(cr.load(p)["records"]) for p in COMMITTED) > 50
