"""A benefit on the Bid page: its owner, evidence, target and latest complete year (for money,
the steps from baseline to the bid's attributed saving: dashboard/bid/saving.py), any year in
progress; its profile by complete financial year (baseline, target line, actual, and what the
measure would have been without the bid); and how much of the change is the bid's doing, against
which comparison areas, with the estimate's checks, or why it is not reliable."""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, ui
from dashboard.bid import saving
from dashboard.method import link

SERIES = {
    "baseline_value": "baseline",
    "profiled_target_value": "target line",
    "actual_value": "actual",
    "counterfactual_value": "without the bid",
}


def heading(row) -> None:
    """A benefit's description, owner, kind, target date, and the register's evidence source and
    confidence."""
    st.subheader(f"{row.benefit_id}: {row.description}")
    st.caption(
        f"Owner: {row.owner}. {row.category.replace('_', '-').capitalize()}, "
        f"{row.recurrence.replace('_', '-')}; target by {row.target_date:%d %B %Y}"
        + (f"; pounds at {row.price_base_year} prices." if row.unit == "gbp" else ".")
        + f" Evidence: {row.evidence_source or 'not given'}; confidence: "
        f"{row.confidence or 'not given'} (the register's)."
    )


def figures(row, parts: int) -> None:
    """The latest complete year: status and target, then for money the steps from baseline to
    the bid's attributed saving (`parts`: how many of the bid's money benefits the Overview adds
    into the same figure), else the baseline and actual; the effect in words under them."""
    if saving.is_money(row):
        left, right = st.columns([2, 3])
        status_metric(left, row)
        target_metric(left, row)
        right.markdown(saving.steps(row, parts))
    else:
        status_at, baseline_at, target_at, actual_at = st.columns(4)
        status_metric(status_at, row)
        baseline_at.metric(
            "Baseline",
            ui.value_in_unit(row.baseline_value, row.unit),
            help=f"The register's baseline ({row.baseline_period}). "
            + link("realisation-and-status"),
        )
        target_metric(target_at, row)
        actual_at.metric(
            "Actual " + row.financial_year,
            ui.value_in_unit(row.actual_value, row.unit),
            help=f"Share of the promised change realised: {ui.share(row.share_of_target_realised)}"
            ". " + link("realisation-and-status"),
        )
    st.caption(effect_text(row))


def status_metric(column, row) -> None:
    column.metric(
        "Status " + row.financial_year,
        ui.status_text(row.status),
        help="The bid's effect against the profiled target, in the latest complete year. "
        + link("realisation-and-status"),
    )


def target_metric(column, row) -> None:
    column.metric(
        "Target",
        ui.value_in_unit(row.target_value, row.unit),
        help=f"The register's target, by {row.target_date:%d %B %Y}. "
        + link("realisation-and-status"),
    )


def effect_text(row) -> str:
    """The latest year's effect with its interval, or why it is before/after or not reliable."""
    plain = ui.signed_in_unit(row.before_after_improvement, row.unit)
    if row.improvement_basis != "counterfactual":
        return f"Improvement {plain}: {row.improvement_basis}."
    effect = ui.signed_in_unit(row.improvement, row.unit)
    interval = (
        f" (95% interval {ui.signed_in_unit(row.improvement_ci_low, row.unit)} to "
        f"{ui.signed_in_unit(row.improvement_ci_high, row.unit)})"
        if pd.notna(row.improvement_ci_low)
        else ""
    )
    caution = f" Not reliable: {row.reliability_note}." if row.is_estimate_reliable is False else ""
    return (
        f"The bid's effect in {row.financial_year}: {effect}{interval} against what would have "
        f"happened without it; a plain before/after says {plain}.{caution} "
        + link("counterfactual-and-attribution", "Method")
    )


def profile_chart(row, mine: pd.DataFrame) -> None:
    """A benefit's baseline, target line, actual and counterfactual by financial year."""
    series = profile_series(row, mine)
    ui.chart(profile_line(row, series), series, f"{row.benefit_id}_profile")


def profile_series(row, mine: pd.DataFrame) -> pd.DataFrame:
    """A benefit's profile rows (`mine`) in the long form its chart draws: a row per year and
    series that has a value."""
    series = charts.long_form(mine, ["financial_year", "status"], SERIES, "series", "value")
    series = series.dropna(subset=["value"])
    series["unit"] = row.unit
    return series


def profile_line(row, series: pd.DataFrame) -> alt.Chart:
    """The profile chart of a benefit (`series` from profile_series), the Bid page's and the
    evidence pack's."""
    shown = [s for s in SERIES.values() if s in set(series.series)]
    return (
        alt.Chart(series)
        .mark_line(point=True)
        .encode(
            x=alt.X("financial_year:O", title="Financial year"),
            y=alt.Y("value:Q", title=value_title(row.unit), scale=value_scale(row.unit)),
            color=alt.Color(
                "series:N",
                scale=charts.series_scale(shown),
                title=None,
                legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=shown, range=DASHES[: len(shown)]),
                title=None,
            ),
            tooltip=["financial_year", "series", alt.Tooltip("value:Q", format=",.1f"), "status"],
        )
        .properties(height=260)
    )


DASHES = [[2, 2], [6, 3], [1, 0], [8, 2, 2, 2]]


