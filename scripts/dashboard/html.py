# SPDX-License-Identifier: Apache-2.0
"""HTML of the dashboard: every string from an input goes through `esc` (html.escape), and the
JSON of a figure is made safe to sit inside <script> (no "<", ">", "&" or line separators)."""
from __future__ import annotations

import html
import math
import re

from plotly.io.json import to_json_plotly

from dashboard.figure import Figure

PLOTLY_JS = "plotly.min.js"
PLOT_CONFIG = {"displaylogo": False}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 78em; padding: 0 1em;
       color: #222; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { color: #777; font-style: italic; }
.status-ok { color: #176917; } .status-flagged { color: #a33; }
.chart { margin-bottom: 1.5em; }
"""

_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                  "\u2029": "\\u2029"}


def esc(value) -> str:
    """Any value as escaped HTML text (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def script_json(obj) -> str:
    """JSON that cannot end the <script> element it sits in."""
    text = to_json_plotly(obj)
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_UNSAFE[m.group()], text)


def slug(text: str) -> str:
    """A file-name-safe form of a name (letters, digits, '-', '_', '.')."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")
    return s or "unnamed"


def number(value, digits: int = 4) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if math.isnan(value):
        return ""
    if 1e4 <= abs(value) < 1e15:  # 13,080 rather than 1.308e+04: `digits` significant digits
        return f"{round(value, digits - 1 - int(math.floor(math.log10(abs(value))))):,.0f}"
    return f"{value:.{digits}g}"


def table(columns: list[str], rows: list[list], numeric: set[str] = frozenset()) -> str:
    """A table whose every header and cell is escaped; numbers formatted in `numeric` columns."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c, v in zip(columns, row):
            if c in numeric:
                cells.append(f'<td class="num">{esc(number(v))}</td>')
            else:
                cells.append(f"<td>{esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def empty(message: str) -> str:
    return f'<p class="empty">{esc(message)}</p>'


def figure(fig: Figure, div_id: str) -> str:
    """A chart div (class plotly-graph-div) and the script that draws it with the local
    plotly.js; the id is given so that the output is deterministic."""
    spec = fig.to_plotly_json()
    div = esc(div_id)
    return (f'<div class="chart"><div id="{div}" class="plotly-graph-div" '
            f'style="height:{int(fig.height or 450)}px; width:100%;"></div>'
            f'<script>Plotly.newPlot({script_json(div_id)}, {script_json(spec["data"])}, '
            f'{script_json(spec["layout"])}, {script_json(PLOT_CONFIG)});</script></div>')


def page(title: str, body: str, nav: list[tuple[str, str]]) -> str:
    """A whole page: the local plotly.js, a navigation bar (href, label) and the body."""
    links = "".join(f'<a href="{esc(href)}">{esc(label)}</a>' for href, label in nav)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n"
            f'<script src="{PLOTLY_JS}"></script>\n</head>\n<body>\n'
            f"<nav>{links}</nav>\n<h1>{esc(title)}</h1>\n{body}\n</body>\n</html>\n")
