"""The Overview's queries: each bid's row of fct_bid_overview, the savings two bids share, the
last load, and what a version held (each benefit's latest status, each bid's net present value)
to compare with the one before it."""

from __future__ import annotations

import pandas as pd

from dashboard import queries, warehouse

# What fct_bid_overview says of a financial year in progress and of the evidence behind each
# status, where the version shown has it.
EVIDENCE = """year_to_date, year_to_date_observations, benefits_too_little_data,
               benefits_on_unreliable_estimates"""
NO_EVIDENCE = """null::varchar as year_to_date, null::bigint as year_to_date_observations,
               0 as benefits_too_little_data, 0 as benefits_on_unreliable_estimates"""


def bid_overview(area: str | None = None) -> pd.DataFrame:
    """One row per bid (fct_bid_overview): money promised against realised (a year's savings
    apart from one-off receipts to date), service measures on track, status, net present value,
    benefit-cost ratio and payback year; the year in progress and its observations, the
    benefits with too little data and those resting on an estimate flagged not reliable (null
    and 0 in a version of the marts without them)."""
    newer = queries.has_column("fct_bid_overview", "benefits_on_unreliable_estimates")
    return bid_overview_rows(area, newer)


@warehouse.query
def bid_overview_rows(area: str | None, with_evidence: bool):
    return (
        f"""
        select bid_id, title, county, go_live_date, latest_year,
               cashable_promised_gbp, cashable_realised_gbp,
               non_cashable_promised_gbp, non_cashable_realised_gbp,
               one_off_promised_gbp, one_off_realised_gbp,
               service_measures, service_measures_on_track,
               benefits_green, benefits_amber, benefits_red, status,
               price_base_year, pv_benefits_gbp, pv_cost_gbp, npv_gbp,
               benefit_cost_ratio, payback_year,
               {EVIDENCE if with_evidence else NO_EVIDENCE}
        from marts.fct_bid_overview
        where ?::varchar is null or county = ?
        order by go_live_date, bid_id
    """,
        [area, area],
    )


@warehouse.query
def shared_savings(area: str | None = None):
    """Each measure (in its county and scope) that more than one bid claims a share of
    (fct_measure_attribution), a row per claiming benefit with its bid's title and share."""
    return (
        """
        select attribution.measure, attribution.measure_county, attribution.measure_scope,
               attribution.total_attribution_share, benefits.benefit_id, benefits.bid_id,
               bids.title, benefits.attribution_share
        from marts.fct_measure_attribution as attribution
        inner join marts.dim_benefits as benefits
            on attribution.measure = benefits.measure
            and attribution.measure_county = benefits.measure_county
            and attribution.measure_scope = benefits.measure_scope
        inner join marts.dim_bids as bids on benefits.bid_id = bids.bid_id
        where len(string_split(attribution.bid_ids, ', ')) > 1
          and (?::varchar is null or attribution.measure_county = ?)
        order by attribution.measure, attribution.measure_county, attribution.measure_scope,
                 benefits.bid_id
    """,
        [area, area],
    )


@warehouse.query
def bid_npv():
    """Each bid's net present value, null before it has one (from fct_bid_value, which versions
    kept from before fct_bid_overview existed hold too)."""
    return """
        select b.bid_id, b.title, v.npv_gbp
        from marts.dim_bids as b
        left join marts.fct_bid_value as v using (bid_id)
        order by b.bid_id
    """


@warehouse.query
def benefit_statuses():
    """Each benefit's latest judged year, actual and status, with its bid's title (compared
    between two versions; a year in progress, status 'year_to_date', is never judged, so left
    out, in any version)."""
    return """
        select r.bid_id, bids.title, r.benefit_id, b.description, r.unit, r.financial_year,
               r.actual_value, r.status
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        inner join marts.dim_bids as bids on r.bid_id = bids.bid_id
        where r.status is distinct from 'year_to_date'
        qualify row_number() over (partition by r.benefit_id order by r.financial_year desc) = 1
        order by r.bid_id, r.benefit_id
    """


@warehouse.query
def load_run(run_id: str):
    return (
        """
        select run_id, started_at, finished_at, status, files_loaded, files_skipped,
               files_rejected, rows_loaded, rows_quarantined, checks_passed, checks_failed,
               checks_warned, error
        from audit.load_runs
        where run_id = ?
    """,
        [run_id],
    )
