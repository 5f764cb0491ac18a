"""The warehouse's own tables: the audit schema, the raw tables (text as sent) and the accepted
tables (the rows quarantine let through, typed) with their lineage columns, and the parse macros
the load and the quarantine rules call. `ensure_schema` makes them (and adds what a warehouse
built earlier lacks) on a build copy, or on the in-memory database `bluelight validate` uses.
"""

from __future__ import annotations

import hashlib

import duckdb

from flows.load import accepted
from flows.sources.contracts import SOURCES, Source

LINEAGE_COLUMNS = {
    "_load_id": "varchar",
    "_loaded_at": "timestamp",
    "_source_file": "varchar",
    "_source_sha256": "varchar",
    "_source_row": "integer",
    # A number for the row, unique in its file, in file order: what tells apart the rows one line
    # gives (a published table's line holds a figure per sheet, date or measure, each a row here).
    # Empty for rows loaded before it was kept.
    "_source_record": "integer",
}


# How raw text becomes typed values: one definition, used by the quarantine rules and by the
# load's accepted tables (flows/load/accepted.py). NULL means "does not parse".
PARSE_MACROS = r"""
create or replace macro raw.parse_number(v) as
    try_cast(replace(replace(trim(v), ',', ''), '£', '') as double);
create or replace macro raw.parse_integer(v) as
    case when raw.parse_number(v) = floor(raw.parse_number(v))
         then cast(raw.parse_number(v) as bigint) end;
create or replace macro raw.parse_timestamp(v) as coalesce(
    -- ISO 2016-04-01 08:15:00 by DuckDB's cast first: all but a few values take this way, and
    -- it is three times quicker than the formats below (with trim() here, no quicker at all)
    case when length(v) = 19 then try_cast(v as timestamp) end,
    try_strptime(trim(v), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M',
                           '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']),
    -- Excel serial: days since 1899-12-30, the fraction is the time of day
    case when regexp_full_match(trim(v), '\d{1,5}(\.\d+)?')
         then timestamp '1899-12-30'
              + to_microseconds(cast(round(cast(trim(v) as double) * 86400e6) as bigint)) end);
create or replace macro raw.parse_date(v) as cast(raw.parse_timestamp(v) as date);
create or replace macro raw.parse_boolean(v) as case
    when lower(trim(v)) in ('true', 'yes', 'y', '1') then true
    when lower(trim(v)) in ('false', 'no', 'n', '0') then false end;
"""


