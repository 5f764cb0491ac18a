"""The quality gate: Great Expectations suites on the rows a run loaded and on the marts.

The suites are JSON files in expectations/, one per source and one per mart the dashboard shows:
`sources/<source>.json` follow from the contracts (written by `bluelight sources --write`; a test
fails when they drift) and `marts/<name>.json` say what the business relies on. Each expectation
carries a level: a failed *critical* one stops the publish, a *warning* is recorded and shown.
Every result lands in audit.quality_results, and each run's results are rendered as GX Data Docs
in `quality/runs/<run id>/` (`quality/index.html` lists the runs).
"""

from __future__ import annotations

import html
import json
import logging
import multiprocessing
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.execution_engine.pandas_execution_engine as gx_pandas_engine
import pandas as pd
import pyarrow as pa
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from flows import lineage
from flows.contracts import SOURCES, Source
from flows.ingest import ACCEPTED
from flows.settings import PROJECT_ROOT

SUITES_DIR = PROJECT_ROOT / "expectations"
SOURCE_SUITES_DIR = SUITES_DIR / "sources"
MART_SUITES_DIR = SUITES_DIR / "marts"
HEADER = "Written by `bluelight sources --write` from flows/contracts.py: edit the contracts."
# Rows validated at once: bounds memory when a night (or `bluelight check`) brings millions.
BATCH_ROWS = 1_000_000
SAMPLE_ROWS = 5

# GX logs each context it makes at INFO; the run's own log says what matters.
for _name in ("great_expectations", "great_expectations.data_context.types.base"):
    logging.getLogger(_name).setLevel(logging.WARNING)

# GX fingerprints every DataFrame under 1 GB (an md5 over pandas' hash of every cell) only to
# mark the batch: a third of its time on the source rows. Batches here are named by their loads,
# and each load by its file's sha256, so the fingerprint is switched off.
gx_pandas_engine.HASH_THRESHOLD = 0

# Source rows reach GX as Arrow-backed text and nullable numbers: GX ran 2.5 times faster on them
# and held a third less memory than on object columns (30 region incident loads, 2.9M rows:
# 25.5 s and 2.3 GB -> 10.2 s and 1.6 GB).
ARROW_TO_PANDAS = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}
# The pandas dtypes a parsed column of each contract type arrives as (names GX resolves). Text
# is text by construction (raw keeps every value as sent), so it has no type check.
PANDAS_TYPES = {
    "integer": ["Int32Dtype", "Int64Dtype"],
    "double": ["float64"],
    "date": ["datetime64[ms]", "datetime64[us]"],
    "timestamp": ["datetime64[us]"],
    "boolean": ["BooleanDtype"],
}


@dataclass
class CheckResult:
    suite: str
    expectation: str
    column: str | None
    level: str
    success: bool
    observed: str | None
    unexpected_count: int
    sample: list

    def describe(self) -> str:
        where = f" on column {self.column!r}" if self.column else ""
        return (
            f"{self.suite}: {self.expectation}{where} failed for {self.unexpected_count} "
            f"row(s), e.g. {self.sample[:3]}"
        )


# -- the suites -------------------------------------------------------------------------------


def source_suite(source: Source) -> dict:
    """The suite a source's contract implies, run on the accepted rows' parsed values.

    Quarantine has already set aside rows that break these rules one by one, so a failure here
    means the quarantine and the contract disagree: critical.
    """
    critical = {"level": "critical"}
    found: list[dict] = []
    for column in source.columns:
        if column.type in PANDAS_TYPES:
            found.append(
                {
                    "type": "expect_column_values_to_be_in_type_list",
                    "kwargs": {"column": column.name, "type_list": PANDAS_TYPES[column.type]},
                    "meta": {**critical, "why": f"parsed as {column.type}"},
                }
            )
        if column.required:
            found.append(
                {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": column.name},
                    "meta": critical,
                }
            )
        if column.pattern:
            found.append(
                {
                    "type": "expect_column_values_to_match_regex",
                    "kwargs": {"column": column.name, "regex": f"^{column.pattern}$"},
                    "meta": critical,
                }
            )
        if column.allowed:
            found.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": column.name, "value_set": list(column.allowed)},
                    "meta": critical,
                }
            )
        if column.min is not None or column.max is not None:
            found.append(
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {
                        "column": column.name,
                        "min_value": column.min,
                        "max_value": column.max,
                    },
                    "meta": critical,
                }
            )
    # Unique within each file: a later file with the same key is a newer version (staging
    # keeps the latest), so the key is checked per load.
    found.append(
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": [*source.key, "_load_id"]},
            "meta": {**critical, "why": "the key is unique within a file"},
        }
    )
    return {
        "source": source.name,
        "description": f"{HEADER} {source.description}",
        "expectations": found,
    }


