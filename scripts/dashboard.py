#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Builds the static cobench dashboard (docs/dashboard.md) from results files.

    scripts/dashboard.py results/ -o site/ [--paper paper.json] [--analysis analysis.json]...
                         [--history history.json]

Pages: index.html (machines, runs, links), machine-<host>.html (GEMM TFLOP/s, MLA and KV GB/s,
a roofline, collective busbw, EP bandwidth, each against its peak; model inputs), and where
their inputs are given compare.html (across machines), clusters.html, paper.html, model.html
and history.html. Self-contained: plotly.js is copied next to the pages (plotly.min.js), so the
site works offline and on GitHub Pages. Exit status: 0 success, 1 an input error, 2 usage.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard import data  # noqa: E402
from dashboard.site import build_site  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="results files or directories (recursive)")
    parser.add_argument("-o", "--out", required=True, help="output directory of the site")
    parser.add_argument("--paper", help="JSON of `cobench analyze --paper --format json`")
    parser.add_argument("--analysis", action="append",
                        help="JSON of `cobench analyze --model M --cluster C [--measured R] "
                             "--format json`, or of a side-by-side `--cluster A --cluster B`; "
                             "may be given several times, every analysis is shown")
    parser.add_argument("--history", help="JSON of `cobench history PATH... --format json`")
    args = parser.parse_args(argv)
    try:
        pages = build_site(args.results, args.out, args.paper, args.analysis, args.history)
    except data.InputError as e:
        print(f"dashboard: {e}", file=sys.stderr)
        return 1
    print(f"dashboard: wrote {len(pages)} pages and plotly.min.js to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
