"""The Home Office police workforce tables (ODS or XLSX), read by content into long rows.

One of the publishers' layouts (flows/sources/published.py lists them all in `READERS`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter

from flows.sources.errors import ContractError
from flows.sources.text import cell_number, folded, read_sheets, shown_text

FORCES_IN_ENGLAND_AND_WALES = 43


HEADLINE_WORKERS = "police officers"  # every release's first table; one without it is refused


ENGLISH_REGIONS = {
    "north east",
    "north west",
    "yorkshire and the humber",
    "yorkshire and humber",
    "east midlands",
    "west midlands",  # also a force: told apart in _forces_only
    "east of england",
    "eastern",  # the 2015 tables' name for East of England
    "east",
    "london",
    "south east",
    "south west",
}


# Totals and bodies outside the 43 territorial forces that the tables list below them.
NOT_FORCES = {
    "england",
    "wales",
    "england and wales",
    "central service secondments",
    "british transport police",
    "national crime agency",
}


_FOOTNOTE_MARK = re.compile(r"\s*(?:\(\d+\)|\[\d+\]|\d+|[\u00b9\u00b2\u00b3\u2070-\u2079]+|\*)$")


_TABLE_SHEET = re.compile(r"table[_ ]?\d+", re.IGNORECASE)


_TABLE_TITLE = re.compile(r"table\s*\d+\s*:\s*(.+?)\s+by police force area", re.IGNORECASE)


def _strip_footnote(text: str) -> str:
    return _FOOTNOTE_MARK.sub("", text).strip()


def _police_sheet(frame: pd.DataFrame, sheet: str, name: str) -> pd.DataFrame | None:
    """One Table_N sheet as long rows, or None when it is not a force table (e.g. a time series)."""
    cells = frame.map(lambda v: None if not isinstance(v, str) and pd.isna(v) else v)
    # The title is the first non-empty cell, reading along the rows.
    filled = ((r, c) for r in cells.index for c in cells.columns if shown_text(cells.at[r, c]))
    title_row, title_col = next(filled, (None, None))
    match = title_row and _TABLE_TITLE.match(shown_text(cells.at[title_row, title_col]))
    if not match:
        return None
    # "Designated officers (s.38, s.391)": drop the qualifier, whose footnote mark clings to it.
    worker_type = _strip_footnote(re.sub(r"\s*\(.*?\)", "", match.group(1)))
    header, dates = _as_at_dates(cells, title_row, sheet, name)
    body, name_col = _figures(cells, header, dates, sheet, name)
    rows = []
    for r in body.index:
        area = shown_text(body.at[r, name_col])
        values = {d: shown_text(body.at[r, c]) for c, d in dates.items()}
        if area and any(values.values()):
            rows.append((r, _strip_footnote(area), values))
    forces = _forces_only(rows, sheet, name, name_col)
    return pd.DataFrame(
        [
            {
                "table_name": sheet,
                "worker_type": worker_type,
                "as_at_date": as_at,
                "force_name": force,
                "fte": value,
                "_source_row": r,
            }
            for r, force, values in forces
            for as_at, value in values.items()
        ]
    )


def _is_date(v) -> bool:
    # A column pandas reads as dates holds NaT (a datetime) in its empty cells.
    return isinstance(v, datetime | date) and not pd.isna(v)


def _as_at_dates(
    cells: pd.DataFrame, title_row: int, sheet: str, name: str
) -> tuple[int, dict[int, str]]:
    """The header row below the title, and its as-at dates by column (YYYY-MM-DD), read up to
    the change columns."""
    date_rows = [r for r in cells.index if r > title_row and any(map(_is_date, cells.loc[r]))]
    if not date_rows:
        raise ContractError(
            name, f"sheet {sheet}: no header row of as-at dates below the title", row=title_row
        )
    header = date_rows[0]
    # The change columns (12 and 6 months) follow the as-at dates; nothing from there on is read.
    change_cols = [
        c
        for r in range(title_row + 1, header + 1)
        for c in cells.columns
        if isinstance(cells.at[r, c], str) and folded(cells.at[r, c]).startswith("change")
    ]
    stop = min(change_cols, default=cells.columns[-1] + 1)
    dates = {
        c: shown_text(cells.at[header, c])[:10]
        for c in cells.columns
        if c < stop and _is_date(cells.at[header, c])
    }
    if not dates:
        raise ContractError(
            name, f"sheet {sheet}: the as-at dates come after the change columns", row=header
        )
    return header, dates


def _figures(
    cells: pd.DataFrame, header: int, dates: dict[int, str], sheet: str, name: str
) -> tuple[pd.DataFrame, int]:
    """The rows below the header down to the last figure, and the column of force names."""
    body = cells.loc[header + 1 :]
    numeric = [r for r in body.index if any(cell_number(body.at[r, c]) is not None for c in dates)]
    if not numeric:
        raise ContractError(name, f"sheet {sheet}: no figures below the as-at dates", row=header)
    body = body.loc[: numeric[-1]]  # below the last figure: footnotes and sources
    for c, as_at in dates.items():
        if body[c].map(shown_text).isna().all():
            raise ContractError(
                name,
                f"sheet {sheet}: no figures under the as-at date {as_at}",
                row=header,
                column=get_column_letter(c),
            )
    text_cols = [
        c for c in body.columns if c < min(dates) and body[c].map(shown_text).notna().any()
    ]
    if not text_cols:
        raise ContractError(
            name, f"sheet {sheet}: no force names left of the figures", row=header + 1
        )
    return body, text_cols[0]


def _forces_only(rows: list, sheet: str, name: str, name_col: int) -> list:
    """Drop region subtotals and totals; exactly the 43 forces of England and Wales must remain."""
    keys = [folded(area) for _, area, _ in rows]
    west_midlands = [i for i, k in enumerate(keys) if k == "west midlands"]
    has_regions = any(k in ENGLISH_REGIONS and k != "west midlands" for k in keys)
    force_rows = set()
    if len(west_midlands) == 2:
        # Region and force share the name; the region is the larger (it holds the force).
        def size(i: int) -> float:
            return sum(cell_number(v) or 0 for v in rows[i][2].values())

        force_rows.add(min(west_midlands, key=size))
    elif len(west_midlands) == 1:
        if has_regions:
            raise ContractError(
                name,
                f"sheet {sheet}: 'West Midlands' appears once beside region rows: "
                "cannot tell the force from the region",
                row=rows[west_midlands[0]][0],
                column=get_column_letter(name_col),
            )
        force_rows.add(west_midlands[0])
    forces = [
        row
        for i, (row, k) in enumerate(zip(rows, keys, strict=True))
        if i in force_rows or not (k in ENGLISH_REGIONS or k in NOT_FORCES or k.startswith("total"))
    ]
    if len(forces) != FORCES_IN_ENGLAND_AND_WALES:
        listed = ", ".join(area for _, area, _ in forces)
        raise ContractError(
            name,
            f"sheet {sheet}: expected the {FORCES_IN_ENGLAND_AND_WALES} forces of England and "
            f"Wales, found {len(forces)}: {listed}",
            row=rows[0][0] if rows else None,
            column=get_column_letter(name_col),
        )
    return forces


def read_police_workforce(path: Path, name: str) -> pd.DataFrame:
    """Home Office police workforce tables (ODS or XLSX), one release per file, as long rows.

    Reads every sheet named like `Table_N` whose title (its first non-empty cell) reads
    "Table N: <worker type> by police force area..."; other sheets (index, time series) are skipped.
    Everything is found by content: the as-at dates are the first row of real dates below the
    title, read up to the change columns; force names are the first text column below it, without
    English region subtotals, totals, British Transport Police and the footnotes below the table.
    A release without a police officers table, or a table with an as-at date but no figures under
    it, is refused; a single figure that is not a number, or is negative, is left as published
    for the contract's rules to quarantine its row.

    Columns: `table_name` (sheet name, "Table_1"), `worker_type` ("Police officers"), `as_at_date`
    (YYYY-MM-DD), `force_name` (as published, footnote marks stripped: "London, City of"),
    `fte` (the figure as published; special constables are a headcount, as their table says),
    `_source_row`.
    """
    sheets = read_sheets(path, name)
    tables = [
        table
        for sheet, frame in sheets.items()
        if _TABLE_SHEET.fullmatch(sheet.strip())
        and (table := _police_sheet(frame, sheet, name)) is not None
    ]
    if not tables:
        raise ContractError(
            name, "no Table_N sheet titled 'Table N: <worker type> by police force area'"
        )
    if not any(folded(t.worker_type.iloc[0]) == HEADLINE_WORKERS for t in tables):
        raise ContractError(
            name,
            "no 'Table N: Police officers by police force area' sheet: the release's headline "
            "figures are missing",
        )
    return pd.concat(tables, ignore_index=True)
