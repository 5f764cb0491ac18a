"""The National picture's ambulance response (AmbSYS): a trust's mean and 90th centile response
by month in a category, against the England median and the response standard, and every trust
ranked in the latest month."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, ui
from dashboard.national import MEDIAN, MEDIAN_DASH, STANDARD, STANDARD_DASH, ranked_bars
from dashboard.queries import national

AMBULANCE = ("fct_ambulance_response_monthly",)
CATEGORIES = {
    "C1": "C1: life-threatening",
    "C2": "C2: emergency",
    "C3": "C3: urgent",
    "C4": "C4: less urgent",
}
STATISTICS = {"mean": "Mean", "p90": "90th centile"}


def trust_label(name: str) -> str:
    """AmbSYS names trusts in capitals: 'LONDON AMBULANCE SERVICE NHS TRUST'."""
    words = name.title().replace("Nhs", "NHS").split()
    return " ".join(w.lower() if w in ("Of", "And") and i else w for i, w in enumerate(words))


def short_trust(label: str) -> str:
    """A trust's name without 'NHS Trust' and the like, for a chart's axis."""
    for ending in (" University NHS Foundation Trust", " NHS Foundation Trust", " NHS Trust"):
        label = label.removesuffix(ending)
    return label


def standards(category: str) -> dict[str, float]:
    """The category's standards in minutes, by statistic (mean, p90), those that apply: NHS
    England's Ambulance Response Programme gives C1 and C2 a mean and a 90th centile standard,
    C3 and C4 a 90th centile one only (seed response_standards)."""
    row = national.ambulance_standard(category)
    if row.empty:
        return {}
    found = {"mean": row.mean_standard_minutes.iloc[0], "p90": row.standard_minutes.iloc[0]}
    return {statistic: float(m) for statistic, m in found.items() if pd.notna(m)}


def standard_text(category: str, standard: dict[str, float]) -> str:
    parts = [f"{STATISTICS[s].lower()} {m:g} min" for s, m in standard.items()]
    return f"{category} standard: " + (" and ".join(parts) or "none in the warehouse")


def section() -> None:
    if not ui.section(
        "Ambulance response", AMBULANCE, "No AmbSYS ambulance response figures loaded yet."
    ):
        return
    trusts = national.ambulance_trusts()
    names = {
        code: trust_label(n) for code, n in zip(trusts.trust_code, trusts.trust_name, strict=True)
    }
    labels = {code: f"{n} ({code})" for code, n in names.items()}
    left, right = st.columns(2)
    trust = ui.pick("ambulance_trust", "Ambulance trust", labels, draw=left.selectbox)
    category = ui.pick("ambulance_category", "Category", CATEGORIES, draw=right.selectbox)
    name = names[trust]
    response = national.ambulance_response(category)
    mine = response[response.trust_code == trust].sort_values("month")
    published = mine.dropna(subset=["mean_response_minutes", "p90_response_minutes"], how="all")
    if published.empty:
        st.info(f"AmbSYS publishes no {category} response times for {name}.")
        return
    last = published.iloc[-1]
    standard = standards(category)
    headline(category, standard, last)
    st.subheader(f"{name} against the England median")
    for column, statistic in zip(st.columns(2), STATISTICS, strict=True):
        with column:
            trend(name, category, statistic, standard.get(statistic), mine)
    every_trust(category, standard.get("p90"), trust, names, response, last.month)


def headline(category: str, standards: dict[str, float], last: pd.Series) -> None:
    """The latest month's mean and 90th centile against the England median, and incidents."""
    a, b, c = st.columns(3)
    for column, statistic in zip((a, b), STATISTICS, strict=True):
        value = last[f"{statistic}_response_minutes"]
        median = last[f"england_median_{statistic}_minutes"]
        standard = standards.get(statistic)
        gap = None if pd.isna(value) or pd.isna(median) else round(value - median, 1)
        column.metric(
            f"{category} {STATISTICS[statistic].lower()}, {last.month:%b %Y}",
            "n/a" if pd.isna(value) else f"{value:.1f} min",
            delta=(
                None
                if gap is None
                else f"{gap:+.1f} min against the England median ({median:.1f})"
                if gap
                else f"the England median ({median:.1f})"
            ),
            delta_color="inverse" if gap else "off",  # slower than the median shows red
            delta_arrow="auto" if gap else "off",
            help=f"Standard: {standard:g} min." if standard else "No standard for this statistic.",
        )
    c.metric(
        f"{category} incidents, {last.month:%b %Y}",
        "n/a" if pd.isna(last.incidents) else f"{int(last.incidents):,}",
    )
    st.markdown(
        f"**{standard_text(category, standards)}.** "
        + "Each chart marks the standard that applies to it (dotted)."
    )


