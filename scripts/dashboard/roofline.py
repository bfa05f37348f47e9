# SPDX-License-Identifier: Apache-2.0
"""The roofline of one machine: every record that reports both the FLOP/s it achieved and the
bytes per second it moved (GEMMs: operand_bytes_per_s; attention: kv_bytes_per_s) is a point at
intensity = (FLOP/s) / (B/s) FLOP per byte, against the machine's roofs min(P, I x B):
- measured: P the best FLOP/s of a peak benchmark of the machine (a record tagged
  model_input ...peak_flops..., or a metric named fma_flop_per_s), B the best B/s of a memory
  bandwidth benchmark (model_input cpu.memory_bandwidth or gpu.hbm_bandwidth), drawn solid;
- datasheet: the largest `peak` a FLOP/s metric states, and the largest a memory or MLA B/s metric
  states (a stated peak, not one implied by a fraction counter), drawn dashed."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.charts import (HEIGHT, base_name, column, esc, items, log_axis, mask, matching,
                              params_label)
from dashboard.figure import Figure, scatter

MEMORY_INPUTS = ("cpu.memory_bandwidth", "gpu.hbm_bandwidth")
BANDWIDTH_SUITES = ("memory", "mla")


@dataclass
class Roofs:
    """FLOP/s and B/s of the two rooflines; nan where the machine has no such record."""
    measured_flops: float = math.nan
    measured_bw: float = math.nan
    datasheet_flops: float = math.nan
    datasheet_bw: float = math.nan


def points(rows: pd.DataFrame) -> pd.DataFrame:
    """One point per record with a FLOP/s metric and a B/s metric named *bytes_per_s (the first
    of each by metric name): label, suite, flops (FLOP/s), bytes (B/s), intensity (FLOP/B)."""
    cols = ["label", "suite", "flops", "bytes", "intensity"]
    keys = ["file", "record"]
    # each subset sorted (no two rows share file, record and metric: the order of the rows of
    # the whole, sorted, then filtered), not the whole page's rows
    flop = rows[(rows["unit"] == "FLOP/s").to_numpy()]
    flop = flop.sort_values(keys + ["metric"]).drop_duplicates(keys)
    moved = rows[((rows["unit"] == "B/s")
                  & matching(rows["metric"], lambda m: m.endswith("bytes_per_s"))).to_numpy()]
    moved = moved.sort_values(keys + ["metric"])
    both = flop.merge(moved.drop_duplicates(keys)[keys + ["median"]], on=keys,
                      suffixes=("", "_bytes"))
    both = both[(both["median"] > 0) & (both["median_bytes"] > 0)]
    if both.empty:
        return pd.DataFrame(columns=cols)
    labels = [f"{base_name(b)} {params_label(p, set())}".strip()
              for b, p in zip(items(both["benchmark"]), items(both["params"]))]
    out = pd.DataFrame({"label": labels, "suite": items(both["suite"]),
                        "flops": items(both["median"]), "bytes": items(both["median_bytes"])})
    out["intensity"] = out["flops"] / out["bytes"]
    return out.sort_values("label", ignore_index=True)[cols]


def _model_input(params: dict) -> str:
    return str(params.get("model_input", ""))


def roofs(rows: pd.DataFrame) -> Roofs:
    r = Roofs()
    flops = rows[rows["unit"] == "FLOP/s"]
    peak_runs = flops[(flops["metric"] == "fma_flop_per_s")
                      | mask(flops["params"], lambda p: "peak_flops" in _model_input(p))]
    if not peak_runs.empty:
        r.measured_flops = float(peak_runs["median"].max())
    bw = rows[rows["unit"] == "B/s"]
    memory = bw[mask(bw["params"], lambda p: _model_input(p) in MEMORY_INPUTS)]
    if not memory.empty:
        r.measured_bw = float(memory["median"].max())
    stated = rows["peak_value"].notna() & ~matching(
        rows["peak_name"], lambda n: isinstance(n, str) and n.endswith(" counter"))
    if (stated & (rows["unit"] == "FLOP/s")).any():
        r.datasheet_flops = float(rows[stated & (rows["unit"] == "FLOP/s")]["peak_value"].max())
    mem_stated = stated & (rows["unit"] == "B/s") & matching(
        rows["suite"], lambda s: s.startswith(BANDWIDTH_SUITES))
    if mem_stated.any():
        r.datasheet_bw = float(rows[mem_stated]["peak_value"].max())
    return r


def _roof_line(flops: float, bw: float, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """min(P, I x B) over [lo, hi] FLOP/B, log-spaced, with the ridge point I = P / B on it."""
    xs = np.geomspace(lo, hi, 64)
    ridge = flops / bw
    if lo < ridge < hi:
        xs = np.sort(np.append(xs, ridge))
    return xs, np.minimum(flops, xs * bw)


def figure(pts: pd.DataFrame, r: Roofs, title: str) -> Figure | None:
    """Points in TFLOP/s over FLOP/B (log-log); the measured roof solid, the datasheet dashed."""
    if pts.empty:
        return None
    intensities = list(pts["intensity"])
    for f, b in ((r.measured_flops, r.measured_bw), (r.datasheet_flops, r.datasheet_bw)):
        if f > 0 and b > 0:
            intensities.append(f / b)
    lo, hi = min(intensities) / 4, max(intensities) * 4
    fig = Figure()
    for name, f, b, dash in (("measured roof", r.measured_flops, r.measured_bw, "solid"),
                             ("datasheet roof", r.datasheet_flops, r.datasheet_bw, "dash")):
        if f > 0 and b > 0:
            xs, ys = _roof_line(f, b, lo, hi)
            fig.add_trace(scatter(
                x=xs, y=ys * 1e-12, mode="lines", name=esc(
                    f"{name}: {f * 1e-12:.4g} TFLOP/s, {b * 1e-9:.4g} GB/s"),
                line={"dash": dash, "color": "#444"}))
        elif f > 0:  # a compute roof without a bandwidth roof
            fig.add_trace(scatter(x=[lo, hi], y=[f * 1e-12] * 2, mode="lines",
                                  name=esc(f"{name}: {f * 1e-12:.4g} TFLOP/s (no bandwidth)"),
                                  line={"dash": dash, "color": "#444"}))
    for suite, g in pts.groupby("suite"):
        hover = [esc(f"{lab}: {i:.3g} FLOP/B, {fl * 1e-12:.4g} TFLOP/s")
                 for lab, i, fl in zip(items(g["label"]), items(g["intensity"]),
                                       items(g["flops"]))]
        fig.add_trace(scatter(x=column(g["intensity"]), y=column(g["flops"] * 1e-12),
                              mode="markers", name=esc(suite), hovertext=column(hover),
                              hoverinfo="text", marker={"size": 9}))
    ys = [y for t in fig.data for y in t["y"] if y > 0]
    fig.update_layout(title=esc(title), template="plotly_white", height=HEIGHT,
                      xaxis={"title": {"text": "arithmetic intensity (FLOP per byte, log scale)"},
                             **log_axis(lo, hi)},
                      yaxis={"title": {"text": "throughput (TFLOP/s = 1e12 FLOP/s, log scale)"},
                             **log_axis(min(ys), max(ys))})
    return fig
