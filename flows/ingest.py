"""Ingest: find files in the inbox, archive them by sha256, append their rows to `raw`.

Raw rows are kept as text, exactly as sent, with their lineage: the load id, when it was loaded,
the archived file, its sha256 and the row number in the file (the header is row 1). A file that
breaks its contract is moved to `rejected/` with a reason file naming the file, row and column;
the rest of the inbox still loads. A file already loaded (same sha256) is recorded and skipped.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import load_workbook

from flows.contracts import SOURCES, Source

LINEAGE_COLUMNS = {
    "_load_id": "varchar",
    "_loaded_at": "timestamp",
    "_source_file": "varchar",
    "_source_sha256": "varchar",
    "_source_row": "integer",
}

AUDIT_DDL = """
create schema if not exists raw;
create schema if not exists audit;
create table if not exists audit.load_runs (
    run_id varchar primary key, started_at timestamp, finished_at timestamp, status varchar,
    files_loaded integer, files_skipped integer, files_rejected integer, rows_loaded bigint,
    checks_passed integer, checks_failed integer, checks_warned integer,
    stage_seconds json, error varchar
);
create table if not exists audit.loaded_files (
    load_id varchar primary key, run_id varchar, source varchar, original_name varchar,
    archive_path varchar, sha256 varchar, rows bigint, loaded_at timestamp, status varchar
);
create table if not exists audit.rejected_files (
    run_id varchar, source varchar, original_name varchar, rejected_path varchar,
    sha256 varchar, row_number integer, column_name varchar, reason varchar, rejected_at timestamp
);
create table if not exists audit.quality_results (
    run_id varchar, suite varchar, expectation varchar, column_name varchar, level varchar,
    success boolean, observed_value varchar, unexpected_count bigint, unexpected_sample varchar,
    checked_at timestamp
);
"""


class ContractError(Exception):
    """A file breaks its source's contract; names the file, row and column."""

    def __init__(self, file: str, reason: str, row: int | None = None, column: str | None = None):
        self.file, self.reason, self.row, self.column = file, reason, row, column
        where = ", ".join(
            part
            for part in (f"row {row}" if row else "", f"column {column!r}" if column else "")
            if part
        )
        super().__init__(f"{file}: {where + ': ' if where else ''}{reason}")


@dataclass(frozen=True)
class InboxFile:
    path: Path
    folder: str

    @property
    def source(self) -> Source | None:
        return SOURCES.get(self.folder)

    def relative(self, inbox: Path) -> str:
        return self.path.relative_to(inbox).as_posix()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)
    for source in SOURCES.values():
        columns = [f'"{c}" varchar' for c in source.column_names]
        columns += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS.items()]
        con.execute(f"create table if not exists raw.{source.name} ({', '.join(columns)})")


def discover(inbox: Path) -> list[InboxFile]:
    """Every file waiting in `inbox/<source>/`, in a stable order; hidden files are ignored."""
    if not inbox.exists():
        return []
    found = []
    for path in sorted(inbox.rglob("*")):
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(inbox).parts):
            parts = path.relative_to(inbox).parts
            found.append(InboxFile(path, parts[0] if len(parts) > 1 else ""))
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _excel_text(value) -> str | None:
    """An Excel cell as the text a CSV would carry: ISO dates, plain numbers, true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def read_file(path: Path, name: str) -> pd.DataFrame:
    """Read a CSV or XLSX file as text columns, named as in the file's header row."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
                break
            except UnicodeDecodeError:
                continue
            except pd.errors.EmptyDataError as exc:
                raise ContractError(name, "the file is empty", row=1) from exc
            except pd.errors.ParserError as exc:
                raise ContractError(name, f"not readable as CSV: {exc}") from exc
        frame = frame.apply(lambda col: col.str.strip()).replace("", None)
    elif suffix == ".xlsx":
        try:
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise ContractError(name, f"not readable as XLSX: {exc}") from exc
        rows = [[_excel_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        if not rows:
            raise ContractError(name, "the file is empty", row=1)
        header = [h or "" for h in rows[0]]
        frame = pd.DataFrame(rows[1:], columns=header, dtype=object)
    else:
        raise ContractError(name, f"unsupported file type {suffix!r} (expected .csv or .xlsx)")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def check_contract(frame: pd.DataFrame, source: Source, name: str) -> pd.DataFrame:
    """The contract's columns of `frame`, or a ContractError for what the file lacks."""
    missing = [c for c in source.column_names if c not in frame.columns]
    required_missing = [c for c in missing if c in source.required_columns]
    if required_missing:
        raise ContractError(
            name,
            f"missing required column(s) {', '.join(required_missing)}",
            row=1,
            column=required_missing[0],
        )
    if frame.empty:
        raise ContractError(name, "the file has a header but no rows", row=2)
    for column in missing:
        frame[column] = None
    return frame[source.column_names]


def archive_copy(path: Path, sha256: str, archive: Path) -> Path:
    """Copy into the archive, named by content; an existing copy is the same bytes."""
    target = archive / f"{sha256}{path.suffix.lower()}"
    if not target.exists():
        partial = target.with_suffix(target.suffix + ".partial")
        shutil.copyfile(path, partial)
        partial.replace(target)
    return target


def already_loaded(con: duckdb.DuckDBPyConnection, sha256: str) -> str | None:
    row = con.execute(
        "select load_id from audit.loaded_files where sha256 = ? and status = 'loaded' limit 1",
        [sha256],
    ).fetchone()
    return row[0] if row else None


def append_raw(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    frame: pd.DataFrame,
    *,
    load_id: str,
    loaded_at: datetime,
    archive_path: str,
    sha256: str,
) -> int:
    frame = frame.copy()
    frame["_load_id"] = load_id
    frame["_loaded_at"] = loaded_at
    frame["_source_file"] = archive_path
    frame["_source_sha256"] = sha256
    frame["_source_row"] = range(2, len(frame) + 2)  # the header is row 1
    con.register("incoming", frame)
    try:
        con.execute(f"insert into raw.{source.name} by name select * from incoming")
    finally:
        con.unregister("incoming")
    return len(frame)


def reject(
    con: duckdb.DuckDBPyConnection,
    item: InboxFile,
    error: ContractError,
    *,
    run_id: str,
    rejected_dir: Path,
    inbox: Path,
    sha256: str | None,
) -> Path:
    """Move a refused file to `rejected/<run>/` with a `.reason.txt` beside it, and record it."""
    target_dir = rejected_dir / run_id / item.folder
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / item.path.name
    shutil.move(item.path, target)
    target.with_name(target.name + ".reason.txt").write_text(
        f"file: {item.relative(inbox)}\nrow: {error.row or ''}\ncolumn: {error.column or ''}\n"
        f"reason: {error.reason}\n",
        encoding="utf-8",
    )
    con.execute(
        "insert into audit.rejected_files values (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
        [
            run_id,
            item.folder,
            item.relative(inbox),
            str(target),
            sha256,
            error.row,
            error.column,
            error.reason,
        ],
    )
    return target
