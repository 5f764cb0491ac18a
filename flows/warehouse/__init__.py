"""The DuckDB warehouse file: its audit schema, the build copy and atomic publish, kept versions,
the run log and what `bluelight status` reads."""
