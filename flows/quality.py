"""The quality gate: Great Expectations suites on the rows a run loaded and on the marts.

Source suites are built from the contracts (flows/contracts.py); mart suites are the JSON files in
expectations/marts/. Each expectation carries a level: a failed *critical* one stops the publish,
a *warning* is recorded and shown. Every result lands in audit.quality_results.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import great_expectations as gx
import pandas as pd

from flows.contracts import SOURCES, Source
from flows.ingest import ACCEPTED

MART_SUITES_DIR = Path(__file__).resolve().parents[1] / "expectations" / "marts"

# GX logs each ephemeral context it makes at INFO; the run's own log says what matters.
for _name in ("great_expectations", "great_expectations.data_context.types.base"):
    logging.getLogger(_name).setLevel(logging.WARNING)


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


def source_expectations(source: Source) -> list[dict]:
    """The suite a source's contract implies, run on the accepted rows' parsed values.

    Quarantine has already set aside rows that break these rules one by one, so a failure here
    means the quarantine and the contract disagree: critical.
    """
    critical = {"level": "critical"}
    found: list[dict] = []
    for column in source.columns:
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
    # Key uniqueness is not checked across the night's files: a duplicate within a file is
    # quarantined, and a later file with the same key is a newer version (staging keeps it).
    return found


def mart_suites() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(MART_SUITES_DIR.glob("*.json"))]


def _context():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    return context


def validate_frame(frame: pd.DataFrame, suite_name: str, expectations: list[dict]):
    """Validate a DataFrame against expectation configurations; one CheckResult each."""
    context = _context()
    batch = (
        context.data_sources.add_pandas(suite_name)
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("rows")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=suite_name, expectations=expectations)
    outcome = batch.validate(
        suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5}
    )
    results = []
    for item in outcome.results:
        config = item.expectation_config
        detail = item.result or {}
        column = (
            config.kwargs.get("column")
            or config.kwargs.get("column_A")
            or (",".join(config.kwargs.get("column_list", [])) or None)
        )
        observed = detail.get("observed_value")
        results.append(
            CheckResult(
                suite=suite_name,
                expectation=config.type,
                column=column,
                level=(config.meta or {}).get("level", "critical"),
                success=bool(item.success),
                observed=None if observed is None else str(observed),
                unexpected_count=int(detail.get("unexpected_count") or 0),
                sample=[str(v) for v in detail.get("partial_unexpected_list") or []],
            )
        )
    return results


def check_loaded_rows(con: duckdb.DuckDBPyConnection, load_ids: dict[str, list[str]]):
    """Validate only the rows this run loaded and accepted, per source, parsed to their types
    (so the gate's cost follows the night's data, not the warehouse's)."""
    results: list[CheckResult] = []
    for source_name, ids in load_ids.items():
        if not ids:
            continue
        source = SOURCES[source_name]
        columns = ", ".join(f'{c.parsed()} as "{c.name}"' for c in source.columns)
        frame = con.execute(
            f"select {columns} from raw.{source.name} as r "
            f"where _load_id in (select unnest(?)) and {ACCEPTED.format(alias='r')}",
            [ids],
        ).df()
        if not frame.empty:
            results += validate_frame(frame, f"source.{source.name}", source_expectations(source))
    return results


def check_marts(con: duckdb.DuckDBPyConnection):
    results: list[CheckResult] = []
    for suite in mart_suites():
        frame = con.execute(f"select * from marts.{suite['model']}").df()
        results += validate_frame(frame, f"mart.{suite['model']}", suite["expectations"])
    return results


def record(con: duckdb.DuckDBPyConnection, run_id: str, results: list[CheckResult]) -> None:
    if not results:
        return
    now = datetime.now()
    con.executemany(
        "insert into audit.quality_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
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
        ],
    )


def critical_failures(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.success and r.level == "critical"]
