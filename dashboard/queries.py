"""Every SQL query the dashboard runs, with parameters (never built from user input).

The dashboard keeps a read-only connection to each warehouse file it reads, and opens a new one
as soon as the file at that path is another: before every query it compares the file's identity
(inode, modification time, size) with the one it opened, so a publish, which renames a new file
into place, is seen by the next query. Opening costs 20-35 ms; the queries themselves take a few
milliseconds on the marts. Holding the file blocks no one: a published file is never written
again (a run builds a copy and renames it over, flows/publish.py), a rename takes no lock, and
read-only connections share the file with every other reader. Filters arrive as parameters:
`area` is a county name or None for every county, `start` and `end` are the first and last day
of the chosen period.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from flows import publish, runlog
from flows.settings import Settings

_pinned: Path | None = None  # a warehouse file chosen by path (the benchmark), not by settings
_timings: list[tuple[str, float]] | None = None  # collecting while timed() runs
HELD_FILES = 4  # the published file and the version before it (Overview), with room to spare


@dataclass(frozen=True)
class _Held:
    """A read-only connection to a warehouse file, the identity the file had when it was opened
    and the run that published it."""

    identity: tuple[int, int, int]
    con: duckdb.DuckDBPyConnection
    run_id: str


_held: dict[str, _Held] = {}  # by path, least recently used first
_lock = threading.Lock()  # Streamlit runs each session's script in a thread of its own


def pin_warehouse(path: Path | str | None) -> None:
    """Read `path` instead of the settings' published warehouse (None: back to the settings)."""
    global _pinned
    _pinned = Path(path) if path is not None else None


def warehouse() -> Path:
    return _pinned or Settings.from_env().published_db


def run_log() -> Path:
    """The data directory's run log, which records failed runs the warehouse never saw."""
    if _pinned is not None:
        return _pinned.parent.parent / "runs.jsonl"
    return Settings.from_env().run_log


def version() -> str:
    """The run id of the published warehouse: cache keys include it, so a new publish is seen at
    once. Read when the file is opened; between publishes this costs one stat."""
    start = time.perf_counter()
    held, opened = _open(warehouse())
    if opened:
        _record("version (opening the file)", start)
    return held.run_id


def _open(path: Path) -> tuple[_Held, bool]:
    """The held connection to the file now at `path` (opened if it is new or another file since),
    and whether it was opened now."""
    st = path.stat()
    identity = (st.st_ino, st.st_mtime_ns, st.st_size)
    with _lock:
        held = _held.pop(str(path), None)
        opened = held is None or held.identity != identity
        if opened:
            # A connection of its own with the file attached, not duckdb.connect(path): DuckDB
            # shares one database per path in a process, so holding that would hand the old
            # file to anyone here opening the path after a publish (or refuse them). The one
            # replaced is not closed: a query in another thread may still be reading it; it
            # closes with its last reference.
            # One thread: the marts are small, and several sessions may query at once.
            con = duckdb.connect(config={"threads": 1})
            quoted = str(path).replace("'", "''")  # ATTACH takes no parameters
            con.execute(f"attach '{quoted}' as warehouse (read_only)")
            con.execute("use warehouse")
            row = con.execute(publish.PUBLISHING_RUN_SQL).fetchone()
            held = _Held(identity, con, row[0] if row else f"unpublished-{st.st_mtime_ns}")
        _held[str(path)] = held
        while len(_held) > HELD_FILES:
            del _held[next(iter(_held))]
    return held, opened


def forget() -> None:
    """Let go of every held connection, as after a publish (the benchmark's cold runs, tests)."""
    with _lock:
        _held.clear()


@contextlib.contextmanager
def timed() -> Iterator[list[tuple[str, float]]]:
    """Within the block, every query is recorded as (name, seconds): the function that ran it,
    and its wall time to the rows in a DataFrame, opening the file included if it was opened
    (dashboard/bench.py)."""
    global _timings
    _timings = []
    try:
        yield _timings
    finally:
        _timings = None


def _record(name: str, start: float) -> None:
    if _timings is not None:
        _timings.append((name, time.perf_counter() - start))


