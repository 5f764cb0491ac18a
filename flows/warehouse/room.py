"""Room before work, and nothing left behind: the free space a night needs, checked before it
writes anything, and the files a failed night made, removed so it leaves the disk as it found it.

A night writes three things that take space: the build copy of the published warehouse (none
where the filesystem shares blocks: flows/warehouse/copying.py), the inbox's files copied into
the archive (none where those share blocks too), and what the load and the build add to the
warehouse. The last is estimated from the inbox's size: a first night on the demo inbox
(86 MB) built a 101 MB warehouse, and the national inbox (26 GB) a 10.6 GB one (docs/
performance.md), so `GROWTH_PER_INBOX_BYTE` covers the small case, where the fixed part weighs
most, with room to spare. The settings' margin (`BLUELIGHT_FREE_SPACE_MARGIN_MB`) is kept free
beyond all that, for logs and the run's own record.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from flows.settings import Settings
from flows.warehouse.copying import copy_file

GROWTH_PER_INBOX_BYTE = 1.5
MB = 1_000_000


class NoRoom(RuntimeError):
    """Not enough free space for the night: nothing was written."""


def _bytes_under(folder: Path) -> int:
    if not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def shares_blocks(folder: Path) -> bool:
    """Whether a copy within `folder`'s filesystem is a reflink (tried on a one-byte file, which
    the filesystem's page cache takes, so the probe costs no free space it keeps)."""
    with tempfile.TemporaryDirectory(dir=folder, prefix=".room-") as probe:
        source = Path(probe) / "a"
        source.write_bytes(b"x")
        return copy_file(source, Path(probe) / "b")


def needed(settings: Settings) -> dict[str, int]:
    """The bytes the night will write, by what writes them."""
    inbox = _bytes_under(settings.inbox)
    published = settings.published_db
    copy = published.stat().st_size if published.exists() else 0
    return {
        "build copy": 0 if copy == 0 or shares_blocks(settings.build_dir) else copy,
        "archive copies": 0 if inbox == 0 or shares_blocks(settings.archive) else inbox,
        "load and build": int(inbox * GROWTH_PER_INBOX_BYTE),
        "margin": settings.free_space_margin_mb * MB,
    }


def check(settings: Settings) -> None:
    """Raise NoRoom, with the figures, when the data directory's filesystem has less free space
    than the night needs."""
    wanted = needed(settings)
    free = shutil.disk_usage(settings.home).free
    if sum(wanted.values()) > free:
        parts = ", ".join(f"{name} {size / MB:,.1f} MB" for name, size in wanted.items() if size)
        raise NoRoom(
            f"not enough free space in {settings.home}: the night needs "
            f"{sum(wanted.values()) / MB:,.1f} MB ({parts}) and {free / MB:,.1f} MB is free. "
            "Nothing was written; free some space (`bluelight versions` lists kept versions, "
            "BLUELIGHT_KEEP_VERSIONS_DAYS keeps fewer) and run again."
        )


def archive_names(settings: Settings) -> set[str]:
    """What the archive holds now, so a failed night can take back what it added."""
    return set(os.listdir(settings.archive)) if settings.archive.exists() else set()


def remove_build(settings: Settings) -> list[Path]:
    """Remove the build copy, with its write-ahead log and any half-made copy."""
    build = settings.build_db
    files = (build, build.with_name(build.name + ".wal"), build.with_name(build.name + ".partial"))
    removed = [p for p in files if p.exists()]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def remove_partial_files(settings: Settings, archive_before: set[str]) -> list[Path]:
    """After a failed night: remove its build copy and the archive copies it added; the
    published warehouse, the inbox and the rejected files are left as they are. Returns what was
    removed."""
    added = [settings.archive / name for name in archive_names(settings) - archive_before]
    for path in added:
        path.unlink(missing_ok=True)
    return remove_build(settings) + added
