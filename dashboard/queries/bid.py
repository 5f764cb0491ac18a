"""The Bid page's queries: one bid's value, and its benefits' profile, latest complete year, year
to date, attribution, the bids that share a measure with them and the areas they are compared
with. The bid itself comes from the shared `bids` (dashboard/queries/__init__.py).

A financial year in progress (fct_benefit_realisation.is_complete_period false, status
'year_to_date') is never judged: the latest year and the profile are complete years, and the
year in progress is read on its own. A version of the marts from before is_complete_period
existed judged every year it held, and is read so."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard import queries, warehouse

REALISATION = "fct_benefit_realisation"


def complete_years_only() -> bool:
    """Whether the marts say which years are complete (is_complete_period)."""
    return queries.has_column(REALISATION, "is_complete_period")


@warehouse.query
def bid_value(bid_id: str):
    """A bid's money in present value: to date (benefits, cost, NPV, benefit-cost ratio,
    payback), over its whole appraisal period with optimism bias as a range, the switching value
    and how many of its benefits are not money."""
    return (
        """
        select price_base_year, cost_basis, optimism_bias_basis, non_monetised_benefits,
               pv_cashable_gbp, pv_non_cashable_gbp, pv_benefits_gbp, pv_cost_gbp, npv_gbp,
               benefit_cost_ratio, payback_year, appraisal_from, appraisal_to,
               whole_life_npv_gbp, whole_life_bcr, whole_life_npv_ob_low_gbp,
               whole_life_bcr_ob_low, whole_life_npv_ob_high_gbp, whole_life_bcr_ob_high,
               whole_life_payback_year, switching_value
        from marts.fct_bid_value
        where bid_id = ?
    """,
        [bid_id],
    )


@warehouse.query
def bid_sensitivity(bid_id: str):
    """A bid's whole-life NPV and benefit-cost ratio with one assumption changed at a time."""
    return (
        """
        select scenario, description, whole_life_npv_gbp, whole_life_bcr, npv_change_gbp
        from marts.fct_bid_sensitivity
        where bid_id = ?
        order by scenario_order
    """,
        [bid_id],
    )


def benefit_profile(bid_id: str, start: date, end: date):
    """Each benefit of a bid per complete financial year in the period: baseline, profiled
    target, actual and what it would have been without the bid (the counterfactual)."""
    return benefit_profile_rows(bid_id, start, end, complete_years_only())


@warehouse.query
def benefit_profile_rows(bid_id: str, start: date, end: date, complete_only: bool):
    complete = "and r.is_complete_period" if complete_only else ""
    return (
        f"""
        select r.benefit_id, b.description, r.unit, r.financial_year, r.period_end_date,
               r.baseline_value, r.profiled_target_value, r.target_value, r.actual_value,
               r.counterfactual_value, r.status
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        where r.bid_id = ? and r.period_end_date between ? and ? {complete}
        order by r.benefit_id, r.financial_year
    """,
        [bid_id, start, end],
    )


def benefit_latest(bid_id: str):
    """Each benefit of a bid in its latest complete financial year, the year its status and the
    Overview's realised money are judged on: the register's baseline, confidence and evidence,
    the actual, the counterfactual, the saving (improvement), the attribution share and the
    bid's attributed saving."""
    return benefit_latest_rows(bid_id, complete_years_only())


@warehouse.query
def benefit_latest_rows(bid_id: str, complete_only: bool):
    complete = "and r.is_complete_period" if complete_only else ""
    return (
        f"""
        select r.benefit_id, b.description, b.owner, b.confidence, b.evidence_source,
               r.category, r.recurrence, r.unit, r.direction, b.price_base_year,
               b.baseline_period, r.financial_year, r.baseline_value, r.target_value,
               b.target_date, r.actual_value, r.counterfactual_value, r.observations,
               r.attribution_share, r.attributed_improvement, r.share_of_target_realised,
               r.status, r.improvement, r.improvement_ci_low, r.improvement_ci_high,
               r.before_after_improvement, r.improvement_basis, r.is_estimate_reliable,
               r.reliability_note
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        where r.bid_id = ? {complete}
        qualify row_number() over (partition by r.benefit_id order by r.financial_year desc) = 1
        order by r.benefit_id
    """,
        [bid_id],
    )


def benefit_year_to_date(bid_id: str):
    """Each benefit's financial year in progress, if any: its figures so far, never judged
    (none where the marts do not say which years are complete)."""
    return year_to_date_rows(bid_id, complete_years_only())


@warehouse.query
def year_to_date_rows(bid_id: str, complete_known: bool):
    judged = "not r.is_complete_period" if complete_known else "false"
    through = "r.data_through_date" if complete_known else "null::date as data_through_date"
    return (
        f"""
        select r.benefit_id, r.financial_year, r.unit, r.actual_value, r.observations,
               r.status, {through}
        from marts.fct_benefit_realisation as r
        where r.bid_id = ? and {judged}
        order by r.benefit_id, r.financial_year
    """,
        [bid_id],
    )


@warehouse.query
def benefit_sharing(bid_id: str):
    """For each benefit of the bid whose measure (in its county and scope) other bids also claim
    a share of: each other bid's benefit, title and share, and the shares' total
    (fct_measure_attribution)."""
    return (
        """
        select mine.benefit_id, attribution.total_attribution_share,
               other.benefit_id as other_benefit_id, other.bid_id as other_bid_id,
               bids.title as other_title, other.attribution_share as other_share
        from marts.dim_benefits as mine
        inner join marts.fct_measure_attribution as attribution
            on mine.measure = attribution.measure
            and mine.measure_county = attribution.measure_county
            and mine.measure_scope = attribution.measure_scope
        inner join marts.dim_benefits as other
            on mine.measure = other.measure
            and mine.measure_county = other.measure_county
            and mine.measure_scope = other.measure_scope
            and mine.bid_id != other.bid_id
        inner join marts.dim_bids as bids on other.bid_id = bids.bid_id
        where mine.bid_id = ?
        order by mine.benefit_id, other.bid_id, other.benefit_id
    """,
        [bid_id],
    )


@warehouse.query
def benefit_attribution(bid_id: str):
    """Each benefit's plain before/after change beside the difference in differences over the
    years either side of go-live, with its tests (permutation, pre-trend, placebo) and verdict."""
    return (
        """
        select benefit_id, unit, measure, treated_units, comparison_units, treated_before,
               treated_after, before_after_change, comparison_before, comparison_after,
               comparison_change, estimate, ci_low, ci_high, degrees_of_freedom,
               permutation_p_value, permutation_assignments, pre_trend_p_value,
               placebo_go_live_date, placebo_p_value, is_reliable, reliability_note
        from marts.fct_benefit_attribution
        where bid_id = ?
        order by benefit_id
    """,
        [bid_id],
    )


def comparison_areas(bid_id: str):
    """Each benefit's comparison counties: the areas its counterfactual is measured against
    (no rows in a warehouse that does not record them)."""
    if queries.tables_present("intermediate", ("int_benefit_units",)).empty:
        return pd.DataFrame(columns=["benefit_id", "counties"])
    return comparison_area_rows(bid_id)


@warehouse.query
def comparison_area_rows(bid_id: str):
    # The units each counterfactual compares are the intermediate model int_benefit_units (no
    # mart carries the comparison counties yet).
    return (
        """
        select units.benefit_id, string_agg(distinct units.county, ', ' order by units.county)
               as counties
        from intermediate.int_benefit_units as units
        inner join marts.dim_benefits as benefits using (benefit_id)
        where benefits.bid_id = ? and units.arm = 'comparison'
        group by units.benefit_id
    """,
        [bid_id],
    )
