"""Safe publishing (issue 6): atomic replace, kept versions, readers never blocked, and a run
killed at any stage leaves the published warehouse as it was and loses nothing.

The first tests work on small warehouses made here; the rest run the real flow: readers in
other processes while three runs publish, and `bluelight run` killed with SIGKILL at each stage.
The real nights run on both backends (tests/conftest.py BACKENDS): the file, and a lake, where a
version is a snapshot labelled `publish` (docs/decisions/0011); what only a file has (renames,
reflinks, version files) is tested on the file alone.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import (
    BACKENDS,
    backend_env,
    bluelight,
    home_on,
    mart_rows,
    open_published,
    run_flow,
    settings_for,
)
from handmade import fire_incident, site, write_b1_register, write_handmade_inbox, write_rows

from flows.load.recover import recover_interrupted
from flows.settings import PROJECT_ROOT, Settings
from flows.warehouse import backend, lake, publish, runlog
from flows.warehouse.copying import copy_file
from flows.warehouse.schema import ensure_schema


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _warehouse(path: Path, run_id: str, value: int) -> None:
    """A small warehouse as a run leaves it: the audit schema, its run, one figure."""
    with duckdb.connect(str(path)) as con:
        ensure_schema(con)
        con.execute(
            "insert into audit.load_runs (run_id, started_at, finished_at, status) "
            "values (?, ?, ?, 'succeeded')",
            [run_id, runlog.run_started(run_id), runlog.run_started(run_id) + timedelta(minutes=5)],
        )
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.figure as select ? as value", [value])


def _figure(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select value from marts.figure").fetchone()[0]


def _next_build(published: Path, build: Path, run_id: str, value: int) -> None:
    publish.prepare_build(published, build)
    _warehouse(build, run_id, value)


R1, R2, R3 = "20250101T020000-aaaaaa", "20250102T020000-bbbbbb", "20250103T020000-cccccc"


def test_publish_renames_the_build_over_the_published_file_and_keeps_each_version(tmp_path):
    build, published = tmp_path / "build" / "bluelight.duckdb", tmp_path / "wh" / "bluelight.duckdb"
    build.parent.mkdir()
    _warehouse(build, R1, 1)
    version1 = publish.publish(build, published)
    assert not build.exists()
    assert version1 == tmp_path / "wh" / "versions" / f"bluelight-{R1}.duckdb"
    assert os.path.samefile(version1, published)  # a hard link: no second copy of the bytes
    assert not published.stat().st_mode & 0o222  # nothing writes a published file again
    first = _sha(version1)

    _next_build(published, build, R2, 2)
    assert not os.path.samefile(build, published)  # the run builds a copy, never the file read
    version2 = publish.publish(build, published)
    assert _figure(published) == 2 and os.path.samefile(version2, published)
    assert _sha(version1) == first and _figure(version1) == 1  # the old version, as published
    assert publish.current_version(published) == version2
    assert [v.run_id for v in publish.list_versions(published)] == [R1, R2]


def test_copies_have_the_same_bytes_and_stay_apart_whether_or_not_the_disk_reflinks(tmp_path):
    """The build's copy of the warehouse and the archive's copy of a file
    (flows/warehouse/copying.py): a reflink where the filesystem has them (XFS, btrfs: only
    there does this run that branch), the bytes copied where it has not. Either way the copy
    holds the same bytes, replaces a longer read-only leftover, and writing it leaves the
    original as it was."""
    original = tmp_path / "published.duckdb"
    original.write_bytes(os.urandom(3 << 20))
    before = original.read_bytes()
    target = tmp_path / "build.duckdb.partial"
    target.write_bytes(os.urandom(5 << 20))  # a killed run's leftover, longer than the original
    target.chmod(0o444)
    copy_file(original, target)
    assert target.read_bytes() == before
    target.chmod(0o644)
    with target.open("r+b") as handle:
        handle.seek(1 << 20)
        handle.write(b"a night's changes")
    assert original.read_bytes() == before
    assert target.read_bytes() != before


def test_a_publish_killed_before_its_version_was_kept_is_kept_by_the_next(tmp_path):
    build, published = tmp_path / "build" / "bluelight.duckdb", tmp_path / "wh" / "bluelight.duckdb"
    build.parent.mkdir()
    _warehouse(build, R1, 1)
    publish.publish(build, published)
    publish.version_path(published, R1).unlink()  # as if killed between rename and link
    _next_build(published, build, R2, 2)
    publish.publish(build, published)
    assert _figure(publish.version_path(published, R1)) == 1
    assert _figure(publish.version_path(published, R2)) == 2


def test_pruning_keeps_the_window_and_the_version_in_force_when_it_opens(tmp_path):
    published = tmp_path / "bluelight.duckdb"
    now = datetime(2025, 6, 30, 12)
    ages = [200, 100, 95, 10, 1]
    paths = []
    for age in ages:
        run_id = (now - timedelta(days=age)).strftime(runlog.RUN_ID_TIME) + "-abcdef"
        path = publish.version_path(published, run_id)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"x")
        paths.append(path)
    os.link(paths[-1], published)
    stale = published.parent / "versions" / "bluelight-x.duckdb.partial"
    stale.write_bytes(b"half")
    removed = publish.prune_versions(published, keep_days=90, now=now)
    # 200 and 100 days old go; 95 days old stays: it was the published one 90 days ago.
    assert removed == paths[:2]
    assert publish.version_files(published) == paths[2:]
    assert not stale.exists()
    # Even with nothing kept by age, the published file's own version stays.
    publish.prune_versions(published, keep_days=0, now=now + timedelta(days=1))
    assert publish.version_files(published) == paths[-1:]


@pytest.mark.parametrize(
    "text, moment",
    [
        ("2026-03-31", datetime(2026, 3, 31, 23, 59, 59, 999999)),
        ("20260331", datetime(2026, 3, 31, 23, 59, 59, 999999)),
        ("2026-03-31 10:00", datetime(2026, 3, 31, 10, 0)),
        ("not a date", None),
    ],
)
def test_as_of_names_the_end_of_a_day_or_a_time(text, moment):
    from flows.cli.warehouse import _as_of

    assert _as_of(text) == moment


def test_as_of_with_a_time_zone_is_this_machines_time():
    from flows.cli.warehouse import _as_of

    zoned = datetime(2026, 3, 31, 10, 0).astimezone()
    assert _as_of(zoned.isoformat()) == datetime(2026, 3, 31, 10, 0)


def test_version_as_of_a_date_is_the_last_published_by_then():
    versions = [
        publish.Version(R1, Path("a"), published_at=datetime(2025, 1, 1, 2, 5)),
        publish.Version(R2, Path("b"), published_at=datetime(2025, 1, 2, 2, 5)),
    ]
    assert publish.version_as_of(versions, datetime(2024, 12, 31)) is None
    assert publish.version_as_of(versions, datetime(2025, 1, 1, 23, 59)).run_id == R1
    assert publish.version_as_of(versions, datetime(2025, 1, 2, 2, 1)).run_id == R1
    assert publish.version_as_of(versions, datetime(2025, 3, 1)).run_id == R2


def test_versions_command_and_dashboard_name_the_version(tmp_path, monkeypatch, capsys):
    from dashboard import queries
    from flows.cli import main

    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    _warehouse(settings.build_db, R1, 1)
    publish.publish(settings.build_db, settings.published_db)
    _next_build(settings.published_db, settings.build_db, R2, 2)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("insert into raw.incidents (incident_id) values ('F1'), ('F2')")
    publish.publish(settings.build_db, settings.published_db)
    monkeypatch.setenv("BLUELIGHT_HOME", str(tmp_path))

    assert main(["versions"]) == 0
    out = capsys.readouterr().out.splitlines()
    line = {run_id: next(x for x in out if run_id in x) for run_id in (R1, R2)}
    assert "2025-01-01 02:05:00" in line[R1] and not line[R1].startswith("*")
    assert "2025-01-02 02:05:00" in line[R2] and line[R2].startswith("*")  # the published one
    counts = [v.row_counts for v in publish.list_versions(settings.published_db)]
    assert [c["raw.incidents"] for c in counts] == [0, 2]
    assert counts[0]["marts.fct_benefit_realisation"] is None  # not in these small warehouses
    assert main(["versions", "--as-of", "2025-01-01"]) == 0
    assert capsys.readouterr().out.strip() == str(publish.version_path(settings.published_db, R1))

    shown = queries.published_version()
    assert shown.run_id[0] == R2
    assert shown.version_file[0] == str(publish.version_path(settings.published_db, R2))
    assert shown.kept_versions[0] == 2


def _refused(run_dir: Path, name: str, content: str, reason: str | None) -> None:
    path = run_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    if reason is not None:
        path.with_name(path.name + ".reason.txt").write_text(
            f"file: {name}\nrow: 1\ncolumn: bid_id\nreason: {reason}\n"
        )


def test_refusals_no_published_warehouse_records_are_judged_again_or_recorded(tmp_path):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    killed, failed = (settings.rejected / run for run in (R1, R2))
    _refused(killed, "bids/notes.txt", "call Sam", "unsupported file type '.txt'")
    _refused(killed, "bids/taken.csv", "old", "missing required column(s) bid_id")
    (settings.inbox / "bids").mkdir()
    (settings.inbox / "bids" / "taken.csv").write_text("newer")  # its name taken by a newer file
    _refused(failed, "bids/bad.csv", "bad", "missing required column(s) bid_id")
    with runlog.recorded_run(settings.run_log, R2) as record:
        record.status = "failed"  # a run that ended: its refusals are its own
    (settings.inbox / "ambsys").mkdir()
    (settings.inbox / "ambsys" / "release.xlsx.partial").write_bytes(b"half a download")
    (settings.archive / f"{'0' * 64}.csv.partial").write_bytes(b"half a copy")
    with duckdb.connect(str(settings.build_db)) as con:
        ensure_schema(con)
        assert len(recover_interrupted(con, settings)) == 5
        assert recover_interrupted(con, settings) == []  # once only
        rows = con.execute(
            "select run_id, original_name, sha256, row_number, column_name, reason "
            "from audit.rejected_files order by run_id"
        ).fetchall()
    assert rows == [
        (R1, "bids/taken.csv", _sha_text("old"), 1, "bid_id", "missing required column(s) bid_id"),
        (R2, "bids/bad.csv", _sha_text("bad"), 1, "bid_id", "missing required column(s) bid_id"),
    ]
    # The killed run's refusal goes back to be refused, and recorded, by the next run.
    assert (settings.inbox / "bids" / "notes.txt").read_text() == "call Sam"
    assert not (killed / "bids" / "notes.txt.reason.txt").exists()
    assert (settings.inbox / "bids" / "taken.csv").read_text() == "newer"
    assert not list(settings.inbox.rglob("*.partial")) and not list(settings.archive.iterdir())


def _sha_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_run_record_cut_short_is_skipped_and_the_next_starts_its_own_line(tmp_path):
    log = tmp_path / "runs.jsonl"
    with runlog.recorded_run(log, "r1"):
        pass
    with log.open("a") as handle:
        handle.write('{"run_id": "r2", "sta')  # killed while writing its record
    with runlog.recorded_run(log, "r3"):
        pass
    assert [r["run_id"] for r in runlog.read_log(log)] == ["r1", "r3"]


# ---------------------------------------------------------------------------------------------
# The real flow: a hand-made first night, then nights that add files.


def write_night(inbox: Path, night: int) -> None:
    """Files for a later night: incidents (one row breaks a rule), and on night 2 a corrected
    register (same name: its next version), the next year's estate return and a refused file."""
    call = datetime(2016, 6, 1, 9) + timedelta(days=night)
    rows = [
        fire_incident(100 * night + i, "D1", call + timedelta(hours=i), 75, 400) for i in range(3)
    ]
    late = fire_incident(100 * night + 9, "D1", call, 60, 300)
    late["first_arrival_time"] = (call - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    write_rows(inbox / "incidents" / f"fire_night{night}.csv", "incidents", [*rows, late])
    if night != 2:
        return
    write_b1_register(inbox, ben1_target=50, ben2_target=950_000)  # were 40 and 900,000
    write_rows(
        inbox / "estates" / "estate_return_2017.csv",
        "estates",
        [
            site("S1", "2017-18", "police", "D1", 700_000),
            site("S2", "2017-18", "fire", "D2", 450_000),
        ],
    )
    (inbox / "bids" / "notes.txt").parent.mkdir(parents=True, exist_ok=True)
    (inbox / "bids" / "notes.txt").write_text("call Sam about B3\n")


def warehouse_state(home: Path, snapshot: int | None = None) -> dict:
    """Everything a rerun must reproduce: every mart row, raw rows per source, and what the audit
    schema says was loaded, quarantined and refused (run ids and times aside); of the published
    warehouse (on the lake, its newest published version or the one at `snapshot`)."""
    with open_published(home, snapshot) as con:
        return _state(con)


def _state(con) -> dict:
    state: dict = {}
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('marts', 'raw') order by 1, 2"
    ).fetchall()
    for schema, table in tables:
        if schema == "marts":
            state[f"{schema}.{table}"] = mart_rows(con, f"{schema}.{table}")
        else:
            state[f"{schema}.{table}"] = con.execute(
                f"select count(*), count(distinct _source_sha256) from {schema}.{table}"
            ).fetchone()
    for name, sql in {
        "loaded": "select source, original_name, sha256, rows, rows_quarantined, version "
        "from audit.loaded_files where status = 'loaded'",
        "quarantine": "select source, source_file, source_row, column_name, value, rule "
        "from audit.quarantine",
        "rejected": "select source, original_name, sha256, row_number, column_name, reason "
        "from audit.rejected_files",
    }.items():
        state[name] = sorted(con.execute(sql).fetchall(), key=repr)
    return state


