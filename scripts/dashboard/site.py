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

import cobench_results as cr

from dashboard import charts, compare, data, roofline
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


OPTIONAL_PAGES = [("compare.html", "across machines"), ("clusters.html", "clusters"),
                  ("paper.html", "paper"), ("model.html", "model"), ("history.html", "history")]


def nav(machine_pages: dict[str, str], present: set[str]) -> list[tuple[str, str]]:
    """index, the machines, then the other pages that were built (a page without its input is
    not written: no empty pages)."""
    links = [("index.html", "index")]
    links += [(f, f"machine {h}") for h, f in sorted(machine_pages.items())]
    return links + [(f, label) for f, label in OPTIONAL_PAGES if f in present]


def _input_unit(name: str) -> str:
    for prefix, unit in MODEL_INPUT_UNITS.items():
        if name.startswith(prefix):
            return unit
    return "B/s"


def model_inputs(rows: pd.DataFrame, analysis: pd.DataFrame) -> pd.DataFrame:
    """Records tagged parameters.model_input: the measured median against the datasheet value
    (the metric's peak, else the matching `inputs[]` row of --analysis) and the error. The
    metric is the one parameters.model_metric names, else the first in the input's unit."""
    cols = ["input", "benchmark", "metric", "unit", "measured", "datasheet", "datasheet_from",
            "error", "verification", "file"]
    tagged = rows[charts.mask(rows["params"], lambda p: "model_input" in p)]
    if tagged.empty:
        return pd.DataFrame(columns=cols)
    tagged = tagged.sort_values(["file", "record", "metric"])
    named = tagged["params"].map(lambda p: p.get("model_metric"))
    unit = tagged["params"].map(lambda p: _input_unit(str(p["model_input"])))
    picked = tagged[(named.notna() & (tagged["metric"] == named))
                    | (named.isna() & (tagged["unit"] == unit))].drop_duplicates(["file", "record"])
    sources = [(str(i), str(src), d) for i, src, d in
               zip(analysis["input"], analysis["source"].fillna(""), analysis["datasheet"])]
    out = []
    for r in charts.tuples(picked):
        name = r.params["model_input"]
        datasheet, origin = r.peak_value, r.peak_name
        if pd.isna(datasheet):
            match = [d for i, src, d in sources if i == name and src.endswith(": " + r.benchmark)]
            if match:
                datasheet, origin = match[0], "cobench analyze (datasheet)"
        error = r.median / datasheet - 1 if pd.notna(datasheet) and datasheet else None
        out.append([name, r.benchmark, r.metric, r.unit, r.median, datasheet, origin, error,
                    r.verification, r.file])
    return pd.DataFrame(out, columns=cols).sort_values(["input", "benchmark"], ignore_index=True)


def _model_table(t: pd.DataFrame) -> str:
    rows = []
    for r in charts.tuples(t):
        factor, unit, _ = charts.scale(r.unit)
        err = "" if r.error is None or pd.isna(r.error) else f"{100 * r.error:+.1f}%"
        rows.append([r.input, r.benchmark, r.metric, unit, r.measured * factor,
                     None if pd.isna(r.datasheet) else r.datasheet * factor,
                     "" if pd.isna(r.datasheet_from) else r.datasheet_from, err,
                     r.verification, r.file])
    return table(["input", "record", "metric", "unit", "measured", "datasheet", "datasheet from",
                  "error (measured / datasheet - 1)", "verification", "file"], rows,
                 numeric={"measured", "datasheet"})


MAX_TABLE_ROWS = 2000  # of the folded "All records" table: a page stays a page at 10^5 records


def records_table(rows: pd.DataFrame) -> str:
    """Every (record, metric) of the latest runs, folded: the benchmark names as text; past
    MAX_TABLE_ROWS the first rows, and a line that says how many are left out and where they are."""
    shown = rows.head(MAX_TABLE_ROWS)
    body = table(["suite", "benchmark", "backend", "metric", "unit", "median", "peak",
                  "verification", "file"],
                 [[r.suite, r.benchmark, r.backend, r.metric, r.unit, r.median, r.peak_value,
                   r.verification, r.file] for r in charts.tuples(shown)],
                 numeric={"median", "peak"})
    more = "" if len(rows) == len(shown) else (
        f"<p>{len(rows) - len(shown)} more metrics are not listed here: the results files hold "
        "them all.</p>")
    return f"<details><summary>{len(rows)} metrics</summary>{body}{more}</details>"


