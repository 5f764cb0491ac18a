"""Readers for national published statistics, as their publishers release them, and a downloader.

Each reader takes one file exactly as published (Home Office police workforce tables, NHS England
AmbSYS, ONS lookups, Home Office fire stations and FIRE1001) and returns a tidy DataFrame of text
values: trimmed, numbers without a spurious `.0`, dates as ISO `YYYY-MM-DD`, None for missing. Each
row carries `_source_row`, its 1-based row in the original sheet or CSV (the header row counts).
A layout a reader cannot understand, or a file cut off, raises `ContractError` naming the file,
row and column; a bad value in a readable layout is left as published, for the contract's column
rules to quarantine its row while the others load.
`READERS` maps a source name to its reader. The police workforce tables' reader is in
flows/sources/workforce.py; cells become text in flows/sources/text.py; flows/sources/fetch.py
downloads a publisher's file.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

import pandas as pd

from flows.sources.errors import ContractError
from flows.sources.text import cell_number, folded, read_csv_cells, read_sheets, shown_text
from flows.sources.workforce import read_police_workforce


def _find_columns(
    header: dict[int, str], wanted: dict[str, str], name: str, row: int
) -> dict[str, int]:
    """Map output names to column positions by regular expressions on the folded header."""
    found = {}
    for out, pattern in wanted.items():
        matches = [col for col, text in header.items() if re.fullmatch(pattern, folded(text or ""))]
        if not matches:
            raise ContractError(name, f"no column matching {pattern!r} in the header", row=row)
        found[out] = matches[0]
    return found


def _header_row(frame: pd.DataFrame, required: list[str], limit: int = 30) -> int | None:
    """The first row (within `limit`) whose folded cells include every `required` header."""
    for row in frame.index[:limit]:
        cells = {folded(str(v)) for v in frame.loc[row] if isinstance(v, str)}
        if all(r in cells for r in required):
            return row
    return None


# --- NHS England AmbSYS ---------------------------------------------------------------------------


# The measures a release must carry: incidents by category (A8..A12: C1, C1T, C2, C3, C4) and the
# mean and 90th centile response in seconds that fct_ambulance_response_monthly reads (C1 A25/A26,
# C2 A31/A32, C3 A34/A35, C4 A37/A38). A file without one is refused, not loaded with gaps.
AMBSYS_REQUIRED_MEASURES = (
    *("A8", "A9", "A10", "A11", "A12"),
    *("A25", "A26", "A31", "A32", "A34", "A35", "A37", "A38"),
)


def _period(year: str | None, month: str | None) -> str | None:
    """`YYYY-MM-01` from AmbSYS's Year and Month; text that is not a real month (2020-13-01,
    2020-Jan-01) stays as it is for the contract's date rule to quarantine."""
    if year is None or month is None:
        return None
    if year.isdigit() and month.isdigit():
        return f"{int(year):04d}-{int(month):02d}-01"
    return f"{year}-{month}-01"


def read_ambsys(path: Path, name: str) -> pd.DataFrame:
    """NHS England AmbSYS time series CSV (one row per month and organisation), as long rows.

    Columns: `period` (YYYY-MM-01), `region` (as published: a region's name on England and region
    rows, its code on trust rows), `org_code`, `org_name`, `measure_code` ("A25"), `value` (as
    published: counts, or times in seconds; None where AmbSYS prints "."), `_source_row`.
    A release without one of `AMBSYS_REQUIRED_MEASURES` is refused; a bad value, month or code
    is left as published for the contract's rules to quarantine its row.
    """
    frame = read_csv_cells(path, name)
    header = frame.loc[1].to_dict()
    cols = _find_columns(
        header,
        {
            "year": "year",
            "month": "month",
            "region": "region",
            "code": "org code",
            "org": "org name",
        },
        name,
        row=1,
    )
    measures = {c: h.upper() for c, h in header.items() if re.fullmatch(r"[Aa]\d+", h or "")}
    missing = [m for m in AMBSYS_REQUIRED_MEASURES if m not in measures.values()]
    if missing:
        raise ContractError(
            name, f"missing required measure column(s) {', '.join(missing)}", 1, missing[0]
        )
    body = frame.loc[2:].dropna(how="all")
    periods = [
        _period(year, month)
        for year, month in zip(body[cols["year"]], body[cols["month"]], strict=True)
    ]
    wide = pd.DataFrame(
        {
            "period": periods,
            "region": body[cols["region"]].to_numpy(),
            "org_code": body[cols["code"]].to_numpy(),
            "org_name": body[cols["org"]].to_numpy(),
            "_source_row": body.index,
            **{code: body[c].to_numpy() for c, code in measures.items()},
        }
    )
    long = wide.melt(
        id_vars=["period", "region", "org_code", "org_name", "_source_row"],
        value_vars=list(measures.values()),
        var_name="measure_code",
        value_name="value",
    )
    long["value"] = long["value"].map(lambda v: None if v in (None, ".") else v).astype(object)
    long = long.sort_values("_source_row", kind="stable").reset_index(drop=True)
    return long[
        ["period", "region", "org_code", "org_name", "measure_code", "value", "_source_row"]
    ]


