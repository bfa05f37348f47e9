# SPDX-License-Identifier: Apache-2.0
"""Hostile results files (issue 16): the C++ reader (`cobench results validate`), the Python
loader (scripts/cobench_results.py) and the dashboard must accept the same set of files, and the
dashboard must build a site from every file they accept. Each case is a mutation of the
hand-made fixture: strict JSON (NaN, Infinity, numbers beyond a double, repeated keys, lone
surrogates, bytes that are not UTF-8, deep nesting), values no measurement has (negative times
and bandwidths), duplicate records, header fields beyond the schema's pattern, statistics that
overflow; and files that are valid but odd (a string where a number is expected, a 300-character
host, a byte order mark)."""
import copy
import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

import cobench_results as cr
import results_fast
from dashboard import data
from dashboard.site import build_site

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MINIMAL = HERE / "fixtures" / "minimal.json"
TEXT = MINIMAL.read_text(encoding="utf-8")


def _doc() -> dict:
    return json.loads(TEXT)


def _dump(doc: dict) -> bytes:
    return json.dumps(doc, indent=1).encode("utf-8")


def _text(old: str, new: str) -> bytes:
    assert old in TEXT, old
    return TEXT.replace(old, new, 1).encode("utf-8")


def _with(mutate) -> bytes:
    doc = _doc()
    mutate(doc)
    return _dump(doc)


def _set_values(metric: dict, values: list) -> None:
    """Values and statistics that agree (min, max, mean, median, sample standard deviation)."""
    metric.update(values=values, median=statistics.median(values), min=min(values),
                  max=max(values), mean=statistics.fmean(values),
                  stddev=statistics.stdev(values) if len(values) > 1 else 0.0)
    metric.pop("peak", None)


def _time(doc: dict) -> dict:
    return doc["records"][0]["metrics"]["time"]


def _nest(depth: int):
    def mutate(doc):
        inner = {}
        for _ in range(depth):
            inner = {"x": inner}
        doc["run"]["extra"] = inner
    return mutate


def _second_record(change):
    def mutate(doc):
        other = copy.deepcopy(doc["records"][0])
        change(other)
        doc["records"].append(other)
    return mutate


def _gemm(params: dict):
    def mutate(doc):
        rec = doc["records"][0]
        rec.update(suite="gemm", benchmark="BM_Gemm/m:abc", parameters=params)
        _set_values(rec["metrics"]["bandwidth"], [1e12, 2e12])
        rec["metrics"]["bandwidth"]["unit"] = "FLOP/s"
    return mutate


def _collective(params: dict):
    def mutate(doc):
        rec = doc["records"][0]
        rec.update(suite="collectives", benchmark="all_reduce/bytes:4K", parameters=params)
        rec["metrics"]["busbw"] = rec["metrics"].pop("bandwidth")
    return mutate


