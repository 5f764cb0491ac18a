"""Ingest: find files in the inbox, archive them by sha256, append their rows to `raw`.

Raw rows are kept as text, exactly as sent, with their lineage: the load id, when it was loaded,
the archived file, its sha256 and the row number in the file (the header is row 1). A file that
breaks its contract is moved to `rejected/` with a reason file naming the file, row and column;
the rest of the inbox still loads. A file already loaded (same sha256) is recorded and skipped.
"""

from __future__ import annotations

import csv
import hashlib
import math
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import load_workbook

from flows.contracts import PARSERS, SOURCES, Source, load_rank
from flows.copying import copy_file

LINEAGE_COLUMNS = {
    "_load_id": "varchar",
    "_loaded_at": "timestamp",
    "_source_file": "varchar",
    "_source_sha256": "varchar",
    "_source_row": "integer",
    # A number for the row, unique in its file, in file order: what tells apart the rows one line
    # gives (a published table's line holds a figure per sheet, date or measure, each a row here).
    # Empty for rows loaded before it was kept.
    "_source_record": "integer",
}

# How raw text becomes typed values: one definition, used by the quarantine rules below and by
# every dbt staging model. NULL means "does not parse".
PARSE_MACROS = r"""
create or replace macro raw.parse_number(v) as
    try_cast(replace(replace(trim(v), ',', ''), '£', '') as double);
create or replace macro raw.parse_integer(v) as
    case when raw.parse_number(v) = floor(raw.parse_number(v))
         then cast(raw.parse_number(v) as bigint) end;
create or replace macro raw.parse_timestamp(v) as coalesce(
    -- ISO 2016-04-01 08:15:00 by DuckDB's cast first: all but a few values take this way, and
    -- it is three times quicker than the formats below (with trim() here, no quicker at all)
    case when length(v) = 19 then try_cast(v as timestamp) end,
    try_strptime(trim(v), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M',
                           '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']),
    -- Excel serial: days since 1899-12-30, the fraction is the time of day
    case when regexp_full_match(trim(v), '\d{1,5}(\.\d+)?')
         then timestamp '1899-12-30'
              + to_microseconds(cast(round(cast(trim(v) as double) * 86400e6) as bigint)) end);
create or replace macro raw.parse_date(v) as cast(raw.parse_timestamp(v) as date);
create or replace macro raw.parse_boolean(v) as case
    when lower(trim(v)) in ('true', 'yes', 'y', '1') then true
    when lower(trim(v)) in ('false', 'no', 'n', '0') then false end;
"""

AUDIT_DDL = """
create schema if not exists raw;
create schema if not exists audit;
create table if not exists audit.quarantine (
    run_id varchar, load_id varchar, source varchar, source_file varchar, source_row integer,
    column_name varchar, value varchar, rule varchar, quarantined_at timestamp
);
create table if not exists audit.load_runs (
    run_id varchar primary key, started_at timestamp, finished_at timestamp, status varchar,
    files_loaded integer, files_skipped integer, files_rejected integer, rows_loaded bigint,
    rows_quarantined bigint,
    checks_passed integer, checks_failed integer, checks_warned integer,
    stage_seconds json, error varchar
);
create table if not exists audit.loaded_files (
    load_id varchar primary key, run_id varchar, source varchar, original_name varchar,
    archive_path varchar, sha256 varchar, rows bigint, rows_quarantined bigint,
    version integer, loaded_at timestamp, status varchar
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
-- Filled each run from every source's expected cadence (issue 8); read by the dashboard.
create table if not exists audit.source_freshness (
    run_id varchar, source varchar, cadence varchar, last_loaded_at timestamp,
    due_by timestamp, status varchar, checked_at timestamp
);
-- The manifest of the dbt build this warehouse holds: a night builds only what its loads touch
-- and what changed in the dbt project since (dbt's state:modified against this manifest).
create table if not exists audit.dbt_manifest (
    run_id varchar, built_at timestamp, project_fingerprint varchar, manifest json
);
-- Added at the end, so readers of the first columns are unaffected (and warehouses built before
-- gain them): the as-of time a run loaded for (a backfill's past date), a rerun's failed run,
-- late sources, why a run was reported and how telling the operator went; a note in words.
alter table audit.loaded_files add column if not exists as_of timestamp;
alter table audit.load_runs add column if not exists as_of timestamp;
alter table audit.load_runs add column if not exists rerun_of varchar;
alter table audit.load_runs add column if not exists warnings json;
alter table audit.load_runs add column if not exists alerts json;
alter table audit.load_runs add column if not exists notified varchar;
alter table audit.source_freshness add column if not exists note varchar;
-- The first time any of the loads from `from_load` on (`inclusive`) or after it was written: a
-- load's rows carry the `loaded_at` recorded here, in the same transaction. Filters by load say
-- `_loaded_at >=` it beside the load id, so DuckDB skips older row groups (a text column's min
-- and max keep 8 bytes, the load id's day). NULL when a load was recorded without a time.
create or replace macro audit.first_loaded_at(from_load, inclusive) as (
    select case when count(*) = count(loaded_at) then min(loaded_at) end
    from audit.loaded_files
    where status = 'loaded' and (load_id > from_load or (inclusive and load_id = from_load))
);
-- Which of the file's rows broke the rule (raw's _source_record); none for rows quarantined
-- before it was kept, which hold back every row of their line.
alter table audit.quarantine add column if not exists source_record integer;
-- Each mart as the last run left it: the sources that feed it (dbt's lineage, from the manifest),
-- those never loaded, its rows and its status: `ready` (every source has loaded), `partial`
-- (some never have, rows all the same), `waiting` (some never have, no rows yet). A mart waiting
-- for a source is not failed for being empty. Rewritten whole each run.
create table if not exists audit.mart_readiness (
    run_id varchar, mart varchar, sources varchar[], waiting_for varchar[], rows bigint,
    status varchar, checked_at timestamp
);
"""


