"""Staffing: full-time equivalents by service and role over time, and shared posts. Each service
and each role has its one colour (dashboard/ui.py), the same on every chart."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, ui
from dashboard.queries import staffing


def headline(staff: pd.DataFrame, now: pd.DataFrame) -> None:
    last = staff.month.max()
    first = staff[staff.month == staff.month.min()]
    shared_now = now[now.is_shared_post]
    a, b, c = st.columns(3)
    a.metric(
        f"FTE in post, {last:%b %Y}",
        f"{now.fte.sum():,.1f}",
        delta=f"{now.fte.sum() - first.fte.sum():+,.1f} since {staff.month.min():%b %Y}",
        delta_color="off",
    )
    b.metric(f"Headcount, {last:%b %Y}", f"{int(now.headcount.sum()):,}")
    c.metric(
        f"Shared posts (FTE), {last:%b %Y}",
        f"{shared_now.fte.sum():,.1f}",
        help="Posts shared between services: tri-service officers, joint control room staff.",
    )
    if area:
        st.caption(
            f"Organisations serving {area}: "
            + "; ".join(sorted(set("; ".join(staff.organisations).split("; "))))
            + ". An organisation serving more than one county counts in full in each."
        )


def fte_lines(frame: pd.DataFrame, field: str, colour: alt.Color, **chart) -> alt.Chart:
    """FTE in post by month, a line per `field` coloured by `colour`; `chart` as alt.Chart's
    (a title)."""
    return (
        alt.Chart(frame, **chart)
        .mark_line(point=charts.with_points(frame.month))
        .encode(
            x=charts.month_axis(frame.month),
            y=alt.Y("fte:Q", title="FTE in post", scale=charts.from_zero()),
            color=colour,
            tooltip=[
                field,
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("fte:Q", format=",.1f"),
            ],
        )
        .properties(height=260)
    )


def by_service(staff: pd.DataFrame) -> None:
    st.subheader("By service")
    frame = staff.groupby(["month", "service"], as_index=False)[["fte", "headcount"]].sum()
    colour = alt.Color("service:N", scale=charts.service_scale(frame.service), title="Service")
    ui.chart(fte_lines(frame, "service", colour), frame, "fte_by_service")


def by_role(staff: pd.DataFrame, now: pd.DataFrame) -> None:
    st.subheader("By role")
    roles = staff.assign(role=staff.role.str.replace("_", " "))
    for each in [s for s in ui.SERVICE_COLOURS if s in set(roles.service)]:
        mine = roles[roles.service == each]
        colour = alt.Color("role:N", scale=charts.role_scale(mine.role), title=None)
        lines = fte_lines(mine, "role", colour, title=each.capitalize())
        ui.chart(lines, mine, f"fte_by_role_{each}")
    latest = now.assign(role=now.role.str.replace("_", " "))[
        ["service", "role", "fte", "headcount", "is_shared_post"]
    ].rename(
        columns={
            "service": "Service",
            "role": "Role",
            "fte": "FTE",
            "headcount": "Headcount",
            "is_shared_post": "Shared post",
        }
    )
    ui.table(
        latest,
        "fte_latest_month",
        column_config={"FTE": st.column_config.NumberColumn(format="%.1f")},
    )


def shared_posts(staff: pd.DataFrame) -> None:
    st.subheader("Shared posts")
    shared = staff[staff.is_shared_post]
    if shared.empty:
        st.info(f"No shared posts in {period}.")
        return
    shared = shared.assign(role=shared.role.str.replace("_", " "))
    chart = (
        alt.Chart(shared)
        .mark_line(point=charts.with_points(shared.month))
        .encode(
            x=charts.month_axis(shared.month),
            y=alt.Y("fte:Q", title="FTE in shared posts", scale=charts.from_zero()),
            color=alt.Color("role:N", scale=charts.role_scale(shared.role), title=None),
            tooltip=["role", "organisations", alt.Tooltip("month:T", format="%b %Y"), "fte"],
        )
        .properties(height=200)
    )
    ui.chart(chart, shared, "shared_posts")


service, area, period = ui.page_with_filters(
    "Staffing", ("fct_staffing_monthly",), "No staffing returns loaded yet."
)

staff = staffing.staffing(service, area, period.start, period.end)
if staff.empty:
    st.info(f"No staffing returns for {period}.")
    ui.version_caption()
    st.stop()

now = staff[staff.month == staff.month.max()]
headline(staff, now)
by_service(staff)
by_role(staff, now)
shared_posts(staff)
ui.version_caption()
