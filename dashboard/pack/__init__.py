"""The evidence pack of one bid: its figures from a warehouse file, the published one or a kept
version (gather.py), the Bid page's charts as SVG (charts.py), and one standalone HTML document
(render.py, the template pack.html.j2) that names its version and the command that rebuilds it.
`bluelight pack` (flows/cli/reports.py) writes it."""

from __future__ import annotations

from pathlib import Path

from dashboard.pack import gather, render


def html(bid_id: str, path: Path) -> str:
    """The pack of `bid_id` from the warehouse file at `path`, as HTML (gather.NoSuchBid if the
    file holds no such bid within the reader's scope)."""
    return render.html(gather.gather(bid_id, path))
