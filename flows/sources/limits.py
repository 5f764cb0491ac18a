"""The limits a file must keep before it is read, so that one file can fail only itself.

Checked from the file's own structure before any reader parses it: a workbook's (XLSX, ODS)
members and their unpacked sizes from the zip directory, its cells streamed through expat
without keeping them; a CSV's longest line by a scan of its bytes. The limits are the formats'
own (Excel's 32,767 characters in a cell, 1,048,576 rows and 16,384 columns), an unpacked size
bounded relative to the file, the longest CSV line, and what a Python reader would hold against
the memory one file may take. A file over one raises ContractError naming the limit and its
figure. `Settings.file_limits` (flows/settings.py) gives the limits the settings set. The
largest file the dashboard's Upload page takes is here too (`UPLOAD_LIMIT_MB`).
"""

from __future__ import annotations

import mmap
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from flows.sources.errors import ContractError

# Excel's specifications and limits (Excel 2007 on); LibreOffice Calc's defaults are the same.
EXCEL_CELL_CHARACTERS = 32_767
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384

# What the Python readers hold: peak resident memory while staging a file, per byte unpacked
# (measured: openpyxl 3.7 for an XLSX, odfpy's document tree and pandas 24.5 for an ODS,
# Python's csv module 15.5 for a CSV), and per cell of the grid a sheet becomes (openpyxl and
# pandas pad every row to the widest): 130 bytes with its text, less for the padding.
READER_BYTES_PER_BYTE = {".xlsx": 4, ".ods": 25, ".csv": 16}
BYTES_PER_CELL = 100

# The largest file the dashboard's Upload page takes, in MiB (flows/load/upload.py): Streamlit's
# own default (`server.maxUploadSize`, which its server enforces), and a file the page holds in
# memory while it is judged. A larger file goes into `inbox/<source>/` by whoever runs the
# machine, where only the limits above apply.
UPLOAD_LIMIT_MB = 200
UPLOAD_LIMIT_BYTES = UPLOAD_LIMIT_MB * 2**20

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def byte_count(text: str) -> int:
    """A size as DuckDB reads one ("2GB" is 2 x 10^9 bytes, "2GiB" 2 x 2^30; a bare number is
    bytes)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"not a size: {text!r} (e.g. 2GB, 512MiB, 1000000)")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class FileLimits:
    """The limits of one file's load, from the settings (flows/settings.py `file_limits`)."""

    memory: str  # the file memory limit as set, e.g. "2GB" (also DuckDB's limit for the file)
    unpacked_ratio: int  # the most a workbook may unpack to, times its size on disk
    csv_line: int  # the longest line a CSV may have, in bytes

    @property
    def memory_bytes(self) -> int:
        return byte_count(self.memory)

    def over_memory(self) -> str:
        return f"over the file memory limit of {self.memory} (BLUELIGHT_FILE_MEMORY_LIMIT)"


