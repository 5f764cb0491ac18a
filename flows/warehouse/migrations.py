"""The warehouse's schema version: the numbered migrations that make the raw and audit schemas and
move them forward, the record of those a warehouse has had (`audit.schema_versions`), and the
refusal of a warehouse that a newer release has moved past this code (docs/decisions/0010).

A migration only adds: a schema, a table, a column (empty for the rows already there, or filled
from what the warehouse already holds). None changes or deletes a row of `raw` or `audit`: raw
keeps every value as sent, and the audit trail is the record an auditor relies on. Each runs on
the night's build copy in a transaction with its row in `audit.schema_versions`, so the published
file is never migrated in place; a night that fails throws its migrated copy away with the rest.

A warehouse with no `audit.schema_versions` was built before versions were recorded (version 0):
every migration is applied to it, and each is written to leave what it finds already there as it
is, so a warehouse built by any earlier release ends up with the same schema as a new one.

What the contracts decide is not a migration: each night gives a source's raw table the contract's
columns (a new optional column is empty for older rows) and remakes the derived `accepted` tables
from raw when their parsing changes (flows/warehouse/schema.py).
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

import duckdb

from flows.settings import PROJECT_ROOT


@dataclass(frozen=True)
class Migration:
    number: int
    description: str  # one line: what it adds
    apply: Callable[[duckdb.DuckDBPyConnection], None]
    # Whether the dbt build after it must rebuild the incremental models from raw: a migration
    # that changes what the models read (not one that only adds to audit) says so.
    full_refresh: bool = False


def on_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's own database is a DuckLake (flows/warehouse/lake.py)."""
    (kind,) = con.execute(
        "select type from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return kind == "ducklake"


def execute(con: duckdb.DuckDBPyConnection, text: str) -> None:
    """Run DDL on either backend. A DuckLake has no PRIMARY KEY: there the keys are left out,
    and the code that writes keyed tables replaces a row by deleting it first
    (flows/warehouse/runlog.py)."""
    if on_lake(con):
        text = re.sub(r"\s+primary key", "", text, flags=re.IGNORECASE)
    con.execute(text)


def _sql(text: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
    return lambda con: execute(con, text)


BASELINE = """
create schema if not exists raw;
create schema if not exists audit;
create table if not exists audit.load_runs (
    run_id varchar primary key, started_at timestamp, finished_at timestamp, status varchar,
    files_loaded integer, files_skipped integer, files_rejected integer, rows_loaded bigint,
    rows_quarantined bigint,
    checks_passed integer, checks_failed integer, checks_warned integer,
    stage_seconds json, error varchar
);
create table if not exists audit.loaded_files (
    load_id varchar primary key, run_id varchar, source varchar, original_name varchar,
    archive_path varchar, sha256 varchar, rows bigint, rows_quarantined bigint,
    version integer, loaded_at timestamp, status varchar
);
create table if not exists audit.rejected_files (
    run_id varchar, source varchar, original_name varchar, rejected_path varchar,
    sha256 varchar, row_number integer, column_name varchar, reason varchar, rejected_at timestamp
);
create table if not exists audit.quality_results (
    run_id varchar, suite varchar, expectation varchar, column_name varchar, level varchar,
    success boolean, observed_value varchar, unexpected_count bigint, unexpected_sample varchar,
    checked_at timestamp
);
create table if not exists audit.quarantine (
    run_id varchar, load_id varchar, source varchar, source_file varchar, source_row integer,
    column_name varchar, value varchar, rule varchar, quarantined_at timestamp
);
-- A warehouse made before rows were set aside has the two tables without these (at their end).
alter table audit.load_runs add column if not exists rows_quarantined bigint;
alter table audit.loaded_files add column if not exists rows_quarantined bigint;
alter table audit.loaded_files add column if not exists version integer;
"""

# Filled each run from every source's expected cadence; read by the dashboard.
SOURCE_FRESHNESS = """
create table if not exists audit.source_freshness (
    run_id varchar, source varchar, cadence varchar, last_loaded_at timestamp,
    due_by timestamp, status varchar, checked_at timestamp
);
"""

# The as-of time a run loaded for (a backfill's past date), a rerun's failed run, late sources,
# why a run was reported and how telling the operator went; a freshness verdict in words.
BACKFILL_AND_NOTICES = """
alter table audit.loaded_files add column if not exists as_of timestamp;
alter table audit.load_runs add column if not exists as_of timestamp;
alter table audit.load_runs add column if not exists rerun_of varchar;
alter table audit.load_runs add column if not exists warnings json;
alter table audit.load_runs add column if not exists alerts json;
alter table audit.load_runs add column if not exists notified varchar;
alter table audit.source_freshness add column if not exists note varchar;
"""

# The manifest of the dbt build this warehouse holds: a night builds only what its loads touch
# and what changed in the dbt project since (dbt's state:modified against this manifest).
DBT_MANIFEST = """
create table if not exists audit.dbt_manifest (
    run_id varchar, built_at timestamp, project_fingerprint varchar, manifest json
);
"""

# Each mart as the last run left it: the sources that feed it (dbt's lineage, from the manifest),
# those never loaded, its rows and its status: `ready` (every source has loaded), `partial`
# (some never have, rows all the same), `waiting` (some never have, no rows yet). A mart waiting
# for a source is not failed for being empty. Rewritten whole each run.
MART_READINESS = """
create table if not exists audit.mart_readiness (
    run_id varchar, mart varchar, sources varchar[], waiting_for varchar[], rows bigint,
    status varchar, checked_at timestamp
);
"""


def _row_records(con: duckdb.DuckDBPyConnection) -> None:
    """Which of a file's rows a raw row is (`_source_record`, on every raw table there is) and
    which of them broke a rule (audit.quarantine's `source_record`); empty for rows loaded or
    set aside before they were kept."""
    con.execute("alter table audit.quarantine add column if not exists source_record integer")
    tables = con.execute(
        "select table_name from information_schema.tables where table_catalog = "
        "current_database() and table_schema = 'raw' and table_type = 'BASE TABLE'"
    ).fetchall()
    for (table,) in tables:
        con.execute(f'alter table raw."{table}" add column if not exists _source_record integer')


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "baseline: the raw and audit schemas; audit.load_runs, loaded_files, rejected_files, "
        "quality_results and quarantine",
        _sql(BASELINE),
    ),
    Migration(2, "audit.source_freshness: each source against its cadence", _sql(SOURCE_FRESHNESS)),
    Migration(
        3,
        "as_of, rerun_of, warnings, alerts, notified on audit.load_runs; as_of on "
        "audit.loaded_files; note on audit.source_freshness",
        _sql(BACKFILL_AND_NOTICES),
    ),
    Migration(4, "audit.dbt_manifest: the dbt build the warehouse holds", _sql(DBT_MANIFEST)),
    Migration(
        5, "_source_record on every raw table, source_record on audit.quarantine", _row_records
    ),
    Migration(
        6, "audit.mart_readiness: each mart's sources and those never loaded", _sql(MART_READINESS)
    ),
    Migration(
        7,
        "audit.accepted_parsed_by: the parse macros the accepted tables were parsed with",
        _sql("create table if not exists audit.accepted_parsed_by (parse_macros_sha256 varchar)"),
    ),
    Migration(
        8,
        "published on audit.load_runs: whether a run published a new version",
        _sql("alter table audit.load_runs add column if not exists published boolean"),
    ),
    Migration(
        9,
        "sent_by on audit.loaded_files: who sent a file through the Upload page",
        _sql("alter table audit.loaded_files add column if not exists sent_by varchar"),
    ),
)
LATEST = MIGRATIONS[-1].number

