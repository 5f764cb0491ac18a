"""The Overview's queries: each bid's row of fct_bid_overview, the last load, and what a version
held (each benefit's latest status, each bid's net present value) to compare with the one before
it."""

from __future__ import annotations

from dashboard import warehouse


@warehouse.query
def bid_overview(area: str | None = None):
    """One row per bid (fct_bid_overview): money promised against realised (a year's savings
    apart from one-off receipts to date), service measures on track, status, net present value,
    benefit-cost ratio and payback year."""
    return (
        """
        select bid_id, title, county, go_live_date, latest_year,
               cashable_promised_gbp, cashable_realised_gbp,
               non_cashable_promised_gbp, non_cashable_realised_gbp,
               one_off_promised_gbp, one_off_realised_gbp,
               service_measures, service_measures_on_track,
               benefits_green, benefits_amber, benefits_red, status,
               price_base_year, pv_benefits_gbp, pv_cost_gbp, npv_gbp,
               benefit_cost_ratio, payback_year
        from marts.fct_bid_overview
        where ?::varchar is null or county = ?
        order by go_live_date, bid_id
    """,
        [area, area],
    )


@warehouse.query
def bid_npv():
    """Each bid's net present value, null before it has one (from fct_bid_value, which versions
    kept from before fct_bid_overview existed hold too)."""
    return """
        select b.bid_id, v.npv_gbp
        from marts.dim_bids as b
        left join marts.fct_bid_value as v using (bid_id)
        order by b.bid_id
    """


@warehouse.query
def benefit_statuses():
    """Each benefit's latest year, actual and status (compared between two versions)."""
    return """
        select r.bid_id, r.benefit_id, b.description, r.unit, r.financial_year,
               r.actual_value, r.status
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
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
