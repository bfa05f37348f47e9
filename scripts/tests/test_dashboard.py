# SPDX-License-Identifier: Apache-2.0
"""The dashboard (scripts/dashboard.py): built from the committed results/ and the fixtures in
scripts/tests/data/ (a collectives and an EP run of cobench_coll/cobench_ep under mpirun, a
hand-made GPU node with peaks and fraction counters, a file with a hostile benchmark name, the
JSON of `cobench analyze --paper` and `--measured`, and a history with a planted 5% step).
Checked twice: on the generated HTML (pure Python), and in headless Chromium driven by
Playwright with the system executable (skipped with the reason where either is missing)."""
import base64
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bench_dashboard
import cobench_results as cr
from dashboard import data
from dashboard.site import build_site

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = HERE / "data"
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = '<script>alert(1)</script>"'
INPUTS = [str(REPO / "results"), str(DATA), str(REPO / "tests" / "data" / "measured_h800.json")]
OPTIONS = {"paper": str(DATA / "paper.json"), "analysis": str(DATA / "analysis.json"),
           "history": str(DATA / "history.json")}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    build_site(INPUTS, out, **OPTIONS)
    return out


class Parsed(HTMLParser):
    """Tags with their attributes, the inline scripts and the visible text of a page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.scripts, self.text, self._in_script = [], [], [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, d):
        if self._in_script:
            self.scripts[-1] += d
        else:
            self.text.append(d)


def read(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def charts(html_text: str) -> list[dict]:
    """The figures of a page, decoded from its Plotly.newPlot(id, data, layout, config) calls."""
    out, decoder = [], json.JSONDecoder()
    for script in Parsed(html_text).scripts:
        if not script.startswith("Plotly.newPlot("):
            continue
        args, pos = [], len("Plotly.newPlot(")
        for _ in range(4):
            value, pos = decoder.raw_decode(script, pos)
            args.append(value)
            pos += 2  # ", " or ");"
        out.append({"id": args[0], "data": [_plain(t) for t in args[1]], "layout": args[2]})
    return out


def _plain(value):
    """Typed arrays ({"dtype", "bdata"}: plotly's base64 form of numeric arrays, which plotly.js
    decodes) as lists of numbers, so that tests read values as the browser does."""
    if isinstance(value, dict) and set(value) == {"dtype", "bdata"}:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def machine_page(site: Path, host_prefix: str) -> str:
    [page] = sorted(site.glob(f"machine-{host_prefix}*.html"))
    return page.read_text(encoding="utf-8")


def test_every_page_is_written_with_a_local_plotly(site):
    names = sorted(p.name for p in site.iterdir())
    assert names == ["history.html", "index.html", "machine-fixture-h200.html",
                     "machine-fixture-h800.html", "machine-vm.html", "machine-xss-_b_host_b.html",
                     "model.html", "paper.html", "plotly.min.js"]
    assert (site / "plotly.min.js").stat().st_size > 1_000_000
    for page in site.glob("*.html"):
        parsed = Parsed(page.read_text(encoding="utf-8"))
        sources = [a["src"] for t, a in parsed.tags if t == "script" and "src" in a]
        assert sources == ["plotly.min.js"], page.name  # offline: no CDN
        for tag, attrs in parsed.tags:  # every link resolves inside the site
            if tag == "a":
                assert (site / attrs["href"]).is_file(), (page.name, attrs["href"])


def test_index_lists_machines_runs_and_analyses(site):
    parsed = Parsed(read(site, "index.html"))
    links = {a["href"] for t, a in parsed.tags if t == "a"}
    assert {"machine-vm.html", "machine-fixture-h200.html", "paper.html", "model.html",
            "history.html"} <= links
    text = " ".join(parsed.text)
    assert "AMD EPYC" in text and "NVIDIA H200" in text
    assert "results/cpu-dev-vm/20261129T064652Z_vm_gemm_cpu.json" in text


def test_cpu_gemm_collectives_and_ep_of_the_committed_and_mpi_runs(site):
    page = machine_page(site, "vm")
    figures = charts(page)

    def figure(test):
        return next(f for f in figures if test(f))

    gemm = figure(lambda f: "TFLOP/s" in f["layout"]["yaxis"]["title"]["text"])
    coll = figure(lambda f: "busbw" in f["layout"]["yaxis"]["title"]["text"])
    ep = figure(lambda f: any(t["name"] == "network_bandwidth" for t in f["data"]))
    # The GEMMs, the measured FMA ceiling of the runs that have it, and the peaks their
    # peak_fraction implies (that ceiling again, as markers over the bars).
    names = {t["name"] for t in gemm["data"]}
    assert {"BM_Fp8Gemm_Cpu", "BM_Sgemm_OpenBlas"} <= names
    assert names - {"BM_Fp8Gemm_Cpu", "BM_Sgemm_OpenBlas"} <= {
        "BM_FmaPeak fma_flop_per_s", "peak: BM_Fp8Gemm_Cpu", "peak: BM_Sgemm_OpenBlas"}
    fp8 = next(t for t in gemm["data"] if t["name"] == "BM_Fp8Gemm_Cpu")
    assert len(fp8["x"]) == 10
    # the 2048^3 FP8 GEMM of the latest committed run that has it, shown in TFLOP/s
    latest = max((cr.load(p) for p in (REPO / "results" / "cpu-dev-vm").glob("*.json")),
                 key=lambda d: d["run"]["utc_time"] if any(
                     r["benchmark"] == "BM_Fp8Gemm_Cpu/m:2048/n:2048/k:2048/real_time"
                     for r in d["records"]) else "")
    rec = next(r for r in latest["records"]
               if r["benchmark"] == "BM_Fp8Gemm_Cpu/m:2048/n:2048/k:2048/real_time")
    want = rec["metrics"]["gemm_flop_per_s"]["median"] / 1e12
    assert fp8["y"][fp8["x"].index("2048×2048×2048")] == pytest.approx(want, rel=1e-4)
    if "peak_fraction" in rec["metrics"]:  # the FMA ceiling the run measured, implied
        peak = next(t for t in gemm["data"] if t["name"] == "peak: BM_Fp8Gemm_Cpu")
        implied = want / rec["metrics"]["peak_fraction"]["median"]
        assert peak["y"][peak["x"].index("2048×2048×2048")] == pytest.approx(implied, rel=1e-4)
    assert "TFLOP/s = 1e12 FLOP/s" in gemm["layout"]["yaxis"]["title"]["text"]
    assert coll["layout"]["xaxis"]["type"] == "log"
    assert "busbw (GB/s = 1e9 B/s)" == coll["layout"]["yaxis"]["title"]["text"]
    assert any(t["name"].startswith("all_reduce out_of_place mpi 4 ranks") for t in coll["data"])
    assert [t["name"] for t in ep["data"]] == ["network_bandwidth", "intra_bandwidth",
                                               "logical_network_bandwidth",
                                               "logical_intra_bandwidth"]
    # the quick run committed beside them measured host memory and MLA decode
    assert "No MLA or memory records" not in page


def test_latest_run_of_each_configuration(tmp_path):
    doc = json.loads((DATA / "coll_mpi_4ranks.json").read_text())
    later = json.loads(json.dumps(doc))
    later["run"]["utc_time"] = "2026-11-30T00:00:00Z"
    for r in later["records"]:
        r["parameters"]["ranks"] = 8
    again = json.loads(json.dumps(doc))  # the same configuration later: replaces the first
    again["run"]["utc_time"] = "2026-11-30T01:00:00Z"
    again["records"] = [r for r in again["records"] if r["benchmark"] ==
                        "all_reduce/bytes:4096/out_of_place"]
    for m in again["records"][0]["metrics"].values():
        m["values"] = [2 * v for v in m["values"]]
        for key in ("median", "min", "max", "mean", "stddev"):
            m[key] = 2 * m[key]
    for name, d in (("later.json", later), ("again.json", again)):
        (tmp_path / name).write_text(json.dumps(d))
    build_site([str(DATA / "coll_mpi_4ranks.json"), str(tmp_path / "later.json"),
                str(tmp_path / "again.json")], tmp_path / "site")
    [coll] = charts(read(tmp_path / "site", "machine-vm.html"))
    names = {t["name"] for t in coll["data"]}
    assert "all_reduce out_of_place mpi 4 ranks / 1 nodes" in names
    assert "all_reduce out_of_place mpi 8 ranks / 1 nodes" in names
    four = next(t for t in coll["data"] if t["name"].startswith("all_reduce out_of_place mpi 4"))
    first = again["records"][0]["metrics"]["busbw"]["median"]  # doubled, in B/s
    assert four["y"][four["x"].index(4096)] == pytest.approx(1e-9 * first)


def test_peaks_stated_and_implied_by_a_fraction_counter(site):
    gemm, mla_ctx, memory, _, coll, ratio = charts(machine_page(site, "fixture-h200"))
    peak = next(t for t in gemm["data"] if t["name"] == "peak: BM_Fp8Block_Cobench")
    assert peak["y"] == pytest.approx([1979.0] * 3)
    implied = next(t for t in gemm["data"] if t["name"] == "peak: BM_Fp8TensorLt")
    assert implied["y"] == pytest.approx([1979.0])  # median / peak_fraction
    assert mla_ctx["layout"]["xaxis"]["title"]["text"].startswith("context (tokens")
    # The first MLA record also has compute_fraction (0.5, of attention_flop_per_s): the bytes'
    # implied peak still comes from read_bw_fraction, by unit, not from the first fraction's name.
    mla_peaks = [t for t in mla_ctx["data"] if t["name"].startswith("peak: ")]
    assert len(mla_peaks) == 4 and all(y == pytest.approx(4800.0) for t in mla_peaks
                                       for y in t["y"])
    assert any(t["name"] == "peak: memory_bytes_per_s" for t in memory["data"])
    assert any(t["name"].startswith("peak: all_reduce") for t in coll["data"])
    assert ratio["data"][0]["y"] == pytest.approx([0.8, 1.2e15 / 1979e12])


def test_no_missing_value_is_shown_as_nan(site):
    for page in sorted(site.glob("*.html")):
        cells = [c.strip().lower() for c in Parsed(read(site, page.name)).text]
        assert not {"nan", "none", "nan%", "null"} & set(cells), page.name


def test_every_axis_names_its_unit(site):
    for page in sorted(site.glob("*.html")):
        for chart in charts(page.read_text(encoding="utf-8")):
            for axis in ("xaxis", "yaxis"):
                title = chart["layout"][axis]["title"]["text"]
                assert title, (page.name, chart["id"], axis)
            assert "(" in chart["layout"]["yaxis"]["title"]["text"], (page.name, chart["id"])


def test_sections_without_data_say_so(site):
    page = machine_page(site, "fixture-h800")
    assert "No EP records with dispatch/combine bandwidth metrics on this machine." in page
    # its all-to-all record has a busbw but no size: no chart, and the section says why
    assert "No collectives records with a busbw metric and a bytes parameter" in page
    assert "No GEMM records" not in page and "No MLA or memory records" not in page
    assert len(charts(page)) == 3  # GEMM, memory, measured / datasheet


def test_paper_table_has_every_row_and_status(site):
    rows = json.loads((DATA / "paper.json").read_text())["rows"]
    page = read(site, "paper.html")
    text = " ".join(Parsed(page).text)
    trs = [t for t, _ in Parsed(page).tags if t == "tr"]
    sections = {r["section"] for r in rows}
    assert len(trs) == len(rows) + len(sections)  # one header row per section
    assert "erratum: the paper prints 7.28x" in text
    assert "known difference" in text and "cobench only" in text
    assert f"{len(rows)} rows: " in text


def test_model_datasheet_against_measured_with_error(site):
    model = read(site, "model.html")
    text = " ".join(Parsed(model).text)
    assert "gpu.hbm_bandwidth" in text and "-13.4%" in text  # 2.9e12 / 3.35e12 - 1
    # 42 GB/s measured against the cluster's achievable 40 GB/s a GPU
    assert "ep.bandwidth.inter_node" in text and "+5.0%" in text
    assert "memory_bandwidth" in text  # the binding bound
    # measured_h800.json states no peaks: the datasheet comes from the analysis' inputs[]
    h800 = " ".join(Parsed(machine_page(site, "fixture-h800")).text)
    assert "cobench analyze (datasheet)" in h800 and "-13.4%" in h800
    h200 = " ".join(Parsed(machine_page(site, "fixture-h200")).text)
    assert "gpu.peak_flops.fp8" in h200 and "-39.4%" in h200


def test_history_marks_the_change_point(site):
    page = read(site, "history.html")
    step, flat = charts(page)
    marker = next(t for t in step["data"] if t["name"] == "change point")
    assert marker["x"] == ["2026-11-06 00:00:00.000"]
    assert marker["y"] == pytest.approx([950.0])  # TFLOP/s
    assert step["layout"]["shapes"][0]["x0"] == "2026-11-06 00:00:00.000"
    assert step["layout"]["xaxis"]["type"] == "date"
    assert len(flat["data"]) == 1 and "GB/s = 1e9 B/s" in flat["layout"]["yaxis"]["title"]["text"]
    assert "-5.0%" in page and "No change point detected." in page


def test_strings_from_results_are_escaped(site):
    for page in sorted(site.glob("*.html")):
        raw = page.read_text(encoding="utf-8")
        assert "<script>alert" not in raw and "<b>host" not in raw, page.name
        parsed = Parsed(raw)
        for script in parsed.scripts:  # only ours: empty (src) or a Plotly.newPlot call
            assert script == "" or script.startswith("Plotly.newPlot("), page.name
            assert "</" not in script and "<" not in script, page.name
    xss = machine_page(site, "xss")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in xss
    assert HOSTILE in " ".join(Parsed(xss).text)
    assert "</script><script>alert(2)</script>" in " ".join(Parsed(xss).text)  # the CPU name
    hostile = [t for c in charts(xss) for t in c["data"]]
    # charted by its first name segment (up to the first "/"), escaped for plotly
    assert any("&lt;script&gt;alert(1)&lt;" in x for t in hostile for x in t.get("x", [])
               if isinstance(x, str))


def test_pages_without_their_input_are_not_written(tmp_path):
    # One committed run without records tagged as model inputs, nothing else given: no empty
    # paper, history, model, clusters or cross-machine page, and no link to one.
    build_site([str(REPO / "results" / "cpu-dev-vm" / "20261129T064652Z_vm_gemm_cpu.json")],
               tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.html")) == ["index.html", "machine-vm.html"]
    for name in ("index.html", "machine-vm.html"):
        links = {a["href"] for t, a in Parsed(read(tmp_path, name)).tags if t == "a"}
        assert links == {"index.html", "machine-vm.html"}, name
    assert "paper.html from --paper" in read(tmp_path, "index.html")


def test_output_is_deterministic(site, tmp_path):
    build_site(INPUTS, tmp_path, **OPTIONS)
    for page in sorted(site.glob("*.html")):
        assert (tmp_path / page.name).read_bytes() == page.read_bytes(), page.name


def _cli():
    script = REPO / "scripts" / "dashboard.py"
    spec = importlib.util.spec_from_file_location("dashboard_cli", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module



@pytest.mark.parametrize("clusters, message", [
    ({"h200-ib-256": {}}, r"\$\.clusters: expected a list of objects \(one per cluster\), "
                          r"found an object"),
    ("h200-ib-256", r"\$\.clusters: expected a list of objects .* found a string"),
    (None, r"\$\.clusters: expected a list of objects .* found null"),
    ([{"cluster": "h200-ib-256"}, 3], r"\$\.clusters\[1\]: expected an object \(one "
                                     r"cluster\), found a number"),
    ([["h200-ib-256"]], r"\$\.clusters\[0\]: expected an object .* found a list"),
])
def test_side_by_side_analysis_whose_clusters_are_not_objects_is_refused(
        tmp_path, capsys, clusters, message):
    """A side-by-side analysis (`cobench analyze --cluster A --cluster B`) whose `clusters` is
    not a list of objects stops the build: exit 1, one line naming the file and the path, and
    no site written."""
    doc = json.loads((DATA / "clusters.json").read_text())
    doc["clusters"] = clusters
    bad = tmp_path / "clusters.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "site"
    assert _cli().main([str(REPO / "results"), "-o", str(out), "--analysis", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"dashboard: {bad}: analysis: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert not out.exists()
    with pytest.raises(data.InputError, match=message):
        build_site([str(REPO / "results")], tmp_path / "site2", analysis=[str(bad)])

def test_command_line(tmp_path, capsys):
    script = REPO / "scripts" / "dashboard.py"
    ok = subprocess.run([sys.executable, str(script), str(REPO / "results"), "-o",
                         str(tmp_path / "site"), "--history", str(DATA / "history.json")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "wrote 4 pages" in ok.stdout  # index, the VM, model (tagged records), history
    cli = _cli()
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "cobench.results/1", "run": {}, "records": []}')
    assert cli.main([str(bad), "-o", str(tmp_path / "s2")]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "$.run" in err
    assert cli.main([str(tmp_path / "missing.json"), "-o", str(tmp_path / "s3")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert cli.main([str(REPO / "results"), "-o", str(tmp_path / "s4"), "--paper",
                     str(tmp_path / "missing.json")]) == 1
    assert "cannot read paper report" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        cli.main(["results"])  # no -o
    assert usage.value.code == 2


def test_directories_are_searched_and_other_json_skipped():
    paths = [p.name for p in data.results_paths([str(DATA)])]
    assert paths == ["coll_mpi_4ranks.json", "ep_mpi_4ranks.json", "gpu_node.json", "xss.json"]


def test_with_a_fresh_paper_report(cobench_bin, tmp_path):
    paper = tmp_path / "paper.json"
    with open(paper, "w") as f:
        subprocess.run([cobench_bin, "analyze", "--paper", "--format", "json"], stdout=f,
                       check=True)
    build_site([str(REPO / "results")], tmp_path / "site", paper=str(paper))
    rows = json.loads(paper.read_text())["rows"]
    assert f"{len(rows)} rows: " in read(tmp_path / "site", "paper.html")


def _browser_or_skip():
    if not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"{CHROMIUM} missing: install the Debian package chromium (scripts/setup.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright missing: .venv/bin/pip install -r scripts/requirements.txt")
    return sync_playwright


CHART_DATA = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => ({
    id: d.id, drawn: d.classList.contains('js-plotly-plot'),
    traces: (d._fullData || []).map(t => Math.max((t.x || []).length, (t.y || []).length))}))"""
