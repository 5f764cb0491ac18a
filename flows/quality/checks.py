"""The checks: the source suites on the rows a run loaded (or every row ever loaded, for
`bluelight check`) and the mart suites on the marts, through a Gate. Each suite is one SQL pass
over its rows where they live, in the warehouse (flows/quality/sql.py): no row leaves DuckDB.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from flows.load import accepted
from flows.load.quarantine import ACCEPTED, literal
from flows.quality.gate import Gate
from flows.quality.results import CheckResult
from flows.quality.suites import mart_suites, source_suites, waiting_suite
from flows.sources.contracts import SOURCES
from flows.warehouse import status

# A row of a load is told apart by its load and record (one published line gives several rows,
# and corrected files share a name): the sample is ordered by them, so it is the same every run.
ROW_ORDER = ["_file", "_row", "_load_id", "_record"]


def check_loaded_rows(
    con: duckdb.DuckDBPyConnection, load_ids: dict[str, list[str]], gate: Gate
) -> list[CheckResult]:
    """Validate only the rows these loads brought and quarantine accepted, per source, as
    ingest parsed them (so the gate's cost follows the night's data, not the warehouse's): one
    pass per source over all its loads. Loads whose every row was set aside have none."""
    suites = source_suites()
    results: list[CheckResult] = []
    for source_name, ids in load_ids.items():
        rows = con.sql(_accepted_rows(con, source_name, ids)) if ids else None
        if rows is None or rows.limit(1).fetchone() is None:
            continue
        more = len(ids) - 1
        results += gate.validate(
            rows,
            f"source.{source_name}",
            suites[source_name]["expectations"],
            batch=min(ids) + (f"+{more}" if more else ""),
            identify_by=["_file", "_row"],
            label=_first_file(con, min(ids)) + (f" and {more} more file(s)" if more else ""),
            order_by=ROW_ORDER,
        )
    return results


def _first_file(con: duckdb.DuckDBPyConnection, load_id: str) -> str:
    found = con.execute(
        "select original_name from audit.loaded_files where load_id = ?", [load_id]
    ).fetchone()
    return found[0] if found else load_id


def _accepted_rows(con: duckdb.DuckDBPyConnection, source_name: str, ids: list[str]) -> str:
    """The accepted rows of these loads, typed as ingest parsed them (flows/load/accepted.py),
    with the file, row and record each came from. A warehouse whose accepted tables the next
    night has yet to make (`bluelight check` opens it read-only) has them parsed from raw."""
    source = SOURCES[source_name]
    if _has_table(con, accepted.SCHEMA, source.name):
        columns = ", ".join(f'r."{c.name}"' for c in source.columns)
        rows = f"{accepted.table(source)} as r"
    else:
        columns = accepted.parsed_columns(source, "r")
        rows = f"raw.{source.name} as r {ACCEPTED.format(alias='r')}"
    listed = ", ".join(literal(i) for i in ids)
    return f"""select {columns}, r._load_id, f.original_name as _file, r._source_row as _row,
            r._source_record as _record
        from {rows} join audit.loaded_files as f on f.load_id = r._load_id
        where r._load_id in ({listed}) and {_loaded_since(con, ids)}"""


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    query = (
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? and table_name = ?"
    )
    return con.execute(query, [schema, name]).fetchone()[0] > 0


def _loaded_since(con: duckdb.DuckDBPyConnection, load_ids: list[str]) -> str:
    """A condition on rows `r`: loaded no earlier than the first of these loads (and any
    later), by the time audit.loaded_files records (`audit.first_loaded_at`, as dbt's
    macros/load_bookmark.sql). Said beside the load ids, it lets DuckDB skip older loads' row
    groups, which the ids alone do not on their own day."""
    since = con.execute("select audit.first_loaded_at(?, true)", [min(load_ids)]).fetchone()[0]
    # A load recorded without its time (written by hand) leaves the rows unbounded.
    return f"r._loaded_at >= timestamp '{since}'" if since else "true"


def check_marts(con: duckdb.DuckDBPyConnection, gate: Gate) -> list[CheckResult]:
    """Each mart suite on its model, or on the `query` it declares (e.g. a trend's gaps). A mart
    waiting for a source that has never loaded (audit.mart_readiness, flows/transform/lineage.py)
    is not failed for having too few rows: its row-count checks become warnings that name the
    sources."""
    waiting = _waiting(con)
    return [
        result
        for suite in mart_suites()
        for result in check_mart(con, suite, gate, waiting.get(suite["model"], []))
    ]


def _waiting(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    try:
        return status.waiting(con)
    except duckdb.CatalogException:  # a warehouse from before audit.mart_readiness
        return {}


def check_mart(
    con: duckdb.DuckDBPyConnection, suite: dict, gate: Gate, waiting_for: list[str] = ()
) -> list[CheckResult]:
    rows = con.sql(suite.get("query") or f"select * from marts.{suite['model']}")
    return gate.validate(
        rows,
        f"mart.{suite.get('name', suite['model'])}",
        waiting_suite(suite["expectations"], list(waiting_for)),
        batch=suite["model"],
        identify_by=suite.get("identify_rows_by"),
    )


def check_warehouse(
    db: Path, quality_dir: Path, *, progress=print
) -> tuple[list[CheckResult], Path]:
    """Every suite on the warehouse file at `db`, opened read-only (`check_opened`)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return check_opened(con, quality_dir, progress=progress)


def check_opened(
    con: duckdb.DuckDBPyConnection, quality_dir: Path, *, progress=print
) -> tuple[list[CheckResult], Path]:
    """Every suite on a whole warehouse, the default database of `con`, a read-only connection
    (`bluelight check`: a file, or the lake pinned to a snapshot): the source suites on every
    accepted row ever loaded, and the mart suites. Returns the results and the Data Docs page;
    records nothing in the warehouse (a published version is never written)."""
    name = "check-" + datetime.now().strftime("%Y%m%dT%H%M%S")
    gate = Gate(quality_dir, name)
    results: list[CheckResult] = []
    loads = con.execute(
        "select source, list(load_id order by load_id) from audit.loaded_files "
        "where status = 'loaded' group by source order by source"
    ).fetchall()
    for source, ids in loads:
        progress(f"  source.{source}: {len(ids)} load(s)")
        results += check_loaded_rows(con, {source: ids}, gate)
    progress("  marts")
    results += check_marts(con, gate)
    return results, gate.build_docs()