def check_file(path: Path, name: str, limits: FileLimits) -> None:
    """Refuse, before it is read, a file whose reading could pass a limit: a ContractError
    naming the limit and its figure."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        check_csv_lines(path, name, limits)
    elif suffix in (".xlsx", ".ods"):
        check_workbook(path, name, limits)


# --- CSV ------------------------------------------------------------------------------------


def check_csv_lines(path: Path, name: str, limits: FileLimits) -> None:
    """Refuse a CSV with a line longer than `limits.csv_line` bytes. Jumps from newline to
    newline a limit's length at a time (a file of short lines costs one search per limit's
    length of it), reading through the page cache rather than into memory."""
    limit = limits.csv_line
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        if size <= limit:
            return
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            start = 0  # where the current line starts
            while size - start > limit:
                newline = data.rfind(b"\n", start, start + limit + 1)
                if newline < 0:
                    _refuse_long_line(data, name, start, limit)
                start = newline + 1


def _refuse_long_line(data, name: str, start: int, limit: int) -> None:
    end = data.find(b"\n", start)
    length = (len(data) if end < 0 else end) - start
    block = 1 << 24
    line = 1 + sum(data[i : min(i + block, start)].count(b"\n") for i in range(0, start, block))
    raise ContractError(
        name,
        f"line {line:,} is {length:,} bytes long, over the limit of {limit:,} bytes for a CSV "
        "line (BLUELIGHT_CSV_LINE_LIMIT)",
        row=line,
    )


def check_python_csv(path: Path, name: str, limits: FileLimits) -> None:
    """Refuse a CSV too big for Python's reader within the file memory limit (a CSV DuckDB
    reads itself is not held in Python, and is not judged by this)."""
    size = path.stat().st_size
    need = size * READER_BYTES_PER_BYTE[".csv"]
    if need > limits.memory_bytes:
        raise ContractError(
            name,
            f"a CSV that DuckDB cannot read directly (plain UTF-8, one record per line) is read "
            f"in Python, which would hold about {need:,} bytes for its {size:,} "
            f"({READER_BYTES_PER_BYTE['.csv']} x), {limits.over_memory()}",
        )


# --- workbooks (XLSX, ODS) ------------------------------------------------------------------


def check_workbook(path: Path, name: str, limits: FileLimits) -> None:
    """Refuse an XLSX or ODS that unpacks to too much, or whose sheets pass Excel's limits or
    would take more than the file memory limit to read. A file that is not a zip is left to the
    reader, which names it unreadable."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError):
        return
    suffix = path.suffix.lower()
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        _check_unpacked(members, path.stat().st_size, suffix, name, limits)
        cells = 0
        for member in members:
            scan = _scanner(member.filename, suffix, name)
            if scan is None:
                continue
            try:
                with archive.open(member) as stream:
                    cells += scan(stream)
            except _UNREADABLE:
                return  # a member that does not unpack: the reader names the file unreadable
    need = cells * BYTES_PER_CELL
    if need > limits.memory_bytes:
        raise ContractError(
            name,
            f"its sheets span {cells:,} cells (each row padded to the widest), about {need:,} "
            f"bytes to read at {BYTES_PER_CELL} a cell, {limits.over_memory()}",
        )


# What unpacking a broken or encrypted member raises.
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


def _check_unpacked(
    members: list[zipfile.ZipInfo], size: int, suffix: str, name: str, limits: FileLimits
) -> None:
    total = sum(m.file_size for m in members)
    largest = max(members, key=lambda m: m.file_size, default=None)
    if largest is None:
        return
    what = f"{largest.filename} unpacks to {largest.file_size:,} bytes" + (
        "" if largest.file_size == total else f" (the whole file to {total:,})"
    )
    ratio_limit = limits.unpacked_ratio * size
    if total > ratio_limit:
        raise ContractError(
            name,
            f"{what}, over the limit of {ratio_limit:,} bytes ({limits.unpacked_ratio} x the "
            f"file's {size:,} bytes; BLUELIGHT_UNPACKED_RATIO)",
        )
    factor = READER_BYTES_PER_BYTE[suffix]
    if total * factor > limits.memory_bytes:
        raise ContractError(
            name,
            f"{what}; reading it as {suffix[1:].upper()} holds about {factor} times that, "
            f"{total * factor:,} bytes, {limits.over_memory()}",
        )


def _scanner(member: str, suffix: str, name: str) -> Callable | None:
    """The scan of a member holding cells (a stream -> the cells of its sheets), or None."""
    lower = member.lower()
    if suffix == ".ods":
        return (lambda s: _Scan(_OdsCells(name)).run(s)) if lower == "content.xml" else None
    if lower.endswith(".xml") and ("/worksheets/" in lower or lower.endswith("sharedstrings.xml")):
        return lambda s: _Scan(_XlsxCells(name, member)).run(s)
    return None


