# SPDX-License-Identifier: Apache-2.0
"""The cross-machine view: every configuration (suite, benchmark, backend, parameters) whose
throughput metric (FLOP/s or B/s) was measured on two machines or more, side by side, with each
machine's value as a ratio to the first machine's (machines in name order)."""
from __future__ import annotations

import pandas as pd

from dashboard.charts import (axis_title, base_name, category_axis, chart_height, column,
                              ep_label, esc, items, params_label, scale)
from dashboard.figure import Figure, bar

THROUGHPUT_UNITS = ("FLOP/s", "B/s")
MAX_CONFIGURATIONS = 40  # a chart's categories; the table lists them all


def shared(latest_rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the configurations and metrics measured on >= 2 machines, with a `label`
    (benchmark, readable parameters, metric) for people."""
    rows = latest_rows[latest_rows["unit"].isin(THROUGHPUT_UNITS)]
    if rows.empty or rows["host"].nunique() < 2:
        rows = rows.iloc[:0]  # nothing measured on two machines
    keys = ["suite", "benchmark", "backend", "params_key", "metric"]
    counts = rows.groupby(keys)["host"].transform("nunique")
    rows = rows[counts >= 2]
    labels = {}
    for _, g in rows.groupby("suite"):
        # one dict per distinct configuration (params_key: the parameters' JSON), the first first
        distinct = dict(zip(items(g["params_key"]), items(g["params"])))
        fixed = _constant_params(list(distinct.values()))
        known = {}  # a configuration's label, made once for all its machines
        for i, b, p, k, m in zip(g.index, items(g["benchmark"]), items(g["params"]),
                                 items(g["params_key"]), items(g["metric"])):
            label = known.get((b, k, m))
            if label is None:
                label = known[(b, k, m)] = _label(b, p, m, fixed)
            labels[i] = label
    rows = rows.assign(label=pd.Series([labels[i] for i in rows.index], index=rows.index,
                                       dtype=object))
    return rows.sort_values(["suite", "label", "host"], ignore_index=True)


DERIVED_SUFFIXES = ("_per_rank", "_per_token", "_max_rank")  # counts a run derives (EP bytes)


def _label(benchmark: str, params: dict, metric: str, fixed: set[str]) -> str:
    """A configuration for people: EP as `dispatch/flat 64 tok × 2 ranks/1 nodes`, the others
    as the benchmark's first name segment and the parameters that vary in the suite (neither
    the derived byte counts nor a value that repeats the name), then the metric."""
    if "phase" in params and "implementation" in params:
        return f"{ep_label(params, benchmark)} {metric}"
    base = base_name(benchmark)
    shown = params_label({k: v for k, v in params.items()
                          if k not in fixed and str(v) != base
                          and not k.endswith(DERIVED_SUFFIXES)}, set())
    return " ".join(part for part in (base, shown, metric) if part)


def _constant_params(params: list[dict]) -> set[str]:
    """The parameters every configuration of a suite shares with the same value: said once in
    the table, not in every label."""
    if not params:
        return set()
    first = params[0]
    return {k for k, v in first.items() if all(p.get(k, object()) == v for p in params[1:])}


def table_rows(rows: pd.DataFrame, machines: list[str]) -> tuple[list[str], list[list]]:
    """(columns, rows) of one suite: label, unit, a value per machine, ratios to the first."""
    first = machines[0]
    columns = ["configuration", "unit"] + machines + [f"{m} / {first}" for m in machines[1:]]
    configurations: dict[tuple[str, str], dict[str, float]] = {}
    for label, unit, host, median in zip(items(rows["label"]), items(rows["unit"]),
                                         items(rows["host"]), items(rows["median"])):
        configurations.setdefault((label, unit), {})[host] = median
    out = []
    for (label, unit), values in sorted(configurations.items(), key=lambda kv: kv[0]):
        factor, shown, _ = scale(unit)
        row = [label, shown] + [values[m] * factor if m in values else None for m in machines]
        base = values.get(first)
        row += [f"{values[m] / base:.3g}x" if base and m in values else "" for m in machines[1:]]
        out.append(row)
    return columns, out


def figure(rows: pd.DataFrame, suite: str) -> Figure | None:
    """Grouped bars of one suite and unit: a configuration per category, a bar per machine."""
    if rows.empty:
        return None
    unit = rows["unit"].iloc[0]
    factor = scale(unit)[0]
    labels = sorted(set(items(rows["label"])))[:MAX_CONFIGURATIONS]
    rows = rows[rows["label"].isin(labels)]
    fig = Figure()
    for host, g in rows.groupby("host", sort=True):
        fig.add_trace(bar(x=column(esc(v) for v in items(g["label"])),
                          y=column(g["median"] * factor), name=esc(host), offsetgroup=esc(host)))
    xaxis = category_axis([esc(v) for v in labels])
    fig.update_layout(title=esc(f"{suite}: the same benchmark on each machine"),
                      height=chart_height(xaxis),
                      template="plotly_white", barmode="group",
                      xaxis={"title": {"text": "configuration (benchmark, parameters, metric)"},
                             **xaxis},
                      yaxis={"title": {"text": axis_title("throughput", unit)},
                             "rangemode": "tozero", "automargin": True})
    return fig
