"""Who is looking, what they are granted, and every sign-in, refusal, page view and export of the
dashboard in the access log (flows/security/access_log.py), outside the published warehouse.

With sign-in configured (flows/security/signin.py) a session is the account `st.login` signed
in, its roles and scope from the access file (flows/security/roles.py); a sign-in older than
the session lifetime (BLUELIGHT_SESSION_HOURS) is ended, and the reader asked to sign in again.
Without it the dashboard serves loopback only, to `local`, who sees everything.

Each entry names who (the signed-in e-mail, or `local`), the page, the bid shown and, for an
export, its rows. A view is logged when the page or bid a session shows changes, not at each
rerun a widget causes; an export when its file is written, which is when the reader asks for it
(a CSV with its rows, a file made by the page, such as a bid's evidence pack, with its sha256);
a sign-in once per sign-in (per dashboard process); a refusal each time a page or bid is asked
for and not granted.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard.spreadsheet import safe_csv
from flows.security import access_log, roles, signin
from flows.settings import Settings

VIEWED = "access.viewed"  # the (page, bid) this session last logged
REFUSED = "access.refused"  # the (page, bid) this session last logged a refusal of
_signed_in: set[tuple[str, object]] = set()  # (subject, issued at) of sign-ins logged
_signed_in_lock = threading.Lock()


def signin_required() -> bool:
    """Whether the dashboard asks for sign-in (flows/security/signin.py `required`), or
    Streamlit was given sign-in secrets: either is enough."""
    if signin.required(Settings.from_env()):
        return True
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def beyond_loopback() -> str | None:
    """Why a dashboard without sign-in may not serve this reader, or None: it serves this
    machine only, so a connection from another address, or through a proxy, is refused."""
    proxied = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")
    forwarded = [h for h in proxied if isinstance(st.context.headers.get(h), str)]
    remote = st.context.ip_address  # None on loopback; a test harness may give no text
    if not isinstance(remote, str) and not forwarded:
        return None
    return (
        "This dashboard has no sign-in configured, so it serves this machine only, and this "
        "request comes from another address or through a proxy. Whoever runs it: configure "
        "sign-in (docs/security.md) to serve it on the network."
    )


def signed_in() -> bool:
    """Whether a user is signed in, within the session lifetime. One whose sign-in is older is
    signed out (Streamlit reruns the page, which then asks for sign-in again)."""
    if not st.user.is_logged_in:
        return False
    issued = st.user.get("iat")  # this sign-in; auth_time may be the provider's older session
    lifetime = Settings.from_env().session_hours * 3600
    if not isinstance(issued, int | float) or time.time() - issued > lifetime:
        st.logout()
        return False
    _log_sign_in(str(st.user.get("sub")), issued)
    return True


def current() -> roles.Access:
    """What the session's account is granted (the access file is read each time, so a change
    needs no restart); `local` with everything when sign-in is not configured. Call only when
    signed_in() (or sign-in is not required)."""
    if not signin_required():
        return roles.LOCAL_ACCESS
    rules = roles.read(Settings.from_env().access_file)
    return roles.resolve(rules, who(), st.user.to_dict())


def ask_whom() -> str:
    """Whom an account with no role should ask, as the access file says."""
    return roles.read(Settings.from_env().access_file).ask


def _log_sign_in(subject: str, issued: object) -> None:
    with _signed_in_lock:
        if (subject, issued) in _signed_in:
            return
        _signed_in.add((subject, issued))
    access_log.append(
        Settings.from_env().access_log, "sign-in", who(), detail={"sub": subject, "iat": issued}
    )


def refused(page: str, bid: str | None = None, why: str = "") -> None:
    """Log a refusal of `page` (and `bid`) unless it is the one this session logged last."""
    if st.session_state.get(REFUSED) == (page, bid):
        return
    st.session_state[REFUSED] = (page, bid)
    access_log.append(
        Settings.from_env().access_log, "refusal", who(), page=page, bid=bid, detail={"why": why}
    )


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
    when the reader asks for it."""
    return _export(lambda: safe_csv(frame), {"file": f"{name}.csv"}, rows=len(frame))


def export_made(make: Callable[[], bytes], name: str, file_format: str) -> Callable[[], bytes]:
    """The file `name` that `make` writes, for a download button: made, and its export logged,
    when the reader asks for it. A file that cannot be made is not logged."""
    return _export(make, {"file": name, "format": file_format})


def _export(make: Callable[[], bytes], detail: dict, rows: int | None = None) -> Callable:
    """`make`, logging its export with the sha256 of its bytes once they are made; who and
    which page and bid are taken now, in the session (Streamlit makes a download's bytes in a
    thread of its own, outside it)."""
    page, bid = st.session_state.get(VIEWED, (None, None))
    user = who()

    def write() -> bytes:
        made = make()
        access_log.append(
            Settings.from_env().access_log,
            "export",
            user,
            page=page,
            bid=bid,
            rows=rows,
            sha256=hashlib.sha256(made).hexdigest(),
            detail=detail,
        )
        return made

    return write
