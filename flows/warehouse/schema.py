"""The warehouse's own tables: the audit schema, the raw tables (text as sent) and the accepted
tables (the rows quarantine let through, typed) with their lineage columns, and the parse macros
the load and the quarantine rules call. `ensure_schema` makes them on a build copy, or on the
in-memory database `bluelight validate` uses: the audit tables and raw's lineage through the
numbered migrations (flows/warehouse/migrations.py), which also move a warehouse built by an
earlier release forward; a source's raw columns from its contract.
"""

from __future__ import annotations

import hashlib

import duckdb

from flows.load import accepted
from flows.sources.contracts import SOURCES, Source
from flows.warehouse.migrations import Migration, migrate

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
# A lineage column added here reaches the raw tables of warehouses built before it only through
# a migration (flows/warehouse/migrations.py), as `_source_record` did.


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


# Made again by every night, like the parse macros: code, not data.
# The first time any of the loads from `from_load` on (`inclusive`) or after it was written: a
# load's rows carry the `loaded_at` recorded here, in the same transaction. Filters by load say
# `_loaded_at >=` it beside the load id, so DuckDB skips older row groups (a text column's min
# and max keep 8 bytes, the load id's day). NULL when a load was recorded without a time.
AUDIT_MACROS = """
create or replace macro audit.first_loaded_at(from_load, inclusive) as (
    select case when count(*) = count(loaded_at) then min(loaded_at) end
    from audit.loaded_files
    where status = 'loaded' and (load_id > from_load or (inclusive and load_id = from_load))
);
"""


def ensure_schema(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> list[Migration]:
    """Bring the warehouse to this code's schema: the migrations it has not had (recorded with
    `run_id`), then the macros, the contracts' raw tables and the accepted tables. Returns the
    migrations applied; raises WarehouseTooNew, having changed nothing, for a warehouse a newer
    release has moved past this code."""
    applied = migrate(con, run_id)
    con.execute("create schema if not exists accepted")
    con.execute(PARSE_MACROS)
    con.execute(AUDIT_MACROS)
    stale = _parse_macros_changed(con)
    for source in SOURCES.values():
        _ensure_raw(con, source)
        _ensure_accepted(con, source, stale)
    return applied


def _ensure_raw(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    columns = [f'"{c}" varchar' for c in source.column_names]
    columns += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS.items()]
    con.execute(f"create table if not exists raw.{source.name} ({', '.join(columns)})")
    # Warehouses built before a contract column was added gain it (empty for older rows), so a
    # release that adds an optional column loads into the old history.
    for column in source.column_names:
        con.execute(f'alter table raw.{source.name} add column if not exists "{column}" varchar')


def _parse_macros_changed(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the accepted tables were parsed by other parse macros than these (recorded in
    audit.accepted_parsed_by); records these."""
    fingerprint = hashlib.sha256(PARSE_MACROS.encode()).hexdigest()
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