def _query(sql: str, params: list | None = None, path: Path | None = None) -> pd.DataFrame:
    start = time.perf_counter()
    held, _ = _open(path or warehouse())
    # A cursor per query: a connection of its own on the same database, so queries from several
    # sessions' threads run side by side (a DuckDB connection is not shared across threads).
    with held.con.cursor() as cursor:
        cursor.execute("use warehouse")
        frame = cursor.execute(sql, params or []).df()
    _record(sys._getframe(1).f_code.co_name, start)  # named by the function that asked
    return frame


# ---------------------------------------------------------------- filters' choices


def bids(area: str | None = None) -> pd.DataFrame:
    return _query(
        """
        select bid_id, title, fund_round, lead_organisation, partners, county, award_gbp,
               partner_contribution_gbp, total_cost_gbp, go_live_date, benefits
        from marts.dim_bids
        where ?::varchar is null or county = ?
        order by go_live_date, bid_id
    """,
        [area, area],
    )


def services() -> list[str]:
    """Every service with response times, sites or staff."""
    return _query("""
        select service from marts.fct_response_times_monthly
        union
        select service from marts.fct_estate_sites_yearly
        union
        select service from marts.fct_staffing_monthly
        order by service
    """)["service"].tolist()


def areas() -> list[str]:
    return _query("select distinct county from marts.dim_areas order by 1")["county"].tolist()


def financial_years() -> list[str]:
    """Every financial year with data in a mart the pages chart, oldest first."""
    return _query("""
        with months as (
            select month from marts.fct_response_times_monthly
            union all
            select month from marts.fct_staffing_monthly
        ),
        years as (
            select distinct
                year(month) - (month(month) < 4)::int as start_year
            from months
            union
            select distinct left(financial_year, 4)::int from marts.fct_estate_sites_yearly
            union
            select distinct left(financial_year, 4)::int from marts.fct_benefit_realisation
        )
        select start_year::varchar || '-' || right((start_year + 1)::varchar, 2) as financial_year
        from years
        order by start_year
    """)["financial_year"].tolist()


def incident_categories(service: str) -> list[str]:
    return _query(
        """
        select distinct incident_category
        from marts.fct_response_times_monthly
        where service = ?
        order by incident_category = 'all' desc, incident_category
    """,
        [service],
    )["incident_category"].tolist()


# ---------------------------------------------------------------- overview


# One row per bid: money promised against money realised in the latest year, service measures on
# track, the worst status of its benefits, and its value in present terms. Money benefits are the
# register's pounds (attributed share only, so a saving two bids share is counted once); recurring
# savings are a year's, one-off receipts are to date.
BID_OVERVIEW_SQL = """
    with benefits as (
        select bid_id, benefit_id, category, unit,
               abs(target_value - baseline_value) * attribution_share as promised
        from marts.dim_benefits
    ),
    latest as (
        select benefit_id, financial_year, attributed_improvement, status
        from marts.fct_benefit_realisation
        qualify row_number() over (partition by benefit_id order by financial_year desc) = 1
    ),
    per_bid as (
        select
            b.bid_id,
            max(l.financial_year) as latest_year,
            coalesce(sum(b.promised) filter (
                where b.unit = 'gbp' and b.category = 'cashable'), 0) as cashable_promised_gbp,
            coalesce(sum(l.attributed_improvement) filter (
                where b.unit = 'gbp' and b.category = 'cashable'), 0) as cashable_realised_gbp,
            coalesce(sum(b.promised) filter (
                where b.unit = 'gbp' and b.category = 'non_cashable'), 0)
                as non_cashable_promised_gbp,
            coalesce(sum(l.attributed_improvement) filter (
                where b.unit = 'gbp' and b.category = 'non_cashable'), 0)
                as non_cashable_realised_gbp,
            count(*) filter (where b.unit <> 'gbp') as service_measures,
            count(*) filter (where b.unit <> 'gbp' and l.status = 'green')
                as service_measures_on_track,
            count(*) filter (where l.status = 'green') as benefits_green,
            count(*) filter (where l.status = 'amber') as benefits_amber,
            count(*) filter (where l.status = 'red') as benefits_red,
            case
                when bool_or(l.status = 'red') then 'red'
                when bool_or(l.status = 'amber') then 'amber'
                when bool_or(l.status = 'green') then 'green'
                else 'not_due'
            end as status
        from benefits as b
        left join latest as l using (benefit_id)
        group by b.bid_id
    )
    select d.bid_id, d.title, d.county, d.go_live_date, p.latest_year,
           p.cashable_promised_gbp, p.cashable_realised_gbp,
           p.non_cashable_promised_gbp, p.non_cashable_realised_gbp,
           p.service_measures, p.service_measures_on_track,
           p.benefits_green, p.benefits_amber, p.benefits_red, p.status,
           v.price_base_year, v.pv_benefits_gbp, v.pv_cost_gbp, v.npv_gbp,
           v.benefit_cost_ratio, v.payback_year
    from marts.dim_bids as d
    left join per_bid as p using (bid_id)
    left join marts.fct_bid_value as v using (bid_id)
    where ?::varchar is null or d.county = ?
    order by d.go_live_date, d.bid_id
"""


