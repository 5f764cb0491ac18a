"""Evidence packs: a bid's figures from a warehouse file, the published one or a kept version
(gather.py), the Bid page's charts as SVG (charts.py), and one standalone HTML document, or a PDF
made from it (render.py), that names its version and the command that rebuilds it; the panel
report across the bids of a county (gather.gather_portfolio, render.portfolio) is made of the
same parts. `bluelight pack` (flows/cli/reports.py) writes them."""
