# SPDX-License-Identifier: Apache-2.0
"""Plotly figures of the dashboard. Each takes rows of data.to_frame (or a history series) and
returns a figure, or None when there is nothing to draw. Every string from an input is escaped
(plotly renders a subset of HTML in titles, names and ticks); every axis names its unit."""
from __future__ import annotations

import collections
import html
import math

import numpy as np
import pandas as pd

from dashboard.figure import Figure, bar, scatter


def esc(value) -> str:
    """Text for plotly: its pseudo-HTML tags are escaped; quotes stay (plotly shows &quot;
    literally, and the figure's JSON is escaped for the page by dashboard.html)."""
    return html.escape(str(value), quote=False)


# unit -> (factor, shown unit, axis note)
SCALES = {
    "B/s": (1e-9, "GB/s", "GB/s = 1e9 B/s"),
    "FLOP/s": (1e-12, "TFLOP/s", "TFLOP/s = 1e12 FLOP/s"),
    "s": (1e6, "µs", "µs = 1e-6 s"),
    "B": (1e-6, "MB", "MB = 1e6 B"),
    "FLOP": (1e-12, "TFLOP", "TFLOP = 1e12 FLOP"),
    "1": (1.0, "1", "dimensionless"),
}
EP_METRICS = ["network_bandwidth", "intra_bandwidth", "logical_network_bandwidth",
              "logical_intra_bandwidth"]
LABEL_SKIP = {"model_input", "model_metric", "real_time"}
HEIGHT = 460


def column(values) -> np.ndarray:
    """A trace's values as an array: plotly checks a list element by element (seconds at 10^5
    points) and an array at once; numbers reach the page as typed arrays (base64 `bdata`, which
    plotly.js reads), strings as a JSON list."""
    values = list(values)
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.float64)
    return np.asarray(values, dtype=object)


def items(values: pd.Series) -> list:
    """A column's values as a Python list: iterating a pandas string column calls a method per
    element (seconds at 10^5 rows); tolist() gives the same values at once."""
    return values.tolist()


def tuples(frame: pd.DataFrame) -> list[tuple]:
    """frame.itertuples(index=False) (a named tuple per row, the same values), made from each
    column's tolist() rather than by iterating the columns."""
    row = collections.namedtuple("Row", frame.columns)
    return list(map(row._make, zip(*(items(frame[c]) for c in frame.columns))))


def mask(values: pd.Series, predicate) -> np.ndarray:
    """predicate(value) of each value (a row's parameters, say) as a boolean array, without
    pandas' map (a Series made per call, its values inferred)."""
    return np.fromiter(map(predicate, values.tolist()), dtype=bool, count=len(values))


def matching(values: pd.Series, predicate) -> pd.Series:
    """predicate(value) of each value, called once per distinct value (a column of 10^5 rows holds
    a few names): a boolean Series on the same index."""
    distinct = values.unique()
    return values.isin([v for v in distinct if predicate(v)])


def as_number(value) -> float | None:
    """A parameter as a finite number, or None: a results file may hold a string (or a boolean)
    where a number is expected (`m: "abc"`), and such a record is charted by name instead."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def scale(unit: str) -> tuple[float, str, str]:
    return SCALES.get(unit, (1.0, unit, unit))


def axis_title(quantity: str, unit: str) -> str:
    return f"{quantity} ({scale(unit)[2]})"


def base_name(benchmark: str) -> str:
    return benchmark.split("/", 1)[0]


def params_label(params: dict, skip: set[str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())
                     if k not in skip and k not in LABEL_SKIP)


def utc(text: str) -> str:
    """ISO 8601 UTC as plotly's date axis reads it (no 'T', no zone)."""
    return text.replace("T", " ").rstrip("Z")


CHAR_PX = 7.5  # the width of a tick label's character at plotly's default 12 px font
PLOT_PX = 1000  # about the plot area of a chart on a page 78em wide


def category_axis(order: list[str]) -> dict:
    """A category axis in `order`: labels horizontal where they fit side by side, else vertical
    (-90 degrees: narrow, never drawn over each other as plotly's 30-degree labels are);
    automargin makes room for them."""
    longest = max((len(str(c)) for c in order), default=0)
    fits = len(order) * (longest + 2) * CHAR_PX <= PLOT_PX
    return {"categoryorder": "array", "categoryarray": order, "automargin": True,
            "tickangle": 0 if fits else -90}


