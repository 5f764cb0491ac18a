"""Finishing what a stopped run left undone in the data directory, before a run loads anything:
half-written files go, and files a stopped run refused are judged again or recorded."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from flows.load.inbox import is_sidecar, read_reason, sha256_of, sidecar_of
from flows.settings import Settings
from flows.warehouse import runlog


def recover_interrupted(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Finish what a stopped run left undone, on the build `con`, before this run loads anything.
    Called holding the run lock, so no other run is writing. Logs and returns a line per thing
    done.

    - Half-written `.partial` files (a download into the inbox, a copy into the archive) go.
    - A refused file moves to `rejected/<run>/` when it is refused, but its row in
      `audit.rejected_files` is published only with its run. A refused file no published warehouse
      records goes back to the inbox if its run was killed (it never wrote its record), to be
      refused and recorded again, as that run would have; a failed run's refusals (the run is in
      `runs.jsonl`), or one whose name a newer file in the inbox has taken, are recorded now from
      the reason file beside them, under the run that refused them.

    Nothing else needs undoing: files already loaded are known by sha256 and skipped, and a
    stopped run's rows lived only in its build copy, which `prepare_build` replaced.
    """
    done = []
    for folder in (settings.inbox, settings.archive):
        for stale in sorted(folder.rglob("*.partial")) if folder.exists() else []:
            stale.unlink()
            done.append(f"removed half-written {stale.relative_to(settings.home)}")
    recorded = set(con.execute("select run_id, original_name from audit.rejected_files").fetchall())
    ended = {record["run_id"] for record in runlog.read_log(settings.run_log)}
    run_dirs = settings.rejected.iterdir() if settings.rejected.exists() else []
    for run_dir in sorted(p for p in run_dirs if p.is_dir()):
        for path in sorted(run_dir.rglob("*")):
            if path.is_file() and not path.name.endswith(".reason.txt") and not is_sidecar(path):
                line = _recover_refused(con, settings, run_dir, path, recorded, ended)
                done += [line] if line else []
        for folder_path in sorted(run_dir.rglob("*"), reverse=True) + [run_dir]:
            if folder_path.is_dir() and not any(folder_path.iterdir()):
                folder_path.rmdir()  # emptied by files going back to the inbox
    log = runlog.logger()
    for line in done:
        log.info("recovered: %s", line)
    return done


def _recover_refused(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_dir: Path,
    path: Path,
    recorded: set[tuple[str, str]],
    ended: set[str],
) -> str | None:
    """One file in `rejected/<run>/`: back to the inbox, recorded now, or (already recorded)
    left as it is; the line saying what was done, or None."""
    parts = path.relative_to(run_dir).parts
    folder = parts[0] if len(parts) > 1 else ""
    reason_file = path.with_name(path.name + ".reason.txt")
    fields = read_reason(reason_file)
    original = fields["file"] if fields else "/".join(filter(None, (folder, path.name)))
    if (run_dir.name, original) in recorded:
        return None
    back = settings.inbox / original
    if run_dir.name not in ended and not back.exists():
        back.parent.mkdir(parents=True, exist_ok=True)
        path.replace(back)
        if sidecar_of(path).exists():
            sidecar_of(path).replace(sidecar_of(back))
        reason_file.unlink(missing_ok=True)
        return (
            f"{original}: refused by {run_dir.name}, which was stopped; back in "
            "the inbox to be judged again"
        )
    fields = fields or {
        "reason": f"refused by run {run_dir.name}, which stopped before it wrote why"
    }
    con.execute(
        "insert into audit.rejected_files values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_dir.name,
            folder,
            original,
            str(path),
            sha256_of(path),
            int(fields["row"]) if fields.get("row") else None,
            fields.get("column") or None,
            fields["reason"],
            datetime.fromtimestamp((reason_file if reason_file.exists() else path).stat().st_mtime),
        ],
    )
    return f"{original}: refused by {run_dir.name}, recorded now"
