"""Build copy, atomic publish and kept versions of the warehouse (docs/decisions/0002).

A run works on `build/bluelight.duckdb`, a copy of the published file; only a run that passed
every gate replaces `warehouse/bluelight.duckdb`, by rename, so readers see the old file or the
new one and never half of either. Readers open the published file read-only, per request.

A published file is never written again: the next run copies it and renames a new file over it.
So each one can be kept as it was, as a hard link (no second copy of the bytes) named by the run
that published it: `warehouse/versions/bluelight-<run id>.duckdb`. Run ids sort by time
(`YYYYmmddTHHMMSS-xxxxxx`); a file names its own run too, as the latest run in its
`audit.load_runs` that got to its end. A night that found nothing new publishes nothing, so a
version is kept only when its content differs from the one before. Versions older than
`keep_versions_days` are pruned, all but the newest of them, which was the one in force when the
kept window opens.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from flows.warehouse import runlog
from flows.warehouse.copying import copy_file

VERSION_PREFIX = "bluelight-"
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH

# The run that published a warehouse file: the latest run it records that got to its end.
PUBLISHING_RUN_SQL = f"""
    select run_id, finished_at
    from audit.load_runs
    where status in {runlog.PUBLISHED_OUTCOMES}
    order by run_id desc
    limit 1
"""

# Row counts `bluelight versions` shows for each version, with their column headings.
KEY_TABLES = {
    "raw.incidents": "raw incidents",
    "raw.benefits_register": "raw register",
    "marts.fct_benefit_realisation": "benefit rows",
    "marts.fct_response_times_monthly": "response rows",
}


def prepare_build(published: Path, build: Path) -> None:
    """Start the build from the published warehouse (or from nothing on the first run)."""
    build.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (build, build.with_name(build.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if published.exists():
        partial = build.with_name(build.name + ".partial")
        # A new file, writable: the published one stays as is. A reflink where the filesystem
        # has them (flows/warehouse/copying.py), so the copy costs nothing and shares unchanged
        # blocks.
        copy_file(published, partial)
        partial.replace(build)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(build: Path, published: Path, *, keep_days: int | None = None) -> Path:
    """Make the build the published warehouse in one rename, keep it as a version and prune
    versions older than `keep_days` (none pruned if None). Returns the version's path."""
    with duckdb.connect(str(build)) as con:
        con.execute("checkpoint")  # fold the write-ahead log into the file before it moves
        row = con.execute(PUBLISHING_RUN_SQL).fetchone()
    if build.with_name(build.name + ".wal").exists():
        raise RuntimeError(f"{build} still has a write-ahead log; refusing to publish")
    if row is None:
        raise RuntimeError(f"{build} records no succeeded run in audit.load_runs; not publishing")
    published.parent.mkdir(parents=True, exist_ok=True)
    # A run killed between its rename and its link left the published file without a version.
    keep_version(published)
    os.chmod(build, READ_ONLY)  # a client that forgets read_only is refused, not let write
    _fsync(build)
    os.replace(build, published)
    _fsync(published.parent)
    runlog.logger().info("published %s (run %s)", published, row[0])
    version = keep_version(published, row[0])
    if keep_days is not None:
        prune_versions(published, keep_days)
    return version


def versions_dir(published: Path) -> Path:
    return published.parent / "versions"


def version_path(published: Path, run_id: str) -> Path:
    return versions_dir(published) / f"{VERSION_PREFIX}{run_id}.duckdb"


def version_files(published: Path) -> list[Path]:
    """Every kept version, oldest first."""
    folder = versions_dir(published)
    if not folder.exists():
        return []
    return sorted(folder.glob(f"{VERSION_PREFIX}*.duckdb"))


def run_id_of_version(path: Path) -> str:
    return path.name.removeprefix(VERSION_PREFIX).removesuffix(".duckdb")


def publishing_run(path: Path) -> tuple[str, datetime] | None:
    """(run id, finished at) of the run that published the warehouse file, opened read-only."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(PUBLISHING_RUN_SQL).fetchone()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def current_version(published: Path) -> Path | None:
    """The kept version that is the published file (the same inode), if any."""
    if not published.exists():
        return None
    for path in reversed(version_files(published)):
        if _same_file(path, published):
            return path
    return None


def keep_version(published: Path, run_id: str | None = None) -> Path | None:
    """Keep the published file as `versions/bluelight-<run id>.duckdb`: a hard link (a copy where
    the file system has none). Without `run_id`, the file names its run. Idempotent."""
    if not published.exists():
        return None
    if run_id is None:
        kept = current_version(published)
        if kept is not None:
            return kept
        row = publishing_run(published)
        if row is None:
            return None
        run_id = row[0]
    target = version_path(published, run_id)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(published, target)
    except OSError:
        partial = target.with_name(target.name + ".partial")
        copy_file(published, partial)
        os.chmod(partial, READ_ONLY)
        _fsync(partial)
        partial.replace(target)
    _fsync(target.parent)
    return target


def prune_versions(published: Path, keep_days: int, now: datetime | None = None) -> list[Path]:
    """Remove versions published more than `keep_days` ago, except the newest of those (it was in
    force when the kept window opens) and the published file itself. Returns what was removed."""
    cutoff = (now or datetime.now()) - timedelta(days=keep_days)
    started = runlog.run_started
    older = [p for p in version_files(published) if started(run_id_of_version(p)) < cutoff]
    removed = []
    for path in older[:-1]:
        if not _same_file(path, published):
            path.unlink()
            removed.append(path)
    for stale in versions_dir(published).glob("*.partial"):  # a copy a killed run left half done
        stale.unlink()
    return removed


@dataclass
class Version:
    """A kept version of the warehouse, as `bluelight versions` lists it."""

    run_id: str
    path: Path
    published_at: datetime | None = None
    size_bytes: int = 0
    current: bool = False
    row_counts: dict[str, int | None] = field(default_factory=dict)
    error: str | None = None


def describe(path: Path, published: Path) -> Version:
    """Open a version read-only and count the rows of its key tables."""
    version = Version(
        run_id=run_id_of_version(path),
        path=path,
        size_bytes=path.stat().st_size,
        current=_same_file(path, published),
    )
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(
                "select finished_at from audit.load_runs where run_id = ?", [version.run_id]
            ).fetchone()
            version.published_at = row[0] if row else None
            tables = {
                f"{schema}.{name}"
                for schema, name in con.execute(
                    "select table_schema, table_name from information_schema.tables"
                ).fetchall()
            }
            for table in KEY_TABLES:
                version.row_counts[table] = (
                    con.execute(f"select count(*) from {table}").fetchone()[0]
                    if table in tables
                    else None
                )
    except duckdb.Error as exc:
        version.error = f"{type(exc).__name__}: {exc}"
    return version


def list_versions(published: Path) -> list[Version]:
    """Every kept version, oldest first, each opened read-only; never writes anything."""
    versions = [describe(path, published) for path in version_files(published)]
    if versions and published.exists() and not any(v.current for v in versions):
        # Kept as copies (no hard links on this file system): the published file names its run.
        run = publishing_run(published)
        for version in versions:
            version.current = run is not None and version.run_id == run[0]
    return versions


def version_as_of(versions: list[Version], moment: datetime) -> Version | None:
    """Of `versions` (oldest first), the one that was the published warehouse at `moment`."""
    chosen = None
    for version in versions:
        if (version.published_at or runlog.run_started(version.run_id)) <= moment:
            chosen = version
    return chosen