# --- ONS lookups ---------------------------------------------------------------------------------


def _read_ons_lookup(path: Path, name: str, area: str) -> pd.DataFrame:
    """An ONS district lookup to `area` (pfa or fra), whatever the vintage in its column names.

    Codes and names are left as published: an empty one, or a code not of its ONS form, is
    quarantined by the contract's rules, and the other districts load.
    """
    frame = read_csv_cells(path, name)
    header = {c: folded(h or "") for c, h in frame.loc[1].items()}
    # LAD16CD / ltla21_code / lad23cd: the two digits are the boundary year.
    code = r"(?:cd|_code)"
    label = r"(?:nm|_name)"
    cols = _find_columns(
        header,
        {
            "district_code": rf"(?:lad|ltla)\d{{2}}{code}",
            "district_name": rf"(?:lad|ltla)\d{{2}}{label}",
            f"{area}_code": rf"{area}\d{{2}}{code}",
            f"{area}_name": rf"{area}\d{{2}}{label}",
        },
        name,
        row=1,
    )
    vintage = "20" + re.search(r"\d{2}", header[cols["district_code"]]).group()
    body = frame.loc[2:].dropna(how="all")
    out = pd.DataFrame({out: body[col].to_numpy() for out, col in cols.items()})
    out["vintage"] = vintage
    out["_source_row"] = body.index
    return out


def read_ons_lad_pfa(path: Path, name: str) -> pd.DataFrame:
    """ONS lookup from local authority district to police force area (LAD16CD..PFA16NM, any year).

    Columns: `district_code`, `district_name`, `pfa_code`, `pfa_name`, `vintage` ("2016", from the
    district columns' names), `_source_row`. Other columns (CSP, FID) are left out.
    """
    return _read_ons_lookup(path, name, "pfa")


def read_ons_lad_fra(path: Path, name: str) -> pd.DataFrame:
    """ONS lookup from local authority district to fire and rescue authority (any year or case).

    Columns: `district_code`, `district_name`, `fra_code`, `fra_name`, `vintage` ("2021", from the
    district columns' names), `_source_row`.
    """
    return _read_ons_lookup(path, name, "fra")


# --- Home Office fire stations -------------------------------------------------------------------

_WEB_ADDRESS = re.compile(r"https?://|www\.", re.IGNORECASE)


def read_fire_stations(path: Path, name: str) -> pd.DataFrame:
    """Home Office list of fire stations (CSV as converted from its ODS sheet STATIONS).

    Columns: `frs_name`, `frs_code`, `station_name`, `address`, `postcode`, `easting`, `northing`
    (British National Grid metres, as published), `_source_row`. Where a service published a web
    address instead of the address, postcode and coordinates (West Sussex), those are None. Any
    other coordinate is left as published: one that is not a number, or off the grid, is
    quarantined by the contract's rules.
    """
    frame = read_csv_cells(path, name)
    wanted = {
        "frs_name": "frs_fullname",
        "frs_code": "e_code",
        "station_name": "station_name",
        "address": "station_address",
        "postcode": "station_postcode",
        "easting": "station_easting",
        "northing": "station_northing",
    }
    cols = _find_columns(frame.loc[1].to_dict(), wanted, name, row=1)
    body = frame.loc[2:].dropna(how="all")
    out = pd.DataFrame({out: body[col].to_numpy() for out, col in cols.items()})
    out["_source_row"] = body.index
    for column in ("address", "postcode", "easting", "northing"):
        out[column] = out[column].map(lambda v: None if v and _WEB_ADDRESS.search(v) else v)
    return out


# --- Home Office FIRE1001 ------------------------------------------------------------------------

FIRE1001_COLUMNS = {
    "financial_year": "financial_year",
    "frs_name": "frs_name",
    "frs_code": "e_code",
    "fire_type": "fire_type",
    "incidents": "incidents",
    "total_response_minutes": "total_response_time",
    "call_handling_minutes": "call_handling_time",
    "crew_turnout_minutes": "crew_turnout_time",
    "drive_minutes": "drive_time",
}


_TIME_COLUMNS = [c for c in FIRE1001_COLUMNS if c.endswith("_minutes")]


_NOT_AVAILABLE = {"..", "-", "[x]", "[z]", "[c]"}  # Home Office markers for no figure


