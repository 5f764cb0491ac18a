"""The quality suites: Great Expectations expectations as JSON files in expectations/.

`sources/<source>.json` follow from the contracts (`source_suite`, written by `bluelight sources
--write`; a test fails when they drift) and `marts/<name>.json` say what the business relies on.
Each expectation carries a level: a failed *critical* one stops the publish, a *warning* is
recorded and shown. A mart waiting for a source has its row counts as warnings (`waiting_suite`).
"""

from __future__ import annotations

import json
from pathlib import Path

from flows.settings import PROJECT_ROOT
from flows.sources.contracts import SOURCES, Column, Source

SUITES_DIR = PROJECT_ROOT / "expectations"


SOURCE_SUITES_DIR = SUITES_DIR / "sources"


MART_SUITES_DIR = SUITES_DIR / "marts"


HEADER = (
    "Written by `bluelight sources --write` from flows/sources/contracts.py: edit the contracts."
)


def source_suite(source: Source) -> dict:
    """The suite a source's contract implies, run on the accepted rows' parsed values.

    Quarantine has already set aside rows that break these rules one by one, so a failure here
    means the quarantine and the contract disagree: critical.
    """
    critical = {"level": "critical"}
    found = [e for column in source.columns for e in _column_expectations(column, critical)]
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


def _column_expectations(column: Column, critical: dict) -> list[dict]:
    """The expectations one contract column implies: its parsed type, required, pattern,
    allowed values and range."""
    found: list[dict] = []
    # Text is text by construction (raw keeps every value as sent): no type check.
    if column.type != "varchar":
        found.append(
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": column.name, "type_list": [column.sql_type.upper()]},
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
    return found


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
