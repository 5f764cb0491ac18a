"""Bid: one bid's partners, award and go-live; its money (dashboard/bid/money.py); each benefit's
profile over time, status and owner, and how much of the change is the bid's doing
(dashboard/bid/benefits.py)."""

from __future__ import annotations

import streamlit as st

from dashboard import queries, ui
from dashboard.bid import benefits, money
from dashboard.queries import bid

BIDS = ("dim_bids", "dim_benefits", "fct_benefit_realisation", "fct_benefit_attribution")
MEASURED = ("fct_benefit_realisation",)


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

money.section(bid_id)
attribution = bid.benefit_attribution(bid_id).set_index("benefit_id")
profile = bid.benefit_profile(bid_id, period.start, period.end)
for row in latest.itertuples():
    benefits.benefit(row, profile, attribution, period)
ui.version_caption()