def chart_height(xaxis: dict) -> int:
    """HEIGHT, plus the length of the longest label where category labels stand vertically
    (automargin takes that room from the plot; the chart grows instead, up to 360 px)."""
    if xaxis.get("tickangle") != -90:
        return HEIGHT
    longest = max((len(str(c)) for c in xaxis.get("categoryarray", [])), default=0)
    return HEIGHT + int(min(longest * CHAR_PX, 360))


def log_axis(low: float, high: float) -> dict:
    """A log axis over [low, high] (> 0): a label a decade where it spans two or more (plotly's
    in-between labels, 2 ... 9, run into the next decade's), else at 1, 2 and 5."""
    decades = math.log10(high / low) if low > 0 and high > low else 0.0
    return {"type": "log", "automargin": True, "dtick": 1 if decades >= 2 else "D2"}


def _layout(fig: Figure, title: str, x_title: str, y_title: str, bars: bool = False,
            **axes) -> Figure:
    if bars:  # peak markers (offsetgroup) over their bars
        fig.update_layout(barmode="group", scattermode="group")
    fig.update_layout(title=esc(title), template="plotly_white",
                      height=chart_height(axes.get("xaxis", {})),
                      xaxis={"title": {"text": x_title}, **axes.get("xaxis", {})},
                      yaxis={"title": {"text": y_title}, "rangemode": "tozero",
                             **axes.get("yaxis", {})})
    return fig


def _peak_trace(x: list, peaks: list[float], names: list, label: str) -> dict:
    """Peak markers; in a grouped bar chart (scattermode group) they sit over their bars."""
    hover = [f"{esc(label)}<br>peak: {esc(n)}" for n in names]
    return scatter(x=column(x), y=column(peaks), mode="markers", name=f"peak: {esc(label)}",
                   offsetgroup=esc(label),
                   marker={"symbol": "line-ew-open", "size": 22, "line": {"width": 3}},
                   hovertext=column(hover), hoverinfo="text+y")


def _with_peaks(fig: Figure, rows: pd.DataFrame, x: list, label: str, factor: float) -> None:
    has = rows["peak_value"].notna().to_numpy()
    if has.any():
        xs = [v for v, h in zip(x, has) if h]
        fig.add_trace(_peak_trace(xs, items(rows["peak_value"][has] * factor),
                                  items(rows["peak_name"][has]), label))


def _fraction_hover(rows: pd.DataFrame) -> list[str]:
    out = []
    for b, m, p in zip(items(rows["benchmark"]), items(rows["median"]),
                       items(rows["peak_value"])):
        frac = f"<br>{100 * m / p:.1f}% of peak" if p and not math.isnan(p) else ""
        out.append(f"{esc(b)}{frac}")
    return out


def gemm_shape(params: dict, benchmark: str) -> tuple[float, str]:
    """(m·n·k for ordering, 'm×n×k' label with the named shape when there is one)."""
    if all(k in params for k in ("m", "n", "k")):
        dims = f"{params['m']}×{params['n']}×{params['k']}"
        named = f"{params['shape']} " if "shape" in params else ""
        sizes = [as_number(params[k]) for k in ("m", "n", "k")]
        order = math.inf if None in sizes else sizes[0] * sizes[1] * sizes[2]
        return (order if math.isfinite(order) else math.inf), named + dims
    return math.inf, benchmark.split("/", 1)[-1]


def gemm_figure(rows: pd.DataFrame, title: str) -> Figure | None:
    """TFLOP/s by shape (m×n×k), one bar series per implementation and precision."""
    rows = rows[rows["unit"] == "FLOP/s"]
    if rows.empty:
        return None
    rows = rows.assign(shape=[gemm_shape(p, b) for p, b in zip(items(rows["params"]),
                                                                items(rows["benchmark"]))])
    shapes = sorted(set(rows["shape"]))
    if len(shapes) > MAX_LINES:  # the smallest shapes by m·n·k
        title = f"{title} (first {MAX_LINES} of {len(shapes)} shapes by size)"
        shapes = shapes[:MAX_LINES]
        rows = rows[rows["shape"].isin(set(shapes))]
    order = [esc(s[1]) for s in shapes]
    fig = Figure()
    for (series, metric), g in rows.groupby([rows["benchmark"].map(base_name), "metric"]):
        label = series if metric == "gemm_flop_per_s" else f"{series} {metric}"
        x = [esc(s[1]) for s in items(g["shape"])]
        fig.add_trace(bar(x=column(x), y=column(g["median"] * 1e-12), name=esc(label),
                          offsetgroup=esc(label), hovertext=column(_fraction_hover(g))))
        _with_peaks(fig, g, x, label, 1e-12)
    return _layout(fig, title, "shape (m×n×k)", axis_title("throughput", "FLOP/s"),
                   bars=True, xaxis=category_axis(order))


