"""Readers for national published statistics, as their publishers release them, and a downloader.

Each reader takes one file exactly as published (Home Office police workforce tables, NHS England
AmbSYS, ONS lookups, Home Office fire stations and FIRE1001) and returns a tidy DataFrame of text
values: trimmed, numbers without a spurious `.0`, dates as ISO `YYYY-MM-DD`, None for missing. Each
row carries `_source_row`, its 1-based row in the original sheet or CSV (the header row counts).
A layout a reader cannot understand, or a file cut off, raises `ContractError` naming the file,
row and column; a bad value in a readable layout is left as published, for the contract's column
rules to quarantine its row while the others load.
`READERS` maps a source name to its reader; `download` fetches a publisher's file.
"""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from flows.ingest import ContractError

# --- cell values as text ------------------------------------------------------------------------


def _text(value) -> str | None:
    """A cell as the text its publisher shows: trimmed, ISO dates, integral numbers without `.0`."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        # Spreadsheets show 15 significant digits; beyond that is binary noise (1229.3799999999999).
        text = np.format_float_positional(
            float(value), precision=15, unique=False, fractional=False, trim="-"
        )
        return "0" if text == "-0" else text
    return str(value).strip() or None


def _number(value) -> float | None:
    """A cell as a float, or None when it holds no number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return None if pd.isna(value) else float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", ""))
        except ValueError:
            return None
    return None


def _key(text: str) -> str:
    """A header or name folded for matching: lower case, `&` as `and`, single spaces."""
    return " ".join(text.replace("\ufeff", "").replace("&", " and ").lower().split())


# --- reading files ------------------------------------------------------------------------------


# Byte order marks and the codec of the text after each. Excel's "Unicode text" is UTF-16 LE
# with its mark.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_DELIMITERS = ",\t;"  # comma, tab (Excel's "Unicode text") and semicolon (other locales' Excel)