AUDIT_DDL = """
create schema if not exists raw;
create schema if not exists accepted;
create schema if not exists audit;
create table if not exists audit.quarantine (
    run_id varchar, load_id varchar, source varchar, source_file varchar, source_row integer,
    column_name varchar, value varchar, rule varchar, quarantined_at timestamp
);
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
-- Filled each run from every source's expected cadence; read by the dashboard.
create table if not exists audit.source_freshness (
    run_id varchar, source varchar, cadence varchar, last_loaded_at timestamp,
    due_by timestamp, status varchar, checked_at timestamp
);
-- The manifest of the dbt build this warehouse holds: a night builds only what its loads touch
-- and what changed in the dbt project since (dbt's state:modified against this manifest).
create table if not exists audit.dbt_manifest (
    run_id varchar, built_at timestamp, project_fingerprint varchar, manifest json
);
-- Added at the end, so readers of the first columns are unaffected (and warehouses built before
-- gain them): the as-of time a run loaded for (a backfill's past date), a rerun's failed run,
-- late sources, why a run was reported and how telling the operator went; a note in words.
alter table audit.loaded_files add column if not exists as_of timestamp;
alter table audit.load_runs add column if not exists as_of timestamp;
alter table audit.load_runs add column if not exists rerun_of varchar;
alter table audit.load_runs add column if not exists warnings json;
alter table audit.load_runs add column if not exists alerts json;
alter table audit.load_runs add column if not exists notified varchar;
alter table audit.load_runs add column if not exists published boolean;
alter table audit.source_freshness add column if not exists note varchar;
-- Who sent the file through the dashboard's Upload page (its sidecar: flows/load/inbox.py); empty
-- for a file copied into the inbox by hand.
alter table audit.loaded_files add column if not exists sent_by varchar;
-- The first time any of the loads from `from_load` on (`inclusive`) or after it was written: a
-- load's rows carry the `loaded_at` recorded here, in the same transaction. Filters by load say
-- `_loaded_at >=` it beside the load id, so DuckDB skips older row groups (a text column's min
-- and max keep 8 bytes, the load id's day). NULL when a load was recorded without a time.
create or replace macro audit.first_loaded_at(from_load, inclusive) as (
    select case when count(*) = count(loaded_at) then min(loaded_at) end
    from audit.loaded_files
    where status = 'loaded' and (load_id > from_load or (inclusive and load_id = from_load))
);
-- Which of the file's rows broke the rule (raw's _source_record); none for rows quarantined
-- before it was kept, which hold back every row of their line.
alter table audit.quarantine add column if not exists source_record integer;
-- Each mart as the last run left it: the sources that feed it (dbt's lineage, from the manifest),
-- those never loaded, its rows and its status: `ready` (every source has loaded), `partial`
-- (some never have, rows all the same), `waiting` (some never have, no rows yet). A mart waiting
-- for a source is not failed for being empty. Rewritten whole each run.
create table if not exists audit.mart_readiness (
    run_id varchar, mart varchar, sources varchar[], waiting_for varchar[], rows bigint,
    status varchar, checked_at timestamp
);
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)
    con.execute(PARSE_MACROS)
    stale = _parse_macros_changed(con)
    for source in SOURCES.values():
        _ensure_raw(con, source)
        _ensure_accepted(con, source, stale)


def _ensure_raw(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    columns = [f'"{c}" varchar' for c in source.column_names]
    columns += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS.items()]
    con.execute(f"create table if not exists raw.{source.name} ({', '.join(columns)})")
    # Warehouses built before a contract or lineage column was added gain it (empty for
    # older rows), so a release that adds an optional column loads into the old history.
    for column in source.column_names:
        con.execute(f'alter table raw.{source.name} add column if not exists "{column}" varchar')
    for name, kind in LINEAGE_COLUMNS.items():
        con.execute(f"alter table raw.{source.name} add column if not exists {name} {kind}")


def _parse_macros_changed(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the accepted tables were parsed by other parse macros than these (recorded in
    audit.accepted_parsed_by); records these."""
    fingerprint = hashlib.sha256(PARSE_MACROS.encode()).hexdigest()
    con.execute("create table if not exists audit.accepted_parsed_by (parse_macros_sha256 varchar)")
    saved = con.execute("select parse_macros_sha256 from audit.accepted_parsed_by").fetchone()
    if saved and saved[0] == fingerprint:
        return False
    con.execute("delete from audit.accepted_parsed_by")
    con.execute("insert into audit.accepted_parsed_by values (?)", [fingerprint])
    return saved is not None


def _ensure_accepted(con: duckdb.DuckDBPyConnection, source: Source, stale: bool) -> None:
    """The source's accepted table, typed, with raw's lineage. Made and filled from raw when it
    is missing (a warehouse built before the load kept them), or made again when its values
    are `stale` (other parse macros) or a column's type is not the contract's; it gains new
    contract columns as raw does (empty for older rows, as raw's are)."""
    table = accepted.table(source)
    found = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [accepted.SCHEMA, source.name],
        ).fetchall()
    )
    retyped = any(
        found.get(c.name, c.sql_type.upper()) != c.sql_type.upper() for c in source.columns
    )
    if found and (stale or retyped):
        con.execute(f"drop table {table}")
    columns = [f'"{c.name}" {c.sql_type}' for c in source.columns]
    columns += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS.items()]
    con.execute(f"create table if not exists {table} ({', '.join(columns)})")
    if not found or stale or retyped:
        accepted.fill_from_raw(con, source)
    for column in source.columns:
        con.execute(
            f'alter table {table} add column if not exists "{column.name}" {column.sql_type}'
        )
