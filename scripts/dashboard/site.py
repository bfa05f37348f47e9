# SPDX-License-Identifier: Apache-2.0
"""Writes the dashboard's pages: index, one per machine, paper, model and history."""
from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import plotly.offline

from dashboard import charts, data
from dashboard.html import PLOTLY_JS, empty, esc, figure, number, page, slug, table

MODEL_INPUT_UNITS = {"gpu.peak_flops": "FLOP/s", "latency": "s"}


class Page:
    """Collects the sections of one page; chart ids are numbered in order (deterministic)."""

    def __init__(self, name: str):
        self.name, self.parts, self._ids = name, [], itertools.count()

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{esc(text)}</h2>")

    def add(self, fragment: str) -> None:
        self.parts.append(fragment)

    def chart(self, fig, missing: str) -> None:
        figs = fig if isinstance(fig, list) else [fig]
        figs = [f for f in figs if f is not None]
        if not figs:
            self.add(empty(missing))
        for f in figs:
            self.add(figure(f, f"{slug(self.name)}-chart-{next(self._ids)}"))

    def html(self) -> str:
        return "\n".join(self.parts)


MAX_SLUG = 80  # of a host in a page name: far below a file name's 255 bytes


def machine_file(host: str, taken: dict[str, str]) -> str:
    """A unique page name per host: hosts that slug alike are numbered (case-insensitively, for
    file systems that ignore case); a long host name is cut, with a hash of the whole kept."""
    s = slug(host)
    if len(s) > MAX_SLUG:
        s = f"{s[:MAX_SLUG]}-{hashlib.sha256(host.encode('utf-8')).hexdigest()[:10]}"
    base = f"machine-{s}"
    name, n = base, 1
    used = {v.lower() for v in taken.values()}
    while name.lower() in used:
        n += 1
        name = f"{base}-{n}"
    taken[host] = name
    return name + ".html"


def _write_site(out: Path, files: dict[str, str]) -> None:
    """Writes each file into `out` through a temporary name and a rename: a page is either the
    old one or the new one, never half written. Errors name `out`."""
    if out.exists() and not out.is_dir():
        raise data.InputError(f"{out}: exists and is not a directory (-o names the site's "
                              "directory)")
    tmp = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".dashboard-", dir=out))
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        for name in files:
            os.replace(tmp / name, out / name)
    except OSError as e:
        raise data.InputError(f"{out}: cannot write the site: {e.strerror or e}") from e
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def nav(machine_pages: dict[str, str]) -> list[tuple[str, str]]:
    links = [("index.html", "index")]
    links += [(f, f"machine {h}") for h, f in sorted(machine_pages.items())]
    return links + [("paper.html", "paper"), ("model.html", "model"), ("history.html", "history")]


def _input_unit(name: str) -> str:
    for prefix, unit in MODEL_INPUT_UNITS.items():
        if name.startswith(prefix):
            return unit
    return "B/s"


def model_inputs(rows: pd.DataFrame, analysis: pd.DataFrame) -> pd.DataFrame:
    """Records tagged parameters.model_input: the measured median against the datasheet value
    (the metric's peak, else the matching `inputs[]` row of --analysis) and the error."""
    cols = ["input", "benchmark", "metric", "unit", "measured", "datasheet", "datasheet_from",
            "error", "verification", "file"]
    out = []
    tagged = rows[rows["params"].map(lambda p: "model_input" in p)]
    for _, g in tagged.groupby(["file", "record"]):
        params = g.iloc[0]["params"]
        unit = _input_unit(str(params["model_input"]))
        pick = g[g["metric"] == params["model_metric"]] if "model_metric" in params \
            else g[g["unit"] == unit]
        if pick.empty:
            continue
        r = pick.iloc[0]
        datasheet, origin = r["peak_value"], r["peak_name"]
        match = analysis[analysis["source"].fillna("").str.endswith(": " + r["benchmark"])
                         & (analysis["input"] == params["model_input"])]
        if pd.isna(datasheet) and not match.empty:
            datasheet, origin = match.iloc[0]["datasheet"], "cobench analyze (datasheet)"
        error = r["median"] / datasheet - 1 if pd.notna(datasheet) and datasheet else None
        out.append([params["model_input"], r["benchmark"], r["metric"], r["unit"], r["median"],
                    datasheet, origin, error, r["verification"], r["file"]])
    return pd.DataFrame(out, columns=cols).sort_values(["input", "benchmark"], ignore_index=True)


def _model_table(t: pd.DataFrame) -> str:
    rows = []
    for _, r in t.iterrows():
        factor, unit, _ = charts.scale(r["unit"])
        err = "" if r["error"] is None or pd.isna(r["error"]) else f"{100 * r['error']:+.1f}%"
        rows.append([r["input"], r["benchmark"], r["metric"], unit, r["measured"] * factor,
                     None if pd.isna(r["datasheet"]) else r["datasheet"] * factor,
                     "" if pd.isna(r["datasheet_from"]) else r["datasheet_from"], err,
                     r["verification"], r["file"]])
    return table(["input", "record", "metric", "unit", "measured", "datasheet", "datasheet from",
                  "error (measured / datasheet - 1)", "verification", "file"], rows,
                 numeric={"measured", "datasheet"})