# name -> (file bytes, accepted)
CASES = {
    "NaN value": (_text('"values": [1.0, 2.0', '"values": [NaN, 2.0'), False),
    "Infinity value": (_text('"values": [1.0, 2.0', '"values": [Infinity, 2.0'), False),
    "-Infinity parameter": (_text('"bytes": 4096', '"bytes": -Infinity'), False),
    "number beyond a double": (_text('"values": [1.0, 2.0', '"values": [1e400, 2.0'), False),
    "integer beyond a double": (_text('"bytes": 4096', '"bytes": 1' + "0" * 400), False),
    "repeated top-level key": (_text('"schema": "cobench.results/1",',
                                     '"schema": "cobench.results/1", "schema": "x",'), False),
    "repeated key in a metric": (_text('"unit": "s",', '"unit": "s", "unit": "s",'), False),
    "repeated key in free-form sysinfo": (_text('"sysinfo": {}', '"sysinfo": {"a": 1, "a": 1}'),
                                          False),
    "lone surrogate": (_text('"BM_Copy/bytes:4096"', '"BM_Copy\\ud800"'), False),
    "not UTF-8": (TEXT.encode("utf-8").replace(b"BM_Copy/bytes", b"BM_Copy\xff"), False),
    # Control characters (core/control_characters.h): printed, they would drive the terminal
    # (ESC, BEL), forge a line of a report (newline) or reverse what follows (U+202E).
    "ESC in a benchmark name": (_text('"BM_Copy/bytes:4096"', '"BM_Copy\\u001b[31m"'), False),
    "newline in a benchmark name": (_text('"BM_Copy/bytes:4096"', '"BM_Copy\\nx"'), False),
    "C1 control in a label": (_text('"BM_Copy/bytes:4096"', '"BM_Copy\\u0085"'), False),
    "raw DEL in a benchmark name": (TEXT.encode("utf-8").replace(b"BM_Copy/bytes",
                                                                 b"BM_Copy\x7f/bytes"), False),
    "raw right-to-left override": (TEXT.encode("utf-8").replace(
        b"BM_Copy/bytes", "BM_Copy\u202e/bytes".encode("utf-8")), False),
    "BEL in a key": (_text('"sysinfo": {}', '"sysinfo": {"a\\u0007": 1}'), False),
    "escaped backslash before an n": (_text('"BM_Copy/bytes:4096"', '"BM_Copy\\\\nx"'), True),
    "curly apostrophe": (TEXT.encode("utf-8").replace(b"BM_Copy/bytes",
                                                      "BM_Copy\u2019s/bytes".encode("utf-8")),
                         True),
    "truncated": (TEXT.encode("utf-8")[: len(TEXT) // 2], False),
    "nested 101 levels": (_with(_nest(98)), False),
    "nested 100 levels": (_with(_nest(97)), True),
    "negative time": (_with(lambda d: _set_values(_time(d), [1.0, -2.0, 3.0])), False),
    "negative bandwidth": (_with(lambda d: _set_values(d["records"][0]["metrics"]["bandwidth"],
                                                       [-2.0, 4.0])), False),
    "negative dimensionless value": (_with(lambda d: (_set_values(_time(d), [-1.0, 2.0]),
                                                      _time(d).update(unit="1"))), True),
    "zero time": (_with(lambda d: _set_values(_time(d), [0.0, 0.0])), True),
    "duplicate record": (_with(_second_record(lambda r: _set_values(r["metrics"]["time"],
                                                                    [9.0, 9.0]))), False),
    "duplicate record with other parameters": (
        _with(_second_record(lambda r: r["parameters"].update(bytes=8192))), False),
    "same benchmark on another backend": (
        _with(_second_record(lambda r: r.update(backend="mpi"))), True),
    "utc_time with a final newline": (_text('"2026-11-29T05:30:00Z"', '"2026-11-29T05:30:00Z\\n"'),
                                      False),
    "utc_time with HTML": (_text('"2026-11-29T05:30:00Z"', '"2026-11-29T05:30:00<b>x</b>Z"'),
                           False),
    # Round 3: a time of the calendar (month 13 and 30 February matched the pattern), and a peak
    # whose fraction leaves a double's range (1e-300 B/s: inf drawn, a numpy overflow warning).
    "utc_time in month 13": (_text('"2026-11-29T05:30:00Z"', '"2026-13-45T25:61:61Z"'), False),
    "utc_time on 30 February": (_text('"2026-11-29T05:30:00Z"', '"2026-02-30T05:30:00Z"'), False),
    "utc_time in year 0": (_text('"2026-11-29T05:30:00Z"', '"0000-01-01T00:00:00Z"'), False),
    "utc_time on 29 February of a leap year": (
        _text('"2026-11-29T05:30:00Z"', '"2028-02-29T05:30:00Z"'), True),
    "utc_time in a leap second": (_text('"2026-11-29T05:30:00Z"', '"2026-12-31T23:59:60Z"'),
                                  True),
    "peak too small for its fraction": (
        _text('"value": 6.0, "fraction": 0.5', '"value": 1e-310'), False),
    "empty benchmark name": (_with(lambda d: d["records"][0].update(benchmark="")), False),
    "empty suite": (_with(lambda d: d["records"][0].update(suite="")), False),
    "library_versions a list": (_text('"library_versions": {}', '"library_versions": ["fmt"]'),
                                False),
    "mean beyond a double": (_with(lambda d: (_time(d).update(
        unit="1", values=[1.7e308, 1.7e308], median=1.7e308, min=1.7e308, max=1.7e308,
        mean=1.7e308, stddev=0.0))), False),
    "statistics without values": (_with(lambda d: _time(d).update(values=[])), False),
    "peak fraction that disagrees": (
        _text('"fraction": 0.5', '"fraction": 0.9'), False),
    "byte order mark": (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), True),
    "300-character host": (_with(lambda d: d["run"].update(host="h" * 300)), True),
    "host that is a path": (_with(lambda d: d["run"].update(host="../../etc/x")), True),
    "string where a GEMM size is expected": (_with(_gemm({"m": "abc", "n": 128, "k": True})),
                                             True),
    "string context of a memory record": (
        _with(lambda d: d["records"][0].update(suite="memory", parameters={"context": "long"})),
        True),
    "string size of a collective": (_with(_collective({"bytes": "4 KiB", "ranks": "two"})), True),
}


def _write(tmp_path: Path, name: str) -> Path:
    f = tmp_path / "r.json"
    f.write_bytes(CASES[name][0])
    return f


@pytest.mark.parametrize("name", sorted(CASES))
def test_python_loader_and_dashboard_agree(name, tmp_path):
    f = _write(tmp_path, name)
    accepted = CASES[name][1]
    if accepted:
        doc = cr.load(f)
        assert doc["records"]
        pages = build_site([str(f)], tmp_path / "site")
        names = [p.name for p in pages]  # index, the one machine, model where tagged
        assert "index.html" in names and sum(n.startswith("machine-") for n in names) == 1
        assert set(names) <= {"index.html", "model.html"} | {n for n in names
                                                             if n.startswith("machine-")}
        assert all(len(p.name.encode()) < 255 for p in (tmp_path / "site").iterdir())
    else:
        with pytest.raises(cr.ResultsError) as e:
            cr.load(f)
        assert str(f) in str(e.value)
        with pytest.raises(data.InputError):
            build_site([str(f)], tmp_path / "site")
        assert not (tmp_path / "site").exists(), "nothing is written for a refused input"


@pytest.mark.parametrize("name", sorted(CASES))
def test_cpp_reader_agrees(name, tmp_path, cobench_bin):
    f = _write(tmp_path, name)
    r = subprocess.run([cobench_bin, "results", "validate", str(f)], capture_output=True,
                       text=True, errors="replace")
    assert r.returncode == (0 if CASES[name][1] else 1), r.stderr
    if not CASES[name][1]:
        assert r.stderr.startswith(f"{f}: "), r.stderr



def _extra(value):
    def mutate(doc):
        doc["records"][0]["extra"] = value
    return mutate


def _within_margin(doc):
    """A stored median 0.8e-9 (relative) off: within cobench_results' tolerance (1e-9), outside
    results_fast's margin (0.5e-9), so the reference decides (and accepts)."""
    m = _time(doc)
    m["median"] *= 1 + 0.8e-9


# Files where results_fast must send the decision to the reference, or must agree with it.
FAST_PATH_CASES = {
    "repeated key in a record's extra": (_text('"verification"', '"extra": {"a": 1, "a": 2}, '
                                                                 '"verification"'), False),
    "key repeated by an escaped colon": (
        _text('"sysinfo": {}', '"sysinfo": {"a\\u003ab": 1, "a:b": 2}'), False),
    "escaped colon, no key repeated": (
        _text('"sysinfo": {}', '"sysinfo": {"a\\u003ab": 1, "a:c": 2}'), True),
    "repeated key after an escaped colon": (
        _text('"sysinfo": {}', '"sysinfo": {"x": "\\u003a", "a": 1, "a": 2}'), False),
    "extra 12 levels deep (beyond the typed depth)": (_with(_extra(
        {"a": [[[[[[[[[[[{"b": 1}]]]]]]]]]]]})), True),
    "extra 101 levels deep": (_with(_extra({"x": json.loads("[" * 97 + "]" * 97)})), False),
    "extra a list": (_with(_extra([1, 2])), False),
    "extra 100 levels deep": (_with(_extra({"x": json.loads("[" * 96 + "]" * 96)})), True),
    "integer beyond 64 bits": (_text('"bytes": 4096', '"bytes": 18446744073709551616'), True),
    "integer beyond a double in extra": (_with(_extra({"n": 10 ** 400})), False),
    "median within the margin": (_with(_within_margin), True),
    "boolean value": (_text('"values": [1.0, 2.0', '"values": [true, 2.0'), False),
    "unknown field in a metric": (_text('"unit": "s",', '"unit": "s", "note": "x",'), False),
    "statistics without stddev": (_with(lambda d: _time(d).pop("stddev")), False),
    "negative peak": (_with(lambda d: d["records"][0]["metrics"]["bandwidth"]["peak"].update(
        value=-1.0)), False),
    "negative reference error": (_with(lambda d: d["records"][0]["verification"].update(
        reference_error=-1e-3)), False),
}


def _reference(raw: bytes, source: str):
    """What cobench_results' reference way (parse, jsonschema, the per-metric checks) says."""
    try:
        return cr.validate(cr.parse(raw, source), source)
    except cr.ResultsError as e:
        return str(e)


@pytest.mark.parametrize("name", sorted(CASES) + sorted(FAST_PATH_CASES))
def test_fast_loader_agrees_with_the_reference(name, tmp_path):
    """cobench_results.load (results_fast first) accepts a file exactly when the reference does,
    with the same document (values and their types) or the same message."""
    raw, accepted = CASES[name] if name in CASES else FAST_PATH_CASES[name]
    f = tmp_path / "r.json"
    f.write_bytes(raw)
    expected = _reference(raw, str(f))
    try:
        got = cr.load(f)
    except cr.ResultsError as e:
        got = str(e)
    assert isinstance(expected, dict) == accepted, expected
    assert got == expected
    if accepted:  # the same types too (an integer stays an integer)
        assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)



