"""The Bid page's evidence pack: a button that makes the pack of the bid shown (dashboard/pack/),
from the version shown, within the reader's scope, only when the reader asks for it, and logs it
as an export with the sha256 of its bytes (dashboard/access.py). The bytes are those `bluelight
pack` writes for that bid and version (with `--within` the reader's organisations, for a reader
short of the whole warehouse: the pack names that command).

Streamlit makes a download's bytes in a thread of its own, outside the reader's session, where
the session's scope is unknown: the scope is taken when the button is drawn and the pack made
within it (warehouse.within)."""

from __future__ import annotations

import functools

import streamlit as st

from dashboard import access, warehouse
from flows.security import roles

# Each format the pack is downloaded in: its button's label and MIME type, in the order shown.
FORMATS = {
    "html": ("Download the evidence pack (HTML)", "text/html"),
    "pdf": ("Download the evidence pack (PDF)", "application/pdf"),
}


def section(bid_id: str) -> None:
    """A download button for each format of the pack of `bid_id`, from the version shown."""
    source, version = shown_version()
    within = warehouse.scope()
    if within != roles.EVERYTHING:  # what `bluelight pack --within ORGS` rebuilds, byte for byte
        within = roles.Scope(within.organisations, False)
    for file_format, (label, mime) in FORMATS.items():
        name = f"pack-{bid_id}-{version}.{file_format}"
        made = functools.partial(make, bid_id, source, version, file_format, within)
        st.download_button(
            label,
            data=access.export_made(made, name, file_format),  # made and logged when clicked
            file_name=name,
            mime=mime,
            key=f"pack.{file_format}",
            on_click="ignore",
        )


def shown_version() -> tuple[warehouse.Target, str]:
    """The version the page shows and the run that published it: as kept (its kept copy where
    there is one, on the lake its snapshot), which a later publish leaves as it is."""
    return warehouse.kept_version()


def make(
    bid_id: str, source: warehouse.Target, version: str, file_format: str, within: roles.Scope
) -> bytes:
    """The pack of `bid_id` from the warehouse `source`, which must still be `version`, in
    `file_format`, read within the scope `within`: the bytes `bluelight pack` writes."""
    from dashboard.pack import gather, render

    with warehouse.within(within):
        figures = gather.gather(bid_id, source)
    if figures.version != version:
        raise RuntimeError(f"{source} is version {figures.version} now, not {version}")
    document = render.html(figures)
    if file_format == "html":
        return document.encode("utf-8")
    if file_format == "pdf":
        return render.pdf(document)
    raise ValueError(f"no evidence pack in {file_format}")
