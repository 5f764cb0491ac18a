"""The checks: the source suites on the rows a run loaded (or every row ever loaded, for
`bluelight check`) and the mart suites on the marts, through a Gate. A source's batches beyond
the first are validated in a worker process (`_Checker`), which gives back the memory GX keeps.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from flows.load.quarantine import ACCEPTED
from flows.quality.gate import Gate
from flows.quality.results import CheckResult
from flows.quality.suites import mart_suites, source_suites, waiting_suite
from flows.sources.contracts import SOURCES
from flows.warehouse import status

# Rows validated at once: bounds memory when a night (or `bluelight check`) brings millions.
BATCH_ROWS = 1_000_000

# Source rows reach GX as Arrow-backed text and nullable numbers: GX ran 2.5 times faster on them
# and held a third less memory than on object columns (30 region incident loads, 2.9M rows:
# 25.5 s and 2.3 GB -> 10.2 s and 1.6 GB).
ARROW_TO_PANDAS = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


@dataclass(frozen=True)
class Batch:
    """Rows validated at once: whole loads, or one of `parts` slices of a single big load cut
    by a hash of the source's key (so rows sharing a key meet in one slice, and a key repeated
    in the file is still found)."""

    load_ids: list[str]
    part: int = 0
    parts: int = 1

    @property
    def name(self) -> str:
        """The batch's name in paths: its first load, and how many more or which slice."""
        first = self.load_ids[0]
        if self.parts > 1:
            return f"{first}.{self.part + 1}of{self.parts}"
        return first if len(self.load_ids) == 1 else f"{first}+{len(self.load_ids) - 1}"

    def label(self, first_file: str) -> str:
        """What the batch holds, for a reader, given its first load's file name."""
        if self.parts > 1:
            return f"{first_file} (part {self.part + 1} of {self.parts})"
        more = len(self.load_ids) - 1
        return f"{first_file} and {more} more file(s)" if more else first_file


