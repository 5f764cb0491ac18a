"""Bid: one bid's partners, award and go-live; its evidence pack to download
(dashboard/bid/pack.py); its money (dashboard/bid/money.py); each benefit's
owner and evidence, its latest complete year (for money, the steps from baseline to the
attributed saving the Overview shows, and the other bids sharing it), any year to date, its
profile over time, and how much of the change is the bid's doing (dashboard/bid/benefits.py)."""

from __future__ import annotations

import streamlit as st

from dashboard import access, queries, ui
from dashboard.bid import address, benefits, money, pack, saving
from dashboard.queries import bid

BIDS = ("dim_bids", "dim_benefits", "fct_benefit_realisation", "fct_benefit_attribution")
MEASURED = ("fct_benefit_realisation",)


if not ui.has_rows(BIDS):
    st.title("Bid")
    ui.require(BIDS, "No bids loaded yet.")
address.bid_from_address()
area = ui.area_filter()
bid_id = ui.bid_filter(area)
access.viewed("Bid", bid_id)
period = ui.period_filter()
ui.filters_note()

if bid_id is None:
    st.title("Bid")
    compared = queries.compared_against(area).drop_duplicates("bid_id")
    st.info(
        "No bids in this area."
        + (
            f" {area} is the comparison area for "
            + "; ".join(ui.bid_name(b.bid_id, b.title) for b in compared.itertuples())
            + ": choose every area to see them."
            if not compared.empty
            else ""
        )
    )
    st.stop()

chosen = queries.bids(area).set_index("bid_id").loc[bid_id]
st.title(ui.bid_name(bid_id, chosen.title))
st.markdown(
    f"**{chosen.fund_round}**, led by {chosen.lead_organisation} for {chosen.county}. "
    f"Partners: {chosen.partners.replace(';', ', ')}. Award {ui.pounds(chosen.award_gbp)} plus "
    f"{ui.pounds(chosen.partner_contribution_gbp)} from partners (cash); live from "
    f"**{chosen.go_live_date:%d %B %Y}**."
)
pack.section(bid_id)

latest = bid.benefit_latest(bid_id)
if latest.empty:
    # A bid's value counts its cost before any benefit: shown once a benefit is measured.
    ui.empty_state(MEASURED, f"No benefits measured for {bid_id} yet.")
    ui.version_caption()
    st.stop()

money.section(bid_id)
money_kinds = [saving.overview_column(r) for r in latest.itertuples()]
figures = benefits.BidFigures(
    profile=bid.benefit_profile(bid_id, period.start, period.end),
    attributions=bid.benefit_attribution(bid_id).set_index("benefit_id"),
    sharing=bid.benefit_sharing(bid_id),
    in_progress=bid.benefit_year_to_date(bid_id),
    comparison_areas=dict(bid.comparison_areas(bid_id).itertuples(index=False, name=None)),
    money_parts={kind: money_kinds.count(kind) for kind in money_kinds if kind},
    period=period,
)
for row in latest.itertuples():
    benefits.benefit(row, figures)
ui.version_caption()
