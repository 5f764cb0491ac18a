"""What every page of the dashboard shares: its title and the filters that persist across pages,
number formats, the colour-blind safe palette (a colour per service, role and status), charts
and tables with their data as a safe CSV (dashboard/spreadsheet.py), and the empty state of a
page or section whose marts have no rows yet. Chart builders are in dashboard/charts.py."""

from __future__ import annotations

import logging
from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import access, queries
from flows.sources.contracts import SOURCES

# One colour means one thing on every page. Services take three of the Okabe-Ito colours (Okabe
# and Ito, 2008), which stay distinct for colour-blind readers; roles, statuses and the other
# series (a county, a benefit's lines, promised and realised) each take colours of their own that
# no service uses, from Paul Tol's colour-blind safe schemes (muted, light, bright). A role's
# colour is the same on every chart it is drawn in; a chart of other series has its legend.
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish_green": "#009E73",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "grey": "#999999",
    "black": "#000000",
}
SERVICE_COLOURS = {
    "police": OKABE_ITO["blue"],
    "fire": OKABE_ITO["vermillion"],
    "ambulance": OKABE_ITO["bluish_green"],
}
# Series that are neither a service nor a role nor a status, in the order a chart takes them.
SERIES_COLOURS = [OKABE_ITO[c] for c in ("orange", "reddish_purple", "sky_blue", "black", "grey")]
# The staffing returns' role groups; the roles of one service are far apart (they share a chart).
ROLE_COLOURS = {
    "police_officer": "#332288",  # indigo
    "police_staff": "#DDCC77",  # sand
    "pcso": "#44AA99",  # teal
    "control_room": "#882255",  # wine
    "firefighter_wholetime": "#EE8866",  # light orange
    "firefighter_on_call": "#77AADD",  # light blue
    "fire_control": "#999933",  # olive
    "support_staff": "#FFAABB",  # pink
    "tri_service_officer": "#AA4499",  # purple
    "paramedic": "#CC6677",  # rose
    "emergency_care_assistant": "#BBCC33",  # pear
    "call_handler": "#88CCEE",  # cyan
}
# A role a return names that ROLE_COLOURS does not: a colour by its name (the same on every
# page; two such roles may share one, so name a new role group above).
SPARE_ROLE_COLOURS = ["#004488", "#997700", "#994455", "#6699CC", "#EECC66", "#EE99AA"]
STATUS_LABEL = {
    "green": "On track",
    "amber": "Slipping",
    "red": "Off track",
    "too_little_data": "Too little data",
    "year_to_date": "Year to date",
    "not_due": "Not due",
}
STATUS_COLOURS = {
    "On track": "#228833",
    "Slipping": "#CCBB44",
    "Off track": "#EE6677",
    "Too little data": "#AA3377",
    "Year to date": "#66CCEE",
    "Not due": "#BBBBBB",
}
STATUS_MARK = {  # shape as well as colour
    "green": "●",
    "amber": "▲",
    "red": "■",
    "too_little_data": "◇",
    "year_to_date": "◔",
    "not_due": "○",
}
UNITS = {"seconds": "s", "minutes": "min", "gbp": "£"}

ALL_SERVICES = "All services"
ALL_AREAS = "All areas"


# ---------------------------------------------------------------- filters

# A widget's state is dropped when the page that drew it is not drawn (st.navigation runs one
# page at a time), so each filter's value lives in a plain session key (`filter.<name>`) that no
# widget owns; a page that draws the filter seeds its widget from it, and the widget's on_change
# copies the choice back. (Streamlit 1.67's `persist_state="session"` keeps a copy per page, so a
# filter changed on one page came back with its old value on another: not used.)
logging.getLogger("streamlit.elements.lib.policies").setLevel(logging.ERROR)  # seeding is meant


def _remember(widget_key: str, store_key: str) -> None:
    st.session_state[store_key] = st.session_state[widget_key]


def _persisted_widget(name: str, choices: list, default, draw, **kwargs):
    """Draw the filter `name` seeded from its plain session key; returns the filter's value. A
    kept value the choices no longer offer (a bid outside the area chosen since) falls back to
    `default`."""
    store, widget = f"filter.{name}", f"filter_widget.{name}"
    value = st.session_state.get(store, default)
    if not _valid(value, choices):
        value = default
    st.session_state[store] = value
    st.session_state[widget] = value  # every run: a widget drawn on another page starts afresh
    draw(key=widget, on_change=_remember, args=(widget, store), **kwargs)
    return st.session_state[store]