def _records_in(text: str, delimiter: str) -> int:
    """How many whole records `text` holds (a record may span lines inside quotes)."""
    return sum(1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _decode(data: bytes, name: str) -> str:
    """A CSV's bytes as text: UTF-8 or UTF-16 (LE or BE) by their byte order mark; without one,
    UTF-8, else Windows-1252 (Windows exports carry the pound sign as 0xA3)."""
    for mark, codec, label in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            data = data[len(mark) :]
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                # Name the record the bad bytes fall in (a character put in their place starts
                # a record if they do); a character left incomplete at the very end is a file
                # cut off part-way through it.
                before = data[: exc.start].decode(codec, errors="ignore")
                delimiter = _delimiter(before.split("\n", 1)[0].rstrip("\r"))
                cut = exc.end == len(data) and exc.reason in (
                    "truncated data",  # UTF-16: an odd byte
                    "unexpected end of data",  # UTF-8: a sequence begun, not finished
                )
                at = len(mark) + exc.start
                raise ContractError(
                    name,
                    "the file ends part-way through a character: it is cut off"
                    if cut
                    else f"not readable as {label} text: {exc.reason} at byte {at}",
                    row=_records_in(before + "?", delimiter),
                ) from None
    if b"\x00" in data:
        raise ContractError(
            name,
            "not readable as CSV: binary content (NUL bytes; UTF-16 text needs its byte order "
            "mark)",
        )
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    raise ContractError(name, "not readable as UTF-8, UTF-16 or Windows-1252 text")


def _delimiter(header: str) -> str:
    """The header line's delimiter: comma, tab or semicolon (csv.Sniffer), comma when it has
    none of them (a one-column file)."""
    try:
        return csv.Sniffer().sniff(header, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    """A CSV as text cells, header included, indexed by its 1-based record number.

    Reads the encodings and delimiters publishers and Excel write (see `_decode`, `_delimiter`).
    A file cut off in its last record is refused, naming that record: one that ends inside a
    quoted field, or whose last record has fewer fields than the header (a short record anywhere
    else is padded, as a spreadsheet shows it). A record with more values than the header is
    refused too: its values cannot be placed under their columns.
    """
    text = _decode(path.read_bytes(), name)
    if "\x00" in text:
        raise ContractError(name, "not readable as CSV: binary content (NUL characters)")
    delimiter = _delimiter(text.split("\n", 1)[0].rstrip("\r"))
    records: list[list[str]] = []
    # Blank lines stay as empty records, so the record number is the row a spreadsheet shows.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records.extend(reader)
    except csv.Error as exc:
        row = len(records) + 1
        if "unexpected end of data" in str(exc):
            raise ContractError(
                name, "the file ends inside a quoted field: it is cut off", row=row
            ) from None
        raise ContractError(name, f"not readable as CSV: {exc}", row=row) from None
    if not any(cell.strip() for record in records for cell in record):
        raise ContractError(name, "the file is empty", row=1)
    header = records[0]
    width = len(header)
    named = width - next((i for i, h in enumerate(reversed(header)) if h.strip()), width)
    last = max((i for i, r in enumerate(records) if any(c.strip() for c in r)), default=0)
    if last and len(records[last]) < named:
        raise ContractError(
            name,
            f"the file is cut off: its last row has {len(records[last])} of the header's "
            f"{named} fields",
            row=last + 1,
        )
    for number, record in enumerate(records, start=1):
        if len(record) > width and any(c.strip() for c in record[width:]):
            raise ContractError(
                name, f"{len(record)} values in a row of a {width}-column file", row=number
            )
    frame = pd.DataFrame(
        [record[:width] + [""] * (width - len(record)) for record in records], dtype=object
    )
    frame.index = range(1, len(frame) + 1)
    return frame.map(_text)


def _read_sheets(path: Path, name: str) -> dict[str, pd.DataFrame]:
    """Every sheet of an ODS or XLSX workbook as raw cells, each indexed by its 1-based row."""
    suffix = path.suffix.lower()
    engines = {".ods": "odf", ".xlsx": "openpyxl"}
    if suffix not in engines:
        raise ContractError(name, f"unsupported file type {suffix!r} (expected .ods or .xlsx)")
    try:
        sheets = pd.read_excel(
            path, sheet_name=None, header=None, dtype=object, engine=engines[suffix]
        )
    except Exception as exc:  # odfpy and openpyxl raise many kinds for a broken workbook
        raise ContractError(name, f"not readable as {suffix[1:].upper()}: {exc}") from exc
    for frame in sheets.values():
        frame.index = range(1, len(frame) + 1)
        frame.columns = range(1, frame.shape[1] + 1)
    return sheets


def _find_columns(
    header: dict[int, str], wanted: dict[str, str], name: str, row: int
) -> dict[str, int]:
    """Map output names to column positions by regular expressions on the folded header."""
    found = {}
    for out, pattern in wanted.items():
        matches = [col for col, text in header.items() if re.fullmatch(pattern, _key(text or ""))]
        if not matches:
            raise ContractError(name, f"no column matching {pattern!r} in the header", row=row)
        found[out] = matches[0]
    return found


def _header_row(frame: pd.DataFrame, required: list[str], limit: int = 30) -> int | None:
    """The first row (within `limit`) whose folded cells include every `required` header."""
    for row in frame.index[:limit]:
        cells = {_key(str(v)) for v in frame.loc[row] if isinstance(v, str)}
        if all(r in cells for r in required):
            return row
    return None


# --- Home Office police workforce tables ---------------------------------------------------------

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
    filled = ((r, c) for r in cells.index for c in cells.columns if _text(cells.at[r, c]))
    title_row, title_col = next(filled, (None, None))
    match = title_row and _TABLE_TITLE.match(_text(cells.at[title_row, title_col]))
    if not match:
        return None
    # "Designated officers (s.38, s.391)": drop the qualifier, whose footnote mark clings to it.
    worker_type = _strip_footnote(re.sub(r"\s*\(.*?\)", "", match.group(1)))

    def is_date(v) -> bool:
        # A column pandas reads as dates holds NaT (a datetime) in its empty cells.
        return isinstance(v, datetime | date) and not pd.isna(v)

    date_rows = [r for r in cells.index if r > title_row and any(map(is_date, cells.loc[r]))]
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
        if isinstance(cells.at[r, c], str) and _key(cells.at[r, c]).startswith("change")
    ]
    stop = min(change_cols, default=cells.columns[-1] + 1)
    dates = {
        c: _text(cells.at[header, c])[:10]
        for c in cells.columns
        if c < stop and is_date(cells.at[header, c])
    }
    if not dates:
        raise ContractError(
            name, f"sheet {sheet}: the as-at dates come after the change columns", row=header
        )
    body = cells.loc[header + 1 :]
    numeric = [r for r in body.index if any(_number(body.at[r, c]) is not None for c in dates)]
    if not numeric:
        raise ContractError(name, f"sheet {sheet}: no figures below the as-at dates", row=header)
    body = body.loc[: numeric[-1]]  # below the last figure: footnotes and sources
    for c, as_at in dates.items():
        if body[c].map(_text).isna().all():
            raise ContractError(
                name,
                f"sheet {sheet}: no figures under the as-at date {as_at}",
                row=header,
                column=get_column_letter(c),
            )
    text_cols = [c for c in body.columns if c < min(dates) and body[c].map(_text).notna().any()]
    if not text_cols:
        raise ContractError(
            name, f"sheet {sheet}: no force names left of the figures", row=header + 1
        )
    name_col = text_cols[0]
    rows = []
    for r in body.index:
        area = _text(body.at[r, name_col])
        values = {d: _text(body.at[r, c]) for c, d in dates.items()}
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


def _forces_only(rows: list, sheet: str, name: str, name_col: int) -> list:
    """Drop region subtotals and totals; exactly the 43 forces of England and Wales must remain."""
    keys = [_key(area) for _, area, _ in rows]
    west_midlands = [i for i, k in enumerate(keys) if k == "west midlands"]
    has_regions = any(k in ENGLISH_REGIONS and k != "west midlands" for k in keys)
    force_rows = set()
    if len(west_midlands) == 2:
        # Region and force share the name; the region is the larger (it holds the force).
        def size(i: int) -> float:
            return sum(_number(v) or 0 for v in rows[i][2].values())

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
    sheets = _read_sheets(path, name)
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
    if not any(_key(t.worker_type.iloc[0]) == HEADLINE_WORKERS for t in tables):
        raise ContractError(
            name,
            "no 'Table N: Police officers by police force area' sheet: the release's headline "
            "figures are missing",
        )
    return pd.concat(tables, ignore_index=True)


# --- NHS England AmbSYS --------------------------------------------------------------------------


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
    frame = _read_csv(path, name)
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
    frame = _read_csv(path, name)
    header = {c: _key(h or "") for c, h in frame.loc[1].items()}
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
    frame = _read_csv(path, name)
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
    if _text(value) is None:
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
    number = _number(value)
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
    if path.suffix.lower() == ".csv":
        frames = {"": _read_csv(path, name)}
    else:
        frames = {
            sheet: f.map(lambda v: (v.strip() or None) if isinstance(v, str) else v)
            for sheet, f in _read_sheets(path, name).items()
        }
    # The data may sit below title rows, on any sheet of a workbook: find its header row.
    found = [(s, f, row) for s, f in frames.items() if (row := _header_row(f, _FIRE1001_MARKS))]
    if not found:
        marks = " and ".join(c.upper() for c in _FIRE1001_MARKS)
        raise ContractError(name, f"no header row with {marks}")
    sheet, frame, header_row = found[0]
    header = {c: v for c, v in frame.loc[header_row].items() if isinstance(v, str)}
    present = {_key(v) for v in header.values()}
    missing = [c.upper() for c in FIRE1001_COLUMNS.values() if c not in present]
    if missing:
        raise ContractError(
            name, f"missing required column(s) {', '.join(missing)}", header_row, missing[0]
        )
    cols = _find_columns(header, FIRE1001_COLUMNS, name, row=header_row)
    body = frame.loc[header_row + 1 :]
    body = body[body.map(lambda v: _text(v) is not None).any(axis=1)]
    totals = [
        n
        for v in body[cols["total_response_minutes"]]
        if not isinstance(v, time | timedelta)
        and not (isinstance(v, str) and _CLOCK.fullmatch(v.strip()))
        and (n := _number(v)) is not None
    ]
    fraction_of_day = bool(totals) and max(totals) < 1
    rows = []
    for r in body.index:
        out = {c: _text(body.at[r, cols[c]]) for c in FIRE1001_COLUMNS if c not in _TIME_COLUMNS}
        for c in _TIME_COLUMNS:
            cell = body.at[r, cols[c]]
            try:
                out[c] = _minutes_text(_minutes(cell, fraction_of_day))
            except ValueError:
                out[c] = _text(cell)  # not a time: quarantined as "not a double"
        out["_source_row"] = r
        rows.append(out)
    return pd.DataFrame(rows, columns=[*FIRE1001_COLUMNS, "_source_row"])


# --- download ------------------------------------------------------------------------------------


class DownloadError(Exception):
    """A publisher's file could not be fetched; `transient` when trying again may help (the
    network, a timeout, HTTP 429 or 5xx), not for a wrong address (HTTP 404) or a refused one."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def _safe_name(raw: str) -> str:
    """A file name that stays inside the download folder, whatever the server or URL says."""
    name = raw.replace("\\", "/").split("/")[-1]
    name = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", name).strip(" .")  # no "..", no hidden files
    return name or "download"


def download(url: str, dest_dir: Path, timeout: float = 60) -> Path:
    """Fetch `url` into `dest_dir` and return the file's path.

    The name comes from Content-Disposition, else the last part of the (final) URL path,
    sanitised so it cannot leave `dest_dir`. Bytes stream to `<name>.partial`, renamed only when
    complete, so a failed download never leaves a file that looks whole. HTTP and network errors
    raise DownloadError.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"{url}: only http and https URLs are fetched")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": "bluelight"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            url_name = posixpath.basename(
                urllib.parse.unquote(urllib.parse.urlsplit(response.url).path)
            )
            target = dest_dir / _safe_name(response.headers.get_filename() or url_name)
            if target.resolve().parent != dest_dir.resolve():
                raise DownloadError(f"{url}: refusing to write outside {dest_dir}")
            partial = target.with_name(target.name + ".partial")
            try:
                with partial.open("wb") as out:
                    shutil.copyfileobj(response, out, 1 << 20)
                expected = response.headers.get("Content-Length")
                if expected and partial.stat().st_size != int(expected):
                    raise DownloadError(
                        f"{url}: got {partial.stat().st_size} of {expected} bytes", True
                    )
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
    except urllib.error.HTTPError as exc:
        transient = exc.code == 429 or exc.code >= 500
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}", transient) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise DownloadError(f"{url}: {getattr(exc, 'reason', exc)}", transient=True) from exc
    return target


READERS = {
    "police_workforce_tables": read_police_workforce,
    "ambsys": read_ambsys,
    "ons_lad_pfa": read_ons_lad_pfa,
    "ons_lad_fra": read_ons_lad_fra,
    "fire_stations": read_fire_stations,
    "fire1001": read_fire1001,
}