def bid_overview(area: str | None = None, path: Path | None = None) -> pd.DataFrame:
    return _query(BID_OVERVIEW_SQL, [area, area], path)


def benefit_statuses(path: Path | None = None) -> pd.DataFrame:
    """Each benefit's latest year, actual and status (compared between two versions)."""
    return _query(
        """
        select r.bid_id, r.benefit_id, b.description, r.unit, r.financial_year,
               r.actual_value, r.status
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        qualify row_number() over (partition by r.benefit_id order by r.financial_year desc) = 1
        order by r.bid_id, r.benefit_id
    """,
        path=path,
    )


def previous_version() -> Path | None:
    """The kept version published just before the one shown (warehouse/versions/)."""
    shown = version()
    earlier = [
        p for p in publish.version_files(publish_root()) if publish.run_id_of_version(p) < shown
    ]
    return earlier[-1] if earlier else None


def publish_root() -> Path:
    """The published file whose versions folder holds the kept versions."""
    path = warehouse()
    return path.parent.parent / path.name if path.parent.name == "versions" else path


def load_run(run_id: str) -> pd.DataFrame:
    return _query(
        """
        select run_id, started_at, finished_at, status, files_loaded, files_skipped,
               files_rejected, rows_loaded, rows_quarantined, checks_passed, checks_failed,
               checks_warned, error
        from audit.load_runs
        where run_id = ?
    """,
        [run_id],
    )


def files_loaded_by(run_id: str) -> pd.DataFrame:
    return _query(
        """
        select source, original_name, version, rows, rows_quarantined, loaded_at
        from audit.loaded_files
        where run_id = ? and status = 'loaded'
        order by source, original_name
    """,
        [run_id],
    )


# ---------------------------------------------------------------- one bid


def bid_value(bid_id: str) -> pd.DataFrame:
    """A bid's money in present value: benefits, cost, NPV, benefit-cost ratio, payback year."""
    return _query(
        """
        select price_base_year, pv_cashable_gbp, pv_non_cashable_gbp, pv_benefits_gbp,
               pv_cost_gbp, npv_gbp, benefit_cost_ratio, payback_year
        from marts.fct_bid_value
        where bid_id = ?
    """,
        [bid_id],
    )


def benefit_profile(bid_id: str, start: date, end: date) -> pd.DataFrame:
    """Each benefit of a bid per financial year in the period: baseline, profiled target, actual."""
    return _query(
        """
        select r.benefit_id, b.description, r.unit, r.financial_year, r.period_end_date,
               r.baseline_value, r.profiled_target_value, r.target_value, r.actual_value,
               r.status
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        where r.bid_id = ? and r.period_end_date between ? and ?
        order by r.benefit_id, r.financial_year
    """,
        [bid_id, start, end],
    )


def benefit_latest(bid_id: str) -> pd.DataFrame:
    """Each benefit of a bid in its latest financial year."""
    return _query(
        """
        select r.benefit_id, b.description, b.owner, r.category, r.recurrence, r.unit,
               b.price_base_year, r.financial_year, r.baseline_value, r.target_value,
               b.target_date, r.actual_value, r.attributed_improvement,
               r.share_of_target_realised, r.status
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        where r.bid_id = ?
        qualify row_number() over (partition by r.benefit_id order by r.financial_year desc) = 1
        order by r.benefit_id
    """,
        [bid_id],
    )


def benefit_attribution(bid_id: str) -> pd.DataFrame:
    """Each service benefit's plain before/after change beside the difference in differences."""
    return _query(
        """
        select benefit_id, unit, treated_before, treated_after, before_after_change,
               comparison_before, comparison_after, comparison_change, estimate, ci_low,
               ci_high, observations, smallest_cell
        from marts.fct_benefit_attribution
        where bid_id = ?
        order by benefit_id
    """,
        [bid_id],
    )