def _batches(sizes: list[tuple[str, int]]) -> list[Batch]:
    """Group loads into batches of at most BATCH_ROWS rows; a bigger load is cut into slices
    (a national year's file is 3.5 million rows, which GX held as 4 GB of pandas)."""
    batches: list[Batch] = []
    rows = BATCH_ROWS
    for load_id, count in sizes:
        if count > BATCH_ROWS:
            parts = -(-count // BATCH_ROWS)
            batches += [Batch([load_id], part, parts) for part in range(parts)]
            rows = BATCH_ROWS
            continue
        if rows + count > BATCH_ROWS:
            batches.append(Batch([]))
            rows = 0
        batches[-1].load_ids.append(load_id)
        rows += count
    return batches


def check_loaded_rows(
    con: duckdb.DuckDBPyConnection, load_ids: dict[str, list[str]], gate: Gate
) -> list[CheckResult]:
    """Validate only the rows these loads brought and quarantine accepted, per source, parsed
    to their types (so the gate's cost follows the night's data, not the warehouse's). More
    than one batch of a source is validated in a worker process (see _Checker)."""
    suites = source_suites()
    results: list[CheckResult] = []
    for source_name, ids in load_ids.items():
        if not ids:
            continue
        source = SOURCES[source_name]
        since = _loaded_since(con, ids)
        sizes = con.execute(
            f"""select r._load_id, count(*), any_value(f.original_name)
                from raw.{source.name} as r join audit.loaded_files as f on f.load_id = r._load_id
                where r._load_id in (select unnest($ids)) and {since}
                group by 1 order by 1""",
            {"ids": ids},
        ).fetchall()
        names = {load_id: name for load_id, _, name in sizes}
        columns = ", ".join(
            f"{c.parsed('r.' + quoted)} as {quoted}"
            for c in source.columns
            for quoted in [f'"{c.name}"']
        )
        key = ", ".join(f'r."{k}"' for k in source.key)
        # The load comes back as its place in the batch's list, not as text: see _with_lineage.
        parsed = f"""select {columns}, b._load_index, r._source_row as _row,
                hash({key}) % $parts as _part
            from raw.{source.name} as r {ACCEPTED.format(alias="r")}
            join (
                select unnest($ids) as _load_id,
                    cast(unnest(range(len($ids))) as integer) as _load_index
            ) as b on b._load_id = r._load_id
            where {since}"""
        batches = _batches([(load_id, rows) for load_id, rows, _ in sizes])
        with _Checker(gate, in_worker=len(batches) > 1) as checker:
            for batch in batches:
                table = _with_lineage(_fetch(con, parsed, batch), batch.load_ids, names)
                if table.num_rows:
                    checker.validate(
                        table,
                        f"source.{source.name}",
                        suites[source.name]["expectations"],
                        batch=batch.name,
                        identify_by=["_file", "_row"],
                        label=batch.label(names[batch.load_ids[0]]),
                    )
        results += checker.results
    return results


def _loaded_since(con: duckdb.DuckDBPyConnection, load_ids: list[str]) -> str:
    """A condition on raw rows `r`: loaded no earlier than the first of these loads (and any
    later), by the time audit.loaded_files records (`audit.first_loaded_at`, as dbt's
    macros/load_bookmark.sql). Said beside the load ids, it lets DuckDB skip older loads' row
    groups, which the ids alone do not on their own day."""
    since = con.execute("select audit.first_loaded_at(?, true)", [min(load_ids)]).fetchone()[0]
    # A load recorded without its time (written by hand) leaves the rows unbounded.
    return f"r._loaded_at >= timestamp '{since}'" if since else "true"


def _fetch(con: duckdb.DuckDBPyConnection, parsed: str, batch: Batch) -> pa.Table:
    """A batch's rows, parsed. A big load's rows are parsed once, into a temporary table its
    slices are read from (a query per slice re-read and re-parsed the whole load each time)."""
    ids = {"ids": batch.load_ids, "parts": batch.parts}
    if batch.parts == 1:
        query = f"select * exclude (_part) from ({parsed})"
        return con.execute(query, ids).to_arrow_table()
    if batch.part == 0:
        con.execute(f"create or replace temp table gate_slices as {parsed}", ids)
    query = "select * exclude (_part) from gate_slices where _part = ?"
    table = con.execute(query, [batch.part]).to_arrow_table()
    if batch.part == batch.parts - 1:
        con.execute("drop table gate_slices")
    return table


def _with_lineage(table: pa.Table, load_ids: list[str], names: dict[str, str]) -> pa.Table:
    """The batch's rows with their load and file as dictionary columns (pandas categoricals).
    As text, every row carried both: half the bytes fetched from DuckDB and sent to the worker
    (docs/performance.md)."""
    index = table.column("_load_index")
    lineage = {
        "_load_id": pa.array(load_ids, pa.string()),
        "_file": pa.array([names[load_id] for load_id in load_ids], pa.string()),
    }
    for name, values in lineage.items():
        column = pa.chunked_array(
            [pa.DictionaryArray.from_arrays(chunk, values) for chunk in index.chunks],
            pa.dictionary(pa.int32(), pa.string()),
        )
        table = table.append_column(name, column)
    return table.drop_columns(["_load_index"])


def _pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=ARROW_TO_PANDAS.get, date_as_object=False)


# Validating a batch leaves the process bigger, for good (70-150 MB per 875,000-row slice at
# national scale, where it passed 22 GB): not in GX's context or in Python's objects
# (tracemalloc), nor DuckDB's (its memory limit changes nothing); fetching the same rows without
# GX does not grow. Only a process's exit gives it back, so a source's batches go to a worker
# process, replaced after WORKER_BATCHES of them. Up to WAITING batches are sent ahead, so the
# worker keeps checking while the next big load is parsed.
WORKER_BATCHES = 16


WAITING = 3


_worker_gate: Gate | None = None