def _copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def _first_night_home(home: Path) -> Path:
    """`home` (on its backend) after its first night, the hand-made inbox, published."""
    write_handmade_inbox(home / "inbox")
    result = run_flow(home)
    assert result["status"] in runlog.PUBLISHED_OUTCOMES, result
    return home


@pytest.fixture(scope="module", params=BACKENDS)
def night_backend(request) -> str:
    """The backend the real nights of this module run on, each in turn."""
    return request.param


# Tests of what only the file has run on it alone.
file_only = pytest.mark.parametrize("night_backend", ["file"], indirect=True)


@pytest.fixture(scope="module")
def first_night(night_backend, tmp_path_factory, request):
    """A home whose first night (the hand-made inbox) is published, and its state."""
    home = home_on(night_backend, tmp_path_factory.mktemp("first_night"), request)
    _first_night_home(home)
    return home, warehouse_state(home)


@pytest.fixture(scope="module")
def second_night(first_night, night_backend, tmp_path_factory, request):
    """The first night published and the second night's files waiting in the inbox; and the
    state an uninterrupted second run publishes, and the home it ran on. A file home is copied
    for each; a lake cannot be copied with its home, so on the lake the waiting night is a new
    home's and the uninterrupted one runs on first_night's."""
    if night_backend == "file":
        home = _copy_home(first_night[0], tmp_path_factory.mktemp("second_night") / "home")
        write_night(home / "inbox", 2)
        reference = _copy_home(home, tmp_path_factory.mktemp("reference") / "home")
    else:
        home = _first_night_home(home_on("ducklake", tmp_path_factory.mktemp("second"), request))
        write_night(home / "inbox", 2)
        reference = first_night[0]
        write_night(reference / "inbox", 2)
    # Each night sets aside an incident that arrives before its call; night 2 refuses a note.
    assert run_flow(reference)["status"] == "succeeded with refusals"
    return home, warehouse_state(reference), reference