# ---------------------------------------------------------------- response times


def response_trend(
    service: str | None, incident_category: str, area: str | None, start: date, end: date
) -> pd.DataFrame:
    """Monthly response per service and county (every service if `service` is None): median,
    90th percentile, share within the standard and, for fire, the three parts of the response."""
    return _query(
        """
        select service, month, county, incidents, mean_response_minutes,
               median_response_minutes, p90_response_minutes, share_within_standard,
               mean_call_handling_seconds / 60 as call_handling_minutes,
               mean_turnout_seconds / 60 as turnout_minutes,
               mean_drive_seconds / 60 as drive_minutes
        from marts.fct_response_times_monthly
        where area_type = 'county' and (?::varchar is null or service = ?)
          and incident_category = ? and (?::varchar is null or county = ?)
          and month between ? and ?
        order by service, month, county
    """,
        [service, service, incident_category, area, area, start, end],
    )


def response_last_year(
    service: str | None, incident_category: str, area: str | None, end: date
) -> pd.DataFrame:
    """Incident-weighted mean response and share within the standard over the twelve months of
    data up to the end of the period, per service and county."""
    return _query(
        """
        with in_period as (
            select *
            from marts.fct_response_times_monthly
            where area_type = 'county' and (?::varchar is null or service = ?)
              and incident_category = ? and (?::varchar is null or county = ?) and month <= ?
        ),
        recent as (
            select *
            from in_period
            where month > (select max(month) from in_period) - interval 12 month
        )
        select service, county, min(month) as first_month, max(month) as last_month,
               sum(incidents) as incidents,
               sum(mean_response_minutes * incidents) / sum(incidents) as mean_response_minutes,
               sum(share_within_standard * incidents) / sum(incidents)
                   filter (where share_within_standard is not null) as share_within_standard
        from recent
        group by service, county
        order by service, county
    """,
        [service, service, incident_category, area, area, end],
    )


def go_lives(area: str | None) -> pd.DataFrame:
    """Go-live dates of the bids, with the service each has a benefit for (marked on its trend)."""
    return _query(
        """
        select distinct f.beneficiary as service, b.bid_id, b.title, b.county, b.go_live_date
        from marts.dim_bids as b
        inner join marts.dim_benefits as f using (bid_id)
        where ?::varchar is null or b.county = ?
        order by b.go_live_date, b.bid_id
    """,
        [area, area],
    )


# ---------------------------------------------------------------- estates


def estate_sites(service: str | None, area: str | None, year: str) -> pd.DataFrame:
    """Sites in the return for the financial year (the period's last with data), with where they
    are and whether another service shares them."""
    return _query(
        """
        select site_id, site_name, organisation, service, county, tenure, floor_area_m2,
               running_cost_gbp, is_co_located, co_located_services, co_located_since,
               easting, northing
        from marts.fct_estate_sites_yearly
        where financial_year = (
                select max(financial_year) from marts.fct_estate_sites_yearly
                where financial_year <= ?)
          and (?::varchar is null or service = ?) and (?::varchar is null or county = ?)
        order by service, site_id
    """,
        [year, service, service, area, area],
    )


def estate_costs(service: str | None, area: str | None, first: str, last: str) -> pd.DataFrame:
    """Running costs per financial year and service, pounds cash."""
    return _query(
        """
        select financial_year, service, count(*) as sites,
               sum(running_cost_gbp) as running_cost_gbp,
               count(*) filter (where is_co_located) as co_located_sites
        from marts.fct_estate_sites_yearly
        where financial_year between ? and ?
          and (?::varchar is null or service = ?) and (?::varchar is null or county = ?)
        group by financial_year, service
        order by financial_year, service
    """,
        [first, last, service, service, area, area],
    )


def disposals(service: str | None, area: str | None, first: str, last: str) -> pd.DataFrame:
    return _query(
        """
        select financial_year, disposal_date, site_id, site_name, service, county,
               capital_receipt_gbp
        from marts.fct_estate_sites_yearly
        where disposal_date is not null and financial_year between ? and ?
          and (?::varchar is null or service = ?) and (?::varchar is null or county = ?)
        order by disposal_date, site_id
    """,
        [first, last, service, service, area, area],
    )


# ---------------------------------------------------------------- staffing