_CLOCK = re.compile(r"(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


def _minutes(value, fraction_of_day: bool) -> float | None:
    """A FIRE1001 time as minutes: minutes, h:mm:ss text, a time cell or a fraction of a day."""
    if shown_text(value) is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value or value in _NOT_AVAILABLE:
            return None
        if clock := _CLOCK.fullmatch(value):
            hours, mins, secs = clock.groups()
            return int(hours) * 60 + int(mins) + float(secs) / 60
    if isinstance(value, time):
        return value.hour * 60 + value.minute + (value.second + value.microsecond / 1e6) / 60
    if isinstance(value, timedelta):
        return value.total_seconds() / 60
    number = cell_number(value)
    if number is None:
        raise ValueError(value)
    return number * 1440 if fraction_of_day else number


def _minutes_text(minutes: float | None) -> str | None:
    if minutes is None:
        return None
    text = f"{round(minutes, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# The columns that mark FIRE1001's header row; every column of FIRE1001_COLUMNS must be in it.
_FIRE1001_MARKS = ["financial_year", "e_code"]


def read_fire1001(path: Path, name: str) -> pd.DataFrame:
    """Home Office FIRE1001: response times to fires by fire and rescue authority (CSV or XLSX).

    Times may be published as minutes, as time-of-day text ("00:08:04"), as time cells or as
    fractions of a day; all come out as decimal minutes rounded to 4 places ("8.0667"). Plain
    numbers are minutes unless every total response time in the file is under 1: total response
    excludes times under a minute, so such a file holds fractions of a day. A time that is none
    of these is left as published, for the contract's rules to quarantine its row.

    The header row is the first with FINANCIAL_YEAR and E_CODE, on any sheet; a release without
    one of the other columns (TOTAL_RESPONSE_TIME, ...) is refused, naming it.

    Columns: `financial_year` (as published), `frs_name`, `frs_code` (E_CODE), `fire_type`,
    `incidents`, `total_response_minutes`, `call_handling_minutes`, `crew_turnout_minutes`,
    `drive_minutes`, `_source_row`.
    """
    frame, header_row = _fire1001_table(path, name)
    header = {c: v for c, v in frame.loc[header_row].items() if isinstance(v, str)}
    present = {folded(v) for v in header.values()}
    missing = [c.upper() for c in FIRE1001_COLUMNS.values() if c not in present]
    if missing:
        raise ContractError(
            name, f"missing required column(s) {', '.join(missing)}", header_row, missing[0]
        )
    cols = _find_columns(header, FIRE1001_COLUMNS, name, row=header_row)
    body = frame.loc[header_row + 1 :]
    body = body[body.map(lambda v: shown_text(v) is not None).any(axis=1)]
    totals = [
        n
        for v in body[cols["total_response_minutes"]]
        if not isinstance(v, time | timedelta)
        and not (isinstance(v, str) and _CLOCK.fullmatch(v.strip()))
        and (n := cell_number(v)) is not None
    ]
    fraction_of_day = bool(totals) and max(totals) < 1
    rows = []
    for r in body.index:
        out = {
            c: shown_text(body.at[r, cols[c]]) for c in FIRE1001_COLUMNS if c not in _TIME_COLUMNS
        }
        for c in _TIME_COLUMNS:
            cell = body.at[r, cols[c]]
            try:
                out[c] = _minutes_text(_minutes(cell, fraction_of_day))
            except ValueError:
                out[c] = shown_text(cell)  # not a time: quarantined as "not a double"
        out["_source_row"] = r
        rows.append(out)
    return pd.DataFrame(rows, columns=[*FIRE1001_COLUMNS, "_source_row"])


def _fire1001_table(path: Path, name: str) -> tuple[pd.DataFrame, int]:
    """The sheet (or CSV) holding FIRE1001's table, as cells, and its header row: the first row
    with FINANCIAL_YEAR and E_CODE, on any sheet, below any title rows."""
    if path.suffix.lower() == ".csv":
        frames = {"": read_csv_cells(path, name)}
    else:
        frames = {
            sheet: f.map(lambda v: (v.strip() or None) if isinstance(v, str) else v)
            for sheet, f in read_sheets(path, name).items()
        }
    found = [(f, row) for f in frames.values() if (row := _header_row(f, _FIRE1001_MARKS))]
    if not found:
        marks = " and ".join(c.upper() for c in _FIRE1001_MARKS)
        raise ContractError(name, f"no header row with {marks}")
    return found[0]


READERS = {
    "police_workforce_tables": read_police_workforce,
    "ambsys": read_ambsys,
    "ons_lad_pfa": read_ons_lad_pfa,
    "ons_lad_fra": read_ons_lad_fra,
    "fire_stations": read_fire_stations,
    "fire1001": read_fire1001,
}
