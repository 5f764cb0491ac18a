"""The dashboard's way into the published warehouse: held read-only connections, the version in
force, the query cache and the queries' timings.

A page's queries are functions decorated with `@warehouse.query` (dashboard/queries/): each
returns its SQL, or its SQL and parameters (never built from user input), and calling it returns
the rows as a DataFrame, run through the held connection, cached per published version and timed
under the function's own name.

The dashboard keeps a read-only connection to each warehouse file it reads, and opens a new one
as soon as the file at that path is another: before every query it compares the file's identity
(inode, modification time, size) with the one it opened, so a publish, which renames a new file
into place, is seen by the next query. Opening costs 20-35 ms; the queries themselves take a few
milliseconds on the marts. Holding the file blocks no one: a published file is never written
again (a run builds a copy and renames it over), a rename takes no lock, and read-only
connections share the file with every other reader. Results are cached by the file's path and
the run that published it, read when the file is opened: a new publish misses the cache at once.

A file a newer release built (its schema version past this code's last migration) is refused
when it is opened, before any page reads it: WarehouseTooNew, naming both versions, which the app
shows instead of the pages (flows/warehouse/migrations.py).

Every query runs within the session's scope (flows/security/roles.py), here, so a page cannot
forget it. A connection for a scope short of everything attaches the file as `unscoped` and
holds, in a catalogue of its own named `warehouse`, a view over each relation a page may read,
cut in SQL to the scope's rows (flows/security/scope.py): a relation without a rule there is not
there, and a bid out of scope has no row, whatever the page or its URL asks for. Caches and held
connections are kept per scope.

On a DuckLake (`BLUELIGHT_BACKEND=ducklake`, dashboard/lake_source.py) the warehouse shown is the
lake's newest published version, and its identity the snapshot id: looked up before every query
in the catalog's list of published snapshots (a few milliseconds), it moves the held connection
to a new publish at the next query. A connection attaches the lake read-only, pinned to that
snapshot, in place of the file (as `warehouse` or `unscoped`, cut to the scope alike); opening
one costs about a second, mostly loading the lake's two extensions (1.4 s against 0.16 s for
the file on a busy two-core machine, tests/test_dashboard_lake.py). Kept versions are earlier
published snapshots, read by time travel; the run id shown is the version's run.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard import lake_source
from dashboard.lake_source import Lake
from flows.security import roles, signin
from flows.security import scope as scope_sql
from flows.settings import Settings
from flows.warehouse import backend, migrations, publish, runlog

_pinned: Path | None = None  # a warehouse file chosen by path (the benchmark), not by settings
_timings: list[tuple[str, float]] | None = None  # collecting while timed() runs
HELD_FILES = 16  # per scope: the published file and the version before it (Overview), and room
OPENING = "opening the file"  # what timed() names the time spent opening a warehouse file
Target = Path | Lake  # a warehouse file, or the lake at its newest or a given published version


@dataclass(frozen=True)
class _Held:
    """A read-only connection to a warehouse file, the identity the file had when it was opened
    and the run that published it (on the lake: its published snapshot and run)."""

    identity: tuple[int, ...]
    con: duckdb.DuckDBPyConnection
    run_id: str


_held: dict[tuple[str, str], _Held] = {}  # by path and scope, least recently used first
_lock = threading.Lock()  # Streamlit runs each session's script in a thread of its own


# ---------------------------------------------------------------- which file, which version


def pin(target: Path | str | None) -> None:
    """Read `target` instead of the settings' published warehouse (None: back to the
    settings)."""
    global _pinned
    _pinned = Path(target) if target is not None else None


def target() -> Target:
    """The warehouse the dashboard shows: a file, or the lake at its newest published version."""
    if _pinned is not None:
        return _pinned
    settings = Settings.from_env()
    return Lake(settings) if backend.on_lake(settings) else settings.published_db


def has_published() -> bool:
    """Whether there is a published warehouse to show."""
    shown = target()
    return bool(lake_source.versions(shown)) if isinstance(shown, Lake) else shown.exists()


def where() -> str:
    """The warehouse shown, as messages name it."""
    shown = target()
    return backend.where(shown.settings) if isinstance(shown, Lake) else str(shown)


def run_log() -> Path:
    """The data directory's run log, which records failed runs the warehouse never saw."""
    if _pinned is not None:
        return _pinned.parent.parent / "runs.jsonl"
    return Settings.from_env().run_log


def version(shown: Target | None = None) -> str:
    """The run id that published the warehouse (or `shown`): cache keys include it, so a new
    publish is seen at once. Read when the file is opened; between publishes this costs one
    stat (on the lake, one look-up of its published snapshots)."""
    return _open(shown or target(), scope()).run_id


