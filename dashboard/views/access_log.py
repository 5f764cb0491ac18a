"""Access log: whether the log's chain is whole (or the first line that breaks it and why), the
entries per day by event, and the entries themselves, filtered by date, event and account; the
same as `bluelight access-log [--since DATE] [--verify]` (flows/security/access_log.py)."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import ui
from flows.security import access_log
from flows.settings import Settings

COLUMNS = ["n", "at", "event", "who", "page", "bid", "rows", "sha256", "detail"]


def verdict(path) -> None:
    """The chain's verdict in a sentence, with a mark as well as a colour."""
    found = access_log.verify(path)
    if found.whole:
        st.success(
            f"● The log is whole: {found.count:,} entries, each carrying the hash of the one "
            "before, and the newest matches the tip kept beside the log."
        )
    else:
        st.error(
            f"■ The log is broken at line {found.line}: {found.reason}. The {found.count:,} "
            "entries before it are whole. Keep the file as it is and tell whoever audits it."
        )


def frame(path, since: date) -> pd.DataFrame:
    """The entries from `since`, a row each; a line that is not an entry is left out (the
    verdict names it)."""
    rows = [entry for _, entry in access_log.entries(path, since) if entry is not None]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["detail"] = table["detail"].map(lambda d: "" if d is None else str(d))
    return table


def per_day(table: pd.DataFrame) -> alt.Chart:
    """Entries per day, by event."""
    counted = table.assign(day=table["at"].str[:10]).groupby(["day", "event"]).size().reset_index()
    counted.columns = ["day", "event", "entries"]
    return (
        alt.Chart(counted)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title="Day (UTC)"),
            y=alt.Y("entries:Q", title="Entries"),
            color=alt.Color(
                "event:N",
                scale=alt.Scale(domain=list(access_log.EVENTS), range=ui.SERIES_COLOURS),
            ),
            tooltip=["day:T", "event:N", "entries:Q"],
        )
    )


path = Settings.from_env().access_log
st.title("Access log")
st.caption(
    f"Every sign-in, refusal, page view, export and upload, appended to {path} (outside the "
    "published warehouse), each entry chained to the one before so an edit or a deletion shows."
)
verdict(path)
since = st.date_input("From (UTC)", value=date.today() - timedelta(days=30))
table = frame(path, since)
events = st.multiselect("Events", list(access_log.EVENTS), default=list(access_log.EVENTS))
account = st.text_input("Account contains", "")
shown = table[table.event.isin(events) & table.who.str.contains(account, regex=False, na=False)]
if shown.empty:
    st.info("No entries match.")
else:
    st.altair_chart(per_day(shown), width="stretch")
    ui.table(shown, "access_log")
