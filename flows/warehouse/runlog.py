"""One record per run, written whether the run succeeds or fails, and the run's outcome in the
words the operator, Data health and a cron wrapper all read (`OUTCOMES`, with its exit status).

The record goes to `runs.jsonl` in the data directory (append-only, outside the warehouse, so a
failed run that publishes nothing still leaves its record); every run replays the log into
`audit.load_runs` of the warehouse it builds.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import stat
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


# A night's outcome, and the exit status `bluelight run` gives for it. A night that refused a file
# or set rows aside still publishes the rest, but it is not a clean night: it has its own word
# and its own exit status, so neither a glance at Data health nor a cron wrapper takes it for one.
SUCCEEDED = "succeeded"
WITH_REFUSALS = "succeeded with refusals"
FAILED = "failed"
OUTCOMES = {SUCCEEDED: 0, FAILED: 1, WITH_REFUSALS: 3}  # 2: the command was used wrongly
PUBLISHED_OUTCOMES = (SUCCEEDED, WITH_REFUSALS)


@dataclass
class RunRecord:
    run_id: str
    started_at: str
    finished_at: str | None = None
    status: str = "running"
    files_loaded: int = 0
    files_skipped: int = 0
    files_rejected: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_warned: int = 0
    stage_seconds: dict = field(default_factory=dict)
    error: str | None = None
    as_of: str | None = None  # the moment the run loads for: now, or a backfill's past date
    rerun_of: str | None = None  # the failed run this one reruns
    warnings: list = field(default_factory=list)  # late sources (flows/schedule/freshness.py)
    alerts: list = field(
        default_factory=list
    )  # why the operator was told (flows/schedule/notify.py)
    notified: str | None = None  # how telling them went
    # Whether the run published a new version; False when it found nothing new (no file loaded
    # or refused, no mart rebuilt, no source gone late), so the published version stays.
    published: bool | None = None

    def outcome(self) -> str:
        """The word for a run that got to its end: succeeded, or succeeded with refusals."""
        refused = self.files_rejected or self.rows_quarantined
        return WITH_REFUSALS if refused else SUCCEEDED

    @contextmanager
    def stage(self, name: str):
        """Time a stage of the run into stage_seconds; log when it starts and ends."""
        log = logger()
        log.info("stage %s started", name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[name] = round(time.perf_counter() - start, 3)
            log.info("stage %s ended after %.1f s", name, self.stage_seconds[name])


def logger() -> logging.Logger | logging.LoggerAdapter:
    """The flow run's logger inside a Prefect flow (so the lines reach the run's logs)."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


# A run id, and each of its load ids, begins with the run's start: ids rise with time.
RUN_ID_TIME = "%Y%m%dT%H%M%S"


def new_run_id() -> str:
    return datetime.now().strftime(RUN_ID_TIME) + "-" + uuid.uuid4().hex[:6]


def run_started(run_or_load_id: str) -> datetime:
    """When a run started, from its id or one of its load ids."""
    return datetime.strptime(run_or_load_id[:15], RUN_ID_TIME)


def read_log(path: Path) -> list[dict]:
    """Every run's record; a line cut short (a run killed as it wrote it) is left out."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class RunInProgress(RuntimeError):
    """Another load holds the lock on this data directory."""


@contextmanager
def run_lock(home: Path, wait_seconds: float = 0):
    """Only one load (or backup) per data directory; the OS drops the lock when its process dies.
    A lock held by another is waited for up to `wait_seconds`, then RunInProgress. The file
    holds the holder's process id, which one waiting never overwrites."""
    home.mkdir(parents=True, exist_ok=True)
    # Never through a link: root running a backup must not truncate or give away another file.
    fd = os.open(home / ".run.lock", os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise RunInProgress(f"{home / '.run.lock'} is not a plain file: remove it")
    handle = os.fdopen(fd, "a+")
    owner = home.stat()
    if os.geteuid() == 0 and owner.st_uid != 0:  # root's backup leaves the services their lock
        os.fchown(handle.fileno(), owner.st_uid, owner.st_gid)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError as exc:
            if time.monotonic() >= deadline:
                handle.close()
                waited = f" (waited {wait_seconds:g} s)" if wait_seconds else ""
                raise RunInProgress(
                    f"another run or a backup is using {home}{waited}; try again when it ends"
                ) from exc
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    try:
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@contextmanager
def recorded_run(
    log_path: Path,
    run_id: str,
    finish: Callable[[RunRecord], None] | None = None,
    **fields,
):
    """Yield a RunRecord; append it to the log on the way out with its outcome (`OUTCOMES`).

    `finish` sees the record once its outcome is known, before it is written (the run's report
    to the operator goes there, so the record says how that went); it must not raise.
    """
    record = RunRecord(
        run_id=run_id, started_at=datetime.now().isoformat(timespec="seconds"), **fields
    )
    try:
        yield record
        record.status = record.outcome()
    except BaseException as exc:
        record.status = FAILED
        record.error = record.error or f"{type(exc).__name__}: {exc}"
        raise
    finally:
        record.finished_at = datetime.now().isoformat(timespec="seconds")
        if finish is not None:
            try:
                finish(record)
            except Exception as exc:  # the record is written whatever the report did
                logger().exception("reporting run %s failed", run_id)
                record.notified = record.notified or f"not sent: {type(exc).__name__}: {exc}"
        line = (json.dumps(asdict(record)) + "\n").encode("utf-8")
        with log_path.open("ab+") as handle:
            # A line cut short by a killed run must not swallow this one: start a line of its own.
            end = handle.seek(0, os.SEEK_END)
            if end:
                handle.seek(end - 1)
                if handle.read(1) != b"\n":
                    line = b"\n" + line
            handle.write(line)  # append mode: always at the end, whatever was read


def write_history(con: duckdb.DuckDBPyConnection, run_log: Path, record: RunRecord) -> None:
    """Replay runs.jsonl, plus this run as it stands (at its end, as it is about to publish),
    into audit.load_runs of `con`."""
    rows = read_log(run_log)
    rows.append(
        {
            **asdict(record),
            "status": record.outcome(),
            "published": True,
            "finished_at": datetime.now().isoformat(timespec="seconds"),
        }
    )
    # Replace, not delete-all: a run killed after it published has no line in the log, but
    # its row in the warehouse it published stays. Columns are RunRecord's fields, by name; a
    # line from an older log takes the defaults for the fields it lacks.
    columns = [f.name for f in fields(RunRecord)]
    defaults = asdict(RunRecord(run_id="", started_at=""))
    values = [[_column_value({**defaults, **r}[c]) for c in columns] for r in rows]
    verb = "insert or replace"
    if _keyless(con):  # a DuckLake has no primary key to replace by: the rows go first
        ids = [value[0] for value in values]
        con.execute("delete from audit.load_runs where list_contains(?, run_id)", [ids])
        verb = "insert"
    con.executemany(
        f"{verb} into audit.load_runs ({', '.join(columns)}) "
        f"values ({', '.join('?' for _ in columns)})",
        values,
    )


def _keyless(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether audit.load_runs has no primary key (on a DuckLake)."""
    return not con.execute(
        "select count(*) from duckdb_constraints() where database_name = current_database() "
        "and schema_name = 'audit' and table_name = 'load_runs' and constraint_type = 'PRIMARY KEY'"
    ).fetchone()[0]


def _column_value(value):
    """Dicts and lists (stage seconds, warnings, alerts) go into JSON columns."""
    return json.dumps(value) if isinstance(value, dict | list) else value
