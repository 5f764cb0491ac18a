"""The warehouse on a DuckLake (the second backend, docs/scale-out.md): the two
DuckDB extensions loaded from their wheels, attaching the lake (a writer, or a reader at the
latest or a given snapshot), its snapshots, their expiry and the cleanup of the files they
held, and copying a DuckDB file's tables into it.

A DuckLake keeps its tables as Parquet files under a data path (a folder, local or shared) and
their metadata and snapshots in a catalog database, here PostgreSQL in a schema of its own
(`METADATA_SCHEMA`). Every committed DuckDB transaction on the lake is one snapshot, however many
tables it writes; a reader sees the snapshot that was latest when its transaction began, or
the one it asks for.

Nothing is downloaded: the extensions come from the registry's wheels
(`duckdb-extension-ducklake`, `duckdb-extension-postgres` at DuckDB's version), and every
connection made here has DuckDB's automatic install and load switched off. DuckDB finds an
extension by name under `<extension_directory>/v<version>/<platform>/<name>.duckdb_extension`
and calls the entry point named after the file; the postgres wheel ships its file as
`postgres.duckdb_extension` while its entry point is `postgres_scanner_duckdb_cpp_init`, so a
folder of links with DuckDB's names (`extension_directory()`) is what `LOAD postgres`, dbt's
`extensions:` and an `INSTALL` of an extension already there all read.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from flows.settings import Settings

ALIAS = "lake"
# The PostgreSQL schema that holds the lake's catalog tables: one schema, so an auditor's
# read-only role is granted it whole (docs/scale-out.md).
METADATA_SCHEMA = "bluelight_lake"
# Options kept in the catalog, for every client that writes. No rows kept in the catalog
# itself ("inlined"): a table of each small insert in PostgreSQL made the demo warehouse's copy
# commit in 15 s instead of 0.6 s, and every table stays a Parquet file an auditor reads alike.
LAKE_OPTIONS = {"data_inlining_row_limit": 0}
# Each extension the lake needs: the wheel's name for it, and the name DuckDB loads it by.
EXTENSIONS = {"postgres": "postgres_scanner", "ducklake": "ducklake"}
# DuckDB's own automatic install and load, off: an extension not loaded here is an error.
NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class LakeError(RuntimeError):
    """The lake cannot be used as configured: the message says what to set or install."""


def extension_file(name: str) -> Path:
    """The extension's file in its wheel (`duckdb-extension-<name>` at DuckDB's version)."""
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LakeError(
            f"the DuckDB extension {name} is not installed: "
            f"pip install duckdb-extension-{name}=={duckdb.__version__}"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise LakeError(f"{path} is missing: the wheel is not for DuckDB {duckdb.__version__}")
    return path


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def extension_directory(root: Path | None = None) -> Path:
    """A DuckDB extension directory whose entries link to the wheels' files under DuckDB's
    names; made (or its links pointed again) on each call. Default
    `$XDG_CACHE_HOME/bluelight/duckdb_extensions`."""
    root = root or _cache_home() / "bluelight" / "duckdb_extensions"
    platform = duckdb.connect().execute("pragma platform").fetchone()[0]
    folder = root / f"v{duckdb.__version__}" / platform
    folder.mkdir(parents=True, exist_ok=True)
    for wheel_name, duckdb_name in EXTENSIONS.items():
        target = extension_file(wheel_name)
        link = folder / f"{duckdb_name}.duckdb_extension"
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        # A new link beside it, renamed over the old: another process never sees none.
        fresh = link.with_name(f".{link.name}.{os.getpid()}")
        fresh.unlink(missing_ok=True)
        fresh.symlink_to(target)
        os.replace(fresh, link)
    return root


def connection_config(extensions_root: Path | None = None) -> dict[str, object]:
    """DuckDB settings for a connection that uses the lake: nothing installed or loaded by
    DuckDB itself, extensions found in `extension_directory()`."""
    return {**NO_DOWNLOADS, "extension_directory": str(extension_directory(extensions_root))}


def connect(
    database: str = ":memory:", *, config: dict[str, object] | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake's extensions loaded from their wheels."""
    con = duckdb.connect(database, config={**connection_config(), **(config or {})})
    for name in EXTENSIONS:
        con.execute(f"load {name}")
    return con