def machine_page(host: str, info: pd.Series, runs: list[dict], latest: pd.DataFrame,
                 analysis: pd.DataFrame) -> Page:
    """`latest`: data.latest of every machine's rows (its rows of `host` are data.latest of the
    host's rows: the latest run is chosen per host, and the host is the first sort key)."""
    p = Page(f"machine {host}")
    p.add(table(["host", "CPU", "GPUs"], [[host, info["cpu"], info["gpus"] or "none recorded"]]))
    p.heading("Runs")
    p.add(table(["file", "UTC time", "git commit", "records", "suites"],
                [[d["_file"], d["run"]["utc_time"], d["run"]["git_commit"], len(d["records"]),
                  ", ".join(sorted(data.suites(d)))] for d in runs]))
    rows = latest[latest["host"] == host].reset_index(drop=True)
    suite = rows["suite"]
    p.heading("GEMM throughput by shape and precision")
    p.chart(charts.gemm_figure(rows[charts.matching(suite, lambda s: s.startswith("gemm"))],
                               f"{host}: GEMM"),
            "No GEMM records with a FLOP/s metric on this machine.")
    p.heading("MLA and KV-cache memory bandwidth")
    bandwidth = charts.matching(suite, lambda s: s.startswith(("mla", "memory")))
    p.chart(charts.bandwidth_figures(rows[bandwidth], host),
            "No MLA or memory records with a B/s metric on this machine.")
    p.heading("Roofline: GEMM and attention against the machine's roofs")
    r = roofline.roofs(rows)
    p.chart(roofline.figure(roofline.points(rows), r, f"{host}: roofline"),
            "No record reports both FLOP/s and the bytes it moved (B/s) on this machine.")
    p.add("<p>" + esc(_roofs_text(r)) + "</p>")
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


def _roofs_text(r: roofline.Roofs) -> str:
    def one(name, flops, bw):
        parts = [f"{flops * 1e-12:.4g} TFLOP/s" if flops > 0 else "no compute peak",
                 f"{bw * 1e-9:.4g} GB/s" if bw > 0 else "no memory bandwidth"]
        return f"{name}: {', '.join(parts)}"
    return ("Roofs: " + one("measured", r.measured_flops, r.measured_bw) + "; "
            + one("datasheet (stated peaks)", r.datasheet_flops, r.datasheet_bw)
            + ". Measured roofs come from this machine's peak FLOP/s and memory bandwidth "
            "benchmarks, datasheet roofs from the peaks the records state.")


def compare_page(latest_rows: pd.DataFrame) -> Page | None:
    """Every configuration measured on two machines or more, per suite; None without any."""
    rows = compare.shared(latest_rows)
    if rows.empty:
        return None
    p = Page("Across machines: the same benchmark side by side")
    machines = sorted(set(charts.items(rows["host"])))
    p.add("<p>" + esc(f"{rows['label'].nunique()} configurations measured on two machines or "
                      f"more; machines: {', '.join(machines)}. Latest run of each; ratios to "
                      f"{machines[0]}.") + "</p>")
    for (suite, unit), g in rows.groupby(["suite", "unit"], sort=True):
        p.heading(f"{suite} ({charts.scale(unit)[1]})")
        p.chart(compare.figure(g, suite), "No values.")
        hosts = sorted(set(charts.items(g["host"])))
        columns, body = compare.table_rows(g, hosts)
        p.add(table(columns, body, numeric=set(hosts)))
    return p


def clusters_page(docs: list[tuple[str, dict]]) -> Page:
    """`cobench analyze --cluster A --cluster B ...`: the best configuration on each cluster."""
    p = Page("Clusters side by side (cobench analyze)")
    fields = [("gpus", "GPUs", 1.0), ("tokens_per_s_per_device", "tok/s per GPU", 1.0),
              ("tokens_per_s_per_user", "tok/s per user", 1.0), ("tpot_s", "TPOT (ms)", 1e3),
              ("ttft_s", "TTFT (ms)", 1e3), ("ep_degree", "EP", 1.0), ("tp_degree", "TP", 1.0),
              ("tokens_per_device", "batch per GPU (tokens)", 1.0),
              ("usd_per_million_output", "$ per M output tokens", 1.0),
              ("binding", "binds", None), ("configurations", "configurations tried", 1.0)]
    for path, doc in docs:
        p.heading(f"{doc.get('model', '')}: {len(doc['clusters'])} clusters ({path})")
        target = doc.get("target_tokens_per_s_per_user")
        if target:
            p.add("<p>" + esc(f"target: {target:.4g} tok/s per user") + "</p>")
        rows = []
        for c in doc["clusters"]:
            row = [c.get("cluster", "")]
            for key, _, factor in fields:
                v = c.get(key)
                row.append(v * factor if factor is not None and isinstance(v, (int, float))
                           and not isinstance(v, bool) else v)
            if not c.get("found", True):
                row[1:] = ["no configuration meets the target"] + [None] * (len(fields) - 1)
            rows.append(row)
        names = ["cluster"] + [label for _, label, _ in fields]
        p.add(table(names, rows, numeric={label for _, label, f in fields if f is not None}))
        found = [c for c in doc["clusters"] if c.get("found", True)]
        for key, label, factor in fields[1:4] + fields[8:9]:
            fig = charts.cluster_figure(found, key, label, factor,
                                        f"{doc.get('model', '')}: {label}")
            p.chart(fig, f"No cluster has {label}.")
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
    p.heading("Other pages")
    if extras:
        p.add("<ul>" + "".join(f'<li><a href="{f}">{esc(f)}</a>: {esc(what)}</li>'
                               for f, what in sorted(extras.items())) + "</ul>")
    p.add("<p>" + esc("Pages are built from what is given: paper.html from --paper, history.html "
                      "from --history, clusters.html from a side-by-side --analysis, model.html "
                      "from --analysis or records tagged as model inputs, compare.html where a "
                      "configuration was measured on two machines.") + "</p>")
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


