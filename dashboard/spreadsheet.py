"""CSV a spreadsheet opens safely: the data under every chart and table (ui.download) is written
so that no cell can run a formula."""

from __future__ import annotations

import csv
import io

import pandas as pd

# OWASP "CSV Injection": a cell that begins with one of these is read as a formula by
# spreadsheets; a single quote in front makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as CSV (UTF-8 with a byte-order mark, for Excel) that cannot run a formula when
    opened in a spreadsheet: text cells beginning with =, +, -, @, tab or carriage return get a
    leading single quote (column names too). Numbers stay numbers: -5 is not a formula."""
    out = pd.DataFrame(
        {
            safe_cell(str(c)): frame[c].map(safe_cell) if frame[c].dtype == object else frame[c]
            for c in frame.columns
        }
    )
    buffer = io.StringIO()
    out.to_csv(
        buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )  # RFC 4180; quotes a lone CR too
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