@file_only  # version files, and `pack --version` naming one
def test_a_pack_from_the_version_a_night_replaced_shows_that_versions_figures(
    second_night, tmp_path
):
    """The second night's estate return moves B1's estate benefit (BEN2) to a later year: the
    pack of the published warehouse shows the new figure, the pack of the version the first
    night published shows the one it held."""
    from test_pack import Pack

    from dashboard import ui

    home = second_night[2]
    published = settings_for(home).published_db
    older = publish.version_files(published)[0]
    older_run = publish.run_id_of_version(older)
    assert older_run != publish.publishing_run(published)[0]
    shown = {}
    for name, path, argv in (("now", published, ()), ("then", older, ("--version", older_run))):
        out = tmp_path / f"{name}.html"
        assert bluelight(home, "pack", "B1", *argv, "--out", str(out)) == 0
        with duckdb.connect(str(path), read_only=True) as con:
            actual, unit = con.execute(
                """select actual_value, unit from marts.fct_benefit_realisation
                   where benefit_id = 'BEN2' and is_complete_period
                   order by financial_year desc limit 1"""
            ).fetchone()
        shown[name] = (
            Pack(out.read_text()).figures["realised-BEN2"],
            ui.value_in_unit(actual, unit),
        )
        assert f"--version {publish.publishing_run(path)[0]}" in out.read_text()
    assert shown["now"][0] == shown["now"][1] and shown["then"][0] == shown["then"][1]
    assert shown["now"][0] != shown["then"][0]


