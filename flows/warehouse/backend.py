"""Where the warehouse is: one DuckDB file (the default: flows/warehouse/publish.py) or a DuckLake
(`BLUELIGHT_BACKEND=ducklake`: flows/warehouse/lake.py). The night, the checks and the readers
ask here for a connection and call the same SQL on either: a connection's default database is
the warehouse, so `raw.incidents` or `marts.dim_bids` name the same table on both.

- `prepare`: the file's published copy to the build; the lake put back to its newest publish.
- `build`: the build copy, read-write; the lake itself, read-write (`use lake`).
- `discard`: the build copy removed; the lake put back to its newest publish.
- `publish`: the build renamed over the published file; one commit labelled `publish <run>`.
- `read`: the published file, read-only; the lake pinned to its newest publish.
- `published` / `open_version`: the published warehouse as a value a reader passes on (the
  file's path, or the lake's published version), and a read-only connection to it.

A reader of the lake always attaches pinned to a published snapshot (docs/decisions/0011): an
unpinned reader would see a night's build as it goes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from flows.settings import Settings
from flows.warehouse import lake, migrations, runlog
from flows.warehouse import publish as file_publish


def on_lake(settings: Settings) -> bool:
    return settings.backend == "ducklake"


def where(settings: Settings) -> str:
    """The warehouse, as messages name it."""
    if on_lake(settings):
        return f"the lake at {settings.lake_data_path or 'its data path'} (catalog in PostgreSQL)"
    return str(settings.published_db)


def _lake_writer(settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = lake.connect(config={"memory_limit": settings.duckdb_memory_limit})
    lake.attach(con, settings, read_only=read_only)
    con.execute(f"use {lake.ALIAS}")
    return con


@contextmanager
def build(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The night's build, whose default database is the warehouse being built: the file's build
    copy, or the lake itself (what is written reaches readers only when published)."""
    if on_lake(settings):
        con = _lake_writer(settings, read_only)
    else:
        con = duckdb.connect(str(settings.build_db), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def check_version(settings: Settings) -> migrations.Recorded | None:
    """The published warehouse's recorded schema version (None when nothing is published);
    raises WarehouseTooNew, having read nothing but its version, when a newer release built
    it."""
    if not on_lake(settings):
        return migrations.check_file(settings.published_db)
    if not has_published(settings):
        return None
    with read(settings) as con:
        return migrations.refuse_newer(con, where(settings))


def refusal(settings: Settings) -> str | None:
    """Why this code must not read the published warehouse, or None (for the commands)."""
    try:
        check_version(settings)
    except migrations.WarehouseTooNew as refused:
        return str(refused)
    return None


def prepare(settings: Settings) -> None:
    """Start the night from what readers see: the published file copied to the build, or the
    lake put back to its newest published version (what a failed or killed night wrote goes)."""
    if not on_lake(settings):
        file_publish.prepare_build(settings.published_db, settings.build_db)
        return
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
    with build(settings) as con:
        done = lake.publish(con, run_id)
        # Said as soon as it is committed: readers see it from here, whatever happens next.
        runlog.logger().info("published snapshot %d (run %s)", done.snapshot_id, run_id)
        try:
            expired, deleted = lake.prune(con, settings.keep_versions_days)
        except duckdb.Error as error:
            # Published all the same: the next publish tries the retention again.
            runlog.logger().warning("retention not applied this time: %s", error)
            return f"snapshot {done.snapshot_id}"
    runlog.logger().info(
        "retention: %d snapshot(s) expired, %d file(s) deleted", len(expired), len(deleted)
    )
    return f"snapshot {done.snapshot_id}"


# A published version of the lake, as readers attach it (snapshot id, run, time published).
LakeVersion = lake.Published


def versions(settings: Settings) -> list[LakeVersion]:
    """The lake's published versions still kept, oldest first (read-only, unpinned: only the
    catalog's list of snapshots is read)."""
    con = lake.connect()
    try:
        try:
            lake.attach(con, settings, read_only=True)
        except duckdb.InvalidInputException as missing:
            if "does not exist" in str(missing):  # no lake made yet: nothing published
                return []
            raise
        return lake.published(con)
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
    lake.attach(con, settings, alias, read_only=True, snapshot=snapshot)


@contextmanager
def read(settings: Settings, snapshot: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published warehouse (or, on the lake, the published
    version `snapshot`), its default database the warehouse."""
    if not on_lake(settings):
        con = duckdb.connect(str(settings.published_db), read_only=True)
    else:
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


def published(settings: Settings) -> Path | LakeVersion | None:
    """The published warehouse in force, as a reader passes it on: the file's path, or the
    lake's newest published version; None when nothing is published."""
    if on_lake(settings):
        return newest(settings)
    return settings.published_db if settings.published_db.exists() else None


def open_version(
    settings: Settings, version: Path | LakeVersion
) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
    """A read-only connection to `version` (a warehouse file, or a published version of the
    lake, read pinned to its snapshot), its default database the warehouse."""
    if isinstance(version, LakeVersion):
        return read(settings, version.snapshot_id)
    return duckdb.connect(str(version), read_only=True)


def connect_with(version: Path | LakeVersion | None, config: dict) -> duckdb.DuckDBPyConnection:
    """A new in-memory connection under `config` that can attach `version` (`attach_version`):
    on the lake, with the lake's extensions loaded."""
    if isinstance(version, LakeVersion):
        return lake.connect(config=config)
    return duckdb.connect(config=config)


def attach_version(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    version: Path | LakeVersion,
    alias: str,
) -> None:
    """Attach `version` to `con` (from `connect_with`) as `alias`, read-only: the file, or the
    lake pinned to the version's snapshot."""
    if isinstance(version, LakeVersion):
        attach_published(con, settings, alias, version.snapshot_id)
        return
    quoted = str(version).replace("'", "''")  # ATTACH takes no parameters
    con.execute(f"attach '{quoted}' as {alias} (read_only)")