class _Scan:
    """Feeds a member's XML through expat in blocks to a cell counter, keeping no tree."""

    def __init__(self, cells: _XlsxCells | _OdsCells):
        self.cells = cells
        # ODS's names are told by their namespaces; XLSX's by local name, quicker.
        parser = expat.ParserCreate(
            namespace_separator=" " if isinstance(cells, _OdsCells) else None
        )
        parser.buffer_text = True  # text in pieces of at most 64 KB: a huge cell is never whole
        parser.buffer_size = 1 << 16
        parser.StartElementHandler = cells.start
        parser.EndElementHandler = cells.end
        parser.CharacterDataHandler = cells.text
        self.parser = parser

    def run(self, stream) -> int:
        for block in iter(lambda: stream.read(1 << 20), b""):
            try:
                self.parser.Parse(block, False)
            except expat.ExpatError:
                return 0  # not well-formed: the reader names it unreadable
        return self.cells.total()


def _cell_too_long(name: str, where: str, count: int) -> ContractError:
    return ContractError(
        name,
        f"{where} holds at least {count:,} characters, more than Excel's limit of "
        f"{EXCEL_CELL_CHARACTERS:,} for a cell",
    )


def _past_rows(name: str, where: str, row: int) -> ContractError:
    return ContractError(
        name, f"{where} reaches row {row:,}, past Excel's limit of {EXCEL_ROWS:,} rows", row=row
    )


def _past_columns(name: str, where: str, column: int) -> ContractError:
    return ContractError(
        name,
        f"{where} reaches column {column:,}, past Excel's limit of {EXCEL_COLUMNS:,} columns",
    )


# What an XLSX element is to the scan, by its local name (SpreadsheetML may be prefixed).
_ROW, _CELL, _VALUE, _STRING, _DIMENSION, _PHONETIC = range(1, 7)
_XLSX_KINDS = {"row": _ROW, "c": _CELL, "v": _VALUE, "t": _VALUE, "si": _STRING}
_XLSX_KINDS |= {"dimension": _DIMENSION, "rPh": _PHONETIC}


class _XlsxCells:
    """One XLSX member (a worksheet or the shared strings): each cell's text within Excel's
    limit, its rows and columns within Excel's, and the grid openpyxl would make of it (every
    row padded to the widest, or to the declared dimension). Kept lean: it sees every element
    of the sheet (about a sixth of openpyxl's time to read it)."""

    def __init__(self, name: str, member: str):
        self.name, self.member = name, member
        self.kinds: dict[str, int] = {}
        self.columns: dict[str, int] = {}  # column letters -> number, as met
        self.row = self.column = 0  # the current row; the last column seen in it
        self.last_row = self.widest = 0
        self.counting = False  # inside a cell's value (<v>, or <t> outside phonetic runs)
        self.phonetic = self.characters = 0

    def kind(self, tag: str) -> int:
        kind = self.kinds.get(tag)
        if kind is None:
            kind = self.kinds[tag] = _XLSX_KINDS.get(tag.rpartition(":")[2], 0)
        return kind

    def start(self, tag: str, attrs: dict) -> None:
        kind = self.kind(tag)
        self.counting = False
        if kind == _CELL:
            self.characters = 0
            reference = attrs.get("r")
            self.column = self.column_of(reference) if reference else self.column + 1
            if self.column > self.widest:
                self.widest = self.column
                if self.column > EXCEL_COLUMNS:
                    raise _past_columns(self.name, self.member, self.column)
        elif kind == _VALUE:
            self.counting = not self.phonetic
        elif kind == _ROW:
            number = attrs.get("r", "")
            self.row = int(number) if number.isdigit() else self.row + 1
            self.column = 0
            if self.row > self.last_row:
                self.last_row = self.row
                if self.row > EXCEL_ROWS:
                    raise _past_rows(self.name, self.member, self.row)
        elif kind == _STRING:
            self.characters = 0
        elif kind == _PHONETIC:
            self.phonetic += 1
        elif kind == _DIMENSION:
            corner = attrs.get("ref", "").rpartition(":")[2]
            if corner:  # openpyxl pads each row to the declared width
                self.widest = max(self.widest, min(self.column_of(corner), EXCEL_COLUMNS + 1))

    def column_of(self, reference: str) -> int:
        """The column number of an A1 reference ("XFD1048576" -> 16,384)."""
        letters = reference.rstrip("0123456789").lstrip("$").rstrip("$").upper()
        number = self.columns.get(letters)
        if number is None:
            number = 0
            for letter in letters:
                number = number * 26 + ord(letter) - 64
            self.columns[letters] = number
        return number

    def end(self, tag: str) -> None:
        self.counting = False
        if self.phonetic and self.kind(tag) == _PHONETIC:
            self.phonetic -= 1

    def text(self, data: str) -> None:
        if self.counting:
            self.characters += len(data)
            if self.characters > EXCEL_CELL_CHARACTERS:
                shared = self.member.lower().endswith("sharedstrings.xml")
                where = f"{'a string' if shared else 'a cell'} of {self.member}"
                raise _cell_too_long(self.name, where, self.characters)

    def total(self) -> int:
        if self.widest > EXCEL_COLUMNS:
            raise _past_columns(self.name, f"{self.member}'s declared dimension", self.widest)
        return self.last_row * self.widest


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


