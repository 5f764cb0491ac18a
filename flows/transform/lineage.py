"""Which sources feed each mart, from dbt's own lineage, and which of them have never loaded.

A deployment starts on what it can download (published statistics) and receives agency extracts
over the following weeks. A mart built from a source that has never loaded is *waiting for* it:
empty because nothing has arrived, not because something broke, so the marts gate does not fail
it for being empty (flows/quality/checks.py). A mart whose sources have all loaded is judged as
ever.
The sources of a mart are found by walking the manifest's `parent_map` up from the mart to its
`source.` nodes, so a new model or source needs no list kept by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from flows.sources.contracts import SOURCES

MART_SCHEMA = "marts"


@dataclass(frozen=True)
class Readiness:
    mart: str
    sources: tuple[str, ...]
    waiting_for: tuple[str, ...]
    rows: int
    warns: bool = True  # False for a mart of bookkeeping (dbt meta `warn_when_waiting: false`)

    @property
    def status(self) -> str:
        if not self.waiting_for:
            return "ready"
        return "partial" if self.rows else "waiting"

    def describe(self) -> str:
        folders = ", ".join(f"{s} (inbox/{s}/)" for s in self.waiting_for)
        return f"{self.mart} is waiting for {folders}"


def mart_sources(manifest: dict) -> dict[str, tuple[str, ...]]:
    """Each mart model's name, and the names of the sources it is built from, sorted."""
    parents = manifest["parent_map"]
    marts = {
        node_id: node["name"]
        for node_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["schema"] == MART_SCHEMA
    }
    found = {}
    for node_id, name in marts.items():
        seen, todo, sources = set(), [node_id], set()
        while todo:
            current = todo.pop()
            for parent in parents.get(current, []):
                if parent in seen:
                    continue
                seen.add(parent)
                if parent.startswith("source."):
                    source = manifest["sources"][parent]["name"]
                    if source in SOURCES:  # not the audit tables dbt reads (the quarantine)
                        sources.add(source)
                else:
                    todo.append(parent)
        found[name] = tuple(sorted(sources))
    return dict(sorted(found.items()))


def saved_manifest(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The manifest of the dbt build the warehouse holds (audit.dbt_manifest), if any."""
    row = con.execute("select manifest from audit.dbt_manifest").fetchone()
    return json.loads(row[0]) if row else None


def loaded_sources(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Sources that have had at least one file loaded, ever."""
    query = "select distinct source from audit.loaded_files where status = 'loaded'"
    return {row[0] for row in con.execute(query).fetchall()}


def judge(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[Readiness]:
    """Every mart's sources, those never loaded and its rows, in the warehouse `con` opens."""
    loaded = loaded_sources(con)
    quiet = _quiet_marts(manifest)
    verdicts = []
    for mart, sources in mart_sources(manifest).items():
        rows = con.execute(f'select count(*) from {MART_SCHEMA}."{mart}"').fetchone()[0]
        waiting = tuple(s for s in sources if s not in loaded)
        verdicts.append(Readiness(mart, sources, waiting, rows, mart not in quiet))
    return verdicts


def _quiet_marts(manifest: dict) -> set[str]:
    """Marts of bookkeeping, built from every agency source (marts.fct_file_counties): waiting
    for one says nothing the marts of figures built from it do not say already."""
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node.get("config", {}).get("meta", {}).get("warn_when_waiting") is False
    }


def warnings(verdicts: list[Readiness]) -> list[str]:
    """A warning for each mart of figures waiting for an agency extract. Published statistics
    are optional (as for freshness): a mart waiting only for them is recorded, not warned about
    nightly."""
    return [
        v.describe()
        for v in verdicts
        if v.warns and any(not SOURCES[s].optional for s in v.waiting_for)
    ]


def record(con: duckdb.DuckDBPyConnection, run_id: str, verdicts: list[Readiness]) -> None:
    """Replace audit.mart_readiness with these verdicts."""
    now = datetime.now()
    con.execute("begin")
    con.execute("delete from audit.mart_readiness")
    con.executemany(
        "insert into audit.mart_readiness values (?, ?, ?, ?, ?, ?, ?)",
        [
            [run_id, v.mart, list(v.sources), list(v.waiting_for), v.rows, v.status, now]
            for v in verdicts
        ],
    )
    con.execute("commit")