# ---------------------------------------------------------------------------------------------
# Readers in other processes while three nightly runs publish.

READERS = 8
READER_PAUSE = 0.25  # seconds between one reader's requests (a busy dashboard, not a DoS)
VERSION_SQL = (
    "select max(run_id) filter (where status like 'succeeded%'), count(*) from audit.load_runs"
)
FIGURES_SQL = """
    select (select count(*) from raw.incidents),
           (select sum(incidents) from marts.fct_response_times_monthly),
           (select count(*) from audit.loaded_files)
"""


def _read_version(con) -> tuple:
    """A request: the version's run, then its figures, then the run again (all must agree)."""
    first = con.execute(VERSION_SQL).fetchone()
    figures = con.execute(FIGURES_SQL).fetchone()
    again = con.execute(VERSION_SQL).fetchone()
    return (*first, *figures), first == again


def _reader(path: str, stop, ready, results) -> None:
    """A reader process: open the published file read-only, query, close; until told to stop."""
    seen: dict[str, tuple] = {}
    errors: list[str] = []
    cycles = 0
    start = time.perf_counter()
    while not stop.is_set():
        try:
            with duckdb.connect(path, read_only=True) as con:
                observed, same_run = _read_version(con)
            cycles += 1
            if not same_run or seen.setdefault(observed[0], observed) != observed:
                errors.append(f"inconsistent: {observed} after {seen.get(observed[0])}")
            if cycles == 1:
                ready.put(os.getpid())
        except Exception as exc:  # every failure a reader sees is the finding
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(READER_PAUSE)
    results.put(
        {"seen": seen, "errors": errors, "cycles": cycles, "seconds": time.perf_counter() - start}
    )


