"""Reading an agency's file (CSV, XLSX, ODS or Parquet) as text rows named by its header.

A CSV may come in any encoding and delimiter flows/sources/text.py reads (UTF-8, UTF-16 with its
byte order mark, Windows-1252; comma, tab or semicolon).

`read_file` gives the rows as text, exactly as sent, with `_source_row` (the header is row 1); a
file it cannot read, or whose header or rows are malformed, raises ContractError. Publishers'
layouts are read by flows/sources/published.py instead.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import load_workbook

from flows.sources.errors import ContractError
from flows.sources.text import cell_text, csv_records


def _read_rows(path: Path, name: str) -> list[list]:
    """Every row of the file, header first, as cell values (text for CSV)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return csv_records(path, name)  # decoded and split as published statistics are
    if suffix == ".xlsx":
        try:
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
            return [list(row) for row in sheet.iter_rows(values_only=True)]
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise ContractError(name, f"not readable as XLSX: {exc}") from exc
    if suffix == ".ods":
        try:
            frame = pd.read_excel(path, engine="odf", header=None, dtype=object)
        except Exception as exc:  # odfpy raises many kinds for a broken document
            raise ContractError(name, f"not readable as ODS: {exc}") from exc
        return frame.values.tolist()
    if suffix == ".parquet":
        try:
            with duckdb.connect() as con:
                relation = con.read_parquet(str(path))
                header = relation.columns
                return [header, *relation.fetchall()]
        except duckdb.Error as exc:
            raise ContractError(name, f"not readable as Parquet: {exc}") from exc
    raise ContractError(
        name, f"unsupported file type {suffix!r} (expected .csv, .xlsx, .ods or .parquet)"
    )


def header_names(cells: list, name: str) -> list[str]:
    """The header row's column names, lower case; '' for an unnamed column."""
    if not any(cell_text(v) for v in cells):
        raise ContractError(name, "the file is empty", row=1)
    header = [(cell_text(h) or "").lower() for h in cells]
    seen: set[str] = set()
    for column in header:
        if column and column in seen:
            raise ContractError(name, f"column {column!r} appears twice", row=1, column=column)
        seen.add(column)
    return header


def read_file(path: Path, name: str) -> pd.DataFrame:
    """A tabular file as text columns named by its header row, plus `_source_row` (header = 1)."""
    rows = _read_rows(path, name)
    header = header_names(rows[0] if rows else [], name)
    width = len(header)
    body = []
    text_only = path.suffix.lower() == ".csv"  # CSV cells are text already: the fast path
    for number, row in enumerate(rows[1:], start=2):
        values = [v.strip() or None for v in row] if text_only else [cell_text(v) for v in row]
        if not any(values):
            continue  # blank rows (Excel keeps them at the end of a sheet)
        if len(values) > width and any(values[width:]):
            raise ContractError(
                name, f"{len(values)} values in a row of a {width}-column file", row=number
            )
        body.append([*values[:width], *[None] * (width - len(values)), number])
    frame = pd.DataFrame(body, columns=[*header, "_source_row"], dtype=object)
    return frame.drop(columns=[""], errors="ignore")