def suite_text(suite: dict) -> str:
    """A suite as reviewable JSON: one expectation per line."""
    lines = [f"  {json.dumps(e)}" for e in suite["expectations"]]
    head = {k: v for k, v in suite.items() if k != "expectations"}
    opening = json.dumps(head, indent=2)[:-2]
    return opening + ',\n  "expectations": [\n' + ",\n".join(f"  {x}" for x in lines) + "\n  ]\n}\n"


def write_source_suites() -> list[Path]:
    SOURCE_SUITES_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for source in SOURCES.values():
        path = SOURCE_SUITES_DIR / f"{source.name}.json"
        path.write_text(suite_text(source_suite(source)))
        written.append(path)
    return written


def source_suites() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(SOURCE_SUITES_DIR.glob("*.json"))}


def mart_suites() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(MART_SUITES_DIR.glob("*.json"))]


# -- validation -------------------------------------------------------------------------------


class Gate:
    """One Great Expectations context for a stage of a run's checks.

    Results are kept as files under the run's Data Docs folder, so the stages of a run (and a
    run that fails half-way) all show on one site.
    """

    def __init__(self, quality_dir: Path, run_name: str, run_time: datetime | None = None):
        self.quality_dir = quality_dir
        self.docs_dir = docs_dir = quality_dir / "runs" / run_name
        self.run_name = run_name
        # Given to GX with every result: without it GX parses the run name as a date, and a
        # run id such as 20261128T042327-3328ad reads as an offset of -33:28 and fails.
        self.run_time = run_time or datetime.now(UTC)
        self.pages: list[dict] = []
        self.suites: dict[str, gx.ExpectationSuite] = {}
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
        )
        for store, folder in (
            ("validation_results_store", "_results"),
            ("expectations_store", "_suites"),
        ):
            config.stores[store]["store_backend"] = {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir / folder),
            }
        config.data_docs_sites = {
            "bluelight": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
        self.context = gx.get_context(project_config=config, mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)

    def validate(
        self,
        frame: pd.DataFrame,
        suite_name: str,
        expectations: list[dict],
        batch: str = "rows",
        identify_by: list[str] | None = None,
        label: str | None = None,
    ) -> list[CheckResult]:
        """Validate a DataFrame; one CheckResult per expectation. `batch` names the rows (safe
        in a path), `label` says what they are for a reader; `identify_by` names the columns
        that say where an unexpected row is (file and row, or a mart's key) for the sample."""
        context = self.context
        if suite_name not in self.suites:  # once per gate, from the file as it is now
            self.suites[suite_name] = context.suites.add_or_update(
                gx.ExpectationSuite(name=suite_name, expectations=expectations)
            )
        suite = self.suites[suite_name]
        asset = context.data_sources.add_or_update_pandas(
            f"{suite_name}.{batch}"
        ).add_dataframe_asset(batch)
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(
                name=f"{suite_name}.{batch}",
                data=asset.add_batch_definition_whole_dataframe("rows"),
                suite=suite,
            )
        )
        result_format: dict = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}
        if identify_by:
            result_format["unexpected_index_column_names"] = identify_by
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"{suite_name}.{batch}",
                validation_definitions=[definition],
                result_format=result_format,
            )
        )
        try:
            outcome = checkpoint.run(
                batch_parameters={"dataframe": frame},
                run_id=gx.RunIdentifier(run_name=self.run_name, run_time=self.run_time),
            )
        finally:
            # Each data source's execution engine caches every batch it loads, with no limit:
            # kept, they held every batch of the night (145 million rows passed 23 GB). The
            # results are in the stores already.
            context.checkpoints.delete(checkpoint.name)
            context.validation_definitions.delete(definition.name)
            context.data_sources.delete(f"{suite_name}.{batch}")
        results = []
        for identifier, validation in outcome.run_results.items():
            found = [_check_result(i, suite_name, identify_by) for i in validation.results]
            failed = {r.level for r in found if not r.success}
            self.pages.append(
                {
                    "suite": suite_name,
                    "batch": label or batch,
                    "rows": len(frame),
                    "page": "validations/" + "/".join(identifier.to_tuple()) + ".html",
                    "success": not failed,
                    "outcome": "critical"
                    if "critical" in failed
                    else failed.pop()
                    if failed
                    else "passed",
                }
            )
            results += found
        return results

    def build_docs(self, keep_days: int | None = None) -> Path:
        """Render the run's Data Docs (every stage so far) for a browser with no internet."""
        self.context.build_data_docs(site_names=["bluelight"])
        pages_file = self.docs_dir / "_pages.json"
        earlier = json.loads(pages_file.read_text()) if pages_file.exists() else []
        pages = earlier + self.pages
        pages_file.write_text(json.dumps(pages, indent=1))
        self.pages = []
        for page in self.docs_dir.rglob("*.html"):
            page.write_text(offline(page.read_text()))
        (self.docs_dir / "index.html").write_text(run_index(self.run_name, pages))
        write_quality_index(self.quality_dir, keep_days)
        return self.docs_dir / "index.html"


