# SPDX-License-Identifier: Apache-2.0
"""Plotly figures as the plain dicts plotly.js reads, without plotly's graph objects.

plotly.graph_objects validates every property as it is set and deep-copies the whole figure
(its numpy arrays and the template included) when it is written out: at 10^5 records that was
about a tenth of the dashboard's build. The charts here set only properties plotly.js knows, in
the forms graph objects would write them (a title as {"text": ...}, a shape as add_hline and
add_vline make it, the plotly_white template in full, numeric numpy arrays as typed arrays
{"dtype", "bdata"}); scripts/tests/test_dashboard.py checks each kind of trace, layout and
shape against what graph objects make of the same arguments."""
from __future__ import annotations

import functools

import numpy as np
from _plotly_utils.utils import to_typed_array_spec

TEMPLATE = "plotly_white"


@functools.cache
def template() -> dict:
    """The plotly_white template as graph objects write it into a figure (made once, by them,
    and never changed)."""
    import plotly.graph_objects as go

    return go.Figure(layout={"template": TEMPLATE}).to_plotly_json()["layout"]["template"]


def _sorted(value):
    """A trace's properties in the order graph objects write them: by name, at every level."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    return value


def trace(kind: str, **props) -> dict:
    """A trace of type `kind` ("bar", "scatter") with `props` as plotly.js names them."""
    return {**_sorted(props), "type": kind}


def bar(**props) -> dict:
    return trace("bar", **props)


def scatter(**props) -> dict:
    return trace("scatter", **props)


def _plain(value):
    """numpy arrays in the forms graph objects write: numbers as typed arrays, the rest as
    lists; dicts and lists walked."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OUS":
            return value.tolist()
        return to_typed_array_spec(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Figure:
    """Traces (dicts of trace()) and a layout: what plotly.js's newPlot takes."""

    def __init__(self, *traces: dict):
        self.data: list[dict] = list(traces)
        self.layout: dict = {}

    def add_trace(self, t: dict) -> None:
        self.data.append(t)

    def update_layout(self, **props) -> None:
        """Top-level layout properties; a title string becomes {"text": title} and the template
        is plotly_white, as graph objects make them. In graph objects' order too (the same
        figure, the same text): the template first, then the properties set before, then of
        these the axes, the title and the rest."""
        if isinstance(props.get("title"), str):
            props["title"] = {"text": props["title"]}
        if props.get("template") == TEMPLATE:
            props["template"] = template()
        first = [k for k in props if k.endswith("axis")] + ["title"]
        for key in first + list(props):
            if key in props:
                self.layout[key] = props.pop(key)
        if "template" in self.layout:
            self.layout = {"template": self.layout.pop("template"), **self.layout}

    def add_hline(self, y: float, dash: str) -> None:
        """A dashed line across the plot at y (graph objects' add_hline(y, line_dash=dash))."""
        self.layout.setdefault("shapes", []).append(
            {"line": {"dash": dash}, "type": "line", "x0": 0, "x1": 1, "xref": "x domain",
             "y0": y, "y1": y, "yref": "y"})

    def add_vline(self, x, dash: str, color: str) -> None:
        """A line from bottom to top at x (add_vline(x, line_dash=dash, line_color=color))."""
        self.layout.setdefault("shapes", []).append(
            {"line": {"color": color, "dash": dash}, "type": "line", "x0": x, "x1": x,
             "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"})

    @property
    def height(self) -> int | None:
        return self.layout.get("height")

    def to_plotly_json(self) -> dict:
        return {"data": _plain(self.data), "layout": _plain(self.layout)}