def _valid(value, choices: list) -> bool:
    if isinstance(value, tuple | list):
        return len(value) == 2 and all(v in choices for v in value)
    return value in choices


def _one_or_all(name: str, label: str, every: str, choices) -> str | None:
    """A sidebar filter of `choices` after `every`: the one chosen, or None for `every`."""
    options = [every, *choices]
    chosen = _persisted_widget(
        name, options, every, st.sidebar.selectbox, label=label, options=options
    )
    return None if chosen == every else chosen


def area_filter() -> str | None:
    """The county chosen, or None for every county."""
    return _one_or_all("area", "Area", ALL_AREAS, queries.areas().county)


def service_filter() -> str | None:
    """The service chosen, or None for every service."""
    return _one_or_all("service", "Service", ALL_SERVICES, queries.services().service)


def bid_filter(area: str | None) -> str | None:
    """The bid chosen (of the area's bids), or None if the area has none."""
    bids = queries.bids(area)
    if bids.empty:
        return None
    options = bids["bid_id"].tolist()
    titles = dict(zip(bids.bid_id, bids.title, strict=True))
    return _persisted_widget(
        "bid",
        options,
        options[0],
        st.sidebar.selectbox,
        label="Bid",
        options=options,
        format_func=lambda b: bid_name(b, titles[b]),
    )


class Period:
    """A run of financial years (April to March), as the period filter chose it."""

    def __init__(self, first: str, last: str):
        self.first, self.last = first, last
        self.start = date(int(first[:4]), 4, 1)
        self.end = date(int(last[:4]) + 1, 3, 31)

    def __str__(self) -> str:
        return self.first if self.first == self.last else f"{self.first} to {self.last}"


def period_filter() -> Period:
    years = queries.financial_years().financial_year.tolist()
    if not years:
        return Period("2000-01", "2000-01")
    chosen = _persisted_widget(
        "period",
        years,
        (years[0], years[-1]),
        st.sidebar.select_slider,
        label="Period (financial years)",
        options=years,
        value=(years[0], years[-1]),  # a pair makes it a range slider
    )
    return Period(*chosen)


def pick(name: str, label: str, options: list | dict, default=None, draw=None, **kwargs):
    """A choice on a page (a force, a trust) kept like the sidebar filters: it stays as chosen
    when you move between pages. `options` as a dict: its keys are the choices, each shown as its
    value (a code by its name). `draw` is where the selectbox goes (a column's, say)."""
    if isinstance(options, dict):
        kwargs["format_func"], options = options.get, list(options)
    default = default if default in options else options[0]
    return _persisted_widget(
        name,
        options,
        default,
        draw or st.selectbox,
        label=label,
        options=options,
        **kwargs,
    )


def filters_note() -> None:
    st.sidebar.caption("Filters stay as chosen when you move between pages.")


def page_with_filters(
    title: str, marts: tuple[str, ...], nothing: str
) -> tuple[str | None, str | None, Period]:
    """A page's title, its empty state (`require`) and the service, area and period filters in
    the sidebar: returns the service, area and period chosen."""
    st.title(title)
    require(marts, nothing)
    service, area, period = service_filter(), area_filter(), period_filter()
    filters_note()
    return service, area, period


# ---------------------------------------------------------------- numbers


def pounds(value: float | None) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"-£{-value:,.0f}" if round(value) < 0 else f"£{value:,.0f}"


def value_in_unit(value: float | None, unit: str) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if unit == "gbp":
        return pounds(value)
    return f"{value:,.1f} {UNITS.get(unit, unit)}"


def signed_in_unit(value: float | None, unit: str) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if unit == "gbp":
        return ("+" if value >= 0 else "") + pounds(value)
    return f"{value:+,.1f} {UNITS.get(unit, unit)}"


def status_text(status: str) -> str:
    return f"{STATUS_MARK.get(status, '')} {STATUS_LABEL.get(status, status)}".strip()


def bid_name(bid_id: str, title: str | None) -> str:
    """A bid as it is named everywhere: its id and its title."""
    return f"{bid_id}: {title}" if isinstance(title, str) and title else bid_id


def share(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.0%}"


def price_base_note(years) -> str:
    """The price base of money figures, said once per page."""
    years = sorted({y for y in years if isinstance(y, str)})
    if not years:
        return ""
    if len(years) == 1:
        return f"Pounds in real terms at {years[0]} prices."
    return (
        "Pounds in real terms at each bid's price base year ("
        + ", ".join(years)
        + "); totals add them as they are."
    )


