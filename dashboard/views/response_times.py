"""Response times: monthly median and 90th percentile per service, area and incident category,
headed by the latest month's median, 90th percentile and share within the standard (the
standard stated: seed response_standards), go-live dates marked; fire split into call
handling, turnout and drive time."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, ui
from dashboard.queries import response_times

STATISTICS = {"median_response_minutes": "median", "p90_response_minutes": "90th percentile"}
# The category each service's trend shows when every service is on the page: all of a service's
# incidents, except ambulance, whose categories run different clocks (category 1 stands for it).
HEADLINE_CATEGORY = {"ambulance": "C1"}
FIRE_PARTS = {
    "call_handling_minutes": "call handling",
    "turnout_minutes": "turnout",
    "drive_minutes": "drive",
}


def headline(latest: pd.DataFrame, standard: tuple[str, str]) -> None:
    """Per county, the latest month's median, 90th percentile and share within the standard:
    the last points of the charts below. `standard`: how the metric names the standard, and the
    standard in words."""
    short, words = standard
    for row in latest.itertuples():
        st.markdown(f"**{row.county}**, {row.month:%B %Y} ({int(row.incidents):,} incidents)")
        a, b, c = st.columns(3)
        a.metric(f"{row.county}: median", minutes(row.median_response_minutes))
        b.metric(f"{row.county}: 90th percentile", minutes(row.p90_response_minutes))
        share = row.share_within_standard
        c.metric(
            f"{row.county}: within standard ({short})",
            "no standard" if pd.isna(share) else f"{share:.0%}",
            help=f"Share of the month's incidents reached within the standard: {words}.",
        )
    if len(latest):
        st.caption(f"Standard: {words}.")


def minutes(value) -> str:
    return "n/a" if pd.isna(value) else f"{value:.1f} min"


def standard_of(service: str, category: str) -> tuple[str, str]:
    """The category's response standard, short and in words (seed response_standards); for all
    of a service's incidents, each category's, each incident judged against its own."""
    if category is None:  # a service with no incident categories
        return "none", "no standard"
    rows = response_times.standards(service)
    if category != "all":
        rows = rows[rows.incident_category == category]
        if rows.empty:
            return "none", f"no standard for {category.replace('_', ' ')}"
        row = rows.iloc[0]
        return (
            f"{row.standard_minutes:g} min",
            f"{row.standard_minutes:g} min, {row.standard_source}",
        )
    each = ", ".join(
        f"{r.incident_category.replace('_', ' ')} {r.standard_minutes:g} min"
        for r in rows.itertuples()
    )
    return "by category", f"each incident against its category's standard ({each})"


def trend_chart(service: str, category: str, trend) -> None:
    long = charts.long_form(trend, ["month", "county"], STATISTICS, "statistic", "minutes")
    counties = sorted(long.county.unique())
    lines = (
        alt.Chart(long)
        .mark_line(point=charts.with_points(long.month))
        .encode(
            x=charts.month_axis(long.month, "Month of call"),
            y=alt.Y(
                "minutes:Q", title="Minutes from call to first arrival", scale=charts.from_zero()
            ),
            color=alt.Color("county:N", scale=charts.series_scale(counties), title="County"),
            strokeDash=alt.StrokeDash(
                "statistic:N",
                scale=alt.Scale(domain=list(STATISTICS.values()), range=[[1, 0], [5, 3]]),
                title="Statistic",
            ),
            tooltip=[
                "county",
                "statistic",
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("minutes:Q", format=".1f"),
            ],
        )
        .properties(height=300)
    )
    go_lives = response_times.go_lives(area)
    marks = charts.go_live_layer(go_lives[go_lives.service == service], period.start, period.end)
    ui.chart(lines + marks if marks is not None else lines, long, f"{service}_{category}_trend")


def every_service() -> None:
    """All incidents of every service, one section each."""
    st.info(
        "Every service, all incidents. Choose a service in the sidebar for its incident "
        "categories, the share within the standard and, for fire, the parts of the response."
    )
    latest = response_times.response_latest_month(None, "all", area, period.end)
    trends = response_times.response_trend(None, "all", area, period.start, period.end)
    if trends.empty:
        st.info(f"No incidents in {period}.")
    for each in sorted(trends.service.unique()):
        st.subheader(each.capitalize())
        category = HEADLINE_CATEGORY.get(each, "all")
        latest_month, trend = latest, trends
        if category != "all":
            clock_caption(each, category)
            latest_month = response_times.response_latest_month(each, category, area, period.end)
            trend = response_times.response_trend(each, category, area, period.start, period.end)
        headline(latest_month[latest_month.service == each], standard_of(each, category))
        trend_chart(each, category, trend[trend.service == each].drop(columns=["service"]))
    ui.version_caption()
    st.stop()


def clock_caption(service: str, category: str) -> None:
    """The category's clock and standard: ambulance categories are never mixed."""
    rule = response_times.clock_rule(service, category)
    if rule.empty:
        return
    row = rule.iloc[0]
    mixed = (
        " Ambulance times are shown per category: the categories run different clocks."
        if service == "ambulance"
        else ""
    )
    st.caption(f"{category.replace('_', ' ')}: {row.clock_rule}.{mixed}")


