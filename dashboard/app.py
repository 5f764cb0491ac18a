"""Commissioners' dashboard: the entry point (`streamlit run dashboard/app.py`), which sets up the
page, signs the reader in when sign-in is configured, and routes to the pages in dashboard/views/
their roles give them. Every page reads the published warehouse read-only, through its queries in
dashboard/queries/ and the connections dashboard/warehouse.py holds, within the reader's scope."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import access, warehouse
from flows.security.roles import ANALYST, AUDITOR, COMMISSIONER, LOCAL, OPERATOR, AccessFileError

VIEWS = Path(__file__).parent / "views"
PAGES = {
    "Overview": "overview.py",
    "National picture": "national.py",
    "Bid": "bid.py",
    "Response times": "response_times.py",
    "Estates": "estates.py",
    "Staffing": "staffing.py",
    "Upload": "upload.py",
    "Data health": "data_health.py",
    "Access log": "access_log.py",
    "Method": "method.py",
}
OFFICE = ("Overview", "National picture", "Bid", "Response times", "Estates", "Staffing")
# The pages each role has (flows/security/roles.py says what each role is for).
ROLE_PAGES = {
    COMMISSIONER: (*OFFICE, "Method"),
    ANALYST: (*OFFICE, "Upload", "Method"),
    AUDITOR: (*OFFICE, "Data health", "Access log", "Method"),
    OPERATOR: ("National picture", "Data health", "Access log", "Method"),
    LOCAL: tuple(PAGES),
}
NAMING_A_BID = {"Bid"}  # pages that log their own view, with the bid they show


def pages_for(held: frozenset[str]) -> list[str]:
    """The pages the roles `held` give together, in the navigation's order."""
    granted = {page for role in held for page in ROLE_PAGES.get(role, ())}
    return [page for page in PAGES if page in granted]


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
if access.signin_required() and not access.signed_in():
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

if not warehouse.file().exists():
    st.title("Blue-light collaboration: are the benefits real?")
    st.error(f"No published warehouse at {warehouse.file()}. Run `bluelight demo` first.")
    st.stop()

if page.title not in NAMING_A_BID:
    access.viewed(page.title)
page.run()
