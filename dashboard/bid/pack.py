"""The Bid page's evidence pack: a button that makes the pack of the bid shown (dashboard/pack/),
from the version shown, only when the reader asks for it, and logs it as an export with the
sha256 of its bytes (dashboard/access.py). The bytes are those `bluelight pack` writes for that
bid and version.

Only a reader who may see the whole warehouse (an auditor; everyone on a dashboard without
sign-in) is offered it. A pack's quality checks (audit.quality_results) and lineage (every file
of audit.loaded_files behind the figures) are records a commissioner's or analyst's scope does
not reach (dashboard/warehouse.py SCOPED_BY), so the pack cannot be made within it. And
Streamlit makes a download's bytes in a thread of its own, outside the reader's session, where
warehouse.scope() is the whole warehouse: the button is therefore offered only when that is the
reader's scope too."""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from dashboard import access, warehouse
from flows.security import roles
from flows.warehouse import publish

# Each format the pack is downloaded in: its button's label and MIME type, in the order shown.
FORMATS = {
    "html": ("Download the evidence pack (HTML)", "text/html"),
    "pdf": ("Download the evidence pack (PDF)", "application/pdf"),
}
NOT_WITHIN_SCOPE = (
    "The evidence pack of a bid is made for readers who may see the whole warehouse, such as "
    "auditors: it lists the quality checks and every source file behind the figures, which "
    "your access does not reach."
)


def section(bid_id: str) -> None:
    """A download button for each format of the pack of `bid_id`, from the version shown."""
    if warehouse.scope() != roles.EVERYTHING:
        st.caption(NOT_WITHIN_SCOPE)
        return
    source, version = shown_version()
    for file_format, (label, mime) in FORMATS.items():
        name = f"pack-{bid_id}-{version}.{file_format}"
        made = functools.partial(make, bid_id, source, version, file_format)
        st.download_button(
            label,
            data=access.export_made(made, name, file_format),  # made and logged when clicked
            file_name=name,
            mime=mime,
            key=f"pack.{file_format}",
            on_click="ignore",
        )


def shown_version() -> tuple[Path, str]:
    """The file of the version the page shows and the run that published it: its kept copy
    where there is one, which a later publish leaves as it is."""
    shown = warehouse.file()
    version = warehouse.version(shown)
    kept = publish.version_path(warehouse.publish_root(), version)
    return (kept if kept.exists() else shown), version


def make(bid_id: str, source: Path, version: str, file_format: str) -> bytes:
    """The pack of `bid_id` from the file `source`, which must still be `version`, in
    `file_format`: the bytes `bluelight pack` writes."""
    from dashboard.pack import gather, render

    figures = gather.gather(bid_id, source)
    if figures.version != version:
        raise RuntimeError(f"{source} is version {figures.version} now, not {version}")
    document = render.html(figures)
    if file_format == "html":
        return document.encode("utf-8")
    if file_format == "pdf":
        return render.pdf(document)
    raise ValueError(f"no evidence pack in {file_format}")
