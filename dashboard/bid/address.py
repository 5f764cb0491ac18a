"""The Bid page's address: the bid a link names (`/bid?bid=B1`) is shown when it is among the
reader's bids (their scope, dashboard/warehouse.py) and refused, said so and logged, when it is
not. The address is read once and cleared, so it never outlives the choice it made."""

from __future__ import annotations

import streamlit as st

from dashboard import access, queries, ui


def bid_from_address() -> None:
    """Show the bid the address names (`?bid=`) if it is among the reader's bids: the filters
    are set to it. One that is not (another area's, or none) is refused, said so and logged, and
    never shown; the filters stay as they were."""
    asked = st.query_params.pop("bid", None)
    if asked is None:
        return
    if asked in set(queries.bids().bid_id):
        st.session_state["filter.area"] = ui.ALL_AREAS
        st.session_state["filter.bid"] = asked
        return
    access.refused("Bid", asked, why="not among the bids this account may see")
    st.warning(f"No bid {asked} is among the bids you may see.")
