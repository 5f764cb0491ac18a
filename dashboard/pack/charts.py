"""The evidence pack's charts: the Bid page's Altair charts (dashboard/bid/), drawn offline to
SVG by vl-convert and made accessible: role="img", a title and an aria-label saying what the
chart shows, and ids of its own so several charts can share one document."""

from __future__ import annotations

import re

import altair as alt
import pandas as pd
import vl_convert
from markupsafe import Markup, escape

from dashboard import ui
from dashboard.bid import benefits, money

# Plot widths in pixels: with its labels and legend, each chart fits the text width of an A4
# page (about 650 pixels at 96 dpi), so none is scaled down in print.
PROFILE_WIDTH, ATTRIBUTION_WIDTH, SENSITIVITY_WIDTH = 460, 380, 240
_ID = re.compile(r'(id="|url\(#|href="#)([^")]+)')


def svg(chart: alt.TopLevelMixin, width: int, name: str, alt_text: str) -> Markup:
    """`chart`, `width` pixels wide, as inline SVG, its ids prefixed with `name`, labelled by
    `alt_text`."""
    drawn = vl_convert.vegalite_to_svg(chart.properties(width=width).to_dict())
    drawn = _ID.sub(lambda m: f"{m.group(1)}{name}-{m.group(2)}", drawn)
    label = escape(alt_text)
    opening = drawn[: drawn.index(">") + 1]
    labelled = opening.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return Markup(f"{labelled}<title>{label}</title>{drawn[len(opening) :]}")


def profile(row, mine: pd.DataFrame) -> Markup:
    """A benefit's profile (the Bid page's chart) and what it shows, in words."""
    series = benefits.profile_series(row, mine)
    last = mine.iloc[-1]
    said = [
        f"{name} {ui.value_in_unit(last[column], row.unit)}"
        for column, name in benefits.SERIES.items()
        if pd.notna(last[column])
    ]
    text = (
        f"Line chart of {row.benefit_id} by financial year, {mine.financial_year.iloc[0]} to "
        f"{last.financial_year}: {', '.join(dict.fromkeys(series.series))}. "
        f"In {last.financial_year}: {', '.join(said)}."
    )
    return svg(benefits.profile_line(row, series), PROFILE_WIDTH, f"{row.benefit_id}-profile", text)


def attribution(benefit_id: str, att) -> Markup:
    """A benefit's attribution (the Bid page's chart) and what it shows, in words."""
    unit = att.unit
    text = (
        f"Bar chart of {benefit_id}: plain before/after change "
        f"{ui.signed_in_unit(att.before_after_change, unit)}, comparison areas' change "
        f"{ui.signed_in_unit(att.comparison_change, unit)}, change attributable to the bid "
        f"{ui.signed_in_unit(att.estimate, unit)} (95% interval "
        f"{ui.signed_in_unit(att.ci_low, unit)} to {ui.signed_in_unit(att.ci_high, unit)})."
    )
    chart = benefits.attribution_bars(att, benefits.attribution_frame(att))
    return svg(chart, ATTRIBUTION_WIDTH, f"{benefit_id}-attribution", text)


def sensitivity(bid_id: str, table: pd.DataFrame) -> Markup:
    """A bid's whole-life NPV by scenario (the Bid page's chart) and what it shows, in words."""
    low = table.loc[table.whole_life_npv_gbp.idxmin()]
    high = table.loc[table.whole_life_npv_gbp.idxmax()]
    text = (
        f"Bar chart of whole-life net present value under {len(table)} scenarios, from "
        f"{ui.pounds(low.whole_life_npv_gbp)} ({low.description.rstrip('.')}) to "
        f"{ui.pounds(high.whole_life_npv_gbp)} ({high.description.rstrip('.')})."
    )
    return svg(money.sensitivity_bars(table), SENSITIVITY_WIDTH, f"{bid_id}-sensitivity", text)