def bandwidth_figures(rows: pd.DataFrame, title: str) -> list[Figure]:
    """GB/s: over context (log) where records have a context parameter, one line per benchmark
    and its other parameters; the rest as bars by benchmark."""
    rows = rows[rows["unit"] == "B/s"]
    if rows.empty:
        return []
    has_ctx = mask(rows["params"], lambda p: as_number(p.get("context")) is not None)
    figs = []
    if has_ctx.any():
        figs.append(_context_figure(rows[has_ctx], f"{title}: by batch and context"))
    if (~has_ctx).any():
        figs.append(_bar_figure(rows[~has_ctx], f"{title}: by benchmark"))
    return figs


MAX_LINES = 40  # lines a chart draws; the folded "All records" table and the files hold the rest


def _first_lines(rows: pd.DataFrame, title: str) -> tuple[pd.DataFrame, str]:
    """The rows of the first MAX_LINES labels (in name order) and the title, which says how many
    lines were left out: 10^4 lines in one chart are neither readable nor quick to draw."""
    labels = sorted(set(items(rows["label"])))
    if len(labels) <= MAX_LINES:
        return rows, title
    keep = set(labels[:MAX_LINES])
    return (rows[rows["label"].isin(keep)],
            f"{title} (first {MAX_LINES} of {len(labels)} series by name)")


def _context_figure(rows: pd.DataFrame, title: str) -> Figure:
    labels = [f"{base_name(b)} {params_label(p, {'context'})} {m}" for b, p, m in
              zip(items(rows["benchmark"]), items(rows["params"]), items(rows["metric"]))]
    rows = rows.assign(context=[as_number(p["context"]) for p in items(rows["params"])],
                       label=labels)
    return _log_lines_figure(rows, title, "context", "context (tokens, log scale)",
                             axis_title("bandwidth", "B/s"))


def _log_lines_figure(rows: pd.DataFrame, title: str, x_column: str, x_title: str,
                      y_title: str) -> Figure:
    """One line per `label` of the median (in units of 1e9) over `x_column` on a log axis, with
    the peaks of each line (the first MAX_LINES labels)."""
    rows, title = _first_lines(rows, title)
    fig = Figure()
    for label, g in rows.sort_values(x_column).groupby("label"):
        x = items(g[x_column])
        fig.add_trace(scatter(x=column(x), y=column(g["median"] * 1e-9), mode="lines+markers",
                              name=esc(label), hovertext=column(_fraction_hover(g))))
        _with_peaks(fig, g, x, label, 1e-9)
    return _layout(fig, title, x_title, y_title,
                   xaxis=log_axis(rows[x_column].min(), rows[x_column].max()))


def readable(benchmark: str, params: dict) -> str:
    """A record for people: the benchmark's first name segment and its parameters by name
    (`BM_HostStream mib=512, op=read, threads=2`), without the protocol strings of the name
    (model_input:..., real_time)."""
    shown = params_label(params, set())
    return f"{base_name(benchmark)} {shown}" if shown else base_name(benchmark)


def _bar_figure(rows: pd.DataFrame, title: str) -> Figure:
    fig = Figure()
    rows = rows.assign(label=[esc(readable(b, p))
                              for b, p in zip(items(rows["benchmark"]), items(rows["params"]))])
    rows, title = _first_lines(rows, title)
    order = sorted(set(items(rows["label"])))
    for metric, g in rows.groupby("metric"):
        x = items(g["label"])
        fig.add_trace(bar(x=column(x), y=column(g["median"] * 1e-9), name=esc(metric),
                          offsetgroup=esc(metric), hovertext=column(_fraction_hover(g))))
        _with_peaks(fig, g, x, metric, 1e-9)
    return _layout(fig, title, "benchmark", axis_title("bandwidth", "B/s"),
                   bars=True, xaxis=category_axis(order))


def collectives_figure(rows: pd.DataFrame, title: str) -> Figure | None:
    """busbw over message size (log), one line per collective, placement, backend and ranks."""
    rows = rows[(rows["metric"] == "busbw") & (rows["unit"] == "B/s")]
    rows = rows[mask(rows["params"], lambda p: (as_number(p.get("bytes")) or 0) > 0)]
    if rows.empty:
        return None
    rows = rows.assign(
        size=[as_number(p["bytes"]) for p in items(rows["params"])],
        label=[f"{p.get('collective', base_name(b))} {p.get('placement', '')} {be} "
               f"{p.get('ranks', '?')} ranks / {p.get('nodes', '?')} nodes"
               for b, p, be in zip(items(rows["benchmark"]), items(rows["params"]),
                                   items(rows["backend"]))])
    return _log_lines_figure(rows, title, "size", "message size (bytes, log scale)",
                             axis_title("busbw", "B/s"))