def value_title(unit: str) -> str:
    """Money from zero; a time zoomed to its range, which the axis says."""
    return "£ (real terms)" if unit == "gbp" else f"{unit}; not from 0"


def value_scale(unit: str) -> alt.Scale:
    return charts.from_zero() if unit == "gbp" else alt.Scale(zero=False)


def attribution(benefit_id: str, att, areas: str) -> None:
    """The years either side of go-live: the plain before/after, the comparison areas' (named in
    `areas`) change and the bid's, with its interval and checks; or why there is no reliable
    figure."""
    st.markdown("**How much is the bid's doing?**")
    if areas:
        kind = "comparison areas" if "," in areas else "comparison area"
        st.caption(f"Against {areas}, the {kind}: no bid there claims a change in this measure.")
    unit = att.unit
    plain = ui.signed_in_unit(att.before_after_change, unit)
    if pd.isna(att.estimate):
        st.info(f"Plain before/after: **{plain}**. No estimate: {att.reliability_note}.")
        return
    if not attribution_drawn(att):
        st.warning(
            f"Plain before/after: **{plain}**. The estimate against the comparison areas over "
            f"the years either side of go-live is not reliable ({att.reliability_note}), so it "
            "is not drawn here. " + link("counterfactual-and-attribution", "Why")
        )
        return
    attribution_chart(benefit_id, att)
    st.info(
        f"Plain before/after: **{plain}**. The comparison areas changed by "
        f"{ui.signed_in_unit(att.comparison_change, unit)} over the same years, so the change "
        f"attributable to the bid is **{ui.signed_in_unit(att.estimate, unit)}** (95% interval "
        f"{ui.signed_in_unit(att.ci_low, unit)} to {ui.signed_in_unit(att.ci_high, unit)}; "
        f"{int(att.treated_units)} treated and {int(att.comparison_units)} comparison areas). "
        f"Permutation test p = {att.permutation_p_value:.3f} over "
        f"{int(att.permutation_assignments):,} assignments; before go-live the areas moved "
        f"together (pre-trend p = {att.pre_trend_p_value:.2f}, placebo p = "
        f"{att.placebo_p_value:.2f}). " + link("counterfactual-and-attribution", "Method")
    )


def attribution_drawn(att) -> bool:
    """Whether the attribution's chart is drawn: only for an estimate its checks confirm."""
    return pd.notna(att.estimate) and bool(att.is_reliable)


def attribution_chart(benefit_id: str, att) -> None:
    frame = attribution_frame(att)
    ui.chart(attribution_bars(att, frame), frame, f"{benefit_id}_attribution")


def attribution_frame(att) -> pd.DataFrame:
    """The plain before/after, the comparison areas' change and the bid's, with its interval."""
    return pd.DataFrame(
        {
            "figure": ["Before/after (plain)", "Comparison areas' change", "Attributable change"],
            "change": [att.before_after_change, att.comparison_change, att.estimate],
            "low": [None, None, att.ci_low],
            "high": [None, None, att.ci_high],
        }
    )


def attribution_bars(att, frame: pd.DataFrame) -> alt.LayerChart:
    """The attribution chart (`frame` from attribution_frame): bars and the estimate's 95%
    interval, the Bid page's and the evidence pack's."""
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("figure:N", sort=None, title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X(
                "change:Q",
                title=f"Change ({ui.UNITS.get(att.unit, att.unit)})",
                scale=charts.from_zero(),
            ),
            color=alt.Color(
                "figure:N", scale=charts.series_scale(frame.figure.tolist()), legend=None
            ),
            tooltip=["figure", alt.Tooltip("change:Q", format="+,.1f")],
        )
    )
    whisker = (
        alt.Chart(frame.dropna())
        .mark_rule(color="#000000", strokeWidth=2)
        .encode(y=alt.Y("figure:N", sort=None), x="low:Q", x2="high:Q")
    )
    return (bars + whisker).properties(height=150)


@dataclass(frozen=True)
class BidFigures:
    """What the Bid page read for all its benefits, each benefit drawing its own rows."""

    profile: pd.DataFrame  # complete years in the period
    attributions: pd.DataFrame  # by benefit_id
    sharing: pd.DataFrame  # other bids' shares of the same measure
    in_progress: pd.DataFrame  # years to date
    comparison_areas: dict[str, str]  # benefit_id -> comparison counties
    money_parts: dict[str, int]  # the Overview's kind of money -> the bid's benefits in it
    period: object


def benefit(row, figures_of: BidFigures) -> None:
    heading(row)
    figures(row, figures_of.money_parts.get(saving.overview_column(row), 1))
    saving.shared(row, figures_of.sharing)
    saving.year_to_date(row, figures_of.in_progress)
    mine = figures_of.profile[figures_of.profile.benefit_id == row.benefit_id]
    attributed = row.benefit_id in figures_of.attributions.index
    left, right = st.columns([3, 2]) if attributed else (st.container(), None)
    with left:
        if mine.empty:
            st.info(f"No complete years of {row.benefit_id} in {figures_of.period}.")
        else:
            profile_chart(row, mine)
    if right is not None:
        with right:
            attribution(
                row.benefit_id,
                figures_of.attributions.loc[row.benefit_id],
                figures_of.comparison_areas.get(row.benefit_id, ""),
            )
