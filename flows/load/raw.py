"""One inbox file into raw: staged, archived, appended with its lineage, its broken rows
quarantined, its other rows parsed into its accepted table, and recorded in audit.loaded_files;
or refused, or skipped as already loaded.

Raw rows are kept as text, exactly as sent, with their lineage: the load id, when it was loaded,
the archived file, its sha256 and the row number in the file (the header is row 1). The rows
quarantine lets through are also kept parsed to the contract's types, with the same lineage, in
`accepted.<source>` (flows/load/accepted.py), what dbt's staging reads. A file that
breaks its contract, or passes a limit (flows/sources/limits.py), is moved to `rejected/` with a
reason file naming the file, row and column; so is a file whose load fails for any other reason
(out of memory among them), with the error as its reason and nothing of it left in the
warehouse. The rest of the inbox still loads. Only an OSError (the inbox or the disk failing,
not the file) is raised, for the run to retry. While a file loads, DuckDB's memory limit is the
file memory limit. A file already loaded (same sha256) is recorded and skipped. A file sent
through the Upload page is recorded with who sent it (`sent_by`, from its sidecar:
flows/load/inbox.py); one copied in by hand, with none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime

import duckdb

from flows.load.accepted import append_accepted
from flows.load.inbox import (
    InboxFile,
    already_loaded,
    archive_copy,
    archived_as,
    reject,
    sender_of,
    sha256_of,
    sidecar_of,
)
from flows.load.quarantine import quarantine
from flows.load.stage import stage
from flows.settings import Settings
from flows.sources.contracts import Source
from flows.sources.errors import ContractError

# A load's lineage, the same on its raw rows and its accepted rows, from named parameters.
LOAD_LINEAGE = "$load as _load_id, $at as _loaded_at, $file as _source_file, $sha as _source_sha256"


def lineage_values(load_id: str, loaded_at: datetime, archive_path: str, sha256: str) -> dict:
    """The named parameters LOAD_LINEAGE reads."""
    return {"load": load_id, "at": loaded_at, "file": archive_path, "sha": sha256}


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
            select {columns}, _source_row, _source_record, {LOAD_LINEAGE}
            from incoming""",
        lineage_values(load_id, loaded_at, archive_path, sha256),
    ).fetchone()[0]


@dataclass
class FileOutcome:
    """What became of one inbox file in a run."""

    path: str
    source: str
    status: str  # loaded, skipped, rejected
    rows: int = 0
    quarantined: int = 0
    load_id: str | None = None
    reason: str | None = None


def load_file(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    item: InboxFile,
    load_id: str,
    run_id: str,
    as_of: datetime,
) -> FileOutcome:
    """One inbox file into raw of the build `con`, as `load_id`: refused (no source owns its
    folder, it breaks its contract or passes a limit, or its load fails), skipped (its bytes
    are loaded already), or loaded. Raises only an OSError, which a retry may get past."""
    name = item.relative(settings.inbox)
    sha256 = sha256_of(item.path)
    sent_by = sender_of(item.path, sha256)

    def refuse(error: ContractError) -> FileOutcome:
        return _refuse(con, settings, item, run_id, sha256, error)

    if item.source is None:
        where = f"the folder {item.folder!r}" if item.folder else "the top of the inbox"
        return refuse(
            ContractError(
                name,
                f"no source owns {where}: files go in inbox/<source>/, named as "
                "`bluelight sources` lists them",
            )
        )
    earlier = already_loaded(con, sha256)
    if earlier:
        _record_skipped(con, load_id, run_id, name, as_of, earlier, sent_by)
        return FileOutcome(name, item.folder, "skipped", reason=f"already loaded as {earlier}")
    archived = archived_as(item.path, sha256, settings.archive)
    had_copy = archived.exists()
    try:
        with file_memory(con, settings):
            stage(con, item.path, item.source, name, settings.file_limits)
            archive_copy(item.path, sha256, settings.archive)
            archive_path = archived.relative_to(settings.home).as_posix()
            lineage = _Lineage(load_id, run_id, name, archive_path, sha256, as_of, sent_by)
            rows, quarantined = _append(con, item, lineage)
    except ContractError as error:
        return refuse(error)
    except OSError:
        raise  # reading the inbox or writing the disk failed, not the file: the run retries it
    except Exception as error:  # whatever else it is, it fails this file alone
        if not had_copy:  # the archive keeps files loaded, not refused
            archived.unlink(missing_ok=True)
            sidecar_of(archived).unlink(missing_ok=True)
        return refuse(load_failed(name, error, settings.file_memory_limit))
    return FileOutcome(
        name, item.folder, "loaded", rows=rows, quarantined=quarantined, load_id=load_id
    )


