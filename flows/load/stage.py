"""Staging a file: its rows, as text, in temp table `incoming`, checked against its contract.

A file is first held to the limits of flows/sources/limits.py, before anything reads it. Agency
CSVs are read by DuckDB's own reader (the fast path); other files, and CSVs that reader cannot
take exactly, go through the readers in flows/sources/ (agency files by header, published
statistics by their publisher's layout). A file that breaks its contract or passes a limit
raises ContractError naming the file, row and column.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd

from flows.load.quarantine import literal
from flows.sources.agency import header_names, read_file
from flows.sources.contracts import Source
from flows.sources.errors import ContractError
from flows.sources.limits import FileLimits, check_file, check_python_csv
from flows.sources.published import READERS
from flows.sources.text import UTF16_MARKS, refuse_binary, sniff_delimiter


def read_source_file(path: Path, source: Source, name: str) -> pd.DataFrame:
    """Read a file for its source: agency extracts by header, published statistics by their
    publisher's layout (flows/sources/published.py)."""
    if source.kind == "published":
        return READERS[source.name](path, name)
    return read_file(path, name)


def _missing_required(columns, source: Source, name: str) -> list[str]:
    """The contract's columns the file lacks; a ContractError when a required one is among them."""
    missing = [c for c in source.column_names if c not in columns]
    required_missing = [c for c in missing if c in source.required_columns]
    if required_missing:
        raise ContractError(
            name,
            f"missing required column(s) {', '.join(required_missing)}",
            row=1,
            column=required_missing[0],
        )
    return missing


NO_ROWS = "the file has a header but no rows"


def check_contract(frame: pd.DataFrame, source: Source, name: str) -> pd.DataFrame:
    """The contract's columns of `frame`, or a ContractError for what the file lacks."""
    missing = _missing_required(frame.columns, source, name)
    if frame.empty:
        raise ContractError(name, NO_ROWS, row=2)
    for column in missing:
        frame[column] = None
    return frame[[*source.column_names, "_source_row"]]


# Python's str.strip() whitespace that a CSV cell may carry. Trimmed only where a cell starts
# or ends with one: trimming every cell doubled the time to read a file.
_BLANK_CODES = (32, 9, 10, 11, 12, 13, 160)


_BLANK_TEXT = "'" + "".join(chr(c) for c in _BLANK_CODES) + "'"


def _stripped(cell: str) -> str:
    """SQL for a CSV cell as Python's `cell.strip() or None` (DuckDB reads '' as NULL)."""
    codes = str(_BLANK_CODES)
    return (
        f"case when ord({cell}) in {codes} or ord(right({cell}, 1)) in {codes} "
        f"then nullif(trim({cell}, {_BLANK_TEXT}), '') else {cell} end"
    )


_CSV_OPTIONS = (
    "header = false, skip = 1, quote = '\"', escape = '\"', comment = '', "
    "strict_mode = true, auto_detect = false, null_padding = false"
)


def _line_count(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, source: Source, name: str) -> int | None:
    """Read a CSV with DuckDB's own reader into temp table `incoming`; the rows, or None when
    the file needs Python's reader (anything but plain UTF-8 with one record per line; the
    delimiter is the one Python's reader would sniff).

    Row numbers come from the order rows are stored in (DuckDB keeps a file's order on insert);
    they equal Python's record numbers only when no record spans lines and no line is blank,
    which the line count confirms. Anything else, including a file DuckDB refuses, goes to
    `read_file`, which reads any encoding we accept and names the row of a broken one.
    """
    with path.open("rb") as handle:
        if handle.read(2) in UTF16_MARKS:
            return None
    first, newline, _ = refuse_binary(path, name).partition(b"\n")
    try:
        text = first.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        return None
    if not newline or '"' in text or any(c in str(path) for c in "*?[{"):
        return None  # a quoted header may span lines; DuckDB globs a path with wildcards
    delimiter = sniff_delimiter(text)
    header = header_names(next(csv.reader([text], delimiter=delimiter)), name)
    missing = _missing_required(header, source, name)
    width = len(header)
    columns = ", ".join(f"'c{i}': 'varchar'" for i in range(width))
    try:
        con.execute(
            f"create or replace temp table incoming_text as select * from read_csv("
            f"{literal(str(path))}, {_CSV_OPTIONS}, delim = {literal(delimiter)}, "
            f"columns = {{{columns}}})"
        )
    except duckdb.OutOfMemoryException:
        raise  # Python's reader would need more still: the file is refused (flows/load/raw.py)
    except duckdb.Error:
        return None
    records = con.execute("select count(*) from incoming_text").fetchone()[0]
    if records + 1 != _line_count(path):
        con.execute("drop table incoming_text")
        return None
    # Every cell, stripped: the contract's columns by name, the file's others as _cell<n> (they
    # count for "blank row" but are not loaded). A blank row is deleted after, which is quicker
    # than a filter repeating the stripping.
    names = [c if c in source.column_names else f"_cell{i}" for i, c in enumerate(header)]
    cells = [f'{_stripped(f"c{i}")} as "{n}"' for i, n in enumerate(names)]
    cells += [f'null::varchar as "{c}"' for c in missing]
    con.execute(
        f"""create or replace temp table incoming as
            select {", ".join(cells)}, cast(rowid + 2 as integer) as _source_row,
                   cast(rowid + 1 as integer) as _source_record
            from incoming_text"""
    )
    con.execute("drop table incoming_text")
    every = ", ".join(f'"{n}"' for n in names)
    blank = con.execute(f"delete from incoming where coalesce({every}) is null").fetchone()[0]
    rows = records - blank
    if not rows:
        raise ContractError(name, NO_ROWS, row=2)
    return rows


def stage(
    con: duckdb.DuckDBPyConnection, path: Path, source: Source, name: str, limits: FileLimits
) -> int:
    """Put a file's rows in temp table `incoming` of `con`: the contract's columns as text, plus
    `_source_row` and `_source_record` (and perhaps other columns of the file, which are not
    loaded). Returns how many rows; a ContractError for a file that breaks its contract or
    passes one of `limits` (checked before it is read: flows/sources/limits.py).

    Agency CSVs, the bulk of a night, are read by DuckDB (region tier: ~10x quicker than
    Python's csv module into pandas); other files and unusual CSVs through `read_file`.
    """
    check_file(path, name, limits)
    is_csv = path.suffix.lower() == ".csv"
    if source.kind == "agency" and is_csv:
        rows = _stage_csv(con, path, source, name)
        if rows is not None:
            return rows
    if is_csv:
        check_python_csv(path, name, limits)
    frame = check_contract(read_source_file(path, source, name), source, name)
    con.register("incoming_frame", frame.assign(_source_record=range(1, len(frame) + 1)))
    try:
        text = ", ".join(f'cast("{c}" as varchar) as "{c}"' for c in source.column_names)
        con.execute(
            f"create or replace temp table incoming as select {text}, "
            f"cast(_source_row as integer) as _source_row, "
            f"cast(_source_record as integer) as _source_record from incoming_frame"
        )
    finally:
        con.unregister("incoming_frame")
    return len(frame)
