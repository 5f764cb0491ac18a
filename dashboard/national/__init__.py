"""The National picture's sections (dashboard/views/national.py draws them in turn): police
workforce, ambulance response, fire stations and the areas police and fire share. Here, what
they draw alike: the chosen organisation in its service's colour and the others grey, a median
black and dashed, a response standard orange and dotted, and every organisation ranked."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard import ui

OTHERS = ui.OKABE_ITO["grey"]
MEDIAN, MEDIAN_DASH = ui.OKABE_ITO["black"], [5, 3]
STANDARD, STANDARD_DASH = ui.OKABE_ITO["orange"], [2, 2]
STANDARD_TEXT = "#8A5A00"  # the orange, darkened so small text on white stays legible


def ranked_bars(
    frame: pd.DataFrame,
    label: str,
    value: str,
    title: str,
    colour: str,
    rule: float | None = None,
    rule_label: str = "",
    value_format: str = ",.0f",
    standard: bool = False,
) -> alt.LayerChart | alt.Chart:
    """One bar per organisation, largest first, the chosen one (`chosen` column) in `colour`
    and the rest grey; a rule at `rule`, named by `rule_label`: a median (black, dashed) or a
    `standard` (orange, dotted), as on the trend charts. The value axis starts at zero."""
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(
                f"{label}:N",
                sort="-x",
                title=None,
                axis=alt.Axis(labelLimit=260, labelOverlap=False),
            ),
            x=alt.X(f"{value}:Q", title=title, scale=alt.Scale(zero=True)),
            color=alt.Color(
                "chosen:N",
                scale=alt.Scale(domain=[True, False], range=[colour, OTHERS]),
                legend=None,
            ),
            tooltip=[label, alt.Tooltip(f"{value}:Q", format=value_format, title=title)],
        )
    )
    chart = bars
    if rule is not None and pd.notna(rule):
        line, text = rule_marks(rule, rule_label, standard)
        chart = bars + line + text
    return chart.properties(height=20 * len(frame) + 30)


def rule_marks(rule: float, rule_label: str, standard: bool) -> tuple[alt.Chart, alt.Chart]:
    """A vertical rule at `rule` and its label: a standard (orange, dotted) or a median."""
    marker = pd.DataFrame({"value": [rule], "label": [rule_label]})
    line = (
        alt.Chart(marker)
        .mark_rule(
            color=STANDARD if standard else MEDIAN,
            strokeDash=STANDARD_DASH if standard else MEDIAN_DASH,
            strokeWidth=2 if standard else 1.5,
        )
        .encode(x="value:Q")
    )
    text = (
        alt.Chart(marker)
        .mark_text(
            align="left",
            dx=4,
            dy=-4,
            baseline="bottom",
            color=STANDARD_TEXT if standard else MEDIAN,
            fontSize=11,
        )
        .encode(x="value:Q", y=alt.value(0), text="label:N")
    )
    return line, text
