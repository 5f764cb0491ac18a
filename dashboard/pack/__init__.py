"""The evidence pack of one bid: its figures from a warehouse file, the published one or a kept
version (gather.py), the Bid page's charts as SVG (charts.py), and one standalone HTML document
(render.py, the template pack.html.j2) that names its version and the command that rebuilds it.
`bluelight pack` (flows/cli/reports.py) writes it."""
