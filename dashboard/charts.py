"""Chart builders every page shares: colour scales by service and in the palette's order, a month
axis that never repeats a label, and go-live dates marked on a trend. Colours are ui's
(Okabe-Ito)."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

from dashboard.ui import PALETTE, SERVICE_COLOURS


def service_scale(services) -> alt.Scale:
    domain = [s for s in SERVICE_COLOURS if s in set(services)] or list(SERVICE_COLOURS)
    return alt.Scale(domain=domain, range=[SERVICE_COLOURS[s] for s in domain])


def palette_scale(domain: list) -> alt.Scale:
    return alt.Scale(domain=domain, range=PALETTE[: len(domain)] or PALETTE)


def month_axis(months: pd.Series, title: str = "Month") -> alt.X:
    """A time axis labelled by month (or by year over two years): never the same label twice."""
    months = pd.to_datetime(months)
    span = (months.max() - months.min()).days if len(months) else 0
    ticks = {"interval": "year", "step": 1} if span > 730 else {"interval": "month", "step": 1}
    return alt.X(
        "month:T",
        title=title,
        axis=alt.Axis(format="%Y" if span > 730 else "%b %Y", tickCount=ticks, labelOverlap=True),
    )


def with_points(months: pd.Series) -> bool:
    """Mark each point on a line when there are few months (a single month has no line)."""
    return pd.Series(months).nunique() <= 24


def go_live_layer(go_lives: pd.DataFrame, start: date, end: date):
    """Dashed rules at go-live dates within the period, labelled by bid (None if there are none)."""
    marks = go_lives[
        (pd.to_datetime(go_lives.go_live_date) >= pd.Timestamp(start))
        & (pd.to_datetime(go_lives.go_live_date) <= pd.Timestamp(end))
    ].copy()
    if marks.empty:
        return None
    marks["label_y"] = [10 + 14 * i for i in range(len(marks))]  # staggered: labels never overlap
    rules = (
        alt.Chart(marks)
        .mark_rule(color="#444444", strokeDash=[4, 3])
        .encode(
            x="go_live_date:T",
            tooltip=["bid_id", "title", alt.Tooltip("go_live_date:T", format="%d %b %Y")],
        )
    )
    labels = (
        alt.Chart(marks)
        .mark_text(align="left", dx=3, fontSize=11, color="#222222")
        .encode(x="go_live_date:T", y=alt.Y("label_y:Q", scale=None), text="bid_id")
    )
    return rules + labels