def _refuse(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    item: InboxFile,
    run_id: str,
    sha256: str,
    error: ContractError,
) -> FileOutcome:
    """The file to `rejected/<run>/` with its reason, recorded (flows/load/inbox.py)."""
    reject(
        con,
        item,
        error,
        run_id=run_id,
        rejected_dir=settings.rejected,
        inbox=settings.inbox,
        sha256=sha256,
    )
    return FileOutcome(item.relative(settings.inbox), item.folder, "rejected", reason=error.located)


def load_failed(name: str, error: BaseException, memory_limit: str) -> ContractError:
    """The refusal of a file whose load raised `error` (out of memory, a reader's fault, ...):
    its kind and the first line of its message (DuckDB's next lines are advice to a user of
    DuckDB), naming the file memory limit when memory ran out."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    memory = isinstance(error, MemoryError | duckdb.OutOfMemoryException)
    limit = f" (the file memory limit: {memory_limit}, BLUELIGHT_FILE_MEMORY_LIMIT)"
    return ContractError(
        name,
        f"the load failed ({type(error).__name__}): {lines[0] if lines else 'no message'}"
        + (limit if memory else ""),
    )


@contextmanager
def file_memory(con: duckdb.DuckDBPyConnection, settings: Settings) -> Iterator[None]:
    """DuckDB's memory limit is the file memory limit while one file loads, then the run's
    again; the file's staging tables are dropped after it, so they hold no memory between
    files."""
    con.execute("set memory_limit = ?", [settings.file_memory_limit])
    try:
        yield
    finally:
        con.execute("drop table if exists incoming; drop table if exists incoming_text")
        con.execute("set memory_limit = ?", [settings.duckdb_memory_limit])


def _record_skipped(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    run_id: str,
    name: str,
    as_of: datetime,
    earlier: str,
    sent_by: str | None,
) -> None:
    """Recorded, not loaded: the archive already holds these bytes (as `earlier`)."""
    con.execute(
        "insert into audit.loaded_files (load_id, run_id, source, original_name, "
        "archive_path, sha256, rows, rows_quarantined, version, loaded_at, status, as_of, "
        "sent_by) "
        "select ?, ?, source, ?, archive_path, sha256, 0, 0, null, ?, 'skipped', ?, ? "
        "from audit.loaded_files where load_id = ?",
        [load_id, run_id, name, datetime.now(), as_of, sent_by, earlier],
    )


@dataclass(frozen=True)
class _Lineage:
    """What audit.loaded_files records of one load, beside its counts."""

    load_id: str
    run_id: str
    name: str  # the file's name in the inbox
    archive_path: str
    sha256: str
    as_of: datetime
    sent_by: str | None


def _append(con: duckdb.DuckDBPyConnection, item: InboxFile, lineage: _Lineage) -> tuple[int, int]:
    """The staged rows into raw, their broken rows quarantined, the others parsed into the
    accepted table and the file recorded in audit.loaded_files, in one transaction (a failure
    leaves none of it); returns (rows, rows quarantined)."""
    loaded_at = datetime.now()
    con.execute("begin")
    try:
        return _append_in_transaction(con, item, lineage, loaded_at)
    except BaseException:
        with suppress(duckdb.Error):  # a failed commit leaves no transaction to roll back
            con.execute("rollback")
        raise


def _append_in_transaction(
    con: duckdb.DuckDBPyConnection, item: InboxFile, lineage: _Lineage, loaded_at: datetime
) -> tuple[int, int]:
    load_id, archive_path, sha256 = lineage.load_id, lineage.archive_path, lineage.sha256
    rows = append_raw(
        con,
        item.source,
        load_id=load_id,
        loaded_at=loaded_at,
        archive_path=archive_path,
        sha256=sha256,
    )
    quarantined = quarantine(
        con, item.source, load_id=load_id, run_id=lineage.run_id, source_file=archive_path
    )
    values = lineage_values(load_id, loaded_at, archive_path, sha256)
    append_accepted(con, item.source, LOAD_LINEAGE, values)
    # A corrected file under the same name is the next version of it.
    version = (
        1
        + con.execute(
            "select count(*) from audit.loaded_files where original_name = ? and status = 'loaded'",
            [lineage.name],
        ).fetchone()[0]
    )
    con.execute(
        "insert into audit.loaded_files (load_id, run_id, source, original_name, "
        "archive_path, sha256, rows, rows_quarantined, version, loaded_at, status, as_of, "
        "sent_by) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?)",
        [
            load_id,
            lineage.run_id,
            item.folder,
            lineage.name,
            archive_path,
            sha256,
            rows,
            quarantined,
            version,
            loaded_at,
            lineage.as_of,
            lineage.sent_by,
        ],
    )
    con.execute("commit")
    return rows, quarantined