@file_only  # readers of the published file and its version files
def test_readers_in_eight_processes_never_fail_and_each_sees_whole_versions(
    first_night, tmp_path, monkeypatch
):
    home = _copy_home(first_night[0], tmp_path / "home")
    published = settings_for(home).published_db
    # A spawned process re-runs __main__ by path, and Streamlit's AppTest (earlier in the
    # session) leaves dashboard/app.py there: give the readers a bare one.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    context = multiprocessing.get_context("spawn")
    stop, ready, results = context.Event(), context.Queue(), context.Queue()
    readers = [
        context.Process(target=_reader, args=(str(published), stop, ready, results))
        for _ in range(READERS)
    ]
    for reader in readers:
        reader.start()
    try:
        for _ in readers:
            ready.get(timeout=120)  # every reader has read the first night's version
        runs = []
        for night in (2, 3, 4):
            write_night(home / "inbox", night)
            result = run_flow(home)
            assert result["status"] == "succeeded with refusals", result  # a row set aside
            runs.append(result)
        time.sleep(2 * READER_PAUSE + 1)  # every reader reads the last version too
    finally:
        stop.set()
        reports = [results.get(timeout=120) for _ in readers]
        for reader in readers:
            reader.join(timeout=60)

    assert [error for r in reports for error in r["errors"]] == []
    versions = {publish.publishing_run(v)[0]: v for v in publish.version_files(published)}
    last = runs[-1]["run_id"]
    assert list(versions)[-3:] == [r["run_id"] for r in runs]
    for report in reports:
        assert len(report["seen"]) > 1 and last in report["seen"]
        for run_id, observed in report["seen"].items():
            # Each request saw one whole version: the one kept for the run it names.
            with duckdb.connect(str(versions[run_id]), read_only=True) as con:
                assert _read_version(con) == (observed, True)
    queries = 3 * sum(r["cycles"] for r in reports)
    seconds = max(r["seconds"] for r in reports)
    publish_seconds = [r["record"]["stage_seconds"]["publish"] for r in runs]
    print(
        f"\n{READERS} readers: {queries} queries in {seconds:.0f} s "
        f"({queries / seconds:.1f}/s), no errors; publish stage {publish_seconds} s; "
        f"run seconds {[round(sum(r['record']['stage_seconds'].values())) for r in runs]}; "
        f"version size {published.stat().st_size / 1e6:.1f} MB"
    )


# ---------------------------------------------------------------------------------------------
# `bluelight run` killed with SIGKILL at each stage, then run again.

