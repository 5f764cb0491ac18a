"""The Bid page's queries: one bid's value, and its benefits' profile, latest year and
attribution. The bid itself comes from the shared `bids` (dashboard/queries/__init__.py)."""

from __future__ import annotations

from datetime import date

from dashboard import warehouse


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


@warehouse.query
def benefit_profile(bid_id: str, start: date, end: date):
    """Each benefit of a bid per financial year in the period: baseline, profiled target, actual
    and what it would have been without the bid (the counterfactual)."""
    return (
        """
        select r.benefit_id, b.description, r.unit, r.financial_year, r.period_end_date,
               r.baseline_value, r.profiled_target_value, r.target_value, r.actual_value,
               r.counterfactual_value, r.status
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        where r.bid_id = ? and r.period_end_date between ? and ?
        order by r.benefit_id, r.financial_year
    """,
        [bid_id, start, end],
    )


@warehouse.query
def benefit_latest(bid_id: str):
    """Each benefit of a bid in its latest financial year."""
    return (
        """
        select r.benefit_id, b.description, b.owner, r.category, r.recurrence, r.unit,
               b.price_base_year, r.financial_year, r.baseline_value, r.target_value,
               b.target_date, r.actual_value, r.attributed_improvement,
               r.share_of_target_realised, r.status, r.improvement, r.improvement_ci_low,
               r.improvement_ci_high, r.before_after_improvement, r.improvement_basis,
               r.is_estimate_reliable, r.reliability_note
        from marts.fct_benefit_realisation as r
        inner join marts.dim_benefits as b using (benefit_id)
        where r.bid_id = ?
        qualify row_number() over (partition by r.benefit_id order by r.financial_year desc) = 1
        order by r.benefit_id
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
