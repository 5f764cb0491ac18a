"""Every SQL query the dashboard runs, with parameters (never built from user input).

Each call opens the published warehouse read-only and closes it before returning, so the
dashboard never holds the file between requests and never blocks the nightly publish.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from flows.settings import Settings


def warehouse() -> Path:
    return Settings.from_env().published_db


def version() -> int:
    """Changes whenever a new warehouse is published; cache keys include it."""
    return warehouse().stat().st_mtime_ns


def _query(sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse()), read_only=True) as con:
        return con.execute(sql, params or []).df()


def bids() -> pd.DataFrame:
    return _query("""
        select bid_id, title, fund_round, partners, award_gbp, partner_contribution_gbp,
               go_live_date, benefits
        from marts.dim_bids
        order by go_live_date, bid_id
    """)


def services() -> list[str]:
    return _query("select distinct service from marts.fct_response_times_monthly order by 1")[
        "service"
    ].tolist()


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


def response_trend(service: str, incident_category: str) -> pd.DataFrame:
    """Monthly median and 90th percentile response per county."""
    return _query(
        """
        select month, county, incidents, median_response_minutes, p90_response_minutes
        from marts.fct_response_times_monthly
        where area_type = 'county' and service = ? and incident_category = ?
        order by month, county
    """,
        [service, incident_category],
    )


def response_last_year(service: str, incident_category: str) -> pd.DataFrame:
    """Incident-weighted mean response over the last twelve months of data, per county."""
    return _query(
        """
        with recent as (
            select *
            from marts.fct_response_times_monthly
            where area_type = 'county' and service = ? and incident_category = ?
              and month > (select max(month) from marts.fct_response_times_monthly)
                          - interval 12 month
        )
        select county, sum(incidents) as incidents,
               sum(mean_response_minutes * incidents) / sum(incidents) as mean_response_minutes
        from recent
        group by county
        order by county
    """,
        [service, incident_category],
    )


def go_lives(service: str) -> pd.DataFrame:
    """Go-live dates of the bids with a benefit for the service (marked on its trend)."""
    return _query(
        """
        select distinct b.bid_id, b.title, b.go_live_date
        from marts.dim_bids as b
        inner join marts.dim_benefits as f using (bid_id)
        where f.beneficiary = ?
        order by b.go_live_date, b.bid_id
    """,
        [service],
    )


def benefit_profile(bid_id: str) -> pd.DataFrame:
    """Each benefit of a bid per financial year: baseline, profiled target and actual."""
    return _query(
        """
        select r.benefit_id, b.description, b.owner, r.category, r.recurrence, r.unit,
               r.financial_year, r.period_end_date, r.baseline_value, r.profiled_target_value,
               r.target_value, r.actual_value, r.improvement, r.attributed_improvement,
               r.share_of_target_realised, r.status
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        where r.bid_id = ?
        order by r.benefit_id, r.financial_year
    """,
        [bid_id],
    )


def benefit_latest(bid_id: str) -> pd.DataFrame:
    """Each benefit of a bid in its latest financial year."""
    return _query(
        """
        select r.benefit_id, b.description, b.owner, r.category, r.recurrence, r.unit,
               r.financial_year, r.baseline_value, r.target_value, r.actual_value,
               r.attributed_improvement, r.share_of_target_realised, r.status
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        where r.bid_id = ?
        qualify row_number() over (partition by r.benefit_id order by r.financial_year desc) = 1
        order by r.benefit_id
    """,
        [bid_id],
    )


def published_version() -> pd.DataFrame:
    """Which version the dashboard shows: the run that published it, when, and the kept file an
    auditor can open to see the same figures (`bluelight versions`), from one read-only opening."""
    from flows import publish

    path = warehouse()
    with duckdb.connect(str(path), read_only=True) as con:
        frame = con.execute(publish.PUBLISHING_RUN_SQL).df()
    frame = frame.rename(columns={"finished_at": "published_at"})
    if frame.empty:
        return frame.assign(version_file=pd.Series(dtype=object), kept_versions=0)
    kept = publish.version_path(path, frame.run_id[0])
    return frame.assign(
        version_file=str(kept) if kept.exists() else None,
        kept_versions=len(publish.version_files(path)),
    )


def bid_value(bid_id: str) -> pd.DataFrame:
    """A bid's money in present value: benefits, cost, NPV, benefit-cost ratio, payback year."""
    return _query(
        """
        select price_base_year, pv_cashable_gbp, pv_non_cashable_gbp, pv_cost_gbp, npv_gbp,
               benefit_cost_ratio, payback_year
        from marts.fct_bid_value
        where bid_id = ?
    """,
        [bid_id],
    )


def benefit_attribution(bid_id: str) -> pd.DataFrame:
    """Each service benefit's plain before/after change beside the difference in differences."""
    return _query(
        """
        select benefit_id, unit, before_after_change, comparison_change, estimate, ci_low,
               ci_high
        from marts.fct_benefit_attribution
        where bid_id = ?
        order by benefit_id
    """,
        [bid_id],
    )
