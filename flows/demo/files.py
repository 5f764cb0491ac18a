"""Writes the demo's files: CSV, and XLSX rewritten with fixed entry times so the same rows give
the same bytes."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook


def _zip_deterministic(path: Path) -> None:
    """Rewrite an XLSX with fixed entry times, so the same rows give the same bytes."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    # openpyxl stamps the save time into docProps/core.xml whatever the workbook says.
    entries = [
        (
            name,
            re.sub(
                rb"<dcterms:modified([^>]*)>[^<]*<",
                rb"<dcterms:modified\1>2026-01-01T00:00:00Z<",
                data,
            ),
        )
        if name == "docProps/core.xml"
        else (name, data)
        for name, data in entries
    ]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            zout.writestr(
                zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> None:
    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = datetime(2026, 1, 1)
    ws = wb.create_sheet("Data")
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    _zip_deterministic(path)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            "" if v is None else v.isoformat() if isinstance(v, date) else v for v in row
        )
    path.write_text(buffer.getvalue(), encoding="utf-8")
