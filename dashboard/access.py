"""Every page view and export of the dashboard, in the access log (flows/security/access_log.py),
outside the published warehouse: who (the signed-in user's e-mail, or `local` when the dashboard
serves loopback without sign-in), the page, the bid shown and, for an export, its rows. A view is
logged when the page or bid a session shows changes, not at each rerun a widget causes; an export
when its file is written, which is when the reader asks for it."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard.spreadsheet import safe_csv
from flows.security import access_log
from flows.settings import Settings

VIEWED = "access.viewed"  # the (page, bid) this session last logged


def who() -> str:
    """The signed-in user, or `local`: without sign-in the dashboard serves loopback only."""
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("sub"))
    except Exception:  # no sign-in configured, or no session (a page rendered by a benchmark)
        pass
    return "local"


def viewed(page: str, bid: str | None = None) -> None:
    """Log a view of `page` (and `bid`) unless it is what this session showed last."""
    if st.session_state.get(VIEWED) == (page, bid):
        return
    st.session_state[VIEWED] = (page, bid)
    access_log.append(Settings.from_env().access_log, "page-view", who(), page=page, bid=bid)


def export(frame: pd.DataFrame, name: str) -> Callable[[], bytes]:
    """The CSV of `frame` for a download button: written, and its export logged with its rows,
    when the reader asks for it; who and which page and bid are taken now, in the session."""
    page, bid = st.session_state.get(VIEWED, (None, None))
    user = who()

    def write() -> bytes:
        access_log.append(
            Settings.from_env().access_log,
            "export",
            user,
            page=page,
            bid=bid,
            rows=len(frame),
            detail={"file": f"{name}.csv"},
        )
        return safe_csv(frame)

    return write