# _fullData: the traces as plotly.js drew them, typed arrays (bdata) decoded.


# Pairs of axis labels whose drawn boxes overlap, per chart: tick labels of one axis among
# themselves, and each axis title against every tick label. Boxes are shrunk by 1 px (touching
# is not overlapping). A rotated label's box is its bounding rectangle, so this is conservative.
LABEL_OVERLAPS = """() => {
  const boxes = (root, sel) => Array.from(root.querySelectorAll(sel))
      .filter(e => e.textContent.trim() !== '')
      .map(e => ({text: e.textContent, r: e.getBoundingClientRect()}))
      .filter(b => b.r.width > 0 && b.r.height > 0);
  const hit = (a, b) => a.r.left + 1 < b.r.right - 1 && b.r.left + 1 < a.r.right - 1 &&
                        a.r.top + 1 < b.r.bottom - 1 && b.r.top + 1 < a.r.bottom - 1;
  const out = [];
  for (const d of document.querySelectorAll('.plotly-graph-div')) {
    const ticks = [...boxes(d, '.xtick text'), ...boxes(d, '.ytick text')];
    const titles = boxes(d, '.xtitle, .ytitle');
    for (const axis of ['.xtick text', '.ytick text']) {
      const bs = boxes(d, axis);
      for (let i = 0; i < bs.length; i++)
        for (let j = i + 1; j < bs.length; j++)
          if (hit(bs[i], bs[j])) out.push([d.id, bs[i].text, bs[j].text]);
    }
    for (const t of titles) for (const b of ticks) if (hit(t, b)) out.push([d.id, t.text, b.text]);
  }
  return out;
}"""
SCREENSHOTS = "COBENCH_DASHBOARD_SCREENSHOTS"  # a directory: the test saves a JPEG of each page


