"""The National picture's police workforce: a force's figure for a worker type at each as-at date
against the England and Wales median, and every force ranked at the latest date."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.national import MEDIAN, MEDIAN_DASH, ranked_bars
from dashboard.queries import national

POLICE = ("fct_police_workforce",)
# The workforce tables publish full-time equivalents, except special constables: a headcount.
HEADCOUNT = {"Special constables"}
ENGLAND_WALES = "England and Wales median"


def section() -> None:
    if not ui.section("Police workforce", POLICE, "No police workforce tables loaded yet."):
        return
    left, right = st.columns(2)
    worker = ui.pick(
        "police_worker_type",
        "Who is counted",
        national.police_worker_types().worker_type.tolist(),
        default="Police officers",
        draw=right.selectbox,
    )
    workforce = national.police_workforce(worker)
    force = ui.pick(
        "police_force", "Police force", sorted(workforce.force_name.unique()), draw=left.selectbox
    )
    unit = "headcount" if worker in HEADCOUNT else "FTE"
    latest = workforce.as_at_date.max()
    now = workforce[workforce.as_at_date == latest].dropna(subset=["fte"])
    median = now.median_fte_england_wales.dropna()
    mine = workforce[workforce.force_name == force].sort_values("as_at_date")
    headline(force, worker, unit, latest, mine, now, median)

    st.subheader(f"{force} against the median")
    trend = mine[["as_at_date", "fte", "median_fte_england_wales", "table_name", "release"]]
    ui.chart(trend_chart(force, worker, unit, trend), trend, "police_workforce_trend")

    st.subheader(f"Every force, {latest:%d %B %Y}")
    ranking = now[["force_name", "fte", "median_fte_england_wales", "table_name", "release"]]
    ranking = ranking.assign(chosen=ranking.force_name == force)
    ui.chart(
        ranked_bars(
            ranking,
            "force_name",
            "fte",
            f"{worker} ({unit})",
            ui.SERVICE_COLOURS["police"],
            rule=median.iloc[0] if not median.empty else None,
            rule_label="median",
        ),
        ranking,
        "police_workforce_forces",
    )
    releases = "; ".join(sorted(set(workforce.table_name + " of " + workforce.release)))
    measure = "headcount, as the table publishes it" if unit == "headcount" else "FTE"
    st.caption(
        f"Home Office, Police workforce, England and Wales ({releases}): {worker.lower()}, "
        f"{measure}. The latest release of each figure; the median is the middle of the 43 "
        "forces at each date."
    )


def headline(force: str, worker: str, unit: str, latest, mine, now, median) -> None:
    """The force's figure at the latest as-at date and its change since the one before, the
    median (`median`, of the forces `now`), and the force's rank."""
    number = "{:,.0f}" if unit == "headcount" else "{:,.2f}"  # as the tables publish them
    change = "{:+,.0f}" if unit == "headcount" else "{:+,.2f}"
    figure = mine[mine.as_at_date == latest].fte
    a, b, c = st.columns(3)
    if figure.empty or pd.isna(figure.iloc[0]):
        a.metric(f"{force}, {latest:%d %b %Y}", "not published")
    else:
        before = mine[mine.as_at_date < latest].dropna(subset=["fte"])
        a.metric(
            f"{force}, {latest:%d %b %Y}",
            f"{number.format(figure.iloc[0])} {unit}",
            delta=(
                change.format(figure.iloc[0] - before.fte.iloc[-1])
                + f" since {before.as_at_date.iloc[-1]:%d %b %Y}"
                if not before.empty
                else None
            ),
            delta_color="off",
        )
        rank = int((now.fte > figure.iloc[0]).sum()) + 1
        c.metric(
            f"Rank, {latest:%d %b %Y}",
            f"{rank} of {len(now)}",
            help=f"Among the forces of England and Wales by {worker.lower()}; 1 is the largest.",
        )
    b.metric(
        f"England and Wales median, {latest:%d %b %Y}",
        f"{number.format(median.iloc[0])} {unit}" if not median.empty else "n/a",
        help="The middle force of the 43 in England and Wales.",
    )


def trend_chart(force: str, worker: str, unit: str, trend: pd.DataFrame) -> alt.Chart:
    """The force's figure and the median at each as-at date."""
    series = pd.concat(
        [
            pd.DataFrame({"as_at_date": trend.as_at_date, "series": force, "value": trend.fte}),
            pd.DataFrame(
                {
                    "as_at_date": trend.as_at_date,
                    "series": ENGLAND_WALES,
                    "value": trend.median_fte_england_wales,
                }
            ),
        ]
    ).dropna(subset=["value"])
    dates = sorted(pd.to_datetime(series.as_at_date).unique())
    domain = [force, ENGLAND_WALES]
    return (
        alt.Chart(series)
        .mark_line(point=alt.OverlayMarkDef(size=60))
        .encode(
            x=alt.X(
                "as_at_date:T",
                title="As at",
                axis=alt.Axis(
                    values=[alt.DateTime(year=d.year, month=d.month, date=d.day) for d in dates],
                    format="%d %b %Y",
                    labelAngle=0,
                ),
            ),
            y=alt.Y("value:Q", title=f"{worker} ({unit})", scale=alt.Scale(zero=True)),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(domain=domain, range=[ui.SERVICE_COLOURS["police"], MEDIAN]),
                title=None,
                legend=alt.Legend(orient="bottom", symbolType="stroke"),
            ),
            strokeDash=alt.StrokeDash(
                "series:N", scale=alt.Scale(domain=domain, range=[[1, 0], MEDIAN_DASH]), legend=None
            ),
            tooltip=[
                "series",
                alt.Tooltip("as_at_date:T", format="%d %b %Y", title="as at"),
                alt.Tooltip("value:Q", format=",.2f", title=unit),
            ],
        )
        .properties(height=330)  # the whole chart: axis and legend take 110 px
    )
