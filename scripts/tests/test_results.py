# SPDX-License-Identifier: Apache-2.0
"""The results format read by two implementations: the C++ reader (`cobench results validate`)
and the JSON Schema plus statistics check of scripts/cobench_results.py. Both must accept the
files the C++ writer produces and the hand-made fixture, and both must reject each bad mutation."""
import copy
import json
import subprocess
from pathlib import Path

import pytest

import cobench_results as cr

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MINIMAL = HERE / "fixtures" / "minimal.json"


def cpp_validate(cobench_bin, path):
    return subprocess.run([cobench_bin, "results", "validate", str(path)],
                          capture_output=True, text=True)


def test_hand_made_fixture_is_valid_and_flattens():
    doc = cr.load(MINIMAL)
    frame = cr.to_frame([doc])
    assert len(frame) == 2  # one row per metric
    bw = frame[frame.metric == "bandwidth"].iloc[0]
    assert bw["unit"] == "B/s"
    assert bw["median"] == 3.0
    assert bw["fraction_of_peak"] == 0.5
    assert bw["param.bytes"] == 4096


def test_cpp_reader_accepts_the_hand_made_fixture(cobench_bin):
    r = cpp_validate(cobench_bin, MINIMAL)
    assert r.returncode == 0, r.stderr
    assert "ok (1 records)" in r.stdout


def test_cpp_writer_output_follows_the_schema(cobench_bin, tmp_path):
    sysinfo = tmp_path / "sysinfo.json"
    subprocess.run([cobench_bin, "sysinfo", "--out", str(sysinfo)], check=True,
                   capture_output=True)
    doc = cr.load(sysinfo)
    assert doc["run"]["command_line"][1:] == ["sysinfo", "--out", str(sysinfo)]
    assert "OPENBLAS_CORETYPE" in doc["run"]["environment"]

    converted = tmp_path / "gbench.json"
    subprocess.run([cobench_bin, "results", "from-gbench", str(REPO / "tests/data/gbench_sample.json"),
                    "-o", str(converted)], check=True, capture_output=True)
    doc = cr.load(converted)
    frame = cr.to_frame([doc])
    real = frame[(frame.metric == "real_time") & (frame.benchmark == "BM_Triad/n:1024")]
    assert len(real) == 1
    assert real.iloc[0]["unit"] == "s"
    assert real.iloc[0]["repetitions"] == 3
    assert real.iloc[0]["verification"] == "passed"


def _set(doc, path, value):
    *parents, last = path
    for p in parents:
        doc = doc[p]
    if value is KeyError:
        del doc[last]
    else:
        doc[last] = value


MUTATIONS = {
    "value of the wrong type": (["records", 0, "metrics", "time", "values", 1], "fast"),
    "unknown backend": (["records", 0, "backend"], "tpu"),
    "unit not in the list": (["records", 0, "metrics", "time", "unit"], "ms"),
    "unknown run key": (["run", "hots"], "x"),
    "missing run key": (["run", "host"], KeyError),
    "bad time": (["run", "utc_time"], "yesterday"),
    "median disagrees with values": (["records", 0, "metrics", "time", "median"], 2.0),
    "bad verification status": (["records", 0, "verification", "status"], "ok"),
    "wrong schema id": (["schema"], "cobench.results/0"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_both_readers_reject_each_mutation(name, tmp_path, cobench_bin):
    doc = json.loads(MINIMAL.read_text())
    path, value = MUTATIONS[name]
    bad = copy.deepcopy(doc)
    _set(bad, path, value)
    with pytest.raises(cr.ResultsError):
        cr.validate(bad, "bad.json")
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(bad))
    r = cpp_validate(cobench_bin, f)
    assert r.returncode == 1, f"C++ reader accepted: {name}"
    assert str(f) in r.stderr


def test_both_readers_accept_rounding_noise_in_a_zero_stddev(tmp_path, cobench_bin):
    # Three equal values: one summation order stores a standard deviation of 2.6e-22, another
    # computes exactly 0; both are 0 on the scale of the values (1e-9 of their magnitude).
    doc = json.loads(MINIMAL.read_text())
    m = doc["records"][0]["metrics"]["time"]
    m["values"] = [0.1, 0.1, 0.1]
    m.update(median=0.1, min=0.1, max=0.1, mean=0.1, stddev=2.5934981451235165e-22)
    cr.validate(doc, "noise.json")
    f = tmp_path / "noise.json"
    f.write_text(json.dumps(doc))
    r = cpp_validate(cobench_bin, f)
    assert r.returncode == 0, r.stderr
    # A standard deviation of 1e-6 on values of 0.1 is a real disagreement for both.
    m["stddev"] = 1e-6
    with pytest.raises(cr.ResultsError):
        cr.validate(doc, "bad.json")
    f.write_text(json.dumps(doc))
    assert cpp_validate(cobench_bin, f).returncode == 1


def test_python_error_names_the_json_path():
    doc = json.loads(MINIMAL.read_text())
    doc["records"][0]["metrics"]["time"]["values"][1] = "fast"
    with pytest.raises(cr.ResultsError, match=r"bad\.json: \$\.records\[0\]\.metrics\.time\.values\[1\]"):
        cr.validate(doc, "bad.json")


def test_command_line_summary(tmp_path, capsys):
    assert cr.main([str(MINIMAL)]) == 0
    out = capsys.readouterr().out
    assert "BM_Copy/bytes:4096" in out
    assert "1 valid, 0 invalid" in out
