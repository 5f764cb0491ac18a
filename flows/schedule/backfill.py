"""Backfill and rerun: what `bluelight run --from`, `--as-of` and `--rerun` mean.

`--from DIR` loads an archived set of files as if it had arrived on time. DIR is laid out like the
inbox (`DIR/<source>/...`, one run, as of `--as-of` or now), or holds dated folders laid out like
it (`DIR/YYYY-MM-DD/<source>/...`, one run per date, oldest first, each as of its date; pick a
range with `--since`/`--until`). Each set is copied into the inbox (the archived set is left as it
is) and goes through the nightly flow like any night's files: the same checks, the same order of
versions, so the marts come out as they would have. A failed date stops the backfill there.

`--rerun RUN` runs a failed run again. A failed run publishes nothing and leaves the files it did
not refuse in the inbox (refused ones are in `rejected/<run>/`, with their reasons); once the cause
is put right, the rerun loads the inbox as of the failed run's as-of time, so freshness is judged
and versions are ordered as if the first attempt had worked.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flows.load.inbox import discover
from flows.warehouse import runlog

DATE_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")


class BackfillError(ValueError):
    """The backfill or rerun asked for cannot be done as asked; says what to do instead."""


@dataclass(frozen=True)
class Batch:
    """One run's worth: a set of files to copy into the inbox (if any), loaded as of a date."""

    folder: Path | None
    as_of: str | None
    rerun_of: str | None = None


def parse_date(text: str, option: str) -> str:
    """A YYYY-MM-DD date given to `option`, or a BackfillError saying what is wanted."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise BackfillError(f"{option} takes a date as YYYY-MM-DD, not {text!r}") from None


def plan(
    folder: Path, as_of: str | None = None, since: str | None = None, until: str | None = None
) -> list[Batch]:
    """The runs a backfill from `folder` makes, in the order it makes them."""
    if not folder.is_dir():
        raise BackfillError(f"--from {folder}: no such folder")
    as_of = as_of and parse_date(as_of, "--as-of")
    since = since and parse_date(since, "--since")
    until = until and parse_date(until, "--until")
    dated = sorted(p for p in folder.iterdir() if p.is_dir() and DATE_FOLDER.fullmatch(p.name))
    if not dated:
        if since or until:
            raise BackfillError(
                f"--since/--until pick dated folders (DIR/YYYY-MM-DD/<source>/); {folder} has none"
            )
        return [Batch(folder, as_of)]
    if as_of:
        raise BackfillError(
            f"{folder} holds dated folders, each loaded as of its own date: pick a range with "
            "--since/--until instead of --as-of"
        )
    for p in dated:
        parse_date(p.name, f"the folder {p}")
    chosen = [
        Batch(p, p.name)
        for p in dated
        if (since is None or p.name >= since) and (until is None or p.name <= until)
    ]
    if not chosen:
        raise BackfillError(f"no dated folder in {folder} between {since} and {until}")
    return chosen


def stage(folder: Path, inbox: Path) -> int:
    """Copy a set of files into the empty inbox, keeping their `<source>/` folders; how many."""
    waiting = discover(inbox)
    if waiting:
        raise BackfillError(
            f"the inbox already holds {len(waiting)} file(s) waiting (e.g. "
            f"{waiting[0].relative(inbox)}): load them first with `bluelight run` (or move them "
            "aside), so that a backfill loads only the files of its date"
        )
    files = discover(folder)
    for item in files:
        target = inbox / item.relative(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item.path, target)
    return len(files)


def failed_run(run_log: Path, run_id: str) -> dict:
    """The record of the failed run `run_id`; refuses a run that published or never was."""
    records = [r for r in runlog.read_log(run_log) if r.get("run_id") == run_id]
    if not records:
        raise BackfillError(
            f"no run {run_id} in {run_log} (a run killed before it ended has no record: "
            "`bluelight run` finishes its work)"
        )
    record = records[-1]
    if record["status"] != "failed":
        raise BackfillError(f"run {run_id} {record['status']} and published: nothing to rerun")
    return record
