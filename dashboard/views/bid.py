"""Bid: one bid's partners, award and go-live; each benefit's profile over time (baseline, target
line, actuals), status and owner; and the attribution view beside the plain before/after."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, queries, ui
from dashboard.queries import bid

BIDS = ("dim_bids", "dim_benefits", "fct_benefit_realisation", "fct_benefit_attribution")
MEASURED = ("fct_benefit_realisation",)
SERIES = {
    "baseline_value": "baseline",
    "profiled_target_value": "target line",
    "actual_value": "actual",
}


def value(bid_id: str) -> None:
    """The bid's net present value, benefit-cost ratio, cashable benefits and payback year."""
    frame = bid.bid_value(bid_id)
    if frame.empty:
        return
    v = frame.iloc[0]
    a, b, c, d = st.columns(4)
    a.metric(
        "Net present value",
        ui.pounds(v.npv_gbp),
        help=f"Benefits to date minus cost, pounds at {v.price_base_year} prices, discounted "
        f"at {queries.parameter('discount_rate'):.1%} a year to that year (HM Treasury Green "
        "Book).",
    )
    b.metric("Benefit-cost ratio", f"{v.benefit_cost_ratio:.2f}")
    c.metric(
        "Cashable, present value",
        ui.pounds(v.pv_cashable_gbp),
        help="Cashable benefits to date in present value.",
    )
    d.metric("Paid back in", v.payback_year or "not yet")
    st.caption(
        f"Money in pounds at {v.price_base_year} prices (real terms, the register's price base)."
    )


def benefit_heading(row) -> None:
    """A benefit's description, owner and target, and its latest year's figures."""
    st.subheader(f"{row.benefit_id}: {row.description}")
    st.caption(
        f"Owner: {row.owner}. {row.category.replace('_', '-').capitalize()}, "
        f"{row.recurrence.replace('_', '-')}; target by {row.target_date:%d %B %Y}"
        + (f"; pounds at {row.price_base_year} prices." if row.unit == "gbp" else ".")
    )
    a, b, c, d = st.columns(4)
    a.metric("Status " + row.financial_year, ui.status_text(row.status))
    b.metric("Baseline", ui.value_in_unit(row.baseline_value, row.unit))
    c.metric("Target", ui.value_in_unit(row.target_value, row.unit))
    shared = row.share_of_target_realised
    d.metric(
        "Actual " + row.financial_year,
        ui.value_in_unit(row.actual_value, row.unit),
        help="Share of the promised change realised: "
        + (f"{shared:.0%}" if pd.notna(shared) else "n/a"),
    )


def profile_chart(row, mine: pd.DataFrame) -> None:
    """A benefit's baseline, target line and actual by financial year."""
    series = ui.long_form(mine, ["financial_year", "status"], SERIES, "series", "value")
    series["unit"] = row.unit
    line = (
        alt.Chart(series)
        .mark_line(point=True)
        .encode(
            x=alt.X("financial_year:O", title="Financial year"),
            y=alt.Y(
                "value:Q",
                title="£ (real terms)" if row.unit == "gbp" else row.unit,
                scale=alt.Scale(zero=False),
            ),
            color=alt.Color(
                "series:N",
                scale=charts.palette_scale(list(SERIES.values())),
                title=None,
                legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=list(SERIES.values()), range=[[2, 2], [6, 3], [1, 0]]),
                title=None,
            ),
            tooltip=["financial_year", "series", alt.Tooltip("value:Q", format=",.1f"), "status"],
        )
        .properties(height=230)
    )
    ui.chart(line, series, f"{row.benefit_id}_profile")


def attribution_chart(benefit_id: str, att) -> None:
    """The plain before/after change, the comparison areas' and the attributable change with its
    95% interval."""
    unit = att.unit
    st.markdown("**How much is the collaboration's doing?**")
    frame = pd.DataFrame(
        {
            "figure": ["Before/after (plain)", "Comparison areas' change", "Attributable change"],
            "change": [att.before_after_change, att.comparison_change, att.estimate],
            "low": [None, None, att.ci_low],
            "high": [None, None, att.ci_high],
        }
    )
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("figure:N", sort=None, title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X("change:Q", title=f"Change ({ui.UNITS.get(unit, unit)})"),
            color=alt.Color(
                "figure:N", scale=charts.palette_scale(frame.figure.tolist()), legend=None
            ),
            tooltip=["figure", alt.Tooltip("change:Q", format="+,.1f")],
        )
    )
    whisker = (
        alt.Chart(frame.dropna())
        .mark_rule(color="#000000", strokeWidth=2)
        .encode(y=alt.Y("figure:N", sort=None), x="low:Q", x2="high:Q")
    )
    ui.chart((bars + whisker).properties(height=150), frame, f"{benefit_id}_attribution")
    st.info(
        f"Plain before/after: **{ui.signed_in_unit(att.before_after_change, unit)}**. "
        f"The comparison areas changed by {ui.signed_in_unit(att.comparison_change, unit)} "
        "over the same years, so the change attributable to the project is "
        f"**{ui.signed_in_unit(att.estimate, unit)}** (95% interval "
        f"{ui.signed_in_unit(att.ci_low, unit)} to {ui.signed_in_unit(att.ci_high, unit)}"
        f"; {int(att.observations):,} incidents, {int(att.smallest_cell):,} in the "
        "smallest group)."
    )


def benefit(row, profile: pd.DataFrame, attribution: pd.DataFrame, period: ui.Period) -> None:
    benefit_heading(row)
    mine = profile[profile.benefit_id == row.benefit_id]
    attributed = row.benefit_id in attribution.index
    left, right = st.columns([3, 2]) if attributed else (st.container(), None)
    with left:
        if mine.empty:
            st.info(f"No figures for {row.benefit_id} in {period}.")
        else:
            profile_chart(row, mine)
    if right is not None:
        with right:
            attribution_chart(row.benefit_id, attribution.loc[row.benefit_id])


if not ui.has_rows(BIDS):
    st.title("Bid")
    ui.require(BIDS, "No bids loaded yet.")
area = ui.area_filter()
bid_id = ui.bid_filter(area)
period = ui.period_filter()
ui.filters_note()

if bid_id is None:
    st.title("Bid")
    st.info("No bids in this area.")
    st.stop()

chosen = queries.bids(area).set_index("bid_id").loc[bid_id]
st.title(f"{bid_id}: {chosen.title}")
st.markdown(
    f"**{chosen.fund_round}**, led by {chosen.lead_organisation} for {chosen.county}. "
    f"Partners: {chosen.partners.replace(';', ', ')}. Award {ui.pounds(chosen.award_gbp)} plus "
    f"{ui.pounds(chosen.partner_contribution_gbp)} from partners (cash); live from "
    f"**{chosen.go_live_date:%d %B %Y}**."
)

latest = bid.benefit_latest(bid_id)
if latest.empty:
    # A bid's value counts its cost before any benefit: shown once a benefit is measured.
    ui.empty_state(MEASURED, f"No benefits measured for {bid_id} yet.")
    ui.version_caption()
    st.stop()

value(bid_id)
attribution = bid.benefit_attribution(bid_id).set_index("benefit_id")
profile = bid.benefit_profile(bid_id, period.start, period.end)
for row in latest.itertuples():
    benefit(row, profile, attribution, period)
ui.version_caption()
