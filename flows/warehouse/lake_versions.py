"""The lake's published versions as `bluelight versions` lists them (the file's are in
flows/warehouse/publish.py): each published snapshot still kept, with its run, its time, whether
it is the one in force, and the row counts of `publish.KEY_TABLES` read at that snapshot (time
travel, `AT (VERSION => n)`); and the ATTACH statement an auditor runs to read one, pinned to
its snapshot, with the catalog's address but never its password.

Only reads: the lake is attached read-only, and each count names the snapshot it reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from flows.settings import Settings
from flows.warehouse import backend, lake
from flows.warehouse.publish import KEY_TABLES

# A password in a libpq connection string, as `password=...` (quoted or not) or in a URI's
# `user:password@` part.


@dataclass
class SnapshotVersion:
    """A published version of the lake, as `bluelight versions` lists it."""

    snapshot_id: int
    run_id: str
    published_at: datetime
    current: bool = False
    row_counts: dict[str, int | None] = field(default_factory=dict)
    error: str | None = None


def attach_statement(settings: Settings, snapshot: int) -> str:
    """The ATTACH an auditor runs in DuckDB (with the ducklake and postgres extensions) to read
    the published version `snapshot`, read-only and pinned to it."""
    shown = dataclasses.replace(settings, lake_catalog=lake.without_password(settings.lake_catalog))
    return lake.attach_sql(shown, read_only=True, snapshot=snapshot)


def _counts(con: duckdb.DuckDBPyConnection, snapshot: int) -> dict[str, int | None]:
    present = {f"{schema}.{name}" for schema, name in lake.tables_at(con, snapshot)}
    return {
        table: con.execute(
            f"select count(*) from {lake.ALIAS}.{table} at (version => {int(snapshot)})"
        ).fetchone()[0]
        if table in present
        else None
        for table in KEY_TABLES
    }


def list_versions(settings: Settings) -> list[SnapshotVersion]:
    """Every published snapshot still kept, oldest first, the newest marked current, each with
    its key tables' row counts at that snapshot."""
    found = [
        SnapshotVersion(v.snapshot_id, v.run_id, v.published_at) for v in backend.versions(settings)
    ]
    if not found:
        return []
    found[-1].current = True
    con = lake.connect()
    try:
        lake.attach(con, settings, read_only=True)
        for version in found:
            try:
                version.row_counts = _counts(con, version.snapshot_id)
            except duckdb.Error as exc:
                version.error = f"{type(exc).__name__}: {exc}"
    finally:
        con.close()
    return found
