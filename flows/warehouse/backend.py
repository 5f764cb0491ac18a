"""Where the warehouse is: one DuckDB file (the default: flows/warehouse/publish.py) or a DuckLake
(`BLUELIGHT_BACKEND=ducklake`: flows/warehouse/lake.py). The night, the checks and the readers
ask here for a connection and call the same SQL on either: a connection's default database is
the warehouse, so `raw.incidents` or `marts.dim_bids` name the same table on both.

- `prepare`: the file's published copy to the build; the lake put back to its newest publish.
- `build`: the build copy, read-write; the lake itself, read-write (`use lake`).
- `discard`: the build copy removed; the lake put back to its newest publish.
- `publish`: the build renamed over the published file; one commit labelled `publish <run>`.
- `read`: the published file, read-only; the lake pinned to its newest publish.

A reader of the lake always attaches pinned to a published snapshot (docs/decisions/0011): an
unpinned reader would see a night's build as it goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import duckdb

from flows.settings import Settings
from flows.warehouse import migrations, runlog
from flows.warehouse import publish as file_publish


def on_lake(settings: Settings) -> bool:
    return settings.backend == "ducklake"


def where(settings: Settings) -> str:
    """The warehouse, as messages name it."""
    if on_lake(settings):
        return f"the lake at {settings.lake_data_path or 'its data path'} (catalog in PostgreSQL)"
    return str(settings.published_db)


def _lake_writer(settings: Settings) -> duckdb.DuckDBPyConnection:
    from flows.warehouse import lake

    con = lake.connect(config={"memory_limit": settings.duckdb_memory_limit})
    lake.attach(con, settings)
    con.execute(f"use {lake.ALIAS}")
    return con


@contextmanager
def build(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The night's build, whose default database is the warehouse being built: the file's build
    copy, or the lake itself (what is written reaches readers only when published)."""
    if on_lake(settings):
        con = _lake_writer(settings)
    else:
        con = duckdb.connect(str(settings.build_db), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def check_version(settings: Settings) -> None:
    """Raise WarehouseTooNew, having read nothing but its version, when a newer release built
    the published warehouse."""
    if not on_lake(settings):
        migrations.check_file(settings.published_db)
        return
    if has_published(settings):
        with read(settings) as con:
            migrations.refuse_newer(con, where(settings))


def prepare(settings: Settings) -> None:
    """Start the night from what readers see: the published file copied to the build, or the
    lake put back to its newest published version (what a failed or killed night wrote goes)."""
    if not on_lake(settings):
        file_publish.prepare_build(settings.published_db, settings.build_db)
        return
    from flows.warehouse import lake

    with build(settings) as con:
        snapshot = lake.restore_published(con)
    if snapshot is not None:
        runlog.logger().info("the lake put back to its newest published version (%s)", snapshot)


def discard(settings: Settings) -> None:
    """Let a night's build go: nothing new to publish."""
    if on_lake(settings):
        prepare(settings)


def has_published(settings: Settings) -> bool:
    """Whether any version of the warehouse was published."""
    if not on_lake(settings):
        return settings.published_db.exists()
    return newest(settings) is not None


def publish(settings: Settings, run_id: str) -> str:
    """Make the night's build the published warehouse, and let versions past the retention
    go; what was published, for the log."""
    if not on_lake(settings):
        keep = settings.keep_versions_days
        return str(file_publish.publish(settings.build_db, settings.published_db, keep_days=keep))
    from flows.warehouse import lake

    with build(settings) as con:
        done = lake.publish(con, run_id)
        # Said as soon as it is committed: readers see it from here, whatever happens next.
        runlog.logger().info("published snapshot %d (run %s)", done.snapshot_id, run_id)
        expired, deleted = lake.prune(con, settings.keep_versions_days)
    runlog.logger().info(
        "retention: %d snapshot(s) expired, %d file(s) deleted", len(expired), len(deleted)
    )
    return f"snapshot {done.snapshot_id}"


@dataclass(frozen=True)
class LakeVersion:
    """A published version of the lake, as readers attach it."""

    snapshot_id: int
    run_id: str
    published_at: datetime


def versions(settings: Settings) -> list[LakeVersion]:
    """The lake's published versions still kept, oldest first (read-only, unpinned: only the
    catalog's list of snapshots is read)."""
    from flows.warehouse import lake

    con = lake.connect()
    try:
        try:
            lake.attach(con, settings, read_only=True)
        except duckdb.InvalidInputException as missing:
            if "does not exist" in str(missing):  # no lake made yet: nothing published
                return []
            raise
        return [LakeVersion(*vars(v).values()) for v in lake.published(con)]
    finally:
        con.close()


def newest(settings: Settings) -> LakeVersion | None:
    found = versions(settings)
    return found[-1] if found else None


def attach_published(
    con: duckdb.DuckDBPyConnection, settings: Settings, alias: str, snapshot: int
) -> None:
    """Attach the lake to `con` (from `lake.connect`) as `alias`, read-only, pinned to
    `snapshot`."""
    from flows.warehouse import lake

    lake.attach(con, settings, alias, read_only=True, snapshot=snapshot)


@contextmanager
def read(settings: Settings, snapshot: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published warehouse (or, on the lake, the published
    version `snapshot`), its default database the warehouse."""
    if not on_lake(settings):
        con = duckdb.connect(str(settings.published_db), read_only=True)
    else:
        from flows.warehouse import lake

        if snapshot is None:
            version = newest(settings)
            if version is None:
                raise FileNotFoundError(f"nothing published yet on {where(settings)}")
            snapshot = version.snapshot_id
        con = lake.connect()
        attach_published(con, settings, lake.ALIAS, snapshot)
        con.execute(f"use {lake.ALIAS}")
    try:
        yield con
    finally:
        con.close()