def records_table(rows: pd.DataFrame) -> str:
    """Every (record, metric) of the latest runs, folded: the benchmark names as text."""
    body = table(["suite", "benchmark", "backend", "metric", "unit", "median", "peak",
                  "verification", "file"],
                 [[r.suite, r.benchmark, r.backend, r.metric, r.unit, r.median, r.peak_value,
                   r.verification, r.file] for r in rows.itertuples()],
                 numeric={"median", "peak"})
    return f"<details><summary>{len(rows)} metrics</summary>{body}</details>"


def machine_page(host: str, info: pd.Series, runs: list[dict], frame: pd.DataFrame,
                 analysis: pd.DataFrame) -> Page:
    p = Page(f"machine {host}")
    p.add(table(["host", "CPU", "GPUs"], [[host, info["cpu"], info["gpus"] or "none recorded"]]))
    p.heading("Runs")
    p.add(table(["file", "UTC time", "git commit", "records", "suites"],
                [[d["_file"], d["run"]["utc_time"], d["run"]["git_commit"], len(d["records"]),
                  ", ".join(sorted({r["suite"] for r in d["records"]}))] for d in runs]))
    rows = data.latest(frame[frame["host"] == host])
    suite = rows["suite"]
    p.heading("GEMM throughput by shape and precision")
    p.chart(charts.gemm_figure(rows[suite.str.startswith("gemm")], f"{host}: GEMM"),
            "No GEMM records with a FLOP/s metric on this machine.")
    p.heading("MLA and KV-cache memory bandwidth")
    p.chart(charts.bandwidth_figures(rows[suite.str.startswith(("mla", "memory"))], host),
            "No MLA or memory records with a B/s metric on this machine.")
    p.heading("Collectives: busbw by message size")
    p.chart(charts.collectives_figure(rows[suite == "collectives"], f"{host}: collectives busbw"),
            "No collectives records with a busbw metric and a bytes parameter on this machine.")
    p.heading("Expert-parallel dispatch and combine")
    p.chart(charts.ep_figure(rows[suite == "ep"], f"{host}: EP dispatch/combine"),
            "No EP records with dispatch/combine bandwidth metrics on this machine.")
    p.heading("Model inputs measured here: datasheet against measured")
    inputs = model_inputs(rows, analysis)
    if inputs.empty:
        p.add(empty("No records tagged parameters.model_input on this machine."))
    else:
        p.add(_model_table(inputs))
        p.chart(charts.model_ratio_figure(inputs, f"{host}: measured / datasheet"),
                "No datasheet value known for these inputs (no peak, no --analysis match).")
    p.heading("All records")
    p.add(records_table(rows))
    p.add("<p>Values are the latest run's median of each benchmark; a peak marker is the "
          "metric's stated peak or one implied by a fraction-of-peak counter.</p>")
    return p


def index_page(machines: pd.DataFrame, files: dict[str, str], runs: list[dict],
               extras: dict[str, str]) -> Page:
    p = Page("cobench dashboard")
    p.heading("Machines")
    if machines.empty:
        p.add(empty("No results files given."))
    else:
        head = "<tr>" + "".join(f"<th>{c}</th>" for c in
                                ["host", "CPU", "GPUs", "runs", "suites", "first run", "last run"])
        body = "".join(
            f'<tr><td><a href="{esc(files[m.host])}">{esc(m.host)}</a></td><td>{esc(m.cpu)}</td>'
            f"<td>{esc(m.gpus)}</td><td>{m.runs}</td><td>{esc(m.suites)}</td>"
            f"<td>{esc(m.first)}</td><td>{esc(m.last)}</td></tr>"
            for m in machines.itertuples())
        p.add(f"<table><thead>{head}</tr></thead><tbody>{body}</tbody></table>")
    p.heading("Runs")
    p.add(table(["file", "host", "UTC time", "git commit", "cobench", "records"],
                [[d["_file"], d["run"]["host"], d["run"]["utc_time"], d["run"]["git_commit"],
                  d["run"]["cobench_version"], len(d["records"])] for d in runs])
          if runs else empty("No runs."))
    p.heading("Analyses")
    p.add("<ul>" + "".join(f'<li><a href="{f}">{esc(f)}</a>: {esc(what)}</li>'
                           for f, what in extras.items()) + "</ul>")
    return p


def paper_page(rows: pd.DataFrame, given: bool) -> Page:
    p = Page("DeepSeek-V3 paper reproduction")
    if not given:
        p.add(empty("No paper report given: pass --paper FILE, the output of "
                    "`cobench analyze --paper --format json`."))
        return p
    if rows.empty:
        p.add(empty("The paper report has no rows."))
        return p
    status = rows["status"].value_counts().sort_index()
    p.add("<p>" + esc(f"{len(rows)} rows: " + ", ".join(f"{n} {s}" for s, n in status.items()))
          + "</p>")
    for section, g in rows.groupby("section", sort=False):
        p.heading(section)
        p.add(table(["quantity", "paper", "cobench", "unit", "deviation", "status", "note"],
                    [[r.quantity, r.paper, r.cobench, r.unit, r.deviation, r.status, r.note]
                     for r in g.itertuples()],
                    numeric={"paper", "cobench"}))
    return p


