# SPDX-License-Identifier: Apache-2.0
"""scripts/gbench_salvage.py: Google Benchmark JSON cut off by a kill keeps every finished entry
(and never a partial one), several runs merge into one document, and what it writes converts."""
import json
import subprocess
import sys
from pathlib import Path

import gbench_salvage as gs

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SAMPLE = REPO / "tests" / "data" / "gbench_sample.json"
SCRIPT = HERE.parent / "gbench_salvage.py"


def gbench_text(doc):
    """The layout Google Benchmark's JSON reporter writes, with each entry's end offset."""
    text = '{\n  "context": ' + json.dumps(doc["context"], indent=2) + ',\n  "benchmarks": [\n'
    ends = []
    for i, e in enumerate(doc["benchmarks"]):
        if i:
            text += ",\n"
        text += json.dumps(e, indent=2)
        ends.append(len(text))
    return text + "\n  ]\n}\n", ends


def test_complete_file_is_kept_whole():
    doc = json.loads(SAMPLE.read_text())
    context, entries, cut = gs.salvage(SAMPLE.read_text())
    assert not cut
    assert context == doc["context"]
    assert entries == doc["benchmarks"]


def test_every_cut_keeps_exactly_the_finished_entries():
    doc = json.loads(SAMPLE.read_text())
    text, ends = gbench_text(doc)
    context_end = text.index('"benchmarks"')
    cuts = set(range(0, len(text), 11)) | {e + d for e in ends for d in (-1, 0, 1, 2)}
    for cut in sorted(c for c in cuts if 0 <= c < len(text) - 4):
        context, entries, was_cut = gs.salvage(text[:cut])
        assert was_cut, cut
        finished = sum(1 for e in ends if e <= cut)
        assert entries == doc["benchmarks"][:finished], cut
        if cut >= context_end:
            assert context == doc["context"], cut


def test_garbage_and_empty_input_give_nothing():
    for text in ("", "   ", "not json", '{"context": {"a": 1', '[1, 2]'):
        context, entries, cut = gs.salvage(text)
        assert entries == [] and cut


def test_merge_keeps_run_order_and_drops_a_benchmark_seen_earlier():
    doc = json.loads(SAMPLE.read_text())
    text, ends = gbench_text(doc)
    first = json.dumps({"context": {"executable": "first"}, "benchmarks": doc["benchmarks"][:7]})
    merged, report = gs.merge([("a.json", first), ("b.json", text[:ends[-1]])])
    # b repeats the first run_name (7 entries: 3 repetitions and 4 aggregates), dropped there.
    assert merged["context"] == {"executable": "first"}
    assert merged["benchmarks"] == doc["benchmarks"]
    assert "7 dropped" in report[1] and "cut off" in report[1]
    assert gs.merge([("x.json", "")])[0] is None


def run_script(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True)


def test_command_line_writes_valid_json_or_says_why(tmp_path):
    doc = json.loads(SAMPLE.read_text())
    text, ends = gbench_text(doc)
    cut = tmp_path / "cut.json"
    cut.write_text(text[:ends[3] + 30])
    out = tmp_path / "out.json"
    r = run_script(out, cut)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["benchmarks"] == doc["benchmarks"][:4]
    assert "4 entries (cut off" in r.stderr
    empty = tmp_path / "empty.json"
    empty.write_text('{\n  "context": {')
    r = run_script(tmp_path / "none.json", empty)
    assert r.returncode == 3 and not (tmp_path / "none.json").exists()
    assert run_script(out).returncode == 2
    assert run_script(out, tmp_path / "missing.json").returncode == 2


def test_salvaged_output_converts_and_validates(tmp_path, cobench_bin):
    doc = json.loads(SAMPLE.read_text())
    text, ends = gbench_text(doc)
    cut = tmp_path / "cut.json"
    cut.write_text(text[:ends[8] + 5])  # the first benchmark and 2 of the second's repetitions
    merged = tmp_path / "merged.json"
    assert run_script(merged, cut).returncode == 0
    results = tmp_path / "results.json"
    r = subprocess.run([cobench_bin, "results", "from-gbench", str(merged), "-o", str(results),
                        "--suite", "salvage"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([cobench_bin, "results", "validate", str(results)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(results.read_text())["records"]) == 2