def _in_chromium(site: Path) -> dict[str, dict]:
    """Every page of `site` loaded from file:// in headless Chromium: its charts as drawn, the
    axis labels drawn over each other, its text; console errors, page errors and dialogs fail.
    With COBENCH_DASHBOARD_SCREENSHOTS=DIR, a PNG of the top 1280 x 1200 px of each page is
    saved in DIR (the screenshots of docs/dashboard.md)."""
    sync_playwright = _browser_or_skip()
    problems, dialogs, seen = [], [], {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            shots = os.environ.get(SCREENSHOTS)
            for html_file in sorted(site.glob("*.html")):
                page.goto(html_file.as_uri(), wait_until="load")
                seen[html_file.name] = {"charts": page.evaluate(CHART_DATA),
                                        "overlaps": page.evaluate(LABEL_OVERLAPS),
                                        "text": page.evaluate("document.body.textContent")}
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"{html_file.stem}.png"),
                                    clip={"x": 0, "y": 0, "width": 1280, "height": 1200})
                    for i, fig in enumerate(charts(html_file.read_text(encoding="utf-8"))):
                        if fig["layout"]["xaxis"]["title"]["text"].startswith("arithmetic"):
                            page.locator(".plotly-graph-div").nth(i).screenshot(
                                path=str(Path(shots) / f"{html_file.stem}-roofline.png"))
        finally:
            browser.close()
    assert problems == [] and dialogs == []
    for name, got in seen.items():
        expected = len(charts(read(site, name)))
        assert len(got["charts"]) == expected, name
        for chart in got["charts"]:
            assert chart["drawn"] and chart["traces"], (name, chart["id"])
            assert all(n > 0 for n in chart["traces"]), (name, chart)
    overlaps = {name: got["overlaps"] for name, got in seen.items() if got["overlaps"]}
    assert overlaps == {}  # no axis label drawn over another
    return seen