# Where to kill: a line of the run's log, and seconds to wait after it.
KILL_POINTS = {
    "prepare": ("stage prepare started", 0),
    "fetch": ("stage fetch started", 0),
    "ingest": ("bids/notes.txt: rejected", 0),  # mid-ingest, a refused file already moved
    "check_loaded": ("stage check_loaded started", 0),
    # Mid-dbt: a second after the plan is logged, the build has begun writing the build copy.
    "dbt_build": ("dbt build: ", 1),
    "check_marts": ("stage check_marts started", 0),
    "publish": ("stage publish started", 0),
    # Renamed into place; the version not yet linked or the inbox not yet cleared (most times).
    "after_rename": ("published ", 0),
}
# On the lake the publish is a commit, not a rename: the last kill is right after it, before the
# retention's expiry and cleanup, the inbox cleared and the run's record written.
LAKE_KILL_POINTS = {
    **{stage: point for stage, point in KILL_POINTS.items() if stage != "after_rename"},
    "after_commit": ("published snapshot ", 0),
}


def _kill_run_at(home: Path, trigger: str, delay: float) -> str:
    """Start `bluelight run` on `home` (with its lake's settings when it has one), SIGKILL it
    `delay` s after the log line with `trigger`."""
    from prefect.settings import PREFECT_API_URL

    with backend_env(home):
        env = {
            **os.environ,
            "BLUELIGHT_HOME": str(home),
            "PREFECT_API_URL": PREFECT_API_URL.value(),  # the session's test server
            "PREFECT_LOGGING_LEVEL": "INFO",
        }
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    timed_out = threading.Event()

    def give_up():
        timed_out.set()
        process.kill()

    watchdog = threading.Timer(600, give_up)
    watchdog.start()
    output = []
    try:
        for line in process.stdout:
            output.append(line)
            if trigger in line:
                time.sleep(delay)
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=60)
    finally:
        watchdog.cancel()
        process.stdout.close()
    text = "".join(output)
    assert not timed_out.is_set() and process.returncode == -signal.SIGKILL, text
    return text


def _published(home: Path) -> object:
    """What readers open: the published file's bytes (their hash), or the lake's newest
    published version; None when nothing is published."""
    settings = settings_for(home)
    if backend.on_lake(settings):
        return backend.newest(settings)
    return _sha(settings.published_db)


def _publishing_run(home: Path) -> str:
    settings = settings_for(home)
    if backend.on_lake(settings):
        return backend.newest(settings).run_id
    return publish.publishing_run(settings.published_db)[0]


def _after_a_kill(home: Path, before: object, state: dict | None) -> str | None:
    """The lock is free and what was published before the kill (`before`, from `_published`,
    holding `state`) still reads the same; returns the published run, if the killed run
    published."""
    settings = settings_for(home)
    with runlog.run_lock(home):  # the OS released the dead run's lock
        pass
    if before is None:
        assert _published(home) is None and not settings.published_db.exists()
        return None
    with open_published(home) as con:
        con.execute("select count(*) from marts.fct_benefit_realisation").fetchone()
    if backend.on_lake(settings):  # the version read before stays readable, whole
        assert warehouse_state(home, before.snapshot_id) == state
    if _published(home) == before:
        assert warehouse_state(home) == state
        return None
    return _publishing_run(home)


def _finished_cleanly(home: Path) -> set[str]:
    settings = settings_for(home)
    assert not settings.build_db.exists()
    assert not list(home.rglob("*.partial"))
    assert not [p for p in settings.inbox.rglob("*") if p.is_file()]
    with open_published(home) as con:
        succeeded = {
            r[0]
            for r in con.execute(
                "select run_id from audit.load_runs where status like 'succeeded%'"
            ).fetchall()
        }
        # Every file loaded or refused names a run that is on record.
        unknown_runs = con.execute(
            "select run_id from audit.loaded_files union select run_id from audit.rejected_files "
            "except select run_id from audit.load_runs"
        ).fetchall()
    assert unknown_runs == []
    # Every run that published is kept as a version, and nothing else is.
    if backend.on_lake(settings):
        kept = {v.run_id for v in backend.versions(settings)}
    else:
        kept = {v.run_id for v in publish.list_versions(settings.published_db)}
    assert kept == succeeded
    return succeeded