def staffing(service: str | None, area: str | None, start: date, end: date) -> pd.DataFrame:
    """FTE per month, service and role; shared posts kept apart. Staffing returns name
    organisations, not places: an organisation is in a county when it serves one of the county's
    districts (the boundary lookup), as in fct_cost_per_incident."""
    return _query(
        """
        select s.month, s.service, s.role, s.is_shared_post, sum(s.fte) as fte,
               sum(s.headcount) as headcount,
               string_agg(distinct s.organisation, '; ') as organisations
        from marts.fct_staffing_monthly as s
        where (?::varchar is null or s.service = ?)
          and (?::varchar is null or s.organisation in (
                select unnest([police_force_name, fire_authority_name, ambulance_trust_name])
                from marts.dim_areas
                where county = ?))
          and s.month between ? and ?
        group by all
        order by s.month, s.service, s.role
    """,
        [service, service, area, area, start, end],
    )


# ---------------------------------------------------------------- data health


def source_freshness() -> pd.DataFrame:
    """The latest freshness check of every source (audit.source_freshness, filled each run)."""
    return _query("""
        select source, cadence, last_loaded_at, due_by, status, checked_at, run_id
        from audit.source_freshness
        qualify run_id = max(run_id) over ()
        order by status = 'fresh', source
    """)


def last_loads() -> pd.DataFrame:
    """When each source last had a file loaded, from audit.loaded_files."""
    return _query("""
        select source, max(loaded_at) as last_loaded_at,
               count(*) filter (where status = 'loaded') as files_loaded,
               sum(rows) filter (where status = 'loaded') as rows_loaded,
               arg_max(original_name, loaded_at) as last_file
        from audit.loaded_files
        group by source
        order by source
    """)


def load_runs() -> pd.DataFrame:
    return _query("""
        select run_id, started_at, finished_at, status, files_loaded, files_skipped,
               files_rejected, rows_loaded, rows_quarantined, checks_passed, checks_failed,
               checks_warned, error
        from audit.load_runs
        order by run_id desc
    """)


def quality_results(run_id: str) -> pd.DataFrame:
    """The quality checks of a run: failures first."""
    return _query(
        """
        select suite, expectation, column_name, level, success, observed_value,
               unexpected_count, unexpected_sample
        from audit.quality_results
        where run_id = ?
        order by success, level, suite, expectation, column_name
    """,
        [run_id],
    )


def quarantine() -> pd.DataFrame:
    return _query("""
        select q.run_id, q.source, coalesce(f.original_name, q.source_file) as file,
               q.source_row, q.column_name, q.value, q.rule, q.quarantined_at
        from audit.quarantine as q
        left join audit.loaded_files as f on f.load_id = q.load_id
        order by q.quarantined_at desc, file, q.source_row
    """)


def rejected_files() -> pd.DataFrame:
    return _query("""
        select run_id, source, original_name, row_number, column_name, reason, rejected_at
        from audit.rejected_files
        order by rejected_at desc, original_name
    """)


def runs_after_publish(published_run_id: str) -> list[dict]:
    """Runs in the data directory's log after the one that published the warehouse shown: a
    failed run publishes nothing, so the warehouse cannot know about it."""
    return [
        r
        for r in runlog.read_log(run_log())
        if r.get("run_id", "") > published_run_id and r.get("status") != "running"
    ]


def published_version() -> pd.DataFrame:
    """Which version the dashboard shows: the run that published it, when, and the kept file an
    auditor can open to see the same figures (`bluelight versions`), from one read-only opening."""
    path = warehouse()
    frame = _query(publish.PUBLISHING_RUN_SQL).rename(columns={"finished_at": "published_at"})
    if frame.empty:
        return frame.assign(version_file=pd.Series(dtype=object), kept_versions=0)
    kept = publish.version_path(publish_root(), frame.run_id[0])
    return frame.assign(
        version_file=str(kept) if kept.exists() else None,
        kept_versions=len(publish.version_files(publish_root())),
        file_size_bytes=os.stat(path).st_size,
    )


# ---------------------------------------------------------------- what the marts wait for


def mart_readiness() -> pd.DataFrame:
    """Each mart as the last run left it (audit.mart_readiness): the sources it is built from,
    those never loaded, its rows and its status (ready, partial, waiting). No rows in a warehouse
    built before runs recorded it."""
    columns = ["mart", "sources", "waiting_for", "rows", "status", "checked_at", "run_id"]
    if not _exists("audit", "mart_readiness"):
        return pd.DataFrame(columns=columns)
    return _query(
        """
        select mart, sources, waiting_for, rows, status, checked_at, run_id
        from audit.mart_readiness
        order by case status when 'waiting' then 0 when 'partial' then 1 else 2 end, mart
    """
    )


