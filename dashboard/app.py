"""Commissioners' dashboard: response-time trends with each bid's go-live marked, and one
bid's benefits against their targets. Reads the published warehouse read-only, per query."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import queries

# Okabe-Ito: stays distinct for colour-blind readers.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
STATUS_LABEL = {"green": "On track", "amber": "Slipping", "red": "Off track", "not_due": "Not due"}
UNITS = {"seconds": "s", "minutes": "min", "gbp": "£"}

st.set_page_config(page_title="Bluelight: collaboration benefits", layout="wide")


@st.cache_data(show_spinner=False)
def cached(name: str, version: int, *args):
    """Query results cached per published warehouse version."""
    return getattr(queries, name)(*args)


def load(name: str, *args):
    return cached(name, queries.version(), *args)


def pounds(value: float) -> str:
    return f"-£{-value:,.0f}" if value < 0 else f"£{value:,.0f}"


def money_or_value(value: float, unit: str) -> str:
    if pd.isna(value):
        return "n/a"
    if unit == "gbp":
        return pounds(value)
    return f"{value:,.1f} {UNITS.get(unit, unit)}"


st.title("Blue-light collaboration: are the benefits real?")
if not queries.warehouse().exists():
    st.error(f"No published warehouse at {queries.warehouse()}. Run `bluelight demo` first.")
    st.stop()

shown = load("published_version")
if not shown.empty:
    kept = f" Kept as {shown.version_file[0]}." if shown.version_file[0] else ""
    st.caption(
        f"Showing the warehouse published by run {shown.run_id[0]} at "
        f"{shown.published_at[0]:%d %b %Y %H:%M}.{kept} Benefits in pounds are in real terms at "
        "each register's price base year."
    )

bids = load("bids")

st.header("Response times")
left, right = st.columns(2)
service_options = load("services")
service = left.selectbox(
    "Service",
    service_options,
    index=service_options.index("fire") if "fire" in service_options else 0,
)
category = right.selectbox("Incident category", load("incident_categories", service))

trend = load("response_trend", service, category)
go_lives = load("go_lives", service).copy()
go_lives["label_y"] = [12 + 14 * i for i in range(len(go_lives))]  # stagger labels: no overlap
last_year = load("response_last_year", service, category)
metric_columns = st.columns(max(len(last_year), 1))
for column, row in zip(metric_columns, last_year.itertuples(), strict=False):
    column.metric(
        f"{row.county}: mean response, last 12 months",
        f"{row.mean_response_minutes:.1f} min",
        help=f"{row.incidents:,} incidents",
    )

long = trend.melt(
    id_vars=["month", "county"],
    value_vars=["median_response_minutes", "p90_response_minutes"],
    var_name="statistic",
    value_name="minutes",
)
long["statistic"] = long["statistic"].map(
    {"median_response_minutes": "median", "p90_response_minutes": "90th percentile"}
)
lines = (
    alt.Chart(long)
    .mark_line()
    .encode(
        x=alt.X("month:T", title="Month of call"),
        y=alt.Y("minutes:Q", title="Minutes from call to first arrival"),
        color=alt.Color("county:N", scale=alt.Scale(range=PALETTE), title="County"),
        strokeDash=alt.StrokeDash("statistic:N", title="Statistic"),
        tooltip=[
            "county",
            "statistic",
            alt.Tooltip("month:T", format="%b %Y"),
            alt.Tooltip("minutes:Q", format=".1f"),
        ],
    )
)
rules = (
    alt.Chart(go_lives)
    .mark_rule(color="#555555", strokeDash=[4, 3])
    .encode(x="go_live_date:T", tooltip=["bid_id", "title", "go_live_date:T"])
)
labels = (
    alt.Chart(go_lives)
    .mark_text(align="left", dx=3, dy=-5, fontSize=11, color="#333333")
    .encode(x="go_live_date:T", y=alt.Y("label_y:Q", scale=None), text="bid_id")
)
chart = lines + rules + labels if len(go_lives) else lines
st.altair_chart(chart, width="stretch")
st.caption(
    f"Dashed vertical lines: go-live of each Police Innovation Fund project with a {service} "
    "benefit. A change at go-live is not all the project's doing: compare the counties."
)

st.header("A bid's benefits against its targets")
choice = st.selectbox(
    "Bid",
    bids["bid_id"].tolist(),
    format_func=lambda b: f"{b}: {bids.set_index('bid_id').title[b]}",
)
bid = bids.set_index("bid_id").loc[choice]
st.write(
    f"**{bid.title}** ({bid.fund_round}). Partners: {bid.partners.replace(';', ', ')}. "
    f"Award £{bid.award_gbp:,.0f} plus £{bid.partner_contribution_gbp:,.0f} from partners; "
    f"live from {bid.go_live_date:%d %B %Y}."
)

value = load("bid_value", choice)
if not value.empty:
    v = value.iloc[0]
    a, b, c, d = st.columns(4)
    a.metric(
        "Net present value",
        pounds(v.npv_gbp),
        help=f"Benefits to date minus cost, pounds at {v.price_base_year} prices, discounted "
        "at 3.5% a year to that year (HM Treasury Green Book).",
    )
    b.metric("Benefit-cost ratio", f"{v.benefit_cost_ratio:.2f}")
    c.metric("Cashable benefits (present value)", pounds(v.pv_cashable_gbp))
    d.metric("Paid back in", v.payback_year or "not yet")

attribution = load("benefit_attribution", choice).set_index("benefit_id")
latest = load("benefit_latest", choice)
profile = load("benefit_profile", choice)
for row in latest.itertuples():
    st.subheader(f"{row.benefit_id}: {row.description}")
    a, b, c, d = st.columns(4)
    a.metric("Status " + row.financial_year, STATUS_LABEL[row.status])
    b.metric("Baseline", money_or_value(row.baseline_value, row.unit))
    c.metric("Target", money_or_value(row.target_value, row.unit))
    d.metric(
        "Actual " + row.financial_year,
        money_or_value(row.actual_value, row.unit),
        help=f"Owner: {row.owner}. {row.category.replace('_', '-')}, "
        f"{row.recurrence.replace('_', '-')}.",
    )
    series = profile[profile.benefit_id == row.benefit_id].melt(
        id_vars=["financial_year"],
        value_vars=["baseline_value", "profiled_target_value", "actual_value"],
        var_name="series",
        value_name="value",
    )
    series["series"] = series["series"].map(
        {
            "baseline_value": "baseline",
            "profiled_target_value": "target (profiled)",
            "actual_value": "actual",
        }
    )
    chart = (
        alt.Chart(series)
        .mark_line(point=True)
        .encode(
            x=alt.X("financial_year:O", title="Financial year"),
            y=alt.Y("value:Q", title=row.unit, scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", scale=alt.Scale(range=PALETTE), title=None),
            tooltip=["financial_year", "series", alt.Tooltip("value:Q", format=",.1f")],
        )
        .properties(height=220)
    )
    st.altair_chart(chart, width="stretch")
    if row.benefit_id in attribution.index:
        att = attribution.loc[row.benefit_id]
        unit = UNITS.get(att.unit, att.unit)
        st.info(
            f"**How much is the project's doing?** Plain before/after change: "
            f"{att.before_after_change:+.1f} {unit}. The comparison counties changed by "
            f"{att.comparison_change:+.1f} {unit} over the same years, so the change attributable "
            f"to the project is **{att.estimate:+.1f} {unit}** (95% interval {att.ci_low:+.1f} to "
            f"{att.ci_high:+.1f} {unit})."
        )
