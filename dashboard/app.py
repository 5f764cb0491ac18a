"""Commissioners' dashboard: the entry point (`streamlit run dashboard/app.py`), which sets up the
page and routes to the pages in dashboard/views/. Every page reads the published warehouse
read-only, through its queries in dashboard/queries/ and the connections dashboard/warehouse.py
holds."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import access, warehouse

VIEWS = Path(__file__).parent / "views"
PAGES = [
    st.Page(VIEWS / "overview.py", title="Overview", default=True),
    st.Page(VIEWS / "national.py", title="National picture"),
    st.Page(VIEWS / "bid.py", title="Bid"),
    st.Page(VIEWS / "response_times.py", title="Response times"),
    st.Page(VIEWS / "estates.py", title="Estates"),
    st.Page(VIEWS / "staffing.py", title="Staffing"),
    st.Page(VIEWS / "data_health.py", title="Data health"),
    st.Page(VIEWS / "method.py", title="Method"),
]

NAMING_A_BID = {"Bid"}  # pages that log their own view, with the bid they show

st.set_page_config(page_title="Bluelight: collaboration benefits", layout="wide")
page = st.navigation(PAGES, position="top")

if not warehouse.file().exists():
    st.title("Blue-light collaboration: are the benefits real?")
    st.error(f"No published warehouse at {warehouse.file()}. Run `bluelight demo` first.")
    st.stop()

if page.title not in NAMING_A_BID:
    access.viewed(page.title)
page.run()