def _check_result(item, suite_name: str, identify_by) -> CheckResult:
    config = item.expectation_config
    detail = item.result or {}
    column = (
        config.kwargs.get("column")
        or config.kwargs.get("column_A")
        or (",".join(config.kwargs.get("column_list", [])) or None)
    )
    observed = detail.get("observed_value")
    sample = detail.get("partial_unexpected_index_list") if identify_by else None
    if not sample:
        sample = detail.get("partial_unexpected_list") or []
    return CheckResult(
        suite=suite_name,
        expectation=config.type,
        column=column,
        level=(config.meta or {}).get("level", "critical"),
        success=bool(item.success),
        observed=None if observed is None else str(observed),
        unexpected_count=int(detail.get("unexpected_count") or 0),
        sample=[_plain(v) for v in sample[:SAMPLE_ROWS]],
    )


def _plain(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


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
    waiting for a source that has never loaded (audit.mart_readiness, flows/lineage.py) is not
    failed for having too few rows: its row-count checks become warnings that name the sources."""
    waiting = _waiting(con)
    return [
        result
        for suite in mart_suites()
        for result in check_mart(con, suite, gate, waiting.get(suite["model"], []))
    ]


def _waiting(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    try:
        return lineage.waiting(con)
    except duckdb.CatalogException:  # a warehouse from before audit.mart_readiness
        return {}


ROW_COUNT = "expect_table_row_count_to_be_between"


def waiting_suite(expectations: list[dict], waiting_for: list[str]) -> list[dict]:
    """The suite for a mart waiting for `waiting_for`: its row counts are warnings, saying why."""
    if not waiting_for:
        return expectations
    folders = ", ".join(f"{s} (inbox/{s}/)" for s in waiting_for)
    return [
        {
            **e,
            "meta": {
                **e.get("meta", {}),
                "level": "warning",
                "why": f"waiting for {folders}: never loaded",
            },
        }
        if e["type"] == ROW_COUNT
        else e
        for e in expectations
    ]


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


INSERT_RESULT = "insert into audit.quality_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def record(
    con: duckdb.DuckDBPyConnection, run_id: str, results: list[CheckResult], quality_dir: Path
) -> None:
    """Into audit.quality_results of the build, and beside the run's Data Docs: a run that fails
    publishes no warehouse, so the next run replays its results from there (`replay`)."""
    now = datetime.now().isoformat(timespec="seconds")
    rows = [
        [
            run_id,
            r.suite,
            r.expectation,
            r.column,
            r.level,
            r.success,
            r.observed,
            r.unexpected_count,
            json.dumps(r.sample),
            now,
        ]
        for r in results
    ]
    if not rows:
        return
    con.executemany(INSERT_RESULT, rows)
    kept = quality_dir / "runs" / run_id / "results.jsonl"
    kept.parent.mkdir(parents=True, exist_ok=True)
    with kept.open("a") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)


def replay(con: duckdb.DuckDBPyConnection, quality_dir: Path) -> int:
    """Results of earlier runs that published nothing (failed or killed), from their Data Docs
    folders, into audit.quality_results of this build; returns how many rows."""
    query = "select distinct run_id from audit.quality_results"
    known = {row[0] for row in con.execute(query).fetchall()}
    rows = []
    for kept in sorted((quality_dir / "runs").glob("*/results.jsonl")):
        if kept.parent.name not in known and not kept.parent.name.startswith("check-"):
            rows += [json.loads(line) for line in kept.read_text().splitlines() if line.strip()]
    if rows:
        con.executemany(INSERT_RESULT, rows)
    return len(rows)


def critical_failures(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.success and r.level == "critical"]


# -- Data Docs for a browser with no internet ------------------------------------------------

# GX's pages pull Bootstrap, jQuery, Font Awesome and a logo from CDNs. Nothing may leave the
# machine, so those tags go; the pages' tables are plain HTML and read well with a little CSS.
_REMOTE = re.compile(
    r"<script[^>]*\bsrc=\"https?://[^>]*>\s*</script>"
    r"|<link[^>]*\bhref=\"https?://[^>]*>"
    r"|<img[^>]*\bsrc=\"https?://[^>]*>"
    r"|<footer>.*?</footer>",  # GX's newsletter sign-up
    re.S,
)
OUTCOMES = {
    "passed": "passed",
    "warning": "warning: recorded, does not stop the publish",
    "critical": "FAILED: critical, not published",
}
STYLE = """<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
.passed { color: #006d2c; } .critical, .failed { color: #b30000; font-weight: 600; }
.warning { color: #8a4b00; }
.fa-check-circle::before { content: "\\2713  passed"; color: #006d2c; }
.fa-times::before { content: "\\2717  failed"; color: #b30000; font-weight: 600; }
.collapse:not(.show) { display: block; } .ge-walkthrough-modal { display: none; }
</style>"""


def offline(page: str) -> str:
    page = _REMOTE.sub("", page)
    if STYLE not in page:
        page = page.replace("</head>", STYLE + "</head>", 1)
    return page


def run_index(run_name: str, pages: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(p['suite'])}</td><td>{html.escape(p['batch'])}</td>"
        f"<td>{p['rows']:,}</td>"
        f"<td class={p['outcome']}>{OUTCOMES[p['outcome']]}</td>"
        f'<td><a href="{html.escape(p["page"])}">results</a></td></tr>'
        for p in pages
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset=utf-8><title>Quality: run {run_name}</title>"
        f'{STYLE}</head><body><p><a href="../../index.html">All runs</a></p>'
        f"<h1>Quality checks of run {html.escape(run_name)}</h1>"
        "<p>Each suite's results, per batch of rows checked. A suite fails when any of its "
        "expectations fails: critical ones stop the publish, warnings are recorded "
        "(see each suite's results).</p>"
        "<table><tr><th>suite</th><th>batch</th><th>rows</th><th>outcome</th><th></th></tr>"
        f"{rows}</table></body></html>"
    )


def write_quality_index(quality_dir: Path, keep_days: int | None = None) -> Path:
    """quality/index.html: every kept run's checks, newest first; older runs pruned."""
    runs_dir = quality_dir / "runs"
    if keep_days is not None:
        cutoff = datetime.now() - timedelta(days=keep_days)
        for folder in runs_dir.iterdir():
            if datetime.fromtimestamp(folder.stat().st_mtime) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
    rows = []
    for folder in sorted(runs_dir.iterdir(), reverse=True):
        pages_file = folder / "_pages.json"
        pages = json.loads(pages_file.read_text()) if pages_file.exists() else []
        critical = sum(p["outcome"] == "critical" for p in pages)
        warning = sum(p["outcome"] == "warning" for p in pages)
        outcome = ", ".join(
            text
            for count, text in (
                (critical, f"{critical} suite(s) failed a critical check: not published"),
                (warning, f"{warning} suite(s) with warnings"),
            )
            if count
        )
        css = "critical" if critical else "warning" if warning else "passed"
        rows.append(
            f'<tr><td><a href="runs/{html.escape(folder.name)}/index.html">'
            f"{html.escape(folder.name)}</a></td><td>{len(pages)}</td>"
            f"<td class={css}>{outcome or 'all passed'}</td></tr>"
        )
    index = quality_dir / "index.html"
    index.write_text(
        f"<!DOCTYPE html><html><head><meta charset=utf-8><title>Bluelight quality checks"
        f"</title>{STYLE}</head><body><h1>Quality checks, by run</h1>"
        "<table><tr><th>run</th><th>suites checked</th><th>outcome</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
    return index