def test_pages_in_headless_chromium(site):
    seen = _in_chromium(site)
    assert len(seen) == 8
    assert sum(len(g["charts"]) for g in seen.values()) >= 12
    xss = seen["machine-xss-_b_host_b.html"]["text"]
    assert HOSTILE in xss and 'xss-<b>host</b>"' in xss  # shown literally, never run


def test_cross_machine_and_cluster_pages_in_headless_chromium(tmp_path):
    base = REPO / "results" / "cpu-dev-vm" / "20261129T212216Z_vm_run.json"
    (tmp_path / "twice.json").write_text(json.dumps(
        _scaled_copy(json.loads(base.read_text()), 2.0, "fast-vm", "f" * 16)))
    build_site([str(base), str(tmp_path / "twice.json")], tmp_path / "site",
               analysis=[str(DATA / "clusters.json")])
    seen = _in_chromium(tmp_path / "site")
    assert {"compare.html", "clusters.html"} <= set(seen)
    assert len(seen["compare.html"]["charts"]) >= 4  # collectives, EP, GEMM, MLA, memory


def test_with_the_history_of_cobench(cobench_bin, tmp_path):
    history = tmp_path / "history.json"
    with open(history, "w") as f:
        subprocess.run([cobench_bin, "history", str(REPO / "results"), str(DATA / "gpu_node.json"),
                        "--format", "json"], stdout=f, stderr=subprocess.DEVNULL, check=True)
    series = json.loads(history.read_text())["series"]
    build_site([str(REPO / "results")], tmp_path / "site", history=str(history))
    assert len(charts(read(tmp_path / "site", "history.html"))) == len(series) > 0