@pytest.mark.parametrize("name", sorted(n for n, (_, ok) in CASES.items() if not ok))
def test_a_directory_refuses_with_the_reference_message(name, tmp_path):
    """Files found in a directory are read once (cobench_results.read_json_head, then load):
    a refused file stops the build with the message of the reference, as when given by name."""
    (tmp_path / "runs").mkdir()
    f = tmp_path / "runs" / "r.json"
    f.write_bytes(CASES[name][0])
    with pytest.raises(data.InputError) as e:
        build_site([str(tmp_path / "runs")], tmp_path / "site")
    assert str(e.value) == _reference(CASES[name][0], str(f))

@pytest.mark.parametrize("path", [MINIMAL, REPO / "results" / "cpu-dev-vm" /
                                  "20261129T212216Z_vm_run.json",
                                  HERE / "data" / "gpu_node.json"])
def test_fast_loader_vouches_for_valid_files(path):
    """The common case takes the fast way: results_fast accepts the committed files by itself
    (their statistics within its margin), with the document the reference reads."""
    raw = path.read_bytes()
    fast = results_fast.load(raw, cr._header_valid)
    assert fast is not None
    doc, metrics = fast
    assert results_fast.statistics_agree(metrics)
    reference = cr.validate(cr.parse(raw, str(path)), str(path))
    assert json.dumps(doc, sort_keys=True) == json.dumps(reference, sort_keys=True)

