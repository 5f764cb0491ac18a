"""Moving the published file warehouse onto an empty DuckLake (`bluelight migrate --to
ducklake`): the copy, in one snapshot that records the file and the run it came from, then the
check that every table reads back from the lake identical, and what it took.

The file is read, never changed, holding the data directory's run lock, so no night publishes
while it is copied. A lake that already holds tables is refused: the copy is the lake's first
state, and merging two histories is not a move.
"""

from __future__ import annotations

import getpass
import json
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb

from flows.settings import Settings
from flows.warehouse import lake, migrations, publish, runlog

SOURCE = "file_warehouse"
# A refusal names at most this many of the tables a lake already holds, then how many more.
NAMED_TABLES = 20


class Refused(RuntimeError):
    """Nothing was copied: the message says why; `status` is the command's exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Migrated:
    """What a move did, and what its check found."""

    snapshot: int
    run_id: str | None
    tables: int
    rows: int
    views: int
    macros: int
    copy_seconds: float
    check_seconds: float
    parquet_files: int
    parquet_bytes: int
    differing: list[str]
    # The snapshot that made the copy the lake's published version (None: it differed, so
    # nothing was published and readers see no warehouse there).
    published: int | None = None


def lake_settings(settings: Settings, catalog: str | None, data_path: Path | None) -> Settings:
    """The settings with the lake's catalog and data path the command gives, or the ones set;
    refused (exit status 2) naming the variables of those missing."""
    catalog = catalog or settings.lake_catalog
    data_path = data_path.expanduser().resolve() if data_path else settings.lake_data_path
    missing = [
        f"{variable} (or {flag})"
        for variable, flag, value in (
            ("BLUELIGHT_LAKE_CATALOG", "--catalog CONN", catalog),
            ("BLUELIGHT_LAKE_DATA_PATH", "--data-path DIR", data_path),
        )
        if not value
    ]
    if missing:
        raise Refused(
            f"Not migrated: set {' and '.join(missing)}: the lake's PostgreSQL catalog and the "
            "folder its Parquet files go under (docs/scale-out.md).",
            status=2,
        )
    return replace(settings, lake_catalog=catalog, lake_data_path=data_path)


def migrate(settings: Settings, say: Callable[[str], None] = lambda _line: None) -> Migrated:
    """Copy the published warehouse into the (empty) lake of `settings` in one snapshot, then
    check every table reads back identical; `say` is told of each table copied."""
    published = settings.published_db
    if not published.exists():
        raise Refused(f"Not migrated: no published warehouse at {published}: run a night first.")
    too_new = migrations.refusal(published)
    if too_new:
        raise Refused(f"Not migrated: {too_new}")
    try:
        with runlog.run_lock(settings.home):
            return _copy_and_check(settings, published, say)
    except runlog.RunInProgress as busy:
        raise Refused(f"Not migrated: {busy}") from busy


def _copy_and_check(settings: Settings, published: Path, say) -> Migrated:
    with lake.connect() as con:
        con.execute(f"attach {lake._literal(str(published))} as {SOURCE} (read_only)")
        try:
            lake.attach(con, settings)
        except duckdb.Error as error:
            raise Refused(f"Not migrated: the lake cannot be attached: {error}") from error
        _refuse_a_lake_with_tables(con)
        origin = _origin(con, published)
        rows = _row_counts(con, SOURCE)
        width = len(str(len(rows)))

        def told(table: str, done: int, total: int) -> None:
            say(f"  [{done:>{width}}/{total}] {table}  {rows[table]:,} rows")

        started = time.perf_counter()
        snapshot = lake.copy_warehouse(
            con,
            SOURCE,
            message=f"migrate {published} (run {origin['run_id']})",
            extra_info=json.dumps(origin),
            progress=told,
        )
        copy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    differing, counts = check(settings, published, snapshot)
    check_seconds = time.perf_counter() - started
    return Migrated(
        published=None if differing else _publish(settings, origin["run_id"]),
        snapshot=snapshot,
        run_id=origin["run_id"],
        tables=len(rows),
        rows=sum(rows.values()),
        copy_seconds=copy_seconds,
        check_seconds=check_seconds,
        differing=differing,
        **counts,
    )


def _publish(settings: Settings, run_id: str | None) -> int:
    """Publish the copy under the run that published the file (docs/decisions/0011): readers
    and the next night start from it."""
    with lake.connect() as con:
        lake.attach(con, settings)
        return lake.publish(con, run_id or "migrated").snapshot_id


def _refuse_a_lake_with_tables(con: duckdb.DuckDBPyConnection) -> None:
    held = sorted(f"{schema}.{table}" for schema, table in lake.tables_at(con))
    if not held:
        return
    named = ", ".join(held[:NAMED_TABLES])
    more = f" and {len(held) - NAMED_TABLES} more" if len(held) > NAMED_TABLES else ""
    raise Refused(
        f"Not migrated: the lake already holds {len(held)} table(s): {named}{more}. "
        "A warehouse moves into an empty lake only: give another catalog database, or empty "
        "this one."
    )


def _origin(con: duckdb.DuckDBPyConnection, published: Path) -> dict:
    """Where the copy comes from, as the snapshot's extra information records it."""
    run = con.execute(publish.PUBLISHING_RUN_SQL.replace("audit.", f"{SOURCE}.audit.")).fetchone()
    version = migrations.recorded(con, SOURCE)
    return {
        "migrated_from": str(published),
        "run_id": run[0] if run else None,
        "run_finished_at": run[1].isoformat() if run and run[1] else None,
        "schema_version": version.version,
        "migrated_by": migrations.release(),
    }


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where database_name = ? and not temporary order by all",
        [database],
    ).fetchall()
    return [row[0] for row in rows]


