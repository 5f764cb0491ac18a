"""A file's bytes and cells as text, shared by the agency and the published readers.

Decoding (byte order marks, UTF-8, UTF-16, Windows-1252), refusing binary content, sniffing a
CSV's delimiter, and a cell as text: `cell_text` as an agency CSV would carry it, `shown_text` as
a publisher's sheet shows it. `csv_records` reads any CSV, agency or published, the one way;
`read_csv_cells` and `read_sheets` give a publisher's file as a grid of cells indexed by its
1-based row, for the layouts in flows/sources/published.py to read.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from flows.sources.errors import ContractError


def cell_text(value) -> str | None:
    """A spreadsheet cell as the text a CSV would carry: ISO dates, plain numbers, true/false."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def refuse_binary(path: Path, name: str) -> bytes:
    """The file's first 64 KB; a ContractError if they hold NUL bytes (not text at all)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if b"\x00" in head:
        raise ContractError(name, "not readable as CSV: binary content (NUL bytes)")
    return head


def shown_text(value) -> str | None:
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


def cell_number(value) -> float | None:
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


def folded(text: str) -> str:
    """A header or name folded for matching: lower case, `&` as `and`, single spaces."""
    return " ".join(text.replace("\ufeff", "").replace("&", " and ").lower().split())


# Byte order marks and the codec of the text after each. Excel's "Unicode text" is UTF-16 LE
# with its mark.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


# The first two bytes of a UTF-16 file with its mark (its NUL bytes are not binary content).
UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


_DELIMITERS = ",\t;"  # comma, tab (Excel's "Unicode text") and semicolon (other locales' Excel)


def records_in(text: str, delimiter: str) -> int:
    """How many whole records `text` holds (a record may span lines inside quotes)."""
    return sum(1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def decode(data: bytes, name: str) -> str:
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
                delimiter = sniff_delimiter(before.split("\n", 1)[0].rstrip("\r"))
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
                    row=records_in(before + "?", delimiter),
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


def sniff_delimiter(header: str) -> str:
    """The header line's delimiter: comma, tab or semicolon (csv.Sniffer), comma when it has
    none of them (a one-column file)."""
    try:
        return csv.Sniffer().sniff(header, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def csv_records(path: Path, name: str) -> list[list[str]]:
    """A CSV's records, as text, for agency extracts and published statistics alike: decoded
    (`decode`), its delimiter sniffed from the header (`sniff_delimiter`), blank lines kept as
    empty records so the record number is the row a spreadsheet shows. A file that ends inside
    a quoted field, or that the csv module cannot read, is refused naming the record."""
    text = decode(path.read_bytes(), name)
    if "\x00" in text:
        raise ContractError(name, "not readable as CSV: binary content (NUL characters)")
    delimiter = sniff_delimiter(text.split("\n", 1)[0].rstrip("\r"))
    records: list[list[str]] = []
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
    return records


def read_csv_cells(path: Path, name: str) -> pd.DataFrame:
    """A publisher's CSV as text cells, header included, indexed by its 1-based record number.

    Reads the encodings and delimiters publishers and Excel write (`csv_records`). A file cut
    off in its last record is refused, naming that record: one whose last record has fewer
    fields than the header (a short record anywhere else is padded, as a spreadsheet shows it).
    A record with more values than the header is refused too: its values cannot be placed under
    their columns.
    """
    records = csv_records(path, name)
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
    return frame.map(shown_text)


def read_sheets(path: Path, name: str) -> dict[str, pd.DataFrame]:
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