def publish_root() -> Path:
    """The published file whose versions folder holds the kept versions."""
    shown = target()
    return shown.parent.parent / shown.name if shown.parent.name == "versions" else shown


def previous_version() -> Target | None:
    """The kept version published just before the one shown (warehouse/versions/; on the lake,
    the published snapshot before it)."""
    if isinstance(lake := target(), Lake):
        return lake_source.before(lake)
    shown = version()
    earlier = [
        p for p in publish.version_files(publish_root()) if publish.run_id_of_version(p) < shown
    ]
    return earlier[-1] if earlier else None


def kept(run_id: str) -> dict[str, Any]:
    """Where the version published by `run_id` is kept (its kept file, or on the lake its
    snapshot), how many versions are kept, and the size of the file shown (none on the lake)."""
    if isinstance(shown := target(), Lake):
        found = lake_source.versions(shown)
        snapshots = [v.snapshot_id for v in found if v.run_id == run_id]
        return {
            "version_file": None,
            "snapshot_id": snapshots[-1] if snapshots else None,
            "kept_versions": len(found),
            "file_size_bytes": None,
        }
    kept_file = publish.version_path(publish_root(), run_id)
    return {
        "version_file": str(kept_file) if kept_file.exists() else None,
        "snapshot_id": None,
        "kept_versions": len(publish.version_files(publish_root())),
        "file_size_bytes": os.stat(shown).st_size,
    }


def kept_version() -> tuple[Target, str]:
    """The version shown as a later publish leaves it (its kept copy where there is one; on the
    lake, its snapshot) and the run that published it."""
    shown = target()
    if isinstance(shown, Lake):
        found = lake_source.version(shown)
        return shown.at(found.snapshot_id), found.run_id
    version_id = version(shown)
    kept_file = publish.version_path(publish_root(), version_id)
    return (kept_file if kept_file.exists() else shown), version_id


def kept_as(shown: Target) -> str:
    """How the pages name a kept version: its file, or its snapshot of the lake."""
    if isinstance(shown, Lake):
        return f"{shown.name} of the lake, read by time travel"
    return f"{shown.name}, kept in warehouse/versions/"


def runs_after_publish(published_run_id: str) -> list[dict]:
    """Runs in the data directory's log after the one that published the warehouse shown: a
    failed run publishes nothing, so the warehouse cannot know about it."""
    return [
        r
        for r in runlog.read_log(run_log())
        if r.get("run_id", "") > published_run_id and r.get("status") != "running"
    ]


# ---------------------------------------------------------------- held connections


def _open(shown: Target, scope: roles.Scope) -> _Held:
    """The held connection to the file now at `shown` (or the lake's version it reads now)
    within `scope`, opened if it is new or another since (its time recorded under OPENING)."""
    start = time.perf_counter()
    identity, run_id = _identify(shown)
    key = (str(shown), scope.key)
    with _lock:
        held = _held.pop(key, None)
        opened = held is None or held.identity != identity
        if opened:
            # A connection of its own with the file attached, not duckdb.connect(target): DuckDB
            # shares one database per path in a process, so holding that would hand the old
            # file to anyone here opening the path after a publish (or refuse them). The one
            # replaced is not closed: a query in another thread may still be reading it; it
            # closes with its last reference.
            con = _attach(shown, identity, scope)
            if run_id is None:
                row = con.execute(publish.PUBLISHING_RUN_SQL).fetchone()
                run_id = row[0] if row else f"unpublished-{identity[1]}"
            held = _Held(identity, con, run_id)
        _held[key] = held
        while len(_held) > HELD_FILES:
            del _held[next(iter(_held))]
    if opened:
        _record(OPENING, start)
    return held


def _identify(shown: Target) -> tuple[tuple[int, ...], str | None]:
    """What `shown` is now: a file's (inode, modification time, size), or the lake's published
    snapshot and its run."""
    if isinstance(shown, Lake):
        found = lake_source.version(shown)
        return (found.snapshot_id,), found.run_id
    stat = shown.stat()
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size), None


