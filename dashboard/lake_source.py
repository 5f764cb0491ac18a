"""The published warehouse on a DuckLake (`BLUELIGHT_BACKEND=ducklake`) as the dashboard reads it:
which published versions the lake keeps, looked up before every query, and a connection
attached read-only at one of them (dashboard/warehouse.py holds those connections).

The look-up goes through one read-only, unpinned attach of the lake per process, kept open: it
reads only the catalog's list of published snapshots (`lake.published`), a query of a few
milliseconds, and sees a publish committed by another machine at its next look. The pages never
read through it: an unpinned reader would see a night's build as it goes (docs/decisions/0011).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

import duckdb

from flows.settings import Settings
from flows.warehouse import backend, lake


@dataclass(frozen=True)
class Lake:
    """The lake `settings` name, read at its newest published version (`snapshot` None) or at
    the published version `snapshot` (time travel)."""

    settings: Settings = field(repr=False)
    snapshot: int | None = None

    def __str__(self) -> str:
        # The catalog's address names the lake in cache keys, digested: it may hold a password.
        named = f"{self.settings.lake_catalog}|{self.settings.lake_data_path}".encode()
        lake_id = hashlib.sha256(named).hexdigest()[:12]
        return f"lake:{lake_id}" + ("" if self.snapshot is None else f"@{self.snapshot}")

    @property
    def name(self) -> str:
        """How the pages name this version: its snapshot, when pinned to one."""
        return f"snapshot {self.snapshot}" if self.snapshot is not None else "the newest"

    def at(self, snapshot: int) -> Lake:
        return Lake(self.settings, snapshot)


_readers: dict[str, duckdb.DuckDBPyConnection] = {}  # by str(Lake(settings)): the look-ups
_lock = threading.Lock()


def versions(target: Lake) -> list[backend.LakeVersion]:
    """The lake's published versions still kept, oldest first; none before a lake is made."""
    key = str(Lake(target.settings))
    with _lock:
        con = _readers.get(key)
        if con is None:
            con = _reader(target.settings)
            if con is None:
                return []
            _readers[key] = con
        try:
            found = lake.published(con)
        except duckdb.Error:
            # The catalog was lost (a restart, a network fault): attach again at the next look.
            del _readers[key]
            con.close()
            raise
    return found


def _reader(settings: Settings) -> duckdb.DuckDBPyConnection | None:
    """The read-only, unpinned attach the look-ups use; None while no lake is made."""
    con = lake.connect(config={"threads": 1})
    try:
        lake.attach(con, settings, read_only=True)
    except duckdb.InvalidInputException as missing:
        con.close()
        if "does not exist" in str(missing):
            return None
        raise
    return con


def version(target: Lake) -> backend.LakeVersion:
    """The published version `target` reads now: the newest, or the one it is pinned to (which
    the retention may have let go)."""
    kept = versions(target)
    if target.snapshot is None and kept:
        return kept[-1]
    for found in kept:
        if found.snapshot_id == target.snapshot:
            return found
    what = "nothing published yet" if not kept else f"snapshot {target.snapshot} is not kept"
    raise FileNotFoundError(f"{what} on {backend.where(target.settings)}")


def before(target: Lake) -> Lake | None:
    """The published version before the one `target` reads now, pinned; None for the first."""
    kept = versions(target)
    shown = version(target).snapshot_id
    earlier = [v.snapshot_id for v in kept if v.snapshot_id < shown]
    return target.at(earlier[-1]) if earlier else None


def connect(target: Lake, snapshot: int, catalog: str) -> duckdb.DuckDBPyConnection:
    """A connection of its own (one thread, as for a file) with the lake attached read-only as
    `catalog`, pinned to the published snapshot `snapshot`."""
    con = lake.connect(config={"threads": 1})
    backend.attach_published(con, target.settings, catalog, snapshot)
    return con


def forget() -> None:
    """Close the look-ups' connections (tests, and a lake's catalog moved)."""
    with _lock:
        for con in _readers.values():
            con.close()
        _readers.clear()
