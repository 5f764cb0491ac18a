"""One record per run, written whether the run succeeds or fails.

The record goes to `runs.jsonl` in the data directory (append-only, outside the warehouse, so a
failed run that publishes nothing still leaves its record); every run replays the log into
`audit.load_runs` of the warehouse it builds.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path


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

    @contextmanager
    def stage(self, name: str):
        """Time a stage of the run into stage_seconds."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[name] = round(time.perf_counter() - start, 3)


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class RunInProgress(RuntimeError):
    """Another load holds the lock on this data directory."""


@contextmanager
def run_lock(home: Path):
    """Only one load per data directory; the OS drops the lock when its process dies."""
    home.mkdir(parents=True, exist_ok=True)
    handle = (home / ".run.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise RunInProgress(f"another run is loading into {home}; try again when it ends") from exc
    try:
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@contextmanager
def recorded_run(log_path: Path, run_id: str):
    """Yield a RunRecord; append it to the log on the way out, as succeeded or failed."""
    record = RunRecord(run_id=run_id, started_at=datetime.now().isoformat(timespec="seconds"))
    try:
        yield record
        record.status = "succeeded"
    except BaseException as exc:
        record.status = "failed"
        record.error = record.error or f"{type(exc).__name__}: {exc}"
        raise
    finally:
        record.finished_at = datetime.now().isoformat(timespec="seconds")
        with log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(record)) + "\n")