def model_page(analyses: list[tuple[str, dict, pd.DataFrame]], measured: pd.DataFrame) -> Page:
    p = Page("Model: datasheet against measured")
    p.heading("Measured inputs in the results (all machines)")
    if measured.empty:
        p.add(empty("No results record is tagged parameters.model_input."))
    else:
        p.add(_model_table(measured))
    for path, doc, inputs in analyses:
        p.heading(f"cobench analyze --measured: {doc.get('model', '')} on "
                  f"{doc.get('cluster', '')} ({path})")
        if inputs.empty:
            p.add(empty("The analysis applied no measured input."))
        else:
            err = [m / d - 1 if d else None for m, d in zip(inputs["measured"],
                                                            inputs["datasheet"])]
            p.add(table(["input", "datasheet", "measured", "error (measured / datasheet - 1)",
                         "used", "source"],
                        [[r.input, r.datasheet, r.measured,
                          "" if e is None else f"{100 * e:+.1f}%", r.used, r.source]
                         for r, e in zip(inputs.itertuples(), err)],
                        numeric={"datasheet", "measured"}))
            ratio = inputs.assign(benchmark=inputs["source"].fillna("").str.split(": ").str[-1])
            p.chart(charts.model_ratio_figure(ratio, f"measured / datasheet ({path})"),
                    "No datasheet values.")
        inference = doc.get("inference") or {}
        if inference:
            p.add("<h3>Prediction (decode)</h3>")
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
               analysis: str | list[str] | None = None,
               history: str | None = None) -> list[Path]:
    """Reads everything, writes the site into `out` and returns the pages written. A page whose
    input was not given is not written (no paper page without --paper): the index says so."""
    with cr.no_cyclic_gc():  # 10^7 objects of the results stay alive throughout
        return _build_site(inputs, out, paper, analysis, history)


def _build_site(inputs: list[str], out: str | Path, paper: str | None,
                analysis: str | list[str] | None, history: str | None) -> list[Path]:
    runs = data.load_runs(data.results_paths(inputs))
    frame = data.to_frame(runs)
    paper_doc = data.load_json(paper, "paper report")
    history_doc = data.load_json(history, "history")
    analysis_paths = [analysis] if isinstance(analysis, str) else list(analysis or [])
    docs = [(path, data.load_json(path, "analysis")) for path in analysis_paths]
    side_by_side = [(path, doc) for path, doc in docs if data.is_side_by_side(doc, path)]
    single = [(path, doc, data.analysis_inputs(doc)) for path, doc in docs
              if not data.is_side_by_side(doc, path)]
    analysis_rows = pd.concat([rows for _, _, rows in single] or [data.analysis_inputs(None)],
                              ignore_index=True)
    series = data.history_series(history_doc, history or "")
    paper_table = data.paper_rows(paper_doc, paper or "")
    machines = data.machines(runs)
    latest = data.latest(frame)

    taken: dict[str, str] = {}
    files = {h: machine_file(h, taken) for h in machines["host"]}
    pages: dict[str, Page] = {}
    labels = data.machine_labels(runs)
    for m in machines.itertuples():
        host_runs = [d for d in runs if labels[data.machine_key(d["run"])] == m.host]
        pages[files[m.host]] = machine_page(m.host, machines.set_index("host").loc[m.host],
                                            host_runs, latest, analysis_rows)
    extras = {}
    across = compare_page(latest)
    if across is not None:
        pages["compare.html"] = across
        extras["compare.html"] = "the same benchmark across machines"
    if side_by_side:
        pages["clusters.html"] = clusters_page(side_by_side)
        extras["clusters.html"] = "clusters side by side (cobench analyze --cluster A --cluster B)"
    if paper is not None:
        pages["paper.html"] = paper_page(paper_table, True)
        extras["paper.html"] = f"paper reproduction ({len(paper_table)} rows)"
    measured = model_inputs(latest, analysis_rows)
    if single or not measured.empty:
        pages["model.html"] = model_page(single, measured)
        extras["model.html"] = ("model inputs, datasheet against measured"
                                + (f" ({len(single)} analyses)" if single else ""))
    if history is not None:
        pages["history.html"] = history_page(series, True)
        extras["history.html"] = f"history ({len(series)} series)"
    pages["index.html"] = index_page(machines, files, runs, extras)
    links = nav(files, set(pages))

    out = Path(out)
    texts = {PLOTLY_JS: plotly.offline.get_plotlyjs()}
    texts.update({name: page(pages[name].name, pages[name].html(), links)
                  for name in sorted(pages)})
    _write_site(out, texts)
    return [out / name for name in sorted(pages)]
