"""Commissioners' dashboard: the entry point (`streamlit run dashboard/app.py`), which sets up the
page, signs the reader in when sign-in is configured, and routes to the pages in dashboard/views/
their roles give them. Every page reads the published warehouse read-only, through its queries in
dashboard/queries/ and the connections dashboard/warehouse.py holds, within the reader's scope."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import access, warehouse
from dashboard.pages import PAGES, pages_for
from flows.security.access_log import AccessLogBroken
from flows.security.roles import LOCAL, AccessFileError
from flows.warehouse.migrations import WarehouseTooNew

VIEWS = Path(__file__).parent / "views"
NAMING_A_BID = {"Bid"}  # pages that log their own view, with the bid they show


def sign_in_page() -> None:
    st.title("Blue-light collaboration: are the benefits real?")
    st.write("Sign in with your organisation's account to see the bids and evidence.")
    st.button("Sign in", type="primary", on_click=st.login)
    st.stop()


def ask_for_access_page(user: str) -> None:
    access.refused("(any page)", why="no role")
    st.title("Ask for access")
    st.write(
        f"You are signed in as **{user}**, but no role in Bluelight is granted to this account. "
        f"Ask {access.ask_whom()} to grant you one, naming this account."
    )
    st.button("Sign out", on_click=st.logout)
    st.stop()


st.set_page_config(page_title="Bluelight: collaboration benefits", layout="wide")
if not access.signin_required():
    refusal = access.beyond_loopback()
    if refusal:
        st.error(refusal)
        st.stop()
elif not access.signed_in():
    sign_in_page()
try:
    granted = access.current()
except AccessFileError as error:
    st.error(f"The access file cannot be used, so no page is shown: {error}")
    st.stop()
if not granted.has_role:
    ask_for_access_page(granted.who)
warehouse.use(granted.scope)
shown = pages_for(granted.roles)
page = st.navigation(
    [st.Page(VIEWS / PAGES[title], title=title, default=i == 0) for i, title in enumerate(shown)],
    position="top",
)
if granted.who != LOCAL:
    st.sidebar.caption(f"Signed in as {granted.who} ({', '.join(sorted(granted.roles))})")
    st.sidebar.button("Sign out", on_click=st.logout)

if not warehouse.has_published():
    st.title("Blue-light collaboration: are the benefits real?")
    st.error(f"No published warehouse at {warehouse.where()}. Run `bluelight demo` first.")
    st.stop()
try:
    warehouse.version()  # opens the warehouse, refusing one a newer release built
except WarehouseTooNew as refusal:
    st.title("Blue-light collaboration: are the benefits real?")
    st.error(str(refusal))
    st.stop()

# Every table's way out is the logged download under it, not the grid's own toolbar.
st.html("<style>[data-testid='stElementToolbar'] {display: none}</style>")
try:
    if page.title not in NAMING_A_BID:
        access.viewed(page.title)
except AccessLogBroken as broken:  # no view goes unlogged: only the log's own page is shown
    if page.title != "Access log":
        st.error(f"No page is shown while the access log is broken: {broken}")
        st.stop()
page.run()