class ContractError(Exception):
    """A file breaks its source's contract; names the file, row and column."""

    def __init__(self, file: str, reason: str, row: int | None = None, column: str | None = None):
        self.file, self.reason, self.row, self.column = file, reason, row, column
        super().__init__(f"{file}: {self.located}")

    @property
    def located(self) -> str:
        """The reason with its row and column, without the file name."""
        where = ", ".join(
            part
            for part in (
                f"row {self.row}" if self.row else "",
                f"column {self.column!r}" if self.column else "",
            )
            if part
        )
        return f"{where + ': ' if where else ''}{self.reason}"


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
    con.execute(PARSE_MACROS)
    for source in SOURCES.values():
        columns = [f'"{c}" varchar' for c in source.column_names]
        columns += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS.items()]
        con.execute(f"create table if not exists raw.{source.name} ({', '.join(columns)})")
        # Warehouses built before a lineage column was added gain it (empty for older rows).
        for name, kind in LINEAGE_COLUMNS.items():
            con.execute(f"alter table raw.{source.name} add column if not exists {name} {kind}")


def discover(inbox: Path) -> list[InboxFile]:
    """Every file waiting in `inbox/<source>/`, lookups' targets first; hidden files ignored."""
    if not inbox.exists():
        return []
    found = []
    for path in sorted(inbox.rglob("*")):
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(inbox).parts):
            parts = path.relative_to(inbox).parts
            found.append(InboxFile(path, parts[0] if len(parts) > 1 else ""))
    return sorted(found, key=lambda f: (load_rank(f.folder), f.path))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cell_text(value) -> str | None:
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


def _refuse_binary(path: Path, name: str) -> bytes:
    """The file's first 64 KB; a ContractError if they hold NUL bytes (not text at all)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if b"\x00" in head:
        raise ContractError(name, "not readable as CSV: binary content (NUL bytes)")
    return head


def _read_rows(path: Path, name: str) -> list[list]:
    """Every row of the file, header first, as cell values (text for CSV)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _refuse_binary(path, name)
        for encoding in ("utf-8-sig", "cp1252"):  # Windows exports carry the pound sign as 0xA3
            try:
                with path.open(newline="", encoding=encoding) as handle:
                    return list(csv.reader(handle, strict=True))
            except UnicodeDecodeError:
                continue
            except csv.Error as exc:
                raise ContractError(name, f"not readable as CSV: {exc}") from exc
        raise ContractError(name, "not readable as UTF-8 or Windows-1252 text")
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


