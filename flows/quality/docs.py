"""Data Docs for a browser with no internet: GX's pages without their remote scripts, styles
and images, a page per run listing its suites, and `quality/index.html` listing the runs."""

from __future__ import annotations

import html
import json
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

# GX's pages pull Bootstrap, jQuery, Font Awesome and a logo from CDNs. Nothing may leave the
# machine, so those tags go; the pages' tables are plain HTML and read well with a little CSS.
_REMOTE = re.compile(
    r"<script[^>]*\bsrc=\"https?://[^>]*>\s*</script>"
    r"|<link[^>]*\bhref=\"https?://[^>]*>"
    r"|<img[^>]*\bsrc=\"https?://[^>]*>"
    r"|<footer>.*?</footer>",  # GX's newsletter sign-up
    re.S,
)


OUTCOMES = {
    "passed": "passed",
    "warning": "warning: recorded, does not stop the publish",
    "critical": "FAILED: critical, not published",
}


STYLE = """<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
.passed { color: #006d2c; } .critical, .failed { color: #b30000; font-weight: 600; }
.warning { color: #8a4b00; }
.fa-check-circle::before { content: "\\2713  passed"; color: #006d2c; }
.fa-times::before { content: "\\2717  failed"; color: #b30000; font-weight: 600; }
.collapse:not(.show) { display: block; } .ge-walkthrough-modal { display: none; }
</style>"""


def offline(page: str) -> str:
    page = _REMOTE.sub("", page)
    if STYLE not in page:
        page = page.replace("</head>", STYLE + "</head>", 1)
    return page


def run_index(run_name: str, pages: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(p['suite'])}</td><td>{html.escape(p['batch'])}</td>"
        f"<td>{p['rows']:,}</td>"
        f"<td class={p['outcome']}>{OUTCOMES[p['outcome']]}</td>"
        f'<td><a href="{html.escape(p["page"])}">results</a></td></tr>'
        for p in pages
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset=utf-8><title>Quality: run {run_name}</title>"
        f'{STYLE}</head><body><p><a href="../../index.html">All runs</a></p>'
        f"<h1>Quality checks of run {html.escape(run_name)}</h1>"
        "<p>Each suite's results, per batch of rows checked. A suite fails when any of its "
        "expectations fails: critical ones stop the publish, warnings are recorded "
        "(see each suite's results).</p>"
        "<table><tr><th>suite</th><th>batch</th><th>rows</th><th>outcome</th><th></th></tr>"
        f"{rows}</table></body></html>"
    )


def write_quality_index(quality_dir: Path, keep_days: int | None = None) -> Path:
    """quality/index.html: every kept run's checks, newest first; older runs pruned."""
    runs_dir = quality_dir / "runs"
    if keep_days is not None:
        cutoff = datetime.now() - timedelta(days=keep_days)
        for folder in runs_dir.iterdir():
            if datetime.fromtimestamp(folder.stat().st_mtime) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
    rows = []
    for folder in sorted(runs_dir.iterdir(), reverse=True):
        pages_file = folder / "_pages.json"
        pages = json.loads(pages_file.read_text()) if pages_file.exists() else []
        critical = sum(p["outcome"] == "critical" for p in pages)
        warning = sum(p["outcome"] == "warning" for p in pages)
        outcome = ", ".join(
            text
            for count, text in (
                (critical, f"{critical} suite(s) failed a critical check: not published"),
                (warning, f"{warning} suite(s) with warnings"),
            )
            if count
        )
        css = "critical" if critical else "warning" if warning else "passed"
        rows.append(
            f'<tr><td><a href="runs/{html.escape(folder.name)}/index.html">'
            f"{html.escape(folder.name)}</a></td><td>{len(pages)}</td>"
            f"<td class={css}>{outcome or 'all passed'}</td></tr>"
        )
    index = quality_dir / "index.html"
    index.write_text(
        f"<!DOCTYPE html><html><head><meta charset=utf-8><title>Bluelight quality checks"
        f"</title>{STYLE}</head><body><h1>Quality checks, by run</h1>"
        "<table><tr><th>run</th><th>suites checked</th><th>outcome</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
    return index