VERSIONS_DDL = """
create schema if not exists audit;
create table if not exists audit.schema_versions (
    version integer primary key, description varchar, applied_at timestamp, run_id varchar,
    release varchar
);
"""


class WarehouseTooNew(RuntimeError):
    """The warehouse's schema version is newer than this code's latest migration."""


@dataclass(frozen=True)
class Recorded:
    """A warehouse's schema version (0: none recorded) and the release that recorded it."""

    version: int
    release: str | None = None
    applied_at: datetime | None = None


def recorded(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> Recorded:
    """The schema version the warehouse (`catalog`, or the connection's own) records."""
    table = f'"{catalog}".audit.schema_versions' if catalog else "audit.schema_versions"
    try:
        row = con.execute(
            f"select version, release, applied_at from {table} order by version desc limit 1"
        ).fetchone()
    except duckdb.CatalogException:  # built before versions were recorded
        return Recorded(0)
    return Recorded(*row) if row else Recorded(0)


def too_new(where: str, found: Recorded, latest: int = LATEST) -> str | None:
    """Why this code must not read the warehouse `where`, or None when it may."""
    if found.version <= latest:
        return None
    return (
        f"The warehouse {where} is at schema version {found.version} (recorded by release "
        f"{found.release or 'unknown'}); this release of Bluelight ({release()}) reads schema "
        f"versions up to {latest}. Nothing was read or changed: run the release that built it, or "
        "a later one."
    )


def refuse_newer(
    con: duckdb.DuckDBPyConnection, where: str, catalog: str | None = None, latest: int = LATEST
) -> Recorded:
    """The warehouse's recorded version; raises WarehouseTooNew when this code cannot read it."""
    found = recorded(con, catalog)
    refusal = too_new(where, found, latest)
    if refusal:
        raise WarehouseTooNew(refusal)
    return found


def check_file(path: Path) -> Recorded | None:
    """The recorded version of the warehouse file at `path`, opened read-only (None when there is
    no file); raises WarehouseTooNew when this code cannot read it."""
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        return refuse_newer(con, str(path))


def refusal(path: Path) -> str | None:
    """Why this code must not read the warehouse file at `path`, or None (for the commands)."""
    try:
        check_file(path)
    except WarehouseTooNew as refused:
        return str(refused)
    return None


def pending(version: int, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    return [m for m in migrations if m.number > version]


def migrate(
    con: duckdb.DuckDBPyConnection,
    run_id: str | None = None,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> list[Migration]:
    """Apply the migrations the warehouse has not had, in order, each in a transaction with its
    row in audit.schema_versions; returns those applied. Raises WarehouseTooNew, having changed
    nothing, when the warehouse is newer than `migrations`."""
    (path,) = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    found = refuse_newer(con, path or "in memory", latest=migrations[-1].number)
    execute(con, VERSIONS_DDL)
    applied = []
    for migration in pending(found.version, migrations):
        con.execute("begin")
        try:
            migration.apply(con)
            con.execute(
                "insert into audit.schema_versions values (?, ?, ?, ?, ?)",
                [migration.number, migration.description, datetime.now(), run_id, release()],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        applied.append(migration)
    return applied


def full_refresh_after(numbers: list[int]) -> bool:
    """Whether any of the migrations `numbers` asks for the incremental models to be rebuilt."""
    return any(m.full_refresh for m in MIGRATIONS if m.number in numbers)


@functools.cache
def release() -> str:
    """This code's release: the package's version and, in a git checkout, its commit."""
    try:
        version = metadata.version("bluelight")
    except metadata.PackageNotFoundError:
        version = "unknown"
    if not (PROJECT_ROOT / ".git").exists():  # installed from a package: its version says it
        return version
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):  # no git here
        commit = ""
    return f"{version} ({commit})" if commit else version