def ep_label(params: dict, benchmark: str) -> str:
    """'dispatch/flat 32 tok x 4 ranks/2 nodes' where the record has these parameters."""
    if "phase" not in params or "implementation" not in params:
        return benchmark
    label = f"{params['phase']}/{params['implementation']}"
    if {"tokens_per_rank", "ranks", "nodes"} <= params.keys():
        label += (f" {params['tokens_per_rank']} tok × {params['ranks']} ranks"
                  f"/{params['nodes']} nodes")
    return label


def ep_figure(rows: pd.DataFrame, title: str) -> Figure | None:
    """Dispatch and combine: physical and DeepEP-logical GB/s per link class."""
    rows = rows[rows["metric"].isin(EP_METRICS) & (rows["unit"] == "B/s")]
    if rows.empty:
        return None
    rows = rows.assign(label=[esc(ep_label(p, b))
                              for p, b in zip(items(rows["params"]), items(rows["benchmark"]))])
    order = sorted(set(items(rows["label"])))
    fig = Figure()
    for metric in EP_METRICS:
        g = rows[rows["metric"] == metric]
        if g.empty:
            continue
        x = items(g["label"])
        fig.add_trace(bar(x=column(x), y=column(g["median"] * 1e-9), name=esc(metric),
                          offsetgroup=esc(metric), hovertext=column(_fraction_hover(g))))
        _with_peaks(fig, g, x, metric, 1e-9)
    return _layout(fig, title, "phase / implementation, tokens per rank × ranks / nodes",
                   axis_title("bandwidth per rank", "B/s"),
                   bars=True, xaxis=category_axis(order))


def model_ratio_figure(table: pd.DataFrame, title: str) -> Figure | None:
    """measured / datasheet of each model input whose datasheet value is known."""
    known = table[table["datasheet"].notna() & (table["datasheet"] != 0)]
    if known.empty:
        return None
    x = [esc(f"{i} ({b})") for i, b in zip(known["input"], known["benchmark"])]
    fig = Figure(bar(x=x, y=list(known["measured"] / known["datasheet"]),
                     name="measured / datasheet"))
    fig.add_hline(1.0, "dash")
    return _layout(fig, title, "model input (record)",
                   "measured / datasheet (dimensionless; 1 = datasheet)")


def cluster_figure(clusters: list[dict], key: str, label: str, factor: float,
                   title: str) -> Figure | None:
    """One quantity of the side-by-side analysis: a bar per cluster."""
    have = [c for c in clusters if as_number(c.get(key)) is not None]
    if not have:
        return None
    fig = Figure(bar(x=column(esc(c.get("cluster", "")) for c in have),
                     y=column(as_number(c[key]) * factor for c in have), name=esc(label)))
    return _layout(fig, title, "cluster", f"{label} (as computed by cobench analyze)",
                   xaxis={"automargin": True})


def history_figure(series: dict, title: str) -> Figure | None:
    """A benchmark's median over run time; change points marked by a line and an X."""
    points = sorted(series["points"], key=lambda p: p["utc_time"])
    if not points:
        return None
    factor, _, _ = scale(series["unit"])
    fig = Figure(scatter(
        x=[utc(p["utc_time"]) for p in points], y=[p["median"] * factor for p in points],
        mode="lines+markers", name=esc(series["metric"]),
        hovertext=[esc(f"{p['file']} @ {p.get('git_commit', '')}") for p in points]))
    cps = series.get("change_points") or []
    if cps:
        fig.add_trace(scatter(
            x=[utc(c["utc_time"]) for c in cps], y=[c["after_median"] * factor for c in cps],
            mode="markers", name="change point",
            marker={"symbol": "x", "size": 14, "color": "#c00"},
            hovertext=[esc(f"{100 * c['relative_change']:+.1f}% (p = {c['p_value']:.3g}) at "
                           f"{c.get('git_commit', '')}") for c in cps]))
        for c in cps:
            fig.add_vline(utc(c["utc_time"]), "dot", "#c00")
    return _layout(fig, title, "run time (UTC)", axis_title(series["metric"], series["unit"]),
                   xaxis={"type": "date"})
