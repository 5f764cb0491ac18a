"""Chart builders every page shares: the colour scales (by service, by role, and other series in
ui's series colours, so a colour means one thing on every page), value axes from zero, a month
axis that never repeats a label, the long form Altair colours by, and go-live dates marked on a
trend."""

from __future__ import annotations

import zlib
from datetime import date

import altair as alt
import pandas as pd

from dashboard.ui import (
    ROLE_COLOURS,
    SERIES_COLOURS,
    SERVICE_COLOURS,
    SPARE_ROLE_COLOURS,
    bid_name,
)


def service_scale(services) -> alt.Scale:
    domain = [s for s in SERVICE_COLOURS if s in set(services)] or list(SERVICE_COLOURS)
    return alt.Scale(domain=domain, range=[SERVICE_COLOURS[s] for s in domain])


def role_colour(role: str) -> str:
    """A role's colour (`role` as the return names it, e.g. police_officer): ROLE_COLOURS, or
    for a role it does not name, a spare colour chosen by the name, so the same on every page."""
    key = role.replace(" ", "_")
    if key in ROLE_COLOURS:
        return ROLE_COLOURS[key]
    return SPARE_ROLE_COLOURS[zlib.crc32(key.encode()) % len(SPARE_ROLE_COLOURS)]


def role_scale(roles) -> alt.Scale:
    """Roles in their colours; the domain in order, each role once."""
    domain = sorted(set(roles))
    return alt.Scale(domain=domain, range=[role_colour(r) for r in domain])


def series_scale(domain: list) -> alt.Scale:
    """Series that are not services, roles or statuses (counties, a benefit's lines), in the
    series colours' order."""
    return alt.Scale(domain=domain, range=SERIES_COLOURS[: len(domain)] or SERIES_COLOURS)


def from_zero() -> alt.Scale:
    """A value axis that starts at zero: a bar's or a line's height reads as its size."""
    return alt.Scale(zero=True)


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


def long_form(
    frame: pd.DataFrame, id_vars: list[str], names: dict[str, str], var_name: str, value_name: str
) -> pd.DataFrame:
    """The `names` columns of `frame` stacked into one (`value_name`), a row per value, with
    `var_name` saying which column each came from by its name in `names`: the long form Altair
    colours and dashes by."""
    long = frame.melt(
        id_vars=id_vars, value_vars=list(names), var_name=var_name, value_name=value_name
    )
    long[var_name] = long[var_name].map(names)
    return long


def go_live_layer(go_lives: pd.DataFrame, start: date, end: date):
    """Dashed rules at go-live dates within the period, labelled by bid, id and title (None if
    there are none)."""
    marks = go_lives[
        (pd.to_datetime(go_lives.go_live_date) >= pd.Timestamp(start))
        & (pd.to_datetime(go_lives.go_live_date) <= pd.Timestamp(end))
    ].copy()
    if marks.empty:
        return None
    marks["label_y"] = [10 + 14 * i for i in range(len(marks))]  # staggered: labels never overlap
    marks["bid"] = [bid_name(b, t) for b, t in zip(marks.bid_id, marks.title, strict=True)]
    rules = (
        alt.Chart(marks)
        .mark_rule(color="#444444", strokeDash=[4, 3])
        .encode(
            x="go_live_date:T",
            tooltip=["bid", alt.Tooltip("go_live_date:T", format="%d %b %Y")],
        )
    )
    labels = (
        alt.Chart(marks)
        .mark_text(align="left", dx=3, fontSize=11, color="#222222")
        .encode(x="go_live_date:T", y=alt.Y("label_y:Q", scale=None), text="bid")
    )
    return rules + labels
