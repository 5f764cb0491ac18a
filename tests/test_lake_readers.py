"""Dashboards on other machines read the lake while the night writes it: two reader processes
(tests/lake_dashboard_reader.py) with nothing but the catalog's address and the data path run the
dashboard's queries, each cycle pinned to the newest published version, all through a nightly
flow on the lake. None fails, and each cycle sees one whole published version: the first
night's or the second's, never a mix (docs/decisions/0011)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import on_lake, open_published, run_flow, settings_for
from handmade import write_handmade_inbox
from lake_dashboard_reader import dashboard_queries, read_version
from test_lake import extensions, lake_settings, server  # noqa: F401  (fixtures)
from test_publishing import write_night

from flows.warehouse import backend, lake
from flows.warehouse.runlog import PUBLISHED_OUTCOMES

READERS = 2
READER = Path(__file__).with_name("lake_dashboard_reader.py")
CYCLES_AFTER = 3  # cycles each reader runs on the new version before it is told to stop


@pytest.fixture(scope="module")
def first_night(tmp_path_factory, catalog_server):
    """A home on a lake with the hand-made inbox published, and how long that night took."""
    home = on_lake(tmp_path_factory.mktemp("readers_home"), catalog_server)
    write_handmade_inbox(home / "inbox")
    start = time.perf_counter()
    result = run_flow(home)
    assert result["status"] in PUBLISHED_OUTCOMES, result
    return home, time.perf_counter() - start


def _reader_env(home: Path, machine: Path) -> dict[str, str]:
    """Another machine's environment: where the lake is, and nothing of the loader's data
    directory (a home of its own, empty)."""
    lake = settings_for(home)
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join([str(READER.parents[1]), str(READER.parent)]),
        "HOME": str(machine),
        "BLUELIGHT_BACKEND": "ducklake",
        "BLUELIGHT_LAKE_CATALOG": lake.lake_catalog,
        "BLUELIGHT_LAKE_DATA_PATH": str(lake.lake_data_path),
    }


def _cycles(out: Path) -> list[dict]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()[1:] if line]


def _wait(readers, outs: list[Path], enough, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not all(enough(_cycles(out)) for out in outs):
        dead = [r.args for r in readers if r.poll() is not None]
        assert not dead, f"a reader stopped: {dead}"
        assert time.monotonic() < deadline, f"readers never {what}: {[_cycles(o) for o in outs]}"
        time.sleep(0.2)


@pytest.mark.slow
def test_two_readers_on_other_machines_see_whole_versions_while_the_night_publishes(
    first_night, tmp_path, monkeypatch
):
    home, first_seconds = first_night
    # Retention at its tightest: the version the night replaces stays only for the readers
    # pinned to it (lake.READER_GRACE).
    monkeypatch.setenv("BLUELIGHT_KEEP_VERSIONS_DAYS", "0")
    settings = settings_for(home)
    old = backend.newest(settings)
    stop = tmp_path / "stop"
    outs = [tmp_path / f"reader{n}.jsonl" for n in range(READERS)]
    readers = []
    for n, out in enumerate(outs):
        machine = tmp_path / f"machine{n}"
        machine.mkdir()
        readers.append(
            subprocess.Popen(
                [sys.executable, str(READER), str(out), str(stop)],
                env=_reader_env(home, machine),
                cwd=machine,
                stderr=(tmp_path / f"reader{n}.err").open("w"),
            )
        )
    try:
        _wait(readers, outs, lambda cycles: len(cycles) >= 1, "read the first night")
        write_night(home / "inbox", 2)
        start = time.perf_counter()
        result = run_flow(home)
        night_seconds = time.perf_counter() - start
        assert result["status"] == "succeeded with refusals", result  # night 2 refuses a note
        new = backend.newest(settings)
        _wait(
            readers,
            outs,
            lambda cycles: (
                sum(c.get("snapshot") == new.snapshot_id for c in cycles) >= CYCLES_AFTER
            ),
            "read the new version",
        )
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=120)
    reports = [_cycles(out) for out in outs]

    # No reader failed, and none had a data directory to fall back on.
    assert [c["error"] for cycles in reports for c in cycles if "error" in c] == []
    assert all(
        json.loads(out.read_text().splitlines()[0]) == {"home_exists": False} for out in outs
    )
    assert [reader.returncode for reader in readers] == [0] * READERS

    # Each reader saw the old version and the new one, and only published snapshots kept now,
    # each read at the snapshot it was pinned to.
    kept = {v.snapshot_id: v.run_id for v in backend.versions(settings)}
    assert old.snapshot_id in kept and new.snapshot_id in kept
    assert new.run_id == result["run_id"]
    for cycles in reports:
        assert {c["snapshot"] for c in cycles} == {old.snapshot_id, new.snapshot_id}
        assert all(c["reading"] == c["snapshot"] for c in cycles)
        assert all(kept[c["snapshot"]] == c["version_run"] for c in cycles)

    # Never a mix: every query of a cycle answers exactly what the version it was pinned to
    # answers, read whole here afterwards; and the two versions differ where night 2 changed.
    whole = {}
    for version in (old, new):
        with open_published(home, version.snapshot_id) as con:
            whole[version.snapshot_id] = read_version(con)
    assert whole[old.snapshot_id]["run"] == old.run_id
    assert whole[new.snapshot_id]["run"] == new.run_id
    changed = {
        name
        for name, digest in whole[new.snapshot_id]["queries"].items()
        if whole[old.snapshot_id]["queries"][name] != digest
    }
    assert {
        "benefit_latest B1",
        "bid_overview",
        "response_trend",
        "estate_sites",
        "load_runs",
        "rejected_files",
    } <= changed, changed
    assert whole[old.snapshot_id]["figures"] != whole[new.snapshot_id]["figures"]
    for cycles in reports:
        for cycle in cycles:
            expected = whole[cycle["snapshot"]]
            assert cycle["run"] == cycle["version_run"]
            seen = {k: cycle[k] for k in ("run", "figures", "queries")}
            assert seen == expected, (cycle["snapshot"], seen, expected)

    _report(reports, night_seconds, first_seconds, old.snapshot_id, new.published_at)


def _report(
    reports: list[list[dict]], night_seconds: float, first_seconds: float, old: int, published
) -> None:
    cycles = [c for r in reports for c in r]
    # Cycles pinned to the old version still reading when the new one was published and the
    # retention ran: those lake.READER_GRACE keeps from failing.
    across = sum(c["snapshot"] == old and c["ended"] > published.timestamp() for c in cycles)
    queries = sum(c["queries_run"] for c in cycles)
    busy = sum(c["lookup_seconds"] + c["attach_seconds"] + c["query_seconds"] for c in cycles)
    lookups = sorted(c["lookup_seconds"] for c in cycles)
    attaches = sorted(c["attach_seconds"] for c in cycles)
    print(
        f"\n{READERS} readers, {len(dashboard_queries())} dashboard queries a cycle: "
        f"cycles per reader {[len(r) for r in reports]}; {queries} queries, "
        f"{queries / busy:.0f}/s while reading; snapshot look-up median "
        f"{lookups[len(lookups) // 2] * 1000:.0f} ms (max {lookups[-1] * 1000:.0f}); attach "
        f"pinned median {attaches[len(attaches) // 2] * 1000:.0f} ms; night with readers "
        f"{night_seconds:.0f} s, first night without {first_seconds:.0f} s; cycles on the old "
        f"version reading across its replacement: {across}; cycles per reader "
        f"{[(sum(c['snapshot'] == old for c in r), len(r)) for r in reports]} (old, all)"
    )


def _pinned(settings, snapshot: int) -> duckdb.DuckDBPyConnection:
    con = lake.connect()
    lake.attach(con, settings, read_only=True, snapshot=snapshot)
    con.execute(f"use {lake.ALIAS}")
    return con


def test_the_version_a_publish_replaced_stays_readable_for_a_while_whatever_the_retention(
    lake_settings,  # noqa: F811  (the fixture imported from test_lake)
):
    """A dashboard that looked up the newest version just before a publish is pinned to the
    one it replaced: that version stays readable for lake.READER_GRACE even when the retention
    keeps no day (BLUELIGHT_KEEP_VERSIONS_DAYS=0), and goes with its files after."""
    writer = lake.connect()
    lake.attach(writer, lake_settings)
    writer.execute("use lake")
    writer.execute("create schema marts; create table marts.t as from range(1000) r(x)")
    before = lake.publish(writer, "r1").snapshot_id
    reader = _pinned(lake_settings, before)
    writer.execute("create or replace table marts.t as select 2 * x as x from range(1000) r(x)")
    lake.publish(writer, "r2")

    expired, _deleted = lake.prune(writer, keep_days=0)
    assert before not in expired
    assert reader.execute("select sum(x) from marts.t").fetchone() == (499_500,)
    assert _pinned(lake_settings, before).execute("select sum(x) from marts.t").fetchone() == (
        499_500,
    )

    later = datetime.now() + lake.READER_GRACE + timedelta(minutes=1)
    expired, deleted = lake.prune(writer, keep_days=0, now=later)
    assert before in expired and len(deleted) == 1  # the first table's only file
    with pytest.raises(
        duckdb.InvalidInputException, match=f"No snapshot found at version {before}"
    ):
        reader.execute("select sum(x) from marts.t").fetchone()