class _Checker:
    """Validates a source's batches here (one batch) or in a worker process, in order; the
    results and Data Docs pages end up as if the gate had checked them itself."""

    def __init__(self, gate: Gate, in_worker: bool):
        self.gate = gate
        self.place = (gate.quality_dir, gate.run_name, gate.run_time)
        self.results: list[CheckResult] = []
        self.pending: list = []
        self.pool: ProcessPoolExecutor | None = None
        self.sent = 0
        if in_worker:
            self._start_worker()

    def _start_worker(self) -> None:
        """A new worker, started at once: its imports (Great Expectations) overlap
        the fetch of the batch it will get, or the end of the worker before, which finishes
        what it was sent first (two at once would both write the run's GX stores). Replaced by
        hand rather than with max_tasks_per_child, which can hang with work waiting in its
        queue on Python 3.11 (CPython gh-115634)."""
        # Not fork: the parent holds DuckDB's threads and an open database.
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        started = pool.submit(_start_in_worker, self.place)
        try:
            while self.pending:
                self._collect(*self.pending.pop(0))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        if self.pool is not None:
            self.pool.shutdown()
        self.pool = pool
        self.pending.append((started, "its start"))
        self.sent = 0

    def validate(self, table: pa.Table, suite_name: str, expectations: list[dict], **how):
        if self.pool is None:
            self.results += self.gate.validate(_pandas(table), suite_name, expectations, **how)
            return
        if self.sent == WORKER_BATCHES:
            self._start_worker()
        label = how.get("label") or how.get("batch")
        try:
            future = self.pool.submit(
                _validate_in_worker, self.place, table, suite_name, expectations, how
            )
        except BrokenProcessPool as exc:  # it died on a batch before, found only now
            failed = self.pending[0][1] if self.pending else label
            raise RuntimeError(f"the quality gate's worker died on {failed}: {exc}") from exc
        self.sent += 1
        self.pending.append((future, label))
        # Bounded: each batch sent holds its rows here until its results come back.
        while len(self.pending) > WAITING:
            self._collect(*self.pending.pop(0))

    def _collect(self, future, label: str) -> None:
        try:
            results, pages = future.result()
        except BrokenProcessPool as exc:  # killed (e.g. for want of memory) or unpicklable
            raise RuntimeError(f"the quality gate's worker died on {label}: {exc}") from exc
        except Exception as exc:
            raise RuntimeError(f"the quality gate's worker failed on {label}: {exc}") from exc
        self.results += results
        self.gate.pages += pages

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                while self.pending:
                    self._collect(*self.pending.pop(0))
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)


def _gate_in_worker(place: tuple[Path, str, datetime]) -> Gate:
    """In the worker: the run's gate (same stores, Data Docs folder and run time), made once."""
    global _worker_gate
    here = _worker_gate
    if here is None or (here.quality_dir, here.run_name, here.run_time) != place:
        _worker_gate = Gate(*place)
    return _worker_gate


def _start_in_worker(place: tuple[Path, str, datetime]) -> tuple[list[CheckResult], list[dict]]:
    """The worker's first task: import GX and make the gate before a batch arrives."""
    _gate_in_worker(place)
    return [], []


def _validate_in_worker(
    place: tuple[Path, str, datetime],
    table: pa.Table,
    suite_name: str,
    expectations: list[dict],
    how,
) -> tuple[list[CheckResult], list[dict]]:
    """In the worker: one batch."""
    gate = _gate_in_worker(place)
    results = gate.validate(_pandas(table), suite_name, expectations, **how)
    pages, gate.pages = gate.pages, []
    return results, pages


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
    frame = con.execute(suite.get("query") or f"select * from marts.{suite['model']}").df()
    return gate.validate(
        frame,
        f"mart.{suite.get('name', suite['model'])}",
        waiting_suite(suite["expectations"], list(waiting_for)),
        batch=suite["model"],
        identify_by=suite.get("identify_rows_by"),
    )


def check_warehouse(
    db: Path, quality_dir: Path, *, progress=print
) -> tuple[list[CheckResult], Path]:
    """Every suite on a whole warehouse, opened read-only (`bluelight check`): the source suites
    on every accepted row ever loaded, in batches, and the mart suites. Returns the results and
    the Data Docs page; records nothing in the warehouse (a published file is never written)."""
    name = "check-" + datetime.now().strftime("%Y%m%dT%H%M%S")
    gate = Gate(quality_dir, name)
    results: list[CheckResult] = []
    with duckdb.connect(str(db), read_only=True) as con:
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
