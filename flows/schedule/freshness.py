"""Freshness: is each source sending as often as its contract says (flows/sources/contracts.py,
`cadence`)?

Judged as of the run's as-of time (now for a nightly run, the given date for a backfill), from
`audit.loaded_files`: a source's last delivery is the latest as-of time of a file of new bytes
loaded for it (a resend of the same bytes is not news). Each run writes one row per source into
`audit.source_freshness`: 'fresh', 'late' (nothing new by `due_by`) or 'never' (nothing loaded yet).
A late source, or an agency extract never loaded, is a warning in the run summary and the
notification; published statistics are optional, so one never loaded is listed, not warned about.

Done here rather than with `dbt source freshness`: that judges against the clock of the machine
(a backfill of a past date could not be judged as of then) and writes its verdict to a JSON file,
not the warehouse the dashboard reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from flows.sources.contracts import SOURCES, Source


@dataclass(frozen=True)
class Freshness:
    source: str
    cadence: str
    last_loaded_at: datetime | None
    due_by: datetime | None
    status: str  # fresh, late, never
    note: str
    warns: bool


def judge(source: Source, last_loaded_at: datetime | None, as_of: datetime) -> Freshness:
    """One source's freshness as of `as_of`, given when it last delivered something new."""
    cadence = source.cadence
    if last_loaded_at is None:
        what = (
            f"optional: until it comes, {source.fallback}"
            if source.fallback
            else "optional published statistics"
            if source.optional
            else "expected"
        )
        return Freshness(
            source.name,
            cadence.name,
            None,
            None,
            "never",
            f"nothing loaded yet ({what}; {cadence.describe()})",
            warns=not source.optional,
        )
    if cadence.every_days is None:
        return Freshness(
            source.name,
            cadence.name,
            last_loaded_at,
            None,
            "fresh",
            f"sent when it changes; last {last_loaded_at:%Y-%m-%d}",
            warns=False,
        )
    due_by = last_loaded_at + timedelta(days=cadence.every_days + cadence.grace_days)
    if as_of > due_by:
        days = (as_of - last_loaded_at).days
        return Freshness(
            source.name,
            cadence.name,
            last_loaded_at,
            due_by,
            "late",
            f"nothing new for {days} days (last {last_loaded_at:%Y-%m-%d}, due by "
            f"{due_by:%Y-%m-%d %H:%M}; expected {cadence.describe()})",
            warns=True,
        )
    return Freshness(
        source.name,
        cadence.name,
        last_loaded_at,
        due_by,
        "fresh",
        f"last {last_loaded_at:%Y-%m-%d}, next due by {due_by:%Y-%m-%d %H:%M}",
        warns=False,
    )


def check(con: duckdb.DuckDBPyConnection, run_id: str, as_of: datetime) -> list[Freshness]:
    """Judge every source as of `as_of` and write the verdicts into audit.source_freshness."""
    # Loads after the as-of time do not count: a backfill of a past date judges as of then.
    last = dict(
        con.execute(
            "select source, max(coalesce(as_of, loaded_at)) from audit.loaded_files "
            "where status = 'loaded' and coalesce(as_of, loaded_at) <= ? group by source",
            [as_of],
        ).fetchall()
    )
    verdicts = [judge(source, last.get(name), as_of) for name, source in SOURCES.items()]
    con.execute("delete from audit.source_freshness where run_id = ?", [run_id])
    con.executemany(
        "insert into audit.source_freshness "
        "(run_id, source, cadence, last_loaded_at, due_by, status, checked_at, note) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [run_id, v.source, v.cadence, v.last_loaded_at, v.due_by, v.status, as_of, v.note]
            for v in verdicts
        ],
    )
    return verdicts


def previous(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, str]:
    """Each source's status in the last run judged before this one (run ids sort by time)."""
    return dict(
        con.execute(
            "select source, status from audit.source_freshness where run_id = "
            "(select max(run_id) from audit.source_freshness where run_id < ?)",
            [run_id],
        ).fetchall()
    )


def warnings(verdicts: list[Freshness]) -> list[str]:
    """One line per source that should worry the operator."""
    return [f"{v.source} {v.status}: {v.note}" for v in verdicts if v.warns]


def gone_late(verdicts: list[Freshness], before: dict[str, str]) -> list[str]:
    """Sources late now that were not at the last run: worth a notice, once, not every night."""
    return [
        f"{v.source} has gone late: {v.note}"
        for v in verdicts
        if v.status == "late" and before.get(v.source) != "late"
    ]
