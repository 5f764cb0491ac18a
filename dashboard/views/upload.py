"""Upload: an analyst sends a file for the next night, without a shell on the machine. The page
asks for the file and its source and shows what became of it; flows/load/upload.py judges it (as
`bluelight validate` does) and places it in the inbox. Every file sent, refused ones too, goes
into the access log with its sha256."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import access
from flows.load import upload
from flows.load.validate import LOAD, QUARANTINE
from flows.security import access_log
from flows.settings import Settings
from flows.sources.contracts import SOURCES
from flows.sources.limits import UPLOAD_LIMIT_MB

SHOWN_PROBLEMS = 50  # the problems listed in full; `bluelight validate` lists every one
SENT = "upload.sent"  # (the uploader's file id, the source, the receipt) of the last file sent
PAGE = "Upload"


def send(sent, source: str) -> upload.Receipt:
    """Receive the file and log the upload, whatever its verdict."""
    settings = Settings.from_env()
    who = access.who()
    organisations = access.current().scope.organisations  # None: every one (local)
    receipt = upload.receive(settings, sent.name, sent.getvalue(), who, source, organisations)
    access_log.append(
        settings.access_log,
        "upload",
        who,
        page=PAGE,
        sha256=receipt.sha256,
        rows=receipt.verdict.rows,
        detail={
            "file": receipt.file,
            "source": receipt.source,
            "verdict": receipt.verdict.verdict,
            "placed_as": receipt.placed_as,
        },
    )
    return receipt


def problems(receipt: upload.Receipt) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.row, p.column, p.rule, p.value) for p in receipt.verdict.problems],
        columns=["Row", "Column", "Rule", "Value"],
    ).astype({"Row": "Int64"})


def show(receipt: upload.Receipt) -> None:
    """The verdict, its problems and where the file went."""
    verdict = receipt.verdict
    counts = f"{verdict.rows:,} row(s)" + (
        f", {verdict.quarantined_rows:,} set aside" if verdict.verdict == QUARANTINE else ""
    )
    box = {LOAD: st.success, QUARANTINE: st.warning}.get(verdict.verdict, st.error)
    box(f"**{verdict.verdict}**: {receipt.file} ({receipt.source or 'no source'}), {counts}")
    if verdict.problems:
        # A plain table, read as text (and by a screen reader), not a scrolling grid.
        st.table(problems(receipt).head(SHOWN_PROBLEMS).set_index("Row"))
        more = len(verdict.problems) - SHOWN_PROBLEMS
        if more > 0:
            st.caption(f"And {more:,} more: `bluelight validate` on the file lists every one.")
    st.markdown(receipt.outcome())
    st.caption(f"sha256 {receipt.sha256}, {receipt.size:,} bytes, sent by {receipt.sender}")


st.title("Upload")
st.caption(
    "Send a file for the next night: it is judged at once against its source's contract, as "
    "`bluelight validate` does, and unless it would be refused it waits in the inbox for the "
    f"night's load. Up to {UPLOAD_LIMIT_MB} MB. Each source's columns: `bluelight sources NAME`; "
    "a template to fill in: `bluelight sources NAME --template`."
)
sent = st.file_uploader("File", type=list(upload.FILE_TYPES), max_upload_size=UPLOAD_LIMIT_MB)
names = list(SOURCES)
suggested = upload.suggested_source(sent.name) if sent else None
source = st.selectbox(
    "Source",
    names,
    index=names.index(suggested) if suggested else None,
    placeholder="Choose the source the file is for",
    format_func=lambda name: f"{name} ({', '.join(SOURCES[name].formats)})",
)
if st.button("Send", type="primary", disabled=not (sent and source)):
    st.session_state[SENT] = (sent.file_id, source, send(sent, source))
last = st.session_state.get(SENT)
if sent and last and last[:2] == (sent.file_id, source):
    show(last[2])