def test_messages_name_the_file_and_both_paths(tmp_path):
    f = _write(tmp_path, "duplicate record")
    with pytest.raises(cr.ResultsError, match=r"r\.json: \$\.records\[1\]: duplicate record: "
                                              r"suite 'kv', benchmark 'BM_Copy/bytes:4096' and "
                                              r"backend 'cpu' are those of \$\.records\[0\]"):
        cr.load(f)
    f = _write(tmp_path, "repeated key in a metric")
    with pytest.raises(cr.ResultsError,
                       match=r"\$\.records\[0\]\.metrics\.time: repeated key 'unit'"):
        cr.load(f)
    f = _write(tmp_path, "negative time")
    with pytest.raises(cr.ResultsError, match=r"\$\.records\[0\]\.metrics\.time\.values\[1\]: "
                                              r"-2\.0 is less than the minimum of 0"):
        cr.load(f)
    f = _write(tmp_path, "NaN value")
    with pytest.raises(cr.ResultsError, match="not valid JSON: NaN is not a JSON number"):
        cr.load(f)


def test_a_truncated_file_in_a_directory_is_an_error_not_skipped(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "good.json").write_text(TEXT)
    (tmp_path / "runs" / "cut.json").write_bytes(CASES["truncated"][0])
    with pytest.raises(data.InputError, match=r"cut\.json: not valid JSON"):
        data.results_paths([str(tmp_path / "runs")])
    (tmp_path / "runs" / "cut.json").unlink()
    # Other JSON is skipped with a note; hidden entries (a run's work directory) are not read.
    (tmp_path / "runs" / "notes.json").write_text('{"a": 1}')
    (tmp_path / "runs" / ".cobench-run-1").mkdir()
    (tmp_path / "runs" / ".cobench-run-1" / "gemm.json").write_text('{"bench')
    assert [p.name for p in data.results_paths([str(tmp_path / "runs")])] == ["good.json"]
    assert "skipping" in capsys.readouterr().err


