"""The National picture's fire stations: a fire and rescue service's stations on a map beside
everyone else's, and stations counted per service."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.national import OTHERS, ranked_bars
from dashboard.queries import national

FIRE = ("dim_fire_stations",)


def section() -> None:
    if not ui.section("Fire stations", FIRE, "No fire stations list loaded yet."):
        return
    counts = national.fire_station_counts()
    stations = national.fire_stations()
    names = dict(zip(counts.frs_code, counts.frs_name, strict=True))
    by_name = dict(sorted(names.items(), key=lambda code_name: code_name[1]))
    service = ui.pick("fire_service", "Fire and rescue service", by_name)
    row = counts[counts.frs_code == service].iloc[0]
    a, b = st.columns(2)
    a.metric(f"{names[service]}: stations", f"{int(row.stations):,}")
    rank = int((counts.stations > row.stations).sum()) + 1
    b.metric(
        "Rank by stations",
        f"{rank} of {len(counts)}",
        help="Among the fire and rescue services of England in the list; 1 has the most.",
    )
    station_map(service, names[service], stations, counts)

    st.subheader("Stations per service")
    per_service = counts.assign(chosen=counts.frs_code == service)
    ui.chart(
        ranked_bars(
            per_service, "frs_name", "stations", "Fire stations", ui.SERVICE_COLOURS["fire"]
        ),
        counts,
        "fire_stations_per_service",
    )
    st.caption("Home Office, list of fire stations in England.")


def station_map(service: str, name: str, stations: pd.DataFrame, counts: pd.DataFrame) -> None:
    """Every station at its grid reference, the chosen service's large and in its colour."""
    st.subheader("Where the stations are")
    located = stations.dropna(subset=["easting", "northing"]).assign(
        chosen=lambda f: f.frs_code == service,
        service=lambda f: f.frs_name.where(f.frs_code == service, "other services"),
    )
    chosen = alt.Scale(domain=[True, False], range=[70, 12])
    points = (
        alt.Chart(located)
        .mark_point(filled=True)
        .encode(
            longitude="easting:Q",
            latitude="northing:Q",
            color=alt.Color(
                "service:N",
                scale=alt.Scale(
                    domain=[name, "other services"], range=[ui.SERVICE_COLOURS["fire"], OTHERS]
                ),
                title=None,
                legend=alt.Legend(orient="bottom"),
            ),
            size=alt.Size("chosen:N", scale=chosen, legend=None),
            opacity=alt.Opacity(
                "chosen:N", scale=alt.Scale(domain=[True, False], range=[1.0, 0.5]), legend=None
            ),
            order=alt.Order("chosen:N"),
            tooltip=["station_name", "frs_name", "postcode"],
        )
    )
    ui.chart(
        points.project(type="identity", reflectY=True)
        .properties(height=620)
        .configure_view(stroke="#BBBBBB"),
        located.drop(columns=["chosen", "service"]),
        "fire_stations_map",
    )
    unplaced = counts[counts.with_grid_reference < counts.stations]
    st.caption(
        "Stations at their British National Grid references, north up (no background map)."
        + "".join(
            f" {r.frs_name}: {r.stations - r.with_grid_reference} of {r.stations} stations have "
            "no grid reference in the list, so are counted but not drawn."
            for r in unplaced.itertuples()
        )
    )
