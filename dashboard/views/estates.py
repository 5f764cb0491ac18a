"""Estates: a map of sites by service with co-located sites highlighted, running costs over time,
disposals and capital receipts. The map is drawn from the sites' grid references alone (no map
tiles: nothing is fetched from outside the machine)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, ui
from dashboard.queries import estates


def headline(year: str, sites: pd.DataFrame, costs: pd.DataFrame, sold: pd.DataFrame) -> None:
    a, b, c, d = st.columns(4)
    a.metric(f"Sites, {year}", f"{len(sites):,}")
    b.metric(f"Co-located sites, {year}", f"{int(sites.is_co_located.sum()):,}")
    a_year = costs[costs.financial_year == year]
    c.metric(f"Running costs, {year}", ui.pounds(a_year.running_cost_gbp.sum()))
    d.metric(
        "Capital receipts",
        ui.pounds(sold.capital_receipt_gbp.sum()),
        help=f"{len(sold)} sites disposed of, {period}.",
    )
    st.caption("Pounds cash (each year's prices), as the estate returns record them.")


def site_map(sites: pd.DataFrame) -> alt.LayerChart:
    """Sites at their grid references by service, co-located ones as ringed diamonds, and each
    county's name above its sites."""
    base = alt.Chart(sites).encode(
        longitude="easting:Q",
        latitude="northing:Q",
        tooltip=[
            "site_name",
            "service",
            "organisation",
            "sharing",
            "shared_with",
            alt.Tooltip("running_cost_gbp:Q", format=",.0f", title="running cost (£)"),
            "tenure",
        ],
    )
    sharing = alt.Scale(domain=["one service", "co-located"], range=["circle", "diamond"])
    points = base.mark_point(filled=True, opacity=0.85).encode(
        color=alt.Color("service:N", scale=charts.service_scale(sites.service), title="Service"),
        shape=alt.Shape("sharing:N", scale=sharing, title="Site"),
        size=alt.Size(
            "sharing:N",
            scale=alt.Scale(domain=["one service", "co-located"], range=[60, 260]),
            legend=None,
        ),
    )
    rings = (
        base.transform_filter("datum.is_co_located")
        .mark_point(shape="diamond", size=520, stroke="#000000", strokeWidth=1.5, filled=False)
        .encode()
    )
    counties = (
        sites.groupby("county", as_index=False)
        .agg(easting=("easting", "mean"), northing=("northing", "max"))
        .assign(northing=lambda f: f.northing + 4_000)
    )
    names = (
        alt.Chart(counties)
        .mark_text(fontSize=13, fontWeight="bold", color="#444444")
        .encode(longitude="easting:Q", latitude="northing:Q", text="county:N")
    )
    return (
        (points + rings + names)
        .project(type="identity", reflectY=True)
        .properties(height=420)
        .configure_view(stroke="#BBBBBB")
    )


def sites_section(sites: pd.DataFrame) -> None:
    sites = sites.assign(
        sharing=sites.is_co_located.map({True: "co-located", False: "one service"}),
        shared_with=sites.co_located_services.fillna(""),
    )
    ui.chart(site_map(sites), sites.drop(columns=["sharing", "shared_with"]), "estate_sites")
    st.caption(
        "Sites at their British National Grid references, north up (no background map). "
        "Diamonds ringed in black: sites another service shares."
    )
    shared = sites[sites.is_co_located]
    if shared.empty:
        return
    ui.table(
        shared[["site_name", "service", "co_located_services", "co_located_since", "county"]]
        .rename(
            columns={
                "site_name": "Site",
                "service": "Service",
                "co_located_services": "Shared with",
                "co_located_since": "Since",
                "county": "County",
            }
        )
        .sort_values("Since"),
        "co_located_sites",
        column_config={"Since": st.column_config.DateColumn(format="D MMM YYYY")},
    )


def running_costs(costs: pd.DataFrame) -> None:
    st.subheader("Running costs")
    bars = (
        alt.Chart(costs)
        .mark_bar()
        .encode(
            x=alt.X("financial_year:O", title="Financial year"),
            y=alt.Y(
                "running_cost_gbp:Q",
                title="Running cost (£ cash)",
                axis=alt.Axis(format="~s"),
                scale=charts.from_zero(),
            ),
            color=alt.Color(
                "service:N", scale=charts.service_scale(costs.service), title="Service"
            ),
            tooltip=[
                "financial_year",
                "service",
                "sites",
                alt.Tooltip("running_cost_gbp:Q", format=",.0f"),
            ],
        )
        .properties(height=280)
    )
    ui.chart(bars, costs, "estate_running_costs")


def disposals(sold: pd.DataFrame) -> None:
    st.subheader("Disposals and capital receipts")
    if sold.empty:
        st.info(f"No disposals in {period}.")
        return
    ui.table(
        pd.DataFrame(
            {
                "Disposed of": sold.disposal_date,
                "Site": sold.site_name,
                "Service": sold.service,
                "County": sold.county,
                "Capital receipt (£)": sold.capital_receipt_gbp,
            }
        ),
        "disposals",
        money=("Capital receipt (£)",),
        column_config={"Disposed of": st.column_config.DateColumn(format="D MMM YYYY")},
    )


service, area, period = ui.page_with_filters(
    "Estates", ("fct_estate_sites_yearly",), "No estate returns loaded yet."
)

sites = estates.estate_sites(service, area, period.last)
costs = estates.estate_costs(service, area, period.first, period.last)
sold = estates.disposals(service, area, period.first, period.last)
if sites.empty and costs.empty:
    st.info(f"No sites in the estate returns for {period}.")
    ui.version_caption()
    st.stop()

year = costs.financial_year.max() if not costs.empty else period.last
headline(year, sites, costs, sold)
st.subheader(f"Sites in {year}")
if not sites.empty:
    sites_section(sites)
if not costs.empty:
    running_costs(costs)
disposals(sold)
ui.version_caption()
