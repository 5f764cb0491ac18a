"""The quality gate: a Great Expectations context per stage of a run's checks (`Gate`), each
result as a `CheckResult`, and what follows from them: every result lands in
audit.quality_results (`record`, and `replay` for runs that published nothing), and a critical
failure stops the publish (flows/quality/results.py). Each run's results are rendered as GX
Data Docs in `quality/runs/<run id>/` (flows/quality/docs.py).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from flows.quality import sql
from flows.quality.docs import offline, run_index, write_quality_index
from flows.quality.results import CheckResult

# GX logs each context it makes at INFO; the run's own log says what matters.
for _name in ("great_expectations", "great_expectations.data_context.types.base"):
    logging.getLogger(_name).setLevel(logging.WARNING)


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
        rows: duckdb.DuckDBPyRelation | pd.DataFrame,
        suite_name: str,
        expectations: list[dict],
        batch: str = "rows",
        identify_by: list[str] | None = None,
        label: str | None = None,
        order_by: list[str] | None = None,
    ) -> list[CheckResult]:
        """Check rows (a DuckDB relation, or a DataFrame) in one SQL pass (flows/quality/sql.py);
        one CheckResult per expectation, and the GX validation result kept for Data Docs.
        `batch` names the rows (safe in a path), `label` says what they are for a reader;
        `identify_by` names the columns that say where an unexpected row is (file and row, or a
        mart's key) for the sample, `order_by` the columns the sample is ordered by when those
        do not tell every row apart."""
        if isinstance(rows, pd.DataFrame):
            with duckdb.connect() as con:
                return self.validate(
                    con.from_df(rows), suite_name, expectations, batch, identify_by, label, order_by
                )
        count, measured = sql.run_suite(rows, expectations, identify_by or [], order_by)
        items = [
            ExpectationValidationResult(
                success=success,
                expectation_config=ExpectationConfiguration(**expectation),
                result=result,
            )
            for expectation, (success, result) in zip(expectations, measured, strict=True)
        ]
        identifier = self._store(suite_name, expectations, batch, items)
        found = [_check_result(item, suite_name, identify_by) for item in items]
        failed = {r.level for r in found if not r.success}
        self.pages.append(
            {
                "suite": suite_name,
                "batch": label or batch,
                "rows": count,
                "page": "validations/" + "/".join(identifier.to_tuple()) + ".html",
                "success": not failed,
                "outcome": "critical"
                if "critical" in failed
                else failed.pop()
                if failed
                else "passed",
            }
        )
        return found

    def _store(self, suite_name: str, expectations: list[dict], batch: str, items) -> object:
        """Keep a suite's results in GX's validation results store, as a checkpoint would, so
        Data Docs render them; returns the key."""
        if suite_name not in self.suites:  # once per gate, from the file as it is now
            self.suites[suite_name] = self.context.suites.add_or_update(
                gx.ExpectationSuite(name=suite_name, expectations=expectations)
            )
        run_id = gx.RunIdentifier(run_name=self.run_name, run_time=self.run_time)
        passed = sum(item.success for item in items)
        validation = ExpectationSuiteValidationResult(
            success=passed == len(items),
            results=items,
            suite_name=suite_name,
            statistics={
                "evaluated_expectations": len(items),
                "successful_expectations": passed,
                "unsuccessful_expectations": len(items) - passed,
                "success_percent": 100 * passed / len(items) if items else None,
            },
            meta={
                "great_expectations_version": gx.__version__,
                "batch_spec": {"data_asset_name": batch, "checked_by": "SQL on DuckDB"},
                "run_id": run_id,
                "validation_time": self.run_time,
            },
        )
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=run_id,
            batch_identifier=f"{suite_name}.{batch}",
        )
        self.context.validation_results_store.set(key, validation)
        return key

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
        sample=[_plain(v) for v in sample[: sql.SAMPLE_ROWS]],
    )


def _plain(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


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