class _OdsCells:
    """An ODS's content.xml: each cell's text within Excel's limit (the spaces `<text:s>`
    stands for counted), and each sheet's rows and columns up to its last value, as pandas
    reads them (repeated rows and cells expanded), within Excel's limits."""

    def __init__(self, name: str):
        self.name = name
        self.sheet = ""
        self.rows = self.last_row = self.widest = 0  # of the current sheet
        self.cells = 0  # of the sheets done
        self.row_repeat = self.column = self.row_width = 0
        self.in_cell = False
        self.characters = self.paragraphs = 0

    def start(self, tag: str, attrs: dict) -> None:
        space, _, local = tag.rpartition(" ")
        if space == _TABLE and local == "table":
            self.sheet = attrs.get(f"{_TABLE} name", "")
            self.rows = self.last_row = self.widest = 0
        elif space == _TABLE and local == "table-row":
            self.row_repeat = _count(attrs.get(f"{_TABLE} number-rows-repeated"))
            self.rows += self.row_repeat
            self.column = self.row_width = 0
        elif space == _TABLE and local in ("table-cell", "covered-table-cell"):
            self.column += _count(attrs.get(f"{_TABLE} number-columns-repeated"))
            if f"{_OFFICE} value-type" in attrs:  # pandas reads a cell without it as empty
                self.row_width = self.column
            self.in_cell, self.characters, self.paragraphs = True, 0, 0
        elif space == _TEXT and self.in_cell:
            if local == "s":
                self._add(_count(attrs.get(f"{_TEXT} c")))
            elif local in ("tab", "line-break") or (local == "p" and self.paragraphs):
                self._add(1)  # a tab, a line break, or the line between two paragraphs
            self.paragraphs += local == "p"

    def end(self, tag: str) -> None:
        space, _, local = tag.rpartition(" ")
        if space == _TABLE and local in ("table-cell", "covered-table-cell"):
            self.in_cell = False
        elif space == _TABLE and local == "table-row" and self.row_width:
            self.last_row, self.widest = self.rows, max(self.widest, self.row_width)
            where = f"sheet {self.sheet!r}"
            if self.last_row > EXCEL_ROWS:
                raise _past_rows(self.name, where, self.last_row)
            if self.widest > EXCEL_COLUMNS:
                raise _past_columns(self.name, where, self.widest)
        elif space == _TABLE and local == "table":
            self.cells += self.last_row * self.widest

    def text(self, data: str) -> None:
        if self.in_cell:
            self._add(len(data))

    def _add(self, characters: int) -> None:
        self.characters += characters
        if self.characters > EXCEL_CELL_CHARACTERS:
            raise _cell_too_long(self.name, f"a cell of sheet {self.sheet!r}", self.characters)

    def total(self) -> int:
        return self.cells


def _count(text: str | None) -> int:
    """A repeat count attribute (1 when absent or not a number)."""
    return int(text) if text and text.isdigit() else 1