def within_standard(service: str, category: str, trend: pd.DataFrame) -> None:
    standard = trend.dropna(subset=["share_within_standard"])
    if standard.empty:
        return
    short, words = standard_of(service, category)
    st.subheader(f"Share reached within the standard ({short})")
    st.caption(f"Standard: {words}.")
    share = (
        alt.Chart(standard)
        .mark_line(point=alt.OverlayMarkDef(size=20))
        .encode(
            x=charts.month_axis(standard.month, "Month of call"),
            y=alt.Y(
                "share_within_standard:Q",
                title="Share within the standard",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color(
                "county:N",
                scale=charts.series_scale(sorted(trend.county.unique())),
                title="County",
            ),
            tooltip=[
                "county",
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("share_within_standard:Q", format=".0%"),
                "incidents",
            ],
        )
        .properties(height=220)
    )
    ui.chart(
        share,
        standard[["month", "county", "incidents", "share_within_standard"]],
        f"{service}_{category}_within_standard",
    )


def fire_parts(trend: pd.DataFrame) -> pd.DataFrame:
    """Per county and financial year (the mart's, marts.dim_months), each part's mean over the
    year's incidents: months are too noisy to read a split from."""
    weighted = trend[list(FIRE_PARTS)].mul(trend.incidents, axis=0)
    weighted[["county", "financial_year", "incidents"]] = trend[
        ["county", "financial_year", "incidents"]
    ]
    sums = weighted.groupby(["county", "financial_year"], as_index=False).sum()
    parts = sums.melt(
        id_vars=["county", "financial_year", "incidents"],
        value_vars=list(FIRE_PARTS),
        var_name="part",
        value_name="minutes",
    )
    parts["minutes"] = parts.minutes / parts.incidents
    parts["part"] = parts["part"].map(FIRE_PARTS)
    parts["part_order"] = parts.part.map({p: i for i, p in enumerate(FIRE_PARTS.values())})
    return parts


def fire_split(category: str, trend: pd.DataFrame) -> None:
    st.subheader("Fire: where the minutes go")
    parts = fire_parts(trend)
    counties = sorted(parts.county.unique())
    for column, county in zip(st.columns(len(counties)), counties, strict=True):
        with column:
            st.markdown(f"**{county}**")
            mine = parts[parts.county == county]
            stacked = (
                alt.Chart(mine)
                .mark_bar()
                .encode(
                    x=alt.X("financial_year:O", title="Financial year"),
                    y=alt.Y(
                        "minutes:Q", stack="zero", title="Mean minutes", scale=charts.from_zero()
                    ),
                    color=alt.Color(
                        "part:N",
                        scale=charts.series_scale(list(FIRE_PARTS.values())),
                        sort=list(FIRE_PARTS.values()),
                        title=None,
                        legend=alt.Legend(orient="bottom"),
                    ),
                    order=alt.Order("part_order:Q"),
                    tooltip=[
                        "financial_year",
                        "part",
                        alt.Tooltip("minutes:Q", format=".2f"),
                        "incidents",
                    ],
                )
                .properties(height=380)  # the whole chart: labels and legend take 150 px
            )
            ui.chart(stacked, mine.drop(columns=["part_order"]), f"fire_{category}_{county}_parts")
    st.caption(
        "Call handling: call to first resource mobilised. Turnout: mobilised to leaving the "
        "station. Drive: leaving to first arrival. Each year's mean over its incidents."
    )


service, area, period = ui.page_with_filters(
    "Response times", ("fct_response_times_monthly",), "No incidents loaded yet."
)
st.caption(
    f"{period}. Dashed vertical lines: go-live of each Police Innovation Fund project with a "
    "benefit for the service. A change at go-live is not all the project's doing: compare the "
    "counties, and see each bid's attribution on the Bid page."
)
if service is None:
    every_service()

category = st.selectbox(
    "Incident category",
    response_times.incident_categories(service).incident_category.tolist(),
    format_func=lambda c: c.replace("_", " "),
    key=f"category.{service}",
)
clock_caption(service, category)
headline(
    response_times.response_latest_month(service, category, area, period.end),
    standard_of(service, category),
)
trend = response_times.response_trend(service, category, area, period.start, period.end)
if trend.empty:
    st.info(f"No {service} incidents of this category in {period}.")
    ui.version_caption()
    st.stop()

st.subheader("Median and 90th percentile")
trend_chart(service, category, trend)
within_standard(service, category, trend)
if service == "fire":
    fire_split(category, trend)
ui.version_caption()