def _header(cells: list, name: str) -> list[str]:
    """The header row's column names, lower case; '' for an unnamed column."""
    if not any(_cell_text(v) for v in cells):
        raise ContractError(name, "the file is empty", row=1)
    header = [(_cell_text(h) or "").lower() for h in cells]
    seen: set[str] = set()
    for column in header:
        if column and column in seen:
            raise ContractError(name, f"column {column!r} appears twice", row=1, column=column)
        seen.add(column)
    return header


def read_file(path: Path, name: str) -> pd.DataFrame:
    """A tabular file as text columns named by its header row, plus `_source_row` (header = 1)."""
    rows = _read_rows(path, name)
    header = _header(rows[0] if rows else [], name)
    width = len(header)
    body = []
    text_only = path.suffix.lower() == ".csv"  # CSV cells are text already: the fast path
    for number, row in enumerate(rows[1:], start=2):
        values = [v.strip() or None for v in row] if text_only else [_cell_text(v) for v in row]
        if not any(values):
            continue  # blank rows (Excel keeps them at the end of a sheet)
        if len(values) > width and any(values[width:]):
            raise ContractError(
                name, f"{len(values)} values in a row of a {width}-column file", row=number
            )
        body.append([*values[:width], *[None] * (width - len(values)), number])
    frame = pd.DataFrame(body, columns=[*header, "_source_row"], dtype=object)
    return frame.drop(columns=[""], errors="ignore")