def model_page(doc: dict | None, inputs: pd.DataFrame, measured: pd.DataFrame) -> Page:
    p = Page("Model: datasheet against measured")
    p.heading("Measured inputs in the results (all machines)")
    if measured.empty:
        p.add(empty("No results record is tagged parameters.model_input."))
    else:
        p.add(_model_table(measured))
    p.heading("cobench analyze --measured: inputs[]")
    if doc is None:
        p.add(empty("No analysis given: pass --analysis FILE, the output of `cobench analyze "
                    "--model M --cluster C --measured R --format json`."))
        return p
    p.add(table(["model", "cluster"], [[doc.get("model", ""), doc.get("cluster", "")]]))
    if inputs.empty:
        p.add(empty("The analysis applied no measured input."))
    else:
        err = [m / d - 1 if d else None for m, d in zip(inputs["measured"], inputs["datasheet"])]
        p.add(table(["input", "datasheet", "measured", "error (measured / datasheet - 1)",
                     "used", "source"],
                    [[r.input, r.datasheet, r.measured,
                      "" if e is None else f"{100 * e:+.1f}%", r.used, r.source]
                     for r, e in zip(inputs.itertuples(), err)],
                    numeric={"datasheet", "measured"}))
        ratio = inputs.assign(benchmark=inputs["source"].fillna("").str.split(": ").str[-1])
        p.chart(charts.model_ratio_figure(ratio, "measured / datasheet (cobench analyze)"),
                "No datasheet values.")
    inference = doc.get("inference") or {}
    if inference:
        p.heading("Prediction (decode)")
        p.add(table(["quantity", "value"],
                    [[k, v if isinstance(v, str) else number(v)]
                     for k, v in sorted(inference.items()) if not isinstance(v, dict)]))
    return p


def history_page(series: list[dict], given: bool) -> Page:
    p = Page("History and change points")
    if not given:
        p.add(empty("No history given: pass --history FILE, the output of "
                    "`cobench history PATH... --format json`."))
        return p
    if not series:
        p.add(empty("The history holds no series."))
    for s in series:
        title = f"{s['suite']} / {s['benchmark']} / {s['metric']}"
        p.heading(title)
        cps = s.get("change_points") or []
        if cps:
            p.add(table(["UTC time", "file", "git commit", "before", "after", "change", "p"],
                        [[c["utc_time"], c["file"], c["git_commit"], c["before_median"],
                          c["after_median"], f"{100 * c['relative_change']:+.1f}%",
                          c["p_value"]] for c in cps],
                        numeric={"before", "after", "p"}))
        else:
            p.add(empty("No change point detected."))
        p.chart(charts.history_figure(s, title), "No points in this series.")
    return p


def build_site(inputs: list[str], out: str | Path, paper: str | None = None,
               analysis: str | None = None, history: str | None = None) -> list[Path]:
    """Reads everything, writes the site into `out` and returns the pages written."""
    runs = data.load_runs(data.results_paths(inputs))
    frame = data.to_frame(runs)
    paper_doc = data.load_json(paper, "paper report")
    analysis_doc = data.load_json(analysis, "analysis")
    history_doc = data.load_json(history, "history")
    analysis_rows = data.analysis_inputs(analysis_doc)
    series = data.history_series(history_doc, history or "")
    paper_table = data.paper_rows(paper_doc, paper or "")
    machines = data.machines(runs)

    taken: dict[str, str] = {}
    files = {h: machine_file(h, taken) for h in machines["host"]}
    links = nav(files)
    pages = {"index.html": index_page(machines, files, runs, {
        "paper.html": f"paper reproduction ({len(paper_table)} rows)" if paper else "not given",
        "model.html": "model inputs, datasheet against measured"
                      + (" (with cobench analyze)" if analysis else ""),
        "history.html": f"history ({len(series)} series)" if history else "not given"})}
    labels = data.machine_labels(runs)
    for m in machines.itertuples():
        host_runs = [d for d in runs if labels[data.machine_key(d["run"])] == m.host]
        pages[files[m.host]] = machine_page(m.host, machines.set_index("host").loc[m.host],
                                            host_runs, frame, analysis_rows)
    pages["paper.html"] = paper_page(paper_table, paper is not None)
    pages["model.html"] = model_page(analysis_doc, analysis_rows,
                                     model_inputs(data.latest(frame), analysis_rows))
    pages["history.html"] = history_page(series, history is not None)

    out = Path(out)
    texts = {PLOTLY_JS: plotly.offline.get_plotlyjs()}
    texts.update({name: page(pages[name].name, pages[name].html(), links)
                  for name in sorted(pages)})
    _write_site(out, texts)
    return [out / name for name in sorted(pages)]