def _attach(shown: Target, identity: tuple[int, ...], scope: roles.Scope):
    """A connection whose `warehouse` is the file at `shown` (read-only) or the lake pinned at
    the snapshot `identity` names, or, for a scope short of everything, its relations cut to
    that scope. Raises WarehouseTooNew for a warehouse this code cannot read, having read
    nothing but its version."""
    catalog = "warehouse" if scope == roles.EVERYTHING else scope_sql.UNSCOPED
    if isinstance(shown, Lake):
        con, named = lake_source.connect(shown, identity[0], catalog), backend.where(shown.settings)
    else:
        # One thread: the marts are small, and several sessions may query at once.
        con, named = duckdb.connect(config={"threads": 1}), str(shown)
        quoted = named.replace("'", "''")  # ATTACH takes no parameters
        con.execute(f"attach '{quoted}' as {catalog} (read_only)")
    migrations.refuse_newer(con, named, catalog)
    if scope != roles.EVERYTHING:
        con.execute("attach ':memory:' as warehouse")
        scope_sql.cut_to(con, scope)
    con.execute("use warehouse")
    return con


def forget() -> None:
    """Let go of every held connection, as after a publish (the benchmark's cold runs, tests)."""
    with _lock:
        _held.clear()
    lake_source.forget()


# ---------------------------------------------------------------- scope

SCOPE = "warehouse.scope"  # the session's roles.Scope, set by the app for the signed-in account


_within: contextvars.ContextVar[roles.Scope | None] = contextvars.ContextVar(
    "warehouse.within", default=None
)


def scope() -> roles.Scope:
    """The session's scope: what the app set for the signed-in account; with none set, the
    whole warehouse on a dashboard without sign-in (loopback only) and nothing with it. Outside
    a dashboard session (a `bluelight` command, a test) the whole warehouse: whoever runs it
    can read the file itself. Inside `within()`, the scope it names, session or not."""
    if (named := _within.get()) is not None:
        return named
    if get_script_run_ctx() is None:  # no session: a command run by whoever holds the file
        return roles.EVERYTHING
    chosen = st.session_state.get(SCOPE)
    if chosen is not None:
        return chosen
    return roles.NOTHING if signin.required(Settings.from_env()) else roles.EVERYTHING


def use(within: roles.Scope) -> None:
    """Run this session's queries within `within` (the app, for the signed-in account)."""
    st.session_state[SCOPE] = within


@contextlib.contextmanager
def within(named: roles.Scope) -> Iterator[None]:
    """Run the queries of this thread within `named` until the block ends: for work a session
    starts that Streamlit runs outside it (a download's bytes), and for `bluelight pack
    --within`, which rebuilds a pack made within a reader's scope."""
    token = _within.set(named)
    try:
        yield
    finally:
        _within.reset(token)


# ---------------------------------------------------------------- queries


def query(function: Callable[..., str | tuple[str, list]]) -> Callable[..., pd.DataFrame]:
    """Make `function`, which returns its SQL (or its SQL and parameters), a query: calling it
    with the same arguments runs that SQL on the published warehouse, or on the warehouse given
    as `path=` (a file, or a version of the lake), and returns the rows, cached until another
    version is published there."""
    key = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def run(*args: Any, path: Target | None = None) -> pd.DataFrame:
        shown, within = path or target(), scope()
        held = _open(shown, within)  # the rows and the run keying them come from one version
        ask = functools.partial(_fetch, function, args, held)
        return _cached(key, str(shown), within.key, held.run_id, args, ask)

    return run


@st.cache_data(show_spinner=False, max_entries=500)
def _cached(key: str, shown: str, within: str, run_id: str, args: tuple, _ask: Callable):
    """A query's rows, cached per query, warehouse, scope, the run that published it and the
    query's arguments (`_ask`, which runs it, is left out of the key)."""
    return _ask()


def _fetch(function: Callable, args: tuple, held: _Held):
    """Run `function(*args)`'s SQL through the held connection `held` (a version within a
    scope), timed under the function's name: the wall time to the rows in a DataFrame."""
    start = time.perf_counter()
    sql = function(*args)
    sql, params = sql if isinstance(sql, tuple) else (sql, [])
    # A cursor per query: a connection of its own on the same database, so queries from several
    # sessions' threads run side by side (a DuckDB connection is not shared across threads).
    with held.con.cursor() as cursor:
        cursor.execute("use warehouse")
        frame = cursor.execute(sql, params).df()
    _record(function.__name__, start)
    return frame


@query
def publishing_run():
    """The run that published the warehouse and when it finished (no rows if none did)."""
    return publish.PUBLISHING_RUN_SQL


# ---------------------------------------------------------------- timings


@contextlib.contextmanager
def timed() -> Iterator[list[tuple[str, float]]]:
    """Within the block, every query that runs (a cached one does not) is recorded as (name,
    seconds): the query function's name and its wall time to the rows in a DataFrame, and
    OPENING for each file opened (dashboard/bench.py)."""
    global _timings
    _timings = []
    try:
        yield _timings
    finally:
        _timings = None


def _record(name: str, start: float) -> None:
    if _timings is not None:
        _timings.append((name, time.perf_counter() - start))