def trend(name: str, category: str, statistic: str, standard, mine: pd.DataFrame) -> None:
    """The trust's monthly figure for `statistic` against the England median and the standard."""
    st.markdown(
        f"**{STATISTICS[statistic]}**: "
        + (f"standard {standard:g} min" if standard else "no standard for this statistic")
    )
    own, england = f"{statistic}_response_minutes", f"england_median_{statistic}_minutes"
    data = mine[["month", "trust_code", "trust_name", "incidents", own, england]]
    ui.chart(
        trend_chart(name, statistic, standard, mine, own, england).properties(height=400),
        data,  # the whole chart: axis and legend take 150 px
        f"ambulance_{category}_{statistic}",
    )


def trend_chart(name, statistic, standard, mine, own, england) -> alt.LayerChart | alt.Chart:
    series = pd.concat(
        [
            mine[["month", own]].rename(columns={own: "minutes"}).assign(series=name),
            mine[["month", england]]
            .rename(columns={england: "minutes"})
            .assign(series="England median"),
        ]
    ).dropna(subset=["minutes"])
    # The standard is a series of its own, so the legend names it beside the two lines.
    marked = {name: ui.SERVICE_COLOURS["ambulance"], "England median": MEDIAN}
    dashes = [[1, 0], MEDIAN_DASH]
    if standard is not None:
        marked[f"standard, {standard:g} min"] = STANDARD
        dashes.append(STANDARD_DASH)
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=list(marked), range=list(marked.values())),
        title=None,
        legend=alt.Legend(
            orient="bottom", direction="vertical", symbolType="stroke", labelLimit=400
        ),
    )
    dash = alt.StrokeDash(
        "series:N", scale=alt.Scale(domain=list(marked), range=dashes), legend=None
    )
    chart = (
        alt.Chart(series)
        .mark_line(strokeWidth=2)
        .encode(
            x=charts.month_axis(series.month),
            y=alt.Y(
                "minutes:Q",
                title=f"{STATISTICS[statistic]} response (minutes)",
                scale=alt.Scale(zero=True),
            ),
            color=colour,
            strokeDash=dash,
            tooltip=[
                "series",
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("minutes:Q", format=".1f"),
            ],
        )
    )
    if standard is not None:
        marker = pd.DataFrame({"minutes": [standard], "series": [f"standard, {standard:g} min"]})
        chart += (
            alt.Chart(marker)
            .mark_rule(strokeWidth=2)
            .encode(y="minutes:Q", color=colour, strokeDash=dash)
        )
    return chart


def every_trust(category: str, p90, trust: str, names: dict, response: pd.DataFrame, month):
    """Every trust's 90th centile in the latest month, ranked against its standard (`p90`)."""
    st.subheader(f"Every trust, {month:%B %Y}")
    this_month = response[response.month == month].assign(
        trust=lambda f: f.trust_code.map(names).fillna(f.trust_name).map(short_trust),
        chosen=lambda f: f.trust_code == trust,
    )
    ranked = this_month.dropna(subset=["p90_response_minutes"])
    if not ranked.empty:
        ui.chart(
            ranked_bars(
                ranked[
                    ["trust", "trust_code", "incidents", "mean_response_minutes"]
                    + ["p90_response_minutes", "england_median_p90_minutes", "chosen"]
                ],
                "trust",
                "p90_response_minutes",
                f"{category} 90th centile (minutes)",
                ui.SERVICE_COLOURS["ambulance"],
                rule=p90,
                rule_label=f"standard, {p90:g} min" if p90 else "",
                value_format=".1f",
                standard=True,
            ),
            ranked.drop(columns=["chosen"]),
            f"ambulance_{category}_trusts",
        )
    st.caption(
        "NHS England, Ambulance Quality Indicators (AmbSYS): times published in seconds, shown "
        "in minutes. The England median is the middle trust's figure each month. Months with no "
        "figure (trusts moved onto the new standards in stages from August 2017) are left out."
    )
