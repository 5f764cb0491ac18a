"""A bid's money on the Bid page: to date (benefits realised against costs paid), over its whole
appraisal period with optimism bias as a range, the switching value, the benefits that are not
money beside the ratio, and the sensitivity table. Every figure is fct_bid_value's or
fct_bid_sensitivity's; each links to its section of the Method page."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, queries, ui
from dashboard.method import link
from dashboard.queries import bid


def ratio(value) -> str:
    return "none" if pd.isna(value) else f"{value:.2f}"


def section(bid_id: str) -> None:
    frame = bid.bid_value(bid_id)
    if frame.empty:
        return
    v = frame.iloc[0]
    to_date(v)
    whole_life(v)
    sensitivity(bid_id, v)
    st.caption(
        f"Money in pounds at {v.price_base_year} prices (real terms, the register's price base). "
        f"Costs: {v.cost_basis}; optimism bias: {v.optimism_bias_basis}."
    )


def to_date(v) -> None:
    a, b, c, d = st.columns(4)
    rate = queries.parameter("discount_rate")
    a.metric(
        "Net present value to date",
        ui.pounds(v.npv_gbp),
        help=f"Money benefits realised to date minus costs paid to date, pounds at "
        f"{v.price_base_year} prices, discounted at {rate:.1%} a year (HM Treasury Green "
        "Book). " + link("net-present-value"),
    )
    b.metric(
        "Benefit-cost ratio to date",
        ratio(v.benefit_cost_ratio),
        help=not_monetised(v) + " " + link("benefit-cost-ratio"),
    )
    c.metric(
        "Cashable, present value",
        ui.pounds(v.pv_cashable_gbp),
        help="Cashable benefits to date in present value, against the counterfactual. "
        + link("counterfactual-and-attribution"),
    )
    d.metric("Paid back in", v.payback_year or "not yet", help=link("payback"))


def not_monetised(v) -> str:
    """The benefits the ratio leaves out, said beside it rather than counted as 0."""
    n = int(v.non_monetised_benefits or 0)
    if not n:
        return "Every benefit of the bid is money."
    kinds = "benefit is" if n == 1 else "benefits are"
    return f"{n} {kinds} not money (response times) and not in the ratio: see each below."


def whole_life(v) -> None:
    st.markdown(
        f"**Over the appraisal period**, {v.appraisal_from} to {v.appraisal_to}: measured years, "
        "then recurring savings held at the last measured year and planned costs with optimism "
        "bias. " + link("net-present-value", "Method")
    )
    a, b, c, d = st.columns(4)
    a.metric(
        "Whole-life NPV",
        ui.pounds(v.whole_life_npv_gbp),
        help=f"With optimism bias at its bounds: {ui.pounds(v.whole_life_npv_ob_high_gbp)} to "
        f"{ui.pounds(v.whole_life_npv_ob_low_gbp)}. " + link("costs-and-optimism-bias"),
    )
    b.metric(
        "Whole-life benefit-cost ratio",
        ratio(v.whole_life_bcr),
        help=f"Range {ratio(v.whole_life_bcr_ob_high)} to {ratio(v.whole_life_bcr_ob_low)} "
        "with optimism bias at its upper and lower bound. "
        + not_monetised(v)
        + " "
        + link("benefit-cost-ratio"),
    )
    c.metric(
        "Switching value",
        "none" if pd.isna(v.switching_value) else f"{v.switching_value:.0%}",
        help="How far whole-life money benefits could fall before the ratio drops to 1. "
        + link("switching-value"),
    )
    d.metric(
        "Whole-life payback",
        v.whole_life_payback_year or "none",
        help=(
            f"Paid back in {v.whole_life_payback_year}."
            if v.whole_life_payback_year
            else f"Not paid back within the appraisal period (to {v.appraisal_to})."
        )
        + " "
        + link("payback"),
    )


def sensitivity(bid_id: str, v) -> None:
    table = bid.bid_sensitivity(bid_id)
    if table.empty:
        return
    with st.expander("Sensitivity: one assumption changed at a time"):
        ui.chart(sensitivity_bars(table), table, f"{bid_id}_sensitivity")
        st.caption(link("sensitivity", "How each scenario is worked out"))


def sensitivity_bars(table: pd.DataFrame) -> alt.Chart:
    """Whole-life NPV by scenario (fct_bid_sensitivity's rows), the Bid page's and the evidence
    pack's."""
    return (
        alt.Chart(table)
        .mark_bar(color=ui.SERIES_COLOURS[2])  # money: sky blue, as on the Overview
        .encode(
            y=alt.Y("description:N", sort=None, title=None, axis=alt.Axis(labelLimit=360)),
            x=alt.X(
                "whole_life_npv_gbp:Q",
                title="Whole-life NPV (£, real terms)",
                scale=charts.from_zero(),
            ),
            tooltip=[
                "description",
                alt.Tooltip("whole_life_npv_gbp:Q", format=",.0f", title="NPV (£)"),
                alt.Tooltip("whole_life_bcr:Q", format=".2f", title="BCR"),
            ],
        )
        .properties(height=28 * len(table))
    )
