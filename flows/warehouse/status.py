"""What the data directory holds now (`bluelight status`): per source what has loaded and the
last refusal, what each mart is waiting for, the published version in force and its schema
version (a warehouse a newer release built is refused: flows/warehouse/migrations.py).

Loads and marts come from the published warehouse, opened read-only (on the lake, pinned to
its newest published snapshot: flows/warehouse/backend.py). Refusals come from
`rejected/<run>/<source>/`, which a failed run writes too (its warehouse is never published), so
the last refusal shown is the last one made, whatever became of its night. `waiting` gives the
marts waiting for a source, as the last run recorded them, for the marts gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from flows.load.inbox import read_reason
from flows.settings import Settings
from flows.sources.contracts import SOURCES
from flows.warehouse import backend, migrations, publish

LOADS_SQL = """
    select source, count(*) filter (where status = 'loaded') as files,
           coalesce(sum(rows), 0) as rows, coalesce(sum(rows_quarantined), 0) as quarantined,
           max(loaded_at) filter (where status = 'loaded') as last_loaded
    from audit.loaded_files
    group by source
"""
MARTS_SQL = "select mart, status, rows, waiting_for from audit.mart_readiness order by mart"


@dataclass(frozen=True)
class SourceStatus:
    source: str
    kind: str
    files: int = 0
    rows: int = 0
    quarantined: int = 0
    last_loaded: datetime | None = None
    last_refusal: str | None = None  # "<run>: <file>: <reason>"


def last_refusals(settings: Settings) -> dict[str, str]:
    """Each source's most recent refused file and why, from the reason files on disk."""
    found: dict[str, str] = {}
    for run in sorted(settings.rejected.glob("*"), reverse=True):
        for reason_file in sorted(run.glob("*/*.reason.txt")):
            folder = reason_file.parent.name
            fields = read_reason(reason_file)
            if folder not in found and fields:
                where = ", ".join(f"{k} {fields[k]}" for k in ("row", "column") if fields.get(k))
                found[folder] = (
                    f"{run.name}: {fields['file']}: {where + ': ' if where else ''}"
                    f"{fields['reason']}"
                )
    return found


def sources(con: duckdb.DuckDBPyConnection | None, settings: Settings) -> list[SourceStatus]:
    loads = {row[0]: row[1:] for row in con.execute(LOADS_SQL).fetchall()} if con else {}
    refused = last_refusals(settings)
    return [
        SourceStatus(name, source.kind, *loads.get(name, ()), last_refusal=refused.get(name))
        for name, source in SOURCES.items()
    ]


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"


def report(settings: Settings) -> str:
    """The status of the data directory, as text for a terminal. Raises WarehouseTooNew for a
    warehouse a newer release built, having read nothing but its version."""
    where = backend.where(settings)
    snapshot, published = None, settings.published_db.exists()
    if backend.on_lake(settings):  # the newest published snapshot, read pinned to it
        newest = backend.newest(settings)
        snapshot, published = (newest.snapshot_id, True) if newest else (None, False)
    if not published:
        lines = [f"No published warehouse at {where}: nothing has been published yet."]
        return "\n".join(lines + _source_lines(sources(None, settings)))
    with backend.read(settings, snapshot) as con:
        schema = migrations.refuse_newer(con, where)
        run = con.execute(publish.PUBLISHING_RUN_SQL).fetchone()
        found = sources(con, settings)
        try:
            marts = con.execute(MARTS_SQL).fetchall()
        except duckdb.CatalogException:  # published before audit.mart_readiness existed
            marts = []
    if snapshot is not None:
        kept = f"snapshot {snapshot} (`bluelight versions` says how to open it)"
    else:
        kept = publish.current_version(settings.published_db)
    lines = [
        f"Published warehouse: {where}",
        f"  in force: run {run[0]}, published {_when(run[1])}"
        + (f"; kept as {kept}" if kept else "")
        if run
        else "  published by no recorded run",
        schema_line(schema),
    ]
    lines += _source_lines(found)
    lines.append("Marts (ready: every source has loaded; partial or waiting: a source never has)")
    lines.append(f"  {'mart':<32}{'status':<9}{'rows':>10}  waiting for")
    for mart, state, rows, waiting_for in marts:
        lines.append(f"  {mart:<32}{state:<9}{rows:>10,}  {', '.join(waiting_for)}".rstrip())
    if not marts:
        lines.append("  not recorded in this warehouse: the next run records them")
    return "\n".join(lines)


def schema_line(schema: migrations.Recorded) -> str:
    """The warehouse's schema version against this code's, and what to do about a gap."""
    if schema.version == migrations.LATEST:
        return f"  schema version {schema.version}, this release's latest"
    found = f"schema version {schema.version}" if schema.version else "no schema version recorded"
    return (
        f"  {found}; this release's is {migrations.LATEST}: the next night migrates it\n"
        "  (`bluelight upgrade --check` lists the migrations; `bluelight upgrade` runs it now)"
    )


def _source_lines(found: list[SourceStatus]) -> list[str]:
    lines = [
        "Files go in inbox/<source>/. Published statistics are optional; agency extracts are not.",
        f"{'Sources':<26}{'kind':<10}{'files':>6}{'rows':>13}{'set aside':>11}  last loaded",
    ]
    for s in found:
        lines.append(
            f"  {s.source:<24}{s.kind:<10}{s.files:>6,}{s.rows:>13,}{s.quarantined:>11,}  "
            f"{_when(s.last_loaded)}"
        )
        if s.last_refusal:
            lines.append(f"      last refused: {s.last_refusal}")
    return lines


def waiting(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Each mart waiting for a source, as the last run recorded it (flows/transform/lineage.py):
    mart -> sources."""
    rows = con.execute(
        "select mart, waiting_for from audit.mart_readiness where len(waiting_for) > 0"
    ).fetchall()
    return dict(rows)
