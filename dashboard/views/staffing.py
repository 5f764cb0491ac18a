"""Staffing: full-time equivalents by service and role over time, and shared posts."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import ui

st.title("Staffing")
ui.require(("fct_staffing_monthly",), "No staffing returns loaded yet.")
service = ui.service_filter()
area = ui.area_filter()
period = ui.period_filter()
ui.filters_note()

staff = ui.load("staffing", service, area, period.start, period.end)
if staff.empty:
    st.info(f"No staffing returns for {period}.")
    ui.version_caption()
    st.stop()

last = staff.month.max()
now = staff[staff.month == last]
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

st.subheader("By service")
by_service = staff.groupby(["month", "service"], as_index=False)[["fte", "headcount"]].sum()
lines = (
    alt.Chart(by_service)
    .mark_line(point=ui.with_points(by_service.month))
    .encode(
        x=ui.month_axis(by_service.month),
        y=alt.Y("fte:Q", title="FTE in post"),
        color=alt.Color("service:N", scale=ui.service_scale(by_service.service), title="Service"),
        tooltip=[
            "service",
            alt.Tooltip("month:T", format="%b %Y"),
            alt.Tooltip("fte:Q", format=",.1f"),
        ],
    )
    .properties(height=260)
)
ui.chart(lines, by_service, "fte_by_service")

st.subheader("By role")
by_role = staff.assign(role=staff.role.str.replace("_", " "))
for each in [s for s in ui.SERVICE_COLOURS if s in set(by_role.service)]:
    mine = by_role[by_role.service == each]
    roles = sorted(mine.role.unique())
    role_lines = (
        alt.Chart(mine, title=each.capitalize())
        .mark_line(point=ui.with_points(mine.month))
        .encode(
            x=ui.month_axis(mine.month),
            y=alt.Y("fte:Q", title="FTE in post"),
            color=alt.Color("role:N", scale=ui.palette_scale(roles), title=None),
            tooltip=[
                "role",
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("fte:Q", format=",.1f"),
            ],
        )
        .properties(height=260)
    )
    ui.chart(role_lines, mine, f"fte_by_role_{each}")
latest_roles = now.assign(role=now.role.str.replace("_", " "))[
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
    latest_roles,
    "fte_latest_month",
    column_config={"FTE": st.column_config.NumberColumn(format="%.1f")},
)

st.subheader("Shared posts")
shared = staff[staff.is_shared_post]
if shared.empty:
    st.info(f"No shared posts in {period}.")
else:
    shared_chart = (
        alt.Chart(shared.assign(role=shared.role.str.replace("_", " ")))
        .mark_line(point=ui.with_points(shared.month))
        .encode(
            x=ui.month_axis(shared.month),
            y=alt.Y("fte:Q", title="FTE in shared posts"),
            color=alt.Color(
                "role:N",
                scale=ui.palette_scale(sorted(shared.role.str.replace("_", " ").unique())),
                title=None,
            ),
            tooltip=["role", "organisations", alt.Tooltip("month:T", format="%b %Y"), "fte"],
        )
        .properties(height=200)
    )
    ui.chart(shared_chart, shared, "shared_posts")
ui.version_caption()