def test_fixtures_pass_the_cpp_reader(cobench_bin):
    files = [str(DATA / n) for n in ("coll_mpi_4ranks.json", "ep_mpi_4ranks.json",
                                     "gpu_node.json", "xss.json")]
    r = subprocess.run([cobench_bin, "results", "validate", *files], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def _run(host: str, key: str | None, utc: str) -> dict:
    run = {"host": host, "utc_time": utc, "sysinfo": {"cpu": {"model": "AMD EPYC"}}}
    if key:
        run["machine"] = {"key": key, "label": host, "fields": {}}
    return {"run": run, "records": [{"suite": "gemm"}], "_file": f"{host}-{utc}.json"}


def test_machines_are_their_hardware_not_their_host_names():
    """Two VMs both called "vm" with different hardware keys are two machines; the same key under
    another host name is one machine (shown by its latest host); a file without a key (written
    before keys) is grouped by its host."""
    runs = [_run("vm", "1111111111111111", "2026-12-01T00:00:00Z"),
            _run("vm", "2222222222222222", "2026-12-02T00:00:00Z"),
            _run("ci-7", "1111111111111111", "2026-12-03T00:00:00Z"),
            _run("old", None, "2026-12-04T00:00:00Z")]
    frame = data.machines(runs)
    assert sorted(frame["host"]) == ["ci-7 (11111111)", "old", "vm (22222222)"]
    assert frame.set_index("host").loc["ci-7 (11111111)", "runs"] == 2


def test_roofline_of_a_gpu_node(site):
    """The H200 fixture: the FP8 GEMMs state operand bytes (A and B in FP8, C in BF16: m·k + n·k +
    2·m·n bytes for 2·m·n·k FLOP), so m=64, n=24576, k=1536 sits at 4,831,838,208 / 40,992,768 =
    117.87 FLOP/B, m=512 at 606.81 and m=4096 at 1260.31; the MLA record with both metrics at
    median FLOP/s over median B/s. Roofs: measured 1200 TFLOP/s (the gpu.peak_flops.fp8 record's
    median) and 3840 GB/s (the gpu.hbm_bandwidth copy: 0.8 of 4.8 TB/s); datasheet 1979 TFLOP/s
    (the largest stated FLOP/s peak) and 4800 GB/s (the HBM stream's stated peak)."""
    figures = charts(machine_page(site, "fixture-h200"))
    [roof] = [f for f in figures if f["layout"]["xaxis"]["title"]["text"].startswith(
        "arithmetic intensity")]
    assert roof["layout"]["xaxis"]["type"] == "log" and roof["layout"]["yaxis"]["type"] == "log"
    gemm = next(t for t in roof["data"] if t["name"] == "gemm")
    assert sorted(gemm["x"]) == pytest.approx([117.8705036, 606.8148148, 1260.3076923], rel=1e-5)
    doc = json.loads((DATA / "gpu_node.json").read_text())
    mla = next(r for r in doc["records"] if r["benchmark"] ==
               "BM_MlaDecode_Cuda/cache:fp8/batch:1/context:1024")["metrics"]
    median = lambda m: sorted(m["values"])[len(m["values"]) // 2]  # noqa: E731 (3 values)
    [x] = next(t for t in roof["data"] if t["name"] == "mla")["x"]
    assert x == pytest.approx(median(mla["attention_flop_per_s"]) / median(mla["kv_bytes_per_s"]))
    measured = next(t for t in roof["data"] if t["name"].startswith("measured roof"))
    datasheet = next(t for t in roof["data"] if t["name"].startswith("datasheet roof"))
    assert measured["name"] == "measured roof: 1200 TFLOP/s, 3840 GB/s"
    assert datasheet["name"] == "datasheet roof: 1979 TFLOP/s, 4800 GB/s"
    assert datasheet["line"]["dash"] == "dash" and measured["line"]["dash"] == "solid"
    # the roof is min(P, I x B): bandwidth-bound left of the ridge (1200e12 / 3840e9 = 312.5),
    # flat right of it
    ridge = measured["x"].index(pytest.approx(312.5))
    assert measured["y"][ridge] == pytest.approx(1200.0)
    assert measured["y"][0] == pytest.approx(measured["x"][0] * 3840e9 * 1e-12)
    assert measured["y"][-1] == pytest.approx(1200.0)


def _scaled_copy(doc: dict, factor: float, host: str, key: str) -> dict:
    """The run measured again on another machine, every value `factor` times the original."""
    other = json.loads(json.dumps(doc))
    other["run"]["host"] = host
    other["run"]["machine"] = {"key": key, "label": host, "fields": {}}
    for r in other["records"]:
        r["metrics"] = {name: bench_dashboard.scaled(m, factor) for name, m in r["metrics"].items()}
    return other


def test_the_same_benchmark_across_machines(tmp_path):
    base = REPO / "results" / "cpu-dev-vm" / "20261129T064652Z_vm_gemm_cpu.json"
    doc = json.loads(base.read_text())
    (tmp_path / "twice.json").write_text(json.dumps(_scaled_copy(doc, 2.0, "fast-vm",
                                                                 "f" * 16)))
    build_site([str(base), str(tmp_path / "twice.json")], tmp_path / "site")
    page = read(tmp_path / "site", "compare.html")
    figures = charts(page)
    assert figures and all(len(f["data"]) == 2 for f in figures)  # a bar series per machine
    gemm = next(f for f in figures if "TFLOP/s" in f["layout"]["yaxis"]["title"]["text"])
    slow, fast = sorted(gemm["data"], key=lambda t: t["name"])  # "fast-vm..." < "vm"
    assert fast["name"] == "vm" and slow["name"].startswith("fast-vm")
    assert slow["y"] == pytest.approx([2 * y for y in fast["y"]])
    rec = next(r for r in doc["records"]
               if r["benchmark"] == "BM_Fp8Gemm_Cpu/m:2048/n:2048/k:2048/real_time")
    label = "BM_Fp8Gemm_Cpu k=2048, m=2048, n=2048 gemm_flop_per_s"
    assert fast["y"][fast["x"].index(label)] == pytest.approx(
        rec["metrics"]["gemm_flop_per_s"]["median"] * 1e-12)
    text = " ".join(Parsed(page).text)
    assert "0.5x" in text  # vm / fast-vm, the first machine in name order
    links = {a["href"] for t, a in Parsed(read(tmp_path / "site", "index.html")).tags if t == "a"}
    assert "compare.html" in links


def test_several_analyses_and_clusters_side_by_side(cobench_bin, tmp_path):
    side = tmp_path / "side.json"
    with open(side, "w") as f:
        subprocess.run([cobench_bin, "analyze", "--model", "deepseek-v3", "--cluster",
                        "h200-ib-256", "--cluster", "gb200-nvl72", "--format", "json"],
                       stdout=f, check=True)
    build_site([str(REPO / "results")], tmp_path / "site",
               analysis=[str(DATA / "analysis.json"), str(side), str(DATA / "analysis.json")])
    model = read(tmp_path / "site", "model.html")
    assert model.count("cobench analyze --measured: DeepSeek-V3 on") == 2  # every one kept
    clusters = read(tmp_path / "site", "clusters.html")
    doc = json.loads(side.read_text())
    text = " ".join(Parsed(clusters).text)
    for c in doc["clusters"]:
        assert c["cluster"] in text
    per_gpu = next(f for f in charts(clusters)
                   if f["layout"]["yaxis"]["title"]["text"].startswith("tok/s per GPU"))
    assert per_gpu["data"][0]["y"] == pytest.approx(
        [c["tokens_per_s_per_device"] for c in doc["clusters"] if c.get("found", True)])


def test_latest_rows_sorted_by_record_are_pandas_row_sort():
    """data.latest sorts one run per machine by record (a Python sort of a tuple per record, its
    rows after it): the same rows in the same order as pandas' sort of every row, the second
    implementation; a frame whose records' rows lie apart (shuffled) or repeat the keys of
    another record goes the row-by-row way, with the same result."""
    runs = data.load_runs(data.results_paths([str(DATA / "gpu_node.json"),
                                              str(DATA / "coll_mpi_4ranks.json")]))
    frame = data.to_frame(runs)
    keys = ["host", "suite", "benchmark", "backend", "params_key", "metric"]
    reference = frame.sort_values(keys, ignore_index=True)
    assert len(frame) > 10 and not frame.equals(reference)  # a sort that does something
    assert data._record_order(frame, keys[:-1]) is not None
    pd.testing.assert_frame_equal(data.latest(frame), reference)
    shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    assert data._record_order(shuffled, keys[:-1]) is None
    pd.testing.assert_frame_equal(data.latest(shuffled), reference)
    twice = pd.concat([frame, frame.assign(record=frame["record"] + len(frame))],
                      ignore_index=True)
    assert data._record_order(twice, keys[:-1]) is None  # two records share their keys


def _same_values(got: list, want: list) -> bool:
    """Equal lists, value by value and type by type, NaN equal to NaN."""
    return len(got) == len(want) and all(
        type(a) is type(b) and (a == b or (a != a and b != b)) for a, b in zip(got, want))


def test_column_lists_are_what_pandas_iteration_gives():
    """charts.items, tuples and mask (from a column's tolist(): iterating a pandas string
    column calls a method per element) give what pandas' own iteration, itertuples and map
    give, the second implementation: on the fixtures' frame (string columns with missing
    values, floats with NaN, the parameters' dicts) and on a filtered, reversed part of it."""
    from dashboard import charts

    runs = data.load_runs(data.results_paths([str(DATA / "gpu_node.json"),
                                              str(DATA / "coll_mpi_4ranks.json")]))
    frame = data.to_frame(runs)
    assert frame["peak_name"].isna().any() and frame["peak_name"].notna().any()
    assert frame["peak_value"].isna().any() and frame["peak_value"].notna().any()
    part = frame[frame["unit"] == "B/s"].iloc[::-1]  # an index that is not 0, 1, ...
    for rows in (frame, part):
        for c in rows.columns:
            assert _same_values(charts.items(rows[c]), list(rows[c])), c
        got, want = charts.tuples(rows), list(rows.itertuples(index=False))
        assert got[0]._fields == want[0]._fields == tuple(rows.columns)
        assert len(got) == len(want)
        assert all(_same_values(list(g), list(w)) for g, w in zip(got, want))
        has_bytes = charts.mask(rows["params"], lambda p: "bytes" in p)
        assert has_bytes.dtype == bool and 0 < has_bytes.sum() < len(rows)
        assert has_bytes.tolist() == rows["params"].map(lambda p: "bytes" in p).tolist()
