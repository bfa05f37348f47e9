# SPDX-License-Identifier: Apache-2.0
"""dashboard.figure (plotly figures as plain dicts) against plotly's graph objects, the second
implementation: the same arguments give the same JSON text, byte for byte, for every kind of
trace, layout and shape the dashboard draws."""
import numpy as np
import plotly.graph_objects as go

from dashboard.figure import Figure, bar, scatter
from dashboard.html import figure as figure_html
from dashboard.html import script_json

X = np.array(["a<b>", "m×n", 'q"'], dtype=object)  # strings: a JSON list
Y = np.array([1.5, float("nan"), 3e-12])  # numbers: a typed array (base64)
MARKER = {"symbol": "line-ew-open", "size": 22, "line": {"width": 3}}


def _same(ours: Figure, theirs: go.Figure) -> None:
    assert script_json(ours.to_plotly_json()) == script_json(theirs.to_plotly_json())


def test_bars_with_peak_markers_and_a_category_axis():
    """charts.gemm_figure's form: bars and peak markers, barmode set before the rest."""
    args = {"bar": {"x": X, "y": Y, "name": "fp8", "offsetgroup": "fp8", "hovertext": X},
            "scatter": {"x": X, "y": Y * 2, "mode": "markers", "name": "peak: fp8",
                        "offsetgroup": "fp8", "marker": MARKER, "hovertext": X,
                        "hoverinfo": "text+y"}}
    layout = {"title": "t &lt;", "template": "plotly_white", "height": 640,
              "xaxis": {"title": {"text": "shape"}, "categoryorder": "array",
                        "categoryarray": list(X), "automargin": True, "tickangle": -90},
              "yaxis": {"title": {"text": "TFLOP/s"}, "rangemode": "tozero"}}
    theirs = go.Figure()
    theirs.add_trace(go.Bar(**args["bar"]))
    theirs.add_trace(go.Scatter(**args["scatter"]))
    theirs.update_layout(barmode="group", scattermode="group")
    theirs.update_layout(**layout)
    ours = Figure()
    ours.add_trace(bar(**args["bar"]))
    ours.add_trace(scatter(**args["scatter"]))
    ours.update_layout(barmode="group", scattermode="group")
    ours.update_layout(**layout)
    _same(ours, theirs)
    assert ours.height == theirs.layout.height == 640


def test_one_update_with_barmode_last_and_log_axes():
    """compare.figure's and roofline.figure's forms: one update, lists and arrays mixed."""
    layout = {"title": "c", "height": 460, "template": "plotly_white", "barmode": "group",
              "xaxis": {"title": {"text": "x"}, "type": "log", "automargin": True, "dtick": 1},
              "yaxis": {"title": {"text": "y"}, "type": "log", "dtick": "D2"}}
    traces = [{"x": np.geomspace(1.0, 100.0, 5), "y": [0.5, 1.0, 2.0, 2.0, 2.0], "mode": "lines",
               "name": "roof", "line": {"dash": "dash", "color": "#444"}},
              {"x": [1.0, 2.0], "y": [3.0, 4.0], "mode": "markers", "marker": {"size": 9},
               "hoverinfo": "text", "hovertext": ["p", "q"]}]
    theirs = go.Figure()
    ours = Figure()
    for t in traces:
        theirs.add_trace(go.Scatter(**t))
        ours.add_trace(scatter(**t))
    theirs.update_layout(**layout)
    ours.update_layout(**layout)
    _same(ours, theirs)


def test_horizontal_and_vertical_lines():
    """model_ratio_figure's add_hline and history_figure's add_vline on a date axis."""
    layout = {"title": "h", "template": "plotly_white", "height": 460,
              "xaxis": {"title": {"text": "run time"}, "type": "date"}}
    times = ["2026-12-01 00:00:00", "2026-12-02 00:00:00"]
    theirs = go.Figure(go.Scatter(x=times, y=[1.0, 2.0], mode="lines+markers", name="m"))
    theirs.add_hline(y=1.0, line_dash="dash")
    theirs.add_vline(x=times[1], line_dash="dot", line_color="#c00")
    theirs.update_layout(**layout)
    ours = Figure(scatter(x=times, y=[1.0, 2.0], mode="lines+markers", name="m"))
    ours.add_hline(1.0, "dash")
    ours.add_vline(times[1], "dot", "#c00")
    ours.update_layout(**layout)
    _same(ours, theirs)


def test_the_chart_div_takes_the_layout_height():
    fig = Figure(bar(x=X, y=Y))
    fig.update_layout(height=777)
    assert 'style="height:777px; width:100%;"' in figure_html(fig, "c-0")
    assert 'style="height:450px; width:100%;"' in figure_html(Figure(bar(x=X, y=Y)), "c-1")
