# SPDX-License-Identifier: Apache-2.0
"""scripts/import_results.py: gpu-check's two calls return files of the same names; filed by
their own time and host they never replace each other, and nothing is overwritten."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "import_results.py"


def results_doc(utc, host="gpu-node-1", records=()):
    return {"schema": "cobench.results/1", "run": {"utc_time": utc, "host": host},
            "records": list(records)}


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True)


def call_output(tmp, name, utc, memory_records):
    out = tmp / name
    out.mkdir()
    (out / "memory_gpu.json").write_text(json.dumps(results_doc(utc, records=memory_records)))
    (out / "sysinfo.json").write_text(json.dumps(results_doc(utc)))
    (out / "gpu-check.log").write_text("a log, not JSON\n")
    (out / "extras.tar.gz").write_bytes(b"\x1f\x8b")
    return out


def test_two_calls_are_filed_side_by_side(tmp_path):
    first = call_output(tmp_path, "call1", "2026-12-07T13:01:02.345Z", [{"name": "hbm"}])
    second = call_output(tmp_path, "call2", "2026-12-07T13:09:58Z", [])
    root = tmp_path / "results"
    for out in (first, second):
        r = run("--machine", "h100-sxm", "--root", root, out)
        assert r.returncode == 0, r.stderr
    filed = sorted(p.name for p in (root / "h100-sxm").iterdir())
    assert filed == ["20261207T130102Z_gpu-node-1_memory_gpu.json",
                     "20261207T130102Z_gpu-node-1_sysinfo.json",
                     "20261207T130958Z_gpu-node-1_memory_gpu.json",
                     "20261207T130958Z_gpu-node-1_sysinfo.json"]
    kept = json.loads((root / "h100-sxm" / filed[0]).read_text())
    assert kept["records"] == [{"name": "hbm"}], "call 1's records survive call 2"


def test_nothing_is_overwritten_and_nothing_half_filed(tmp_path):
    out = call_output(tmp_path, "call1", "2026-12-07T13:01:02Z", [])
    root = tmp_path / "results"
    assert run("--machine", "m", "--root", root, out).returncode == 0
    before = {p.name: p.read_bytes() for p in (root / "m").iterdir()}
    (out / "memory_gpu.json").write_text(json.dumps(results_doc("2026-12-07T13:01:02Z",
                                                                records=[{"x": 1}])))
    r = run("--machine", "m", "--root", root, out)
    assert r.returncode == 1
    assert "exists: results are never overwritten" in r.stderr
    assert {p.name: p.read_bytes() for p in (root / "m").iterdir()} == before


def test_what_is_not_a_results_file_is_named(tmp_path):
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps({"context": {}, "benchmarks": []}))
    r = run("--machine", "m", "--root", tmp_path / "results", raw)
    assert r.returncode == 1
    assert f"{raw}: not a results file" in r.stderr
    bad_time = tmp_path / "t.json"
    bad_time.write_text(json.dumps(results_doc("yesterday")))
    r = run("--machine", "m", "--root", tmp_path / "results", bad_time)
    assert r.returncode == 1
    assert "$.run.utc_time: expected YYYY-MM-DDTHH:MM:SS[.fff]Z, got 'yesterday'" in r.stderr
    assert not (tmp_path / "results").exists()
    assert run("--machine", "../up", raw).returncode == 2
    assert run("--machine", "m", tmp_path / "missing").returncode == 1
