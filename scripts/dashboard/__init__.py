# SPDX-License-Identifier: Apache-2.0
"""The static dashboard of cobench results (docs/dashboard.md); scripts/dashboard.py is its CLI.

Modules: `data` reads results files and the JSON of `cobench analyze` and `cobench history` into
pandas; `charts` turns them into plotly figures (`figure`: plain dicts, not graph objects);
`html` renders escaped HTML; `site` writes the pages.
"""