def _views(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    rows = con.execute(
        "select schema_name || '.' || view_name from duckdb_views() "
        "where database_name = ? and not internal order by all",
        [database],
    ).fetchall()
    return [row[0] for row in rows]


def _row_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    return {
        table: con.execute(f"select count(*) from {_qualified(database, table)}").fetchone()[0]
        for table in _tables(con, database)
    }


def _qualified(database: str, table: str) -> str:
    return lake._name(database, *table.split(".", 1))


COLUMNS_SQL = (
    "select column_name, data_type from duckdb_columns() "
    "where database_name = ? and schema_name || '.' || table_name = ? order by column_index"
)


def check(settings: Settings, published: Path, snapshot: int) -> tuple[list[str], dict]:
    """Read the lake as another client would (a read-only attach pinned to `snapshot`) beside
    the file: the tables and views that differ in name, columns, row count or rows (EXCEPT ALL
    both ways; a view, over the lake's tables), and the counts of what the lake holds."""
    with lake.connect() as con:
        con.execute(f"attach {lake._literal(str(published))} as {SOURCE} (read_only)")
        lake.attach(con, settings, read_only=True, snapshot=snapshot)
        in_file = _tables(con, SOURCE) + _views(con, SOURCE)
        in_lake = _tables(con, lake.ALIAS) + _views(con, lake.ALIAS)
        differing = sorted(set(in_file) ^ set(in_lake))
        for table in sorted(set(in_file) & set(in_lake)):
            if not _same_table(con, table):
                differing.append(table)
        return differing, _lake_counts(con)


def _same_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    file_rows, lake_rows = _qualified(SOURCE, table), _qualified(lake.ALIAS, table)
    columns = [con.execute(COLUMNS_SQL, [db, table]).fetchall() for db in (SOURCE, lake.ALIAS)]
    if columns[0] != columns[1]:
        return False
    count = "select count(*) from {}"
    if (
        con.execute(count.format(file_rows)).fetchone()
        != con.execute(count.format(lake_rows)).fetchone()
    ):
        return False
    for one, other in ((file_rows, lake_rows), (lake_rows, file_rows)):
        unmatched = f"select count(*) from (from {one} except all from {other})"
        if con.execute(unmatched).fetchone()[0]:
            return False
    return True


def _lake_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    files, size = con.execute(
        "select coalesce(sum(file_count), 0), coalesce(sum(file_size_bytes), 0) "
        "from ducklake_table_info(?)",
        [lake.ALIAS],
    ).fetchone()
    views = len(_views(con, lake.ALIAS))
    macros = con.execute(
        "select count(distinct schema_name || '.' || function_name) from duckdb_functions() "
        "where database_name = ? and function_type in ('macro', 'table_macro')",
        [lake.ALIAS],
    ).fetchone()[0]
    return {"parquet_files": files, "parquet_bytes": size, "views": views, "macros": macros}


def _conninfo(catalog: str) -> dict[str, str]:
    """The keywords of a libpq connection string (`key=value ...` or a `postgresql://` URI)."""
    if catalog.startswith(("postgres://", "postgresql://")):
        address = urlparse(catalog)
        found = {"user": unquote(address.username or ""), "dbname": address.path.lstrip("/")}
        return {key: value for key, value in found.items() if value}
    return dict(item.split("=", 1) for item in shlex.split(catalog) if "=" in item)


def grants(catalog: str | None, role: str) -> list[str]:
    """The SQL that makes `role` a reader of the lake whose catalog is `catalog`
    (`lake.reader_grants`), for the database the connection string names; the owner is its
    user, libpq's defaults where it names none."""
    if not catalog:
        raise Refused(
            "Set BLUELIGHT_LAKE_CATALOG (or --catalog CONN): the grants are for its database.",
            status=2,
        )
    given = _conninfo(catalog)
    owner = given.get("user") or os.environ.get("PGUSER") or getpass.getuser()
    database = given.get("dbname") or os.environ.get("PGDATABASE") or owner
    return lake.reader_grants(role, owner, database)