def read_source_file(path: Path, source: Source, name: str) -> pd.DataFrame:
    """Read a file for its source: agency extracts by header, published statistics by their
    publisher's layout (flows/published.py)."""
    if source.kind == "published":
        from flows.published import READERS  # imports this module: import here, not at the top

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
    "header = false, skip = 1, delim = ',', quote = '\"', escape = '\"', comment = '', "
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
    the file needs Python's reader (anything but plain UTF-8 with one record per line).

    Row numbers come from the order rows are stored in (DuckDB keeps a file's order on insert);
    they equal Python's record numbers only when no record spans lines and no line is blank,
    which the line count confirms. Anything else, including a file DuckDB refuses, goes to
    `read_file`, which reads any encoding we accept and names the row of a broken one.
    """
    first, newline, _ = _refuse_binary(path, name).partition(b"\n")
    try:
        text = first.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        return None
    if not newline or '"' in text or any(c in str(path) for c in "*?[{"):
        return None  # a quoted header may span lines; DuckDB globs a path with wildcards
    header = _header(next(csv.reader([text])), name)
    missing = _missing_required(header, source, name)
    width = len(header)
    columns = ", ".join(f"'c{i}': 'varchar'" for i in range(width))
    try:
        con.execute(
            f"create or replace temp table incoming_text as select * from read_csv("
            f"{_literal(str(path))}, {_CSV_OPTIONS}, columns = {{{columns}}})"
        )
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


def stage(con: duckdb.DuckDBPyConnection, path: Path, source: Source, name: str) -> int:
    """Put a file's rows in temp table `incoming` of `con`: the contract's columns as text, plus
    `_source_row` and `_source_record` (and perhaps other columns of the file, which are not
    loaded). Returns how many rows; a ContractError for a file that breaks its contract.

    Agency CSVs, the bulk of a night, are read by DuckDB (region tier: ~10x quicker than
    Python's csv module into pandas); other files and unusual CSVs through `read_file`.
    """
    if source.kind == "agency" and path.suffix.lower() == ".csv":
        rows = _stage_csv(con, path, source, name)
        if rows is not None:
            return rows
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


def archive_copy(path: Path, sha256: str, archive: Path) -> Path:
    """Copy into the archive, named by content; an existing copy is the same bytes."""
    target = archive / f"{sha256}{path.suffix.lower()}"
    if not target.exists():
        partial = target.with_suffix(target.suffix + ".partial")
        copy_file(path, partial)  # a reflink where the filesystem has them
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
    *,
    load_id: str,
    loaded_at: datetime,
    archive_path: str,
    sha256: str,
) -> int:
    """Append temp table `incoming` (see `stage`) to raw with its lineage; returns the rows."""
    columns = ", ".join(f'"{c}"' for c in source.column_names)
    return con.execute(
        f"""insert into raw.{source.name} by name
            select {columns}, _source_row, _source_record, $load as _load_id, $at as _loaded_at,
                   $file as _source_file, $sha as _source_sha256
            from incoming""",
        {"load": load_id, "at": loaded_at, "file": archive_path, "sha": sha256},
    ).fetchone()[0]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# A raw table's rows less those quarantine set aside, as a join after `from raw.<source> as
# <alias>` (dbt's staging says the same in macros/accepted_rows.sql). An anti join: `not exists`
# made DuckDB group every row's key before joining. A quarantine row names the file's row it
# holds back by its record. A load's rows and its quarantine rows all have records, or (loaded
# before records were kept) none: then null meets null and the line is held back, as it was.
# `is not distinct from` keeps a hash join; `q.source_record is null or ...` made it a nested
# loop over raw rows times quarantine rows (2 million by 5,000: 0.12 -> 12.7 s).
ACCEPTED = (
    "anti join audit.quarantine as q "
    "on q.load_id = {alias}._load_id and q.source_row = {alias}._source_row "
    "and q.source_record is not distinct from {alias}._source_record"
)


def quarantine_checks(source: Source) -> list[tuple[str, str, str]]:
    """(rule, column, SQL that holds for a breaking row), for every rule of the contract."""
    checks = []
    for c in source.columns:
        value = f'"{c.name}"'
        if c.required:
            checks.append(("required value missing", c.name, f"{value} is null"))
        if PARSERS[c.type]:
            checks.append(
                (f"not a {c.type}", c.name, f"{value} is not null and {c.parsed()} is null")
            )
        if c.pattern:
            checks.append(
                (
                    f"does not match {c.pattern}",
                    c.name,
                    f"not regexp_full_match({value}, {_literal(c.pattern)})",
                )
            )
        if c.allowed:
            allowed = ", ".join(_literal(v) for v in c.allowed)
            checks.append(("not an allowed value", c.name, f"{value} not in ({allowed})"))
        if c.min is not None:
            checks.append((f"below the minimum {c.min:g}", c.name, f"{c.parsed()} < {c.min}"))
        if c.max is not None:
            checks.append((f"above the maximum {c.max:g}", c.name, f"{c.parsed()} > {c.max}"))
    for rule in source.row_rules:
        checks.append((rule.name, rule.column, rule.violation))
    for lookup in source.lookups:
        known = (
            f'select "{lookup.other_column}" from raw.{lookup.source} as o '
            f"{ACCEPTED.format(alias='o')}"
        )
        checks.append(
            (
                f"unknown {lookup.column}: not in {lookup.source}",
                lookup.column,
                f'"{lookup.column}" not in ({known})',
            )
        )
    key = ", ".join(f'"{k}"' for k in source.key)
    checks.append(
        (
            f"duplicate key ({', '.join(source.key)}) in the file",
            source.key[-1],
            f"_source_record in (select _source_record from incoming "
            f"qualify row_number() over (partition by {key} order by _source_record) > 1)",
        )
    )
    return checks


def quarantine(
    con: duckdb.DuckDBPyConnection, source: Source, *, load_id: str, run_id: str, source_file: str
) -> int:
    """Record every row of temp table `incoming` that breaks a rule in audit.quarantine, in one
    pass over the rows (one statement per rule cost ~18 scans a file); returns how many rows.

    The rows still go to raw (append-only, as sent); staging leaves quarantined rows out.
    """
    checks = quarantine_checks(source)
    broken = ",\n".join(
        f"case when coalesce(({violation}), false) then {{'rule': {_literal(rule)}, "
        f"'column_name': {_literal(column)}, 'value': cast(\"{column}\" as varchar)}} end"
        for rule, column, violation in checks
    )
    # The list of what a row breaks is made only for rows that break something: made for every
    # row, it cost more than the checks themselves (docs/performance.md).
    breaks_any = " or ".join(f"coalesce(({violation}), false)" for _, _, violation in checks)
    con.execute(
        f"""insert into audit.quarantine by name
            select $run as run_id, $load as load_id, $source as source, $file as source_file,
                   _source_row as source_row, b.column_name, b.value, b.rule,
                   current_timestamp as quarantined_at, _source_record as source_record
            from (select _source_row, _source_record, unnest([{broken}]) as b
                  from incoming where {breaks_any})
            where b is not null
            order by _source_record""",
        {"run": run_id, "load": load_id, "source": source.name, "file": source_file},
    )
    return con.execute(
        "select count(distinct source_record) from audit.quarantine where load_id = ?", [load_id]
    ).fetchone()[0]


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