def _cli():
    script = REPO / "scripts" / "dashboard.py"
    spec = importlib.util.spec_from_file_location("dashboard_cli", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_output_that_is_a_file_is_an_input_error(tmp_path, capsys):
    taken = tmp_path / "site.html"
    taken.write_text("mine")
    assert _cli().main([str(MINIMAL), "-o", str(taken)]) == 1
    assert f"dashboard: {taken}: exists and is not a directory" in capsys.readouterr().err
    assert taken.read_text() == "mine"
    below = taken / "site"
    assert _cli().main([str(MINIMAL), "-o", str(below)]) == 1
    assert f"dashboard: {below}: cannot write the site" in capsys.readouterr().err


def test_a_long_host_gets_a_short_unique_page(tmp_path):
    a, b = _doc(), _doc()
    a["run"]["host"] = "h" * 299 + "a"
    b["run"]["host"] = "h" * 299 + "b"
    b["run"]["utc_time"] = "2026-11-30T05:30:00Z"
    for name, d in (("a.json", a), ("b.json", b)):
        (tmp_path / name).write_text(json.dumps(d))
    build_site([str(tmp_path / "a.json"), str(tmp_path / "b.json")], tmp_path / "site")
    machines = sorted(p.name for p in (tmp_path / "site").glob("machine-*.html"))
    assert len(machines) == 2 and machines[0] != machines[1]
    assert all(len(m) < 120 for m in machines)
    index = (tmp_path / "site" / "index.html").read_text()
    assert all(f'href="{m}"' in index for m in machines)


def test_cobench_history_and_the_dashboard_refuse_the_same_directory(tmp_path, cobench_bin):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "good.json").write_text(TEXT)
    (tmp_path / "runs" / "dup.json").write_bytes(CASES["duplicate record"][0])
    r = subprocess.run([cobench_bin, "history", str(tmp_path / "runs")], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "dup.json: $.records[1]: duplicate record" in r.stderr
    with pytest.raises(data.InputError, match=r"dup\.json: \$\.records\[1\]: duplicate record"):
        build_site([str(tmp_path / "runs")], tmp_path / "site")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))


def test_a_copied_run_is_refused_as_history_refuses_it(tmp_path):
    """Two files holding the same run (a copy) would count it twice: the dashboard refuses them,
    naming both, as `cobench history` does (track/history.cpp)."""
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "a.json").write_bytes(TEXT.encode("utf-8"))
    (runs / "b.json").write_bytes(TEXT.encode("utf-8"))
    doc = json.loads(TEXT)
    with pytest.raises(data.InputError) as e:
        build_site([str(runs)], tmp_path / "site")
    assert str(e.value) == (f"{runs / 'b.json'} holds the same run as {runs / 'a.json'} (host "
                            f"'{doc['run']['host']}', {doc['run']['utc_time']}): a copy counts a "
                            "run twice; keep one of them")
    assert not (tmp_path / "site").exists()
    # Another time is another run.
    doc["run"]["utc_time"] = "2026-11-29T05:31:00Z"
    (runs / "b.json").write_text(json.dumps(doc), encoding="utf-8")
    assert build_site([str(runs)], tmp_path / "site")