# ---------------------------------------------------------------- CSV and charts


def download(frame: pd.DataFrame, name: str, label: str = "Download the data (CSV)") -> None:
    st.download_button(
        label,
        data=access.export(frame, name),  # written (and logged) when clicked, not at each render
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download.{name}",
        on_click="ignore",
    )


def chart(altair_chart: alt.TopLevelMixin, data: pd.DataFrame, name: str) -> None:
    """A chart and, under it, its data as a safe CSV."""
    st.altair_chart(altair_chart, width="stretch")
    download(data, name)


def table(frame: pd.DataFrame, name: str, money: tuple[str, ...] = (), **kwargs) -> None:
    """A table and its data as a safe CSV; `money` columns shown as pounds (-£5, not £-5)."""
    shown = frame.style.format(pounds, subset=list(money)) if money else frame
    st.dataframe(shown, hide_index=True, width="stretch", **kwargs)
    download(frame, name)


# ---------------------------------------------------------------- empty states

READINESS_MARK = {"ready": "●", "partial": "◐", "waiting": "■"}  # shape as well as words


def readiness_text(status: str, waiting: list[str]) -> str:
    """A mart's status in words: ● ready, ◐ partial, waiting for X, or ■ waiting for X."""
    text = f"{READINESS_MARK.get(status, '')} {status}".strip()
    if len(waiting):
        text += (", waiting" if status == "partial" else "") + " for " + ", ".join(waiting)
    return text


def has_rows(marts: tuple[str, ...]) -> bool:
    """Whether any of these marts has a row."""
    return any(queries.mart_rows(tuple(marts)).values())


def waiting_for(marts: tuple[str, ...]) -> list[str] | None:
    """The sources these marts wait for (never loaded), as the last run recorded them, in the
    order the marts list them; None if the warehouse records no readiness for them."""
    readiness = queries.mart_readiness()
    mine = readiness[readiness.mart.isin(marts)]
    if mine.empty:
        return None
    return list(dict.fromkeys(s for sources in mine.waiting_for for s in sources))


def source_line(source: str) -> str:
    """One source, where its files go and how to start one: a Markdown list item."""
    contract = SOURCES.get(source)
    what = contract.description.split(":")[0].split(". ")[0].rstrip(".") if contract else ""
    line = f"- **{source}**" + (f" ({what})" if what else "") + f": files go in `inbox/{source}/`"
    if contract is not None and contract.kind == "published":
        publisher = f" (publisher: {contract.publisher})" if contract.publisher else ""
        return (
            line + f" exactly as released{publisher}, or name its address in "
            "`BLUELIGHT_PUBLISHED_URLS` to fetch it each night."
        )
    return line + f"; `bluelight sources {source} --template` writes a template to fill in."


def empty_state(marts: tuple[str, ...], nothing: str) -> None:
    """What a page or section would show is not loaded yet: say so (`nothing`, a sentence) and
    name the sources its marts wait for, each with its inbox folder and how to start its file
    (audit.mart_readiness). A warehouse that records no readiness gets the sentence alone."""
    sources = waiting_for(marts)
    if sources is None:
        st.info(nothing)
    elif not sources:
        st.info(
            f"{nothing} Every source it is built from has loaded: see Data health for rows set "
            "aside and files refused."
        )
    else:
        which = "this source loads" if len(sources) == 1 else "these sources load"
        st.info(
            f"{nothing} It fills once {which} (folders in the data directory's inbox):\n\n"
            + "\n".join(source_line(s) for s in sources)
        )


def section(title: str, marts: tuple[str, ...], nothing: str) -> bool:
    """A section's header, and whether any of `marts` has a row; if none has, the section's
    empty state is drawn under its header and the section is to draw nothing more."""
    st.header(title)
    if has_rows(marts):
        return True
    empty_state(marts, nothing)
    return False


def require(marts: tuple[str, ...], nothing: str) -> None:
    """End the page with its empty state, and the version shown, when none of `marts` has a
    row."""
    if has_rows(marts):
        return
    empty_state(marts, nothing)
    version_caption()
    st.stop()


def version_caption() -> None:
    """Which published warehouse the page shows."""
    shown = queries.published_version()
    if shown.empty:
        st.caption("The warehouse records no succeeded run.")
        return
    st.caption(
        f"Warehouse published by run {shown.run_id[0]} at {shown.published_at[0]:%d %b %Y %H:%M}."
    )
