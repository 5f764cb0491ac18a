"""National picture: the published national statistics, which need no bid or agency extract.
Pick a police force, an ambulance trust or a fire and rescue service and see it beside the others
and beside the England and Wales median: police workforce by force and as-at date, ambulance
response by trust and month (AmbSYS) against the response standards, fire stations by service
on a map, and how far police force areas and fire and rescue authorities share their districts.
Medians and shares are the marts'; the page only draws them. Its sections are in
dashboard/national/."""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.national import ambulance, areas, fire, police

st.title("National picture")
st.caption(
    "Published national statistics, loaded as their publishers release them: no bid or agency "
    "extract needed. Choose your police force, ambulance trust or fire and rescue service in "
    "its section to see it beside the others and the median."
)
police.section()
ambulance.section()
fire.section()
areas.section()
ui.version_caption()