# A password in the catalog's connection string, in each of libpq's forms.
_KEYWORD_PASSWORD = re.compile(r"\s*\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@")
_QUERY_PASSWORD = re.compile(r"([?&])password=[^&]*&?")


def without_password(conninfo: str) -> str:
    """The libpq connection string with any password taken out (it belongs in ~/.pgpass)."""
    text = _URI_PASSWORD.sub(r"\1@", conninfo)
    text = _QUERY_PASSWORD.sub(r"\1", text).rstrip("?&")
    return _KEYWORD_PASSWORD.sub("", text).strip()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def attach_sql(
    lake: Settings,
    alias: str = ALIAS,
    *,
    read_only: bool = False,
    snapshot: int | None = None,
) -> str:
    """The ATTACH statement for the lake. A reader may be pinned to a snapshot (DuckLake
    allows that only read-only)."""
    if not lake.lake_catalog:
        raise LakeError("no lake catalog is set (BLUELIGHT_LAKE_CATALOG)")
    options = [f"METADATA_SCHEMA {_literal(METADATA_SCHEMA)}"]
    if lake.lake_data_path:
        options.append(f"DATA_PATH {_literal(str(lake.lake_data_path))}")
    if snapshot is not None:
        if not read_only:
            raise LakeError("a lake is attached at a snapshot only to read it")
        options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
    if read_only:
        options.append("READ_ONLY")
    return (
        f"attach {_literal('ducklake:postgres:' + lake.lake_catalog)} as {alias} "
        f"({', '.join(options)})"
    )


def attach(
    con: duckdb.DuckDBPyConnection,
    lake: Settings,
    alias: str = ALIAS,
    *,
    read_only: bool = False,
    snapshot: int | None = None,
) -> None:
    """Attach the lake to `con` (a connection from `connect`) as `alias`; a writer makes sure
    the catalog keeps `LAKE_OPTIONS`."""
    try:
        con.execute(attach_sql(lake, alias, read_only=read_only, snapshot=snapshot))
    except duckdb.Error as error:
        # DuckDB's message repeats the connection string, which may hold a password: the
        # message goes to run records, notices and logs.
        told = str(error).replace(lake.lake_catalog, without_password(lake.lake_catalog))
        raise type(error)(told) from None
    if not read_only:
        set_options(con, alias)