def test_runs_killed_at_every_stage_in_turn_change_nothing_and_the_next_run_finishes_them(
    second_night, tmp_path
):
    # One home, killed at each stage in turn (each run meets the leftovers of the one before),
    # then a run that finishes: cheaper than a home per stage, and a harder night.
    base, reference, _published_home = second_night
    on_lake = backend.on_lake(settings_for(base))
    home = base if on_lake else _copy_home(base, tmp_path / "home")
    before, state = _published(home), warehouse_state(home)
    published_by_a_killed_run = None
    kill_points = LAKE_KILL_POINTS if on_lake else KILL_POINTS
    last = list(kill_points)[-1]
    for stage, (trigger, delay) in kill_points.items():
        _kill_run_at(home, trigger, delay)
        killed_run = _after_a_kill(home, before, state)
        if stage == last:
            published_by_a_killed_run = killed_run
        else:
            assert killed_run is None, f"killed at {stage}: the published warehouse changed"
    if on_lake:
        assert published_by_a_killed_run is not None  # the kill came after the commit

    result = run_flow(home)
    assert result["status"] == "succeeded", result
    assert warehouse_state(home) == reference  # nothing lost, nothing counted twice
    succeeded = _finished_cleanly(home)
    if published_by_a_killed_run:  # it stays on record though it never wrote its log line
        assert published_by_a_killed_run in succeeded


@contextmanager
def _lake_latest(home: Path):
    """The lake of `home` read as it is now, unpinned: what its next writer starts from."""
    con = lake.connect()
    try:
        lake.attach(con, settings_for(home), read_only=True)
        con.execute(f"use {lake.ALIAS}")
        yield con
    finally:
        con.close()


def test_a_first_run_killed_mid_dbt_publishes_nothing_and_the_next_run_finishes_it(
    first_night, night_backend, tmp_path, request
):
    home = home_on(night_backend, tmp_path / "home", request)
    write_handmade_inbox(home / "inbox")
    _kill_run_at(home, *KILL_POINTS["dbt_build"])
    _after_a_kill(home, None, None)
    assert run_flow(home)["status"] == "succeeded"
    assert warehouse_state(home) == first_night[1]
    _finished_cleanly(home)

    # A night with nothing new keeps the published version; on the lake, what the night wrote
    # (its freshness, gate and lineage records) is put back, so the lake is that version again.
    published = _published(home)
    result = run_flow(home)
    assert (result["status"], result["record"]["published"]) == ("succeeded", False)
    assert _published(home) == published
    if backend.on_lake(settings_for(home)):
        with _lake_latest(home) as con:
            assert _state(con) == first_night[1]
            latest = lake.snapshots(con)[-1]
        assert latest.commit_message == f"put back to snapshot {published.snapshot_id}"


@pytest.mark.parametrize("night_backend", ["ducklake"], indirect=True)  # snapshot expiry
def test_on_the_lake_retention_expires_versions_past_the_window_and_deletes_their_files(
    second_night, monkeypatch
):
    """Kept are the published versions of the last BLUELIGHT_KEEP_VERSIONS_DAYS, the newest
    published before them (in force when the window opens) and what came after the newest;
    the rest is expired and the files only they read deleted. A `now` days ahead stands in for
    waiting."""
    home = second_night[2]  # two nights published
    write_night(home / "inbox", 3)
    assert run_flow(home)["status"] == "succeeded with refusals"
    with backend_env(home):
        monkeypatch.setenv("BLUELIGHT_HOME", str(home))
        monkeypatch.setenv("BLUELIGHT_KEEP_VERSIONS_DAYS", "1")
        settings = Settings.from_env()
    assert backend.on_lake(settings) and settings.keep_versions_days == 1
    first, second, third = (v.snapshot_id for v in backend.versions(settings))
    with backend.build(settings) as con:
        # Each publish has already expired the snapshots before it that no version is.
        assert [s.snapshot_id for s in lake.snapshots(con) if s.snapshot_id < third] == [
            first,
            second,
        ]
    files = _files_under(settings.lake_data_path)
    states = {v: warehouse_state(home, v) for v in (second, third)}

    # A day and a second after the second night published: the first is past the window.
    now = backend.versions(settings)[1].published_at + timedelta(days=1, seconds=1)
    with backend.build(settings) as con:
        expired, deleted = lake.prune(con, settings.keep_versions_days, now=now)
        left = [s.snapshot_id for s in lake.snapshots(con)]
    assert expired == [first] and left[:2] == [second, third]
    assert [v.snapshot_id for v in backend.versions(settings)] == [second, third]
    assert deleted and len(_files_under(settings.lake_data_path)) == len(files) - len(deleted)
    assert {v: warehouse_state(home, v) for v in (second, third)} == states
    with pytest.raises(duckdb.Error):
        warehouse_state(home, first)


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}