def mart_rows(marts: tuple[str, ...]) -> dict[str, int]:
    """Rows in each of these marts; 0 for a mart the warehouse does not hold. The names come
    from the pages' code and are checked against the catalogue before they reach the SQL."""
    present = set(
        _query(
            """
            select table_name from information_schema.tables
            where table_schema = 'marts' and list_contains(?, table_name)
        """,
            [list(marts)],
        ).table_name
    )
    counted = [m for m in marts if m in present]
    if not counted:
        return dict.fromkeys(marts, 0)
    sql = " union all ".join(
        f"select '{m}' as mart, count(*) as n from marts.\"{m}\"" for m in counted
    )
    counts = dict(_query(sql).itertuples(index=False, name=None))
    return {m: int(counts.get(m, 0)) for m in marts}


def _exists(schema: str, table: str) -> bool:
    """Whether the warehouse holds the table."""
    return not _query(
        """
        select 1 from information_schema.tables
        where table_schema = ? and table_name = ?
    """,
        [schema, table],
    ).empty


# ---------------------------------------------------------------- national picture
# Published national statistics (marts/published/): every force, trust and fire and rescue
# service, beside the England and Wales median the marts work out.


def police_worker_types() -> list[str]:
    """Worker types in the police workforce tables, in the order the release tables them."""
    return _query("""
        select worker_type
        from marts.fct_police_workforce
        group by worker_type
        order by min(table_name), worker_type
    """)["worker_type"].tolist()


def police_workforce(worker_type: str) -> pd.DataFrame:
    """Every force's figure for a worker type at each as-at date, the England and Wales median
    for that type and date, and the release (the file as sent) the figure came from."""
    return _query(
        """
        with releases as (
            select archive_path, any_value(original_name) as original_name
            from audit.loaded_files
            where status = 'loaded'
            group by archive_path
        )
        select w.force_name, w.as_at_date, w.fte, w.median_fte_england_wales, w.table_name,
               coalesce(r.original_name, w.source_file) as release
        from marts.fct_police_workforce as w
        left join releases as r on r.archive_path = w.source_file
        where w.worker_type = ?
        order by w.force_name, w.as_at_date
    """,
        [worker_type],
    )


def ambulance_trusts() -> pd.DataFrame:
    return _query("""
        select trust_code, any_value(trust_name order by month desc) as trust_name
        from marts.fct_ambulance_response_monthly
        group by trust_code
        order by trust_name
    """)


def ambulance_response(category: str) -> pd.DataFrame:
    """Every trust's incidents, mean and 90th centile response per month in a category (C1 to
    C4), beside the England median of the trusts' figures that month."""
    return _query(
        """
        select trust_code, trust_name, month, incidents, mean_response_minutes,
               p90_response_minutes, england_median_mean_minutes, england_median_p90_minutes
        from marts.fct_ambulance_response_monthly
        where category = ?
        order by trust_code, month
    """,
        [category],
    )


def fire_stations() -> pd.DataFrame:
    """Every fire station in the Home Office list, with its grid reference where published."""
    return _query("""
        select frs_code, frs_name, station_name, postcode, easting, northing
        from marts.dim_fire_stations
        order by frs_name, station_name
    """)


def fire_station_counts() -> pd.DataFrame:
    """Stations per fire and rescue service, and how many of them have a grid reference."""
    return _query("""
        select frs_code, frs_name, count(*) as stations, count(easting) as with_grid_reference
        from marts.dim_fire_stations
        group by frs_code, frs_name
        order by stations desc, frs_name
    """)


def area_coterminosity() -> pd.DataFrame:
    """Each police force area and fire and rescue authority: its main partner of the other kind
    and the share of its districts that partner serves (fct_area_coterminosity)."""
    return _query("""
        select area_type, area_code, area_name, partner_type, districts, matched_districts,
               partners, main_partner_code, main_partner_name, districts_in_main_partner,
               district_share, is_coterminous, pfa_vintage, fra_vintage
        from marts.fct_area_coterminosity
        order by area_type desc, area_name
    """)
