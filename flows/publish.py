"""Build copy and atomic publish of the warehouse (DESIGN.md, "Publishing, and why").

A run works on `build/bluelight.duckdb`, a copy of the published file; only a run that passed
every gate replaces `warehouse/bluelight.duckdb`, by rename, so readers see the old file or the
new one and never half of either. Readers open the published file read-only, per request.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb


def prepare_build(published: Path, build: Path) -> None:
    """Start the build from the published warehouse (or from nothing on the first run)."""
    build.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (build, build.with_name(build.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if published.exists():
        partial = build.with_name(build.name + ".partial")
        shutil.copyfile(published, partial)
        partial.replace(build)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(build: Path, published: Path) -> None:
    """Make the build the published warehouse in one rename."""
    with duckdb.connect(str(build)) as con:
        con.execute("checkpoint")  # fold the write-ahead log into the file before it moves
    if build.with_name(build.name + ".wal").exists():
        raise RuntimeError(f"{build} still has a write-ahead log; refusing to publish")
    published.parent.mkdir(parents=True, exist_ok=True)
    _fsync(build)
    os.replace(build, published)
    _fsync(published.parent)
