"""Templates an agency fills in: a source's contract as a file (`bluelight sources NAME
--template`).

A template holds the contract's columns in order and its worked example row (a CSV, or an XLSX
whose first sheet is the data and whose second sheet, "Columns", describes each column's type,
unit, allowed values and whether it is required). The loader reads an XLSX's first sheet only,
so a filled-in workbook goes into the inbox as it is.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from flows.sources.contracts import SOURCES, TYPE_FORMATS, Column, Source

FORMATS = ("csv", "xlsx")
# Units follow from a column's name where the contracts name one (`_gbp`, `_m2`, ...).
UNITS = {
    "_gbp": "pounds (cash)",
    "_m2": "square metres",
    "_seconds": "seconds",
    "_minutes": "minutes",
    "fte": "full-time equivalents",
    "headcount": "people",
    "population": "people",
    "easting": "metres, British National Grid",
    "northing": "metres, British National Grid",
}
COLUMN_SHEET = ("column", "required", "type", "format", "unit", "allowed values", "description")


class TemplateError(ValueError):
    """No template for this source (unknown, or a publisher's file sent as released)."""


def unit(column: Column) -> str:
    return next((u for end, u in UNITS.items() if column.name.endswith(end)), "")


def allowed(column: Column) -> str:
    """The values a column takes, in words: a list, a pattern or a range."""
    if column.allowed:
        return ", ".join(column.allowed)
    if column.pattern:
        return f"matches {column.pattern}"
    low = "" if column.min is None else f"from {column.min:g}"
    high = "" if column.max is None else f"to {column.max:g}"
    return " ".join(p for p in (low, high) if p)


def describe(column: Column) -> list[str]:
    """A row of the Columns sheet."""
    need = "required" if column.required else "optional"
    fmt = TYPE_FORMATS[column.type]
    return [column.name, need, column.type, fmt, unit(column), allowed(column), column.description]


def source_for_template(name: str) -> Source:
    source = SOURCES.get(name)
    if source is None:
        raise TemplateError(f"no source {name!r}: `bluelight sources` lists them")
    if source.kind != "agency":
        raise TemplateError(
            f"{name} is published by {source.publisher}: send its files to inbox/{name}/ as "
            "released, no template needed"
        )
    return source


def typed(column: Column, text: str):
    """The example's text as the cell Excel would hold: numbers and dates typed, codes as text."""
    if not text:
        return None
    if column.type in ("integer", "double"):
        return float(text) if column.type == "double" else int(text)
    if column.type in ("date", "timestamp"):
        return datetime.fromisoformat(text)
    return text


def write_template(name: str, fmt: str, out: Path) -> Path:
    """Write the template of agency source `name` as `fmt` (csv or xlsx) to `out`."""
    source = source_for_template(name)
    if fmt not in FORMATS:
        raise TemplateError(f"templates come as {' or '.join(FORMATS)}, not {fmt!r}")
    row = [source.example.get(c, "") for c in source.column_names]
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows([source.column_names, row])
        return out
    book = Workbook()
    data = book.active
    data.title = source.name
    data.append(source.column_names)
    data.append([typed(c, source.example.get(c.name, "")) for c in source.columns])
    for value in data[2]:
        if isinstance(value.value, datetime):
            value.number_format = "yyyy-mm-dd hh:mm:ss" if value.value.time() else "yyyy-mm-dd"
    columns = book.create_sheet("Columns")
    columns.append(list(COLUMN_SHEET))
    for column in source.columns:
        columns.append(describe(column))
    for sheet in (data, columns):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for letter, width in zip("ABCDEFG", (28, 10, 10, 30, 22, 40, 70), strict=True):
            sheet.column_dimensions[letter].width = width
    book.save(out)
    return out
