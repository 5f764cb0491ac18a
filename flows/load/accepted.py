"""The accepted tables: `accepted.<source>`, a source's rows that quarantine let through, parsed
once to the contract's types (`Column.parsed`), with the lineage raw gives them.

A load appends a file's accepted rows here in the transaction that appends all its rows to raw
(flows/load/raw.py), so the two never disagree; dbt's staging reads these tables, not raw text.
A warehouse built before they existed gets them filled from raw, and so does one whose accepted
values other parse macros or column types gave (flows/warehouse/schema.py). Raw stays the record
of every value as sent; a load's rows are never deleted from either.
"""

from __future__ import annotations

import duckdb

from flows.load.quarantine import ACCEPTED
from flows.sources.contracts import Source

SCHEMA = "accepted"


def table(source: Source) -> str:
    return f"{SCHEMA}.{source.name}"


def parsed_columns(source: Source, alias: str) -> str:
    """SQL for the contract's columns of `alias`, each parsed to its type under its own name."""
    return ", ".join(
        f"{c.parsed(f'{alias}.{quoted}')} as {quoted}"
        for c in source.columns
        for quoted in [f'"{c.name}"']
    )


def append_accepted(
    con: duckdb.DuckDBPyConnection, source: Source, lineage: str, values: dict
) -> int:
    """Append the rows of temp table `incoming` (flows/load/stage.py) that quarantine did not
    hold back, parsed, to the source's accepted table; returns the rows. `lineage` selects
    `_load_id`, `_loaded_at`, `_source_file` and `_source_sha256` from the named parameters
    `values` (`$load` the load id), as the load's raw rows have them. The held-back rows are
    this load's quarantine rows, matched by row and record, as `ACCEPTED` matches them in raw."""
    return con.execute(
        f"""insert into {table(source)} by name
            select {parsed_columns(source, "i")}, i._source_row, i._source_record, {lineage}
            from incoming as i
            anti join (select source_row, source_record from audit.quarantine
                       where load_id = $load) as q
                on q.source_row = i._source_row and q.source_record = i._source_record""",
        values,
    ).fetchone()[0]


def fill_from_raw(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    """Every accepted row raw holds, parsed, into the source's (empty, just made) accepted
    table: a warehouse's history. Returns the rows. The accepted table's columns besides the
    contract's are its lineage, copied from raw's columns of the same names (raw may hold
    more: columns a contract no longer has)."""
    lineage = [
        f"r.{name}"
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_catalog = "
            "current_database() and table_schema = ? and table_name = ? order by ordinal_position",
            [SCHEMA, source.name],
        ).fetchall()
        if name not in source.column_names
    ]
    return con.execute(
        f"""insert into {table(source)} by name
            select {parsed_columns(source, "r")}, {", ".join(lineage)}
            from raw.{source.name} as r {ACCEPTED.format(alias="r")}"""
    ).fetchone()[0]