def set_options(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> None:
    """Keep `LAKE_OPTIONS` in the lake's catalog (a lake's writer sets them when it makes it)."""
    kept = dict(
        con.execute("select option_name, value from ducklake_options(?)", [alias]).fetchall()
    )
    for option, value in LAKE_OPTIONS.items():
        if kept.get(option) != str(value):
            con.execute("call ducklake_set_option(?, ?, ?)", [alias, option, value])


@dataclass(frozen=True)
class Snapshot:
    """One committed state of the lake."""

    snapshot_id: int
    snapshot_time: datetime
    changes: dict
    author: str | None
    commit_message: str | None
    commit_extra_info: str | None


def snapshots(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> list[Snapshot]:
    """The lake's snapshots still kept, oldest first."""
    rows = con.execute(
        "select snapshot_id, snapshot_time, changes, author, commit_message, commit_extra_info "
        "from ducklake_snapshots(?) order by snapshot_id",
        [alias],
    ).fetchall()
    return [Snapshot(*row) for row in rows]


def current_snapshot(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> int:
    """The snapshot this connection's transaction reads."""
    return con.execute("select id from ducklake_current_snapshot(?)", [alias]).fetchone()[0]


def label_commit(
    con: duckdb.DuckDBPyConnection,
    message: str,
    *,
    author: str = "bluelight",
    extra_info: str | None = None,
    alias: str = ALIAS,
) -> None:
    """Name the snapshot the open transaction will commit (`ducklake_set_commit_message`):
    what `snapshots` shows as its author, message and extra information."""
    con.execute(
        "call ducklake_set_commit_message(?, ?, ?, extra_info => ?)",
        [alias, author, message, extra_info],
    )


def expire_snapshots(
    con: duckdb.DuckDBPyConnection,
    *,
    older_than: datetime | None = None,
    versions: Sequence[int] = (),
    dry_run: bool = False,
    alias: str = ALIAS,
) -> list[int]:
    """Expire snapshots taken before `older_than`, or those of `versions`
    (`ducklake_expire_snapshots`); the ids expired. DuckLake never expires the latest one.
    Their files stay until `cleanup_old_files`."""
    if older_than is None and not versions:
        raise LakeError("expire what: give older_than or versions")
    arguments, values = ["dry_run => ?"], [alias, dry_run]
    if older_than is not None:
        arguments.append("older_than => ?")
        values.append(older_than)
    if versions:
        arguments.append("versions => ?::ubigint[]")
        values.append(list(versions))
    rows = con.execute(
        f"select snapshot_id from ducklake_expire_snapshots(?, {', '.join(arguments)})", values
    ).fetchall()
    return sorted(row[0] for row in rows)


def cleanup_old_files(
    con: duckdb.DuckDBPyConnection,
    *,
    older_than: datetime | None = None,
    dry_run: bool = False,
    alias: str = ALIAS,
) -> list[str]:
    """Delete the data files no kept snapshot reads any more (`ducklake_cleanup_old_files`):
    those scheduled for deletion before `older_than`, or all of them; their paths."""
    if older_than is None:
        sql, values = "dry_run => ?, cleanup_all => true", [alias, dry_run]
    else:
        sql, values = "dry_run => ?, older_than => ?", [alias, dry_run, older_than]
    rows = con.execute(f"select path from ducklake_cleanup_old_files(?, {sql})", values).fetchall()
    return sorted(row[0] for row in rows)


def tables_at(
    con: duckdb.DuckDBPyConnection, snapshot: int | None = None, alias: str = ALIAS
) -> dict[tuple[str, str], int]:
    """The lake's tables at `snapshot` (default the one being read), by (schema, name): their
    DuckLake table ids, from the catalog. A table replaced since (dbt's table models are, each
    night) has a new id under the same name."""
    metadata = _name(f"__ducklake_metadata_{alias}", METADATA_SCHEMA)
    if snapshot is None:
        # The snapshot this transaction reads: `ducklake_last_committed_snapshot` is the last
        # this connection committed, none on a connection that has written nothing.
        snapshot = current_snapshot(con, alias)
    live = "{0}.begin_snapshot <= $n and ({0}.end_snapshot is null or {0}.end_snapshot > $n)"
    rows = con.execute(
        f"select s.schema_name, t.table_name, t.table_id "
        f"from {metadata}.ducklake_table t join {metadata}.ducklake_schema s using (schema_id) "
        f"where {live.format('t')} and {live.format('s')}",
        {"n": snapshot},
    ).fetchall()
    return {(schema, table): table_id for schema, table, table_id in rows}


# The change kinds of a snapshot that write rows into a table, or change its columns.
ROWS_CHANGED = ("tables_inserted_into", "tables_deleted_from", "inlined_insert", "inlined_delete")
COLUMNS_CHANGED = ("tables_altered",)


def _changed_since(con: duckdb.DuckDBPyConnection, snapshot: int, kinds, alias: str) -> set[int]:
    """Ids of the tables a snapshot after `snapshot` changed in one of the ways `kinds` names."""
    changed: set[int] = set()
    for later in snapshots(con, alias):
        if later.snapshot_id > snapshot:
            for kind in kinds:
                changed.update(int(table_id) for table_id in later.changes.get(kind, ()))
    return changed


def put_back(
    con: duckdb.DuckDBPyConnection, snapshot: int, *, message: str, alias: str = ALIAS
) -> int:
    """Make the lake's tables what they were at `snapshot`, in one transaction (one snapshot,
    labelled `message`; its id): a table made since is dropped; one dropped, replaced or
    altered since is made again from `AT (VERSION => snapshot)`; in one whose rows were written
    since, rows added or updated are deleted and the rows as they were put back (DuckLake keeps
    a row's id across snapshots, through an update too, so a row is matched by its id and
    values). What a failed night or a killed loader wrote goes; readers of the snapshot see no
    difference (docs/decisions/0011). Views and macros are not put back: the next night makes
    them again."""
    then, now = tables_at(con, snapshot, alias), tables_at(con, None, alias)
    written = _changed_since(con, snapshot, ROWS_CHANGED, alias)
    altered = _changed_since(con, snapshot, COLUMNS_CHANGED, alias)
    con.execute("begin")
    try:
        label_commit(con, message, alias=alias)
        for schema, table in sorted(now.keys() - then.keys()):
            con.execute(f"drop table {_name(alias, schema, table)}")
        for (schema, table), table_id in sorted(then.items()):
            target = _name(alias, schema, table)
            if now.get((schema, table)) != table_id or table_id in altered:
                con.execute(f"create schema if not exists {_name(alias, schema)}")
                con.execute(
                    f"create or replace table {target} as "
                    f"from {target} at (version => {int(snapshot)})"
                )
            elif table_id in written:
                _put_rows_back(con, target, snapshot)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return con.execute("select id from ducklake_last_committed_snapshot(?)", [alias]).fetchone()[0]


def _put_rows_back(con: duckdb.DuckDBPyConnection, target: str, snapshot: int) -> None:
    """In the open transaction: `target`'s rows as they were at `snapshot`, changing only the
    rows added, updated or deleted since."""
    earlier = f"from {target} at (version => {int(snapshot)})"
    con.execute(
        f"delete from {target} where rowid in (select rowid from "
        f"(select rowid, * from {target} except all select rowid, * {earlier}))"
    )
    con.execute(
        f"insert into {target} select * {earlier} where rowid not in (select rowid from {target})"
    )


def data_files(con: duckdb.DuckDBPyConnection, table: str, alias: str = ALIAS) -> list[str]:
    """The Parquet files that hold `table` (`schema.name`) in the snapshot being read."""
    schema, name = table.split(".")
    rows = con.execute(
        "select data_file from ducklake_list_files(?, ?, schema => ?)", [alias, name, schema]
    ).fetchall()
    return sorted(row[0] for row in rows)


def _name(*parts: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


# Told of each table copied: its `schema.name`, how many are copied so far and of how many.
Progress = Callable[[str, int, int], None]


def copy_warehouse(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    message: str,
    extra_info: str | None = None,
    progress: Progress | None = None,
    alias: str = ALIAS,
) -> int:
    """Copy every schema, table (with its and its columns' comments), view and macro of the
    attached DuckDB database `source` into the lake in one transaction: one snapshot, labelled
    `message` and `extra_info`; its id. Not `COPY FROM DATABASE`, which copies constraints too:
    DuckLake has no PRIMARY KEY or UNIQUE, and the file warehouse's audit tables have keys."""
    con.execute("begin")
    try:
        label_commit(con, message, extra_info=extra_info, alias=alias)
        _copy_tables(con, source, alias, progress)
        _copy_views_and_macros(con, source, alias)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return con.execute("select id from ducklake_last_committed_snapshot(?)", [alias]).fetchone()[0]


def _copy_tables(
    con: duckdb.DuckDBPyConnection, source: str, alias: str, progress: Progress | None
) -> None:
    schemas = con.execute(
        "select schema_name from duckdb_schemas() where database_name = ? and not internal",
        [source],
    ).fetchall()
    for (schema,) in schemas:
        con.execute(f"create schema if not exists {_name(alias, schema)}")
    tables = con.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        "where database_name = ? and not temporary order by all",
        [source],
    ).fetchall()
    for done, (schema, table, comment) in enumerate(tables, start=1):
        target = _name(alias, schema, table)
        con.execute(f"create table {target} as from {_name(source, schema, table)}")
        if comment:
            con.execute(f"comment on table {target} is {_literal(comment)}")
        if progress:
            progress(f"{schema}.{table}", done, len(tables))
    columns = con.execute(
        "select c.schema_name, c.table_name, c.column_name, c.comment "
        "from duckdb_columns() c join duckdb_tables() t using (database_name, table_oid) "
        "where c.database_name = ? and c.comment is not null",
        [source],
    ).fetchall()
    for schema, table, column, comment in columns:
        target = _name(alias, schema, table, column)
        con.execute(f"comment on column {target} is {_literal(comment)}")


def _calls(definition: str, names: set[str]) -> bool:
    return any(f"{name}(" in definition for name in names)


def _callees_first(macros: list[tuple]) -> list[tuple]:
    """Macros ordered so that each comes after the macros its definition calls by name."""
    done: list[tuple] = []
    waiting = list(macros)
    while waiting:
        names = {macro[2] for macro in waiting}
        # A cycle leaves none ready: take one, and DuckDB says which macro it cannot find.
        ready = [m for m in waiting if not _calls(m[5], names - {m[2]})] or waiting[:1]
        done += ready
        waiting = [m for m in waiting if m not in ready]
    return done


def _copy_views_and_macros(con: duckdb.DuckDBPyConnection, source: str, alias: str) -> None:
    """A view's or macro's SQL names tables and macros without a database: run in the lake,
    they bind to the lake's. Macros first, each after those it calls, then views in the order
    they were made, so whatever one reads is there before it."""
    views = con.execute(
        "select sql from duckdb_views() where database_name = ? and not internal order by view_oid",
        [source],
    ).fetchall()
    macros = con.execute(
        "select distinct function_oid, schema_name, function_name, function_type, parameters, "
        "macro_definition from duckdb_functions() "
        "where database_name = ? and function_type in ('macro', 'table_macro') "
        "order by function_oid",
        [source],
    ).fetchall()
    before = con.execute("select current_database()").fetchone()[0]
    con.execute(f"use {_name(alias)}")
    try:
        for _oid, schema, name, kind, parameters, definition in _callees_first(macros):
            body = f"table {definition}" if kind == "table_macro" else definition
            con.execute(
                f"create or replace macro {_name(alias, schema, name)}"
                f"({', '.join(parameters)}) as {body}"
            )
        for (sql,) in views:
            con.execute(sql)
    finally:
        con.execute(f"use {_name(before)}")


def reader_grants(role: str, owner: str, database: str) -> list[str]:
    """The SQL, run in the catalog's database by its owner or a superuser, that lets the
    PostgreSQL role `role` (made with LOGIN) read the lake and write nothing: the database, the
    metadata schema, its tables now and those `owner` (the loader's role) makes later (DuckLake
    makes a catalog table for rows it keeps in the catalog, were `LAKE_OPTIONS` to allow it)."""
    return [
        f'grant connect on database "{database}" to "{role}"',
        f'grant usage on schema "{METADATA_SCHEMA}" to "{role}"',
        f'grant select on all tables in schema "{METADATA_SCHEMA}" to "{role}"',
        f'alter default privileges for role "{owner}" in schema "{METADATA_SCHEMA}" '
        f'grant select on tables to "{role}"',
        f'alter role "{role}" set default_transaction_read_only = on',
    ]


def dbt_output(lake: Settings, *, threads: int = 1, alias: str = ALIAS) -> dict:
    """A dbt-duckdb profile output that builds into the lake: an in-memory DuckDB with the lake
    attached as `alias` and made the target and default database, the extensions loaded by
    name from
    `extension_directory()` (dbt-duckdb's INSTALL of an extension already there does
    nothing), DuckDB's automatic install and load off."""
    options = {"metadata_schema": METADATA_SCHEMA}
    if lake.lake_data_path:
        options["data_path"] = str(lake.lake_data_path)
    return {
        "type": "duckdb",
        "path": ":memory:",
        "database": alias,
        "threads": threads,
        "config_options": connection_config(),
        "extensions": list(EXTENSIONS),
        # The lake as every cursor's default database: the project names its relations
        # without one (dbt_project/macros/relation_names.sql).
        "settings": {"schema": f"{alias}.main"},
        "attach": [
            {
                "path": f"ducklake:postgres:{lake.lake_catalog}",
                "alias": alias,
                "is_ducklake": True,
                "options": options,
            }
        ],
    }


# ---------------------------------------------------------------- publishing (docs/decisions/0011)

# The commit message of a publish: the snapshot it makes is a version readers may see.
PUBLISH = "publish"
PUBLISHED_DDL = """
create schema if not exists {alias}.audit;
create table if not exists {alias}.audit.published_versions (
    run_id varchar, published_at timestamp, gated_snapshot bigint
);
"""


@dataclass(frozen=True)
class Published:
    """A published version of the lake: the snapshot readers attach at, its run and time."""

    snapshot_id: int
    run_id: str
    published_at: datetime

    def __str__(self) -> str:  # as messages name it, beside a file's path
        return f"snapshot {self.snapshot_id} of the lake (run {self.run_id})"


def published(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> list[Published]:
    """The published versions still kept, oldest first: the snapshots whose commit is a publish
    (`publish`), each naming its run. Read from the catalog as it is now, whatever snapshot the
    connection is pinned to."""
    rows = con.execute(
        "select snapshot_id, commit_extra_info, snapshot_time from ducklake_snapshots(?) "
        "where commit_message = ? order by snapshot_id",
        [alias, PUBLISH],
    ).fetchall()
    return [
        Published(snapshot, run_id, at.astimezone().replace(tzinfo=None))
        for snapshot, run_id, at in rows
    ]


def publish(con: duckdb.DuckDBPyConnection, run_id: str, alias: str = ALIAS) -> Published:
    """Make the lake as it is now a published version: one small commit, labelled `publish`
    with the run id, adding the run's row to audit.published_versions. Readers pinned to the
    newest published snapshot move to it at their next look."""
    gated = current_snapshot(con, alias)
    con.execute("begin")
    try:
        label_commit(con, PUBLISH, extra_info=run_id, alias=alias)
        con.execute(PUBLISHED_DDL.format(alias=_name(alias)))
        con.execute(
            f"insert into {_name(alias)}.audit.published_versions values (?, ?, ?)",
            [run_id, datetime.now(), gated],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return published(con, alias)[-1]


def restore_published(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> int | None:
    """Put the lake back to its newest published version when anything was committed after it
    (a failed night, a killed loader, a night with nothing new): its snapshot, or None when
    nothing needed putting back. With nothing published yet, back to the empty lake."""
    versions = published(con, alias)
    target = versions[-1].snapshot_id if versions else 0
    message = f"put back to snapshot {target}"
    latest = snapshots(con, alias)[-1]
    if latest.snapshot_id == target or latest.commit_message == message:
        return None  # nothing since, or put back already and nothing since that
    if not versions and not tables_at(con, None, alias):
        return None  # nothing published and nothing written: a new lake
    if not versions:
        _refuse_unpublished_copy(con, alias)
    return put_back(con, target, message=message, alias=alias)


def _refuse_unpublished_copy(con: duckdb.DuckDBPyConnection, alias: str) -> None:
    """A lake with tables and nothing published is put back to empty only when nothing but a
    killed first night wrote it: a warehouse moved in by `bluelight migrate` and never published
    (its read-back differed) is kept, and the night refused, saying so."""
    copies = [s for s in snapshots(con, alias) if (s.commit_message or "").startswith("migrate ")]
    if copies:
        raise LakeError(
            f"the lake holds a warehouse moved in by `bluelight migrate` (snapshot "
            f"{copies[-1].snapshot_id}: {copies[-1].commit_message}) that was never published; "
            "nothing was changed. Move it again onto an empty lake, or remove this one."
        )


# How long a published version stays after the next one replaced it, whatever the retention:
# a reader that looked up the newest version just before a publish is pinned to the one it
# replaced, and expiring that snapshot fails its next query ("No snapshot found at version").
READER_GRACE = timedelta(hours=1)


def prune(
    con: duckdb.DuckDBPyConnection, keep_days: int, now: datetime | None = None, alias=ALIAS
) -> tuple[list[int], list[str]]:
    """Expire what the retention does not keep and delete the files only those read: kept are
    the published versions of the last `keep_days`, the newest published before them (in force
    when the window opens), those replaced less than `READER_GRACE` ago and every snapshot
    after the newest published one; then the files a killed writer left (`delete_orphans`). The
    snapshot ids expired and the files deleted."""
    versions = published(con, alias)
    if not versions:
        return [], []
    now = now or datetime.now()
    cutoff = now - timedelta(days=keep_days)
    older = [v.snapshot_id for v in versions if v.published_at < cutoff]
    keep = {v.snapshot_id for v in versions if v.published_at >= cutoff} | set(older[-1:])
    keep |= {
        version.snapshot_id
        for version, successor in zip(versions, versions[1:], strict=False)
        if successor.published_at >= now - READER_GRACE
    }
    newest = versions[-1].snapshot_id
    doomed = [
        s.snapshot_id
        for s in snapshots(con, alias)
        if s.snapshot_id < newest and s.snapshot_id not in keep
    ]
    expired = expire_snapshots(con, versions=doomed, alias=alias) if doomed else []
    return expired, cleanup_old_files(con, alias=alias) + delete_orphans(con, now, alias)


def delete_orphans(con: duckdb.DuckDBPyConnection, now: datetime, alias: str = ALIAS) -> list[str]:
    """Delete the files under the data path that no snapshot knows, written more than
    `READER_GRACE` before `now`: what a writer killed before its commit left
    (`ducklake_delete_orphaned_files`). One loader writes a lake, under the run lock, so an
    older file no snapshot knows can only be such a leftover."""
    rows = con.execute(
        "select path from ducklake_delete_orphaned_files(?, older_than => ?)",
        [alias, now - READER_GRACE],
    ).fetchall()
    return sorted(row[0] for row in rows)
