"""What a night tells the operator and leaves on disk: its outcome in three words with an exit
status each, a night with nothing new that keeps the published version, a disk too small that is
refused before anything is written, and Prefect's temporary server given time on a busy machine.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import bluelight, settings_for
from handmade import write_handmade_inbox
from streamlit.testing.v1 import AppTest

from flows.warehouse import publish, runlog
from flows.warehouse.runlog import read_log

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def _write_refused_bids(inbox: Path) -> None:
    """A bids file without its required fund_round column: refused, the rest loads."""
    (inbox / "bids" / "late_bids.csv").write_text("bid_id,title\nB9,No round\n")


@pytest.fixture(scope="module")
def refused_night(tmp_path_factory) -> tuple[Path, int]:
    """A home whose first night, run by `bluelight run`, refused one file: (home, exit status)."""
    home = tmp_path_factory.mktemp("refused_night")
    write_handmade_inbox(home / "inbox")
    _write_refused_bids(home / "inbox")
    return home, bluelight(home, "run")


def _copy(home: Path, target: Path) -> Path:
    shutil.copytree(home, target, symlinks=True)
    return target


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_night_that_refused_a_file_exits_3_and_data_health_says_so(refused_night, monkeypatch):
    home, status = refused_night
    assert status == 3  # README: 0 succeeded, 3 succeeded with refusals, 1 failed, 2 wrong use
    last = read_log(settings_for(home).run_log)[-1]
    assert (last["status"], last["files_rejected"], last["published"]) == (
        "succeeded with refusals",
        1,
        True,
    )
    assert any("1 file(s) refused: bids/late_bids.csv" in a for a in last["alerts"])
    import streamlit as st

    monkeypatch.setenv("BLUELIGHT_HOME", str(home))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("views/data_health.py").run()
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Last run"] == "▲ succeeded with refusals"
    assert metrics["Files refused"] == "1"


def test_an_empty_night_keeps_the_published_version(refused_night, tmp_path, capsys, monkeypatch):
    home = _copy(refused_night[0], tmp_path / "home")
    settings = settings_for(home)
    versions = publish.version_files(settings.published_db)
    inode, sha = settings.published_db.stat().st_ino, _sha(settings.published_db)
    capsys.readouterr()

    assert bluelight(home, "run") == 0
    assert "Nothing new: the published warehouse stays" in capsys.readouterr().out
    assert publish.version_files(settings.published_db) == versions  # no new version
    assert (settings.published_db.stat().st_ino, _sha(settings.published_db)) == (inode, sha)
    assert not settings.build_db.exists()  # the build copy did not stay behind either
    last = read_log(settings.run_log)[-1]
    assert (last["status"], last["published"], last["alerts"]) == ("succeeded", False, [])

    import streamlit as st

    monkeypatch.setenv("BLUELIGHT_HOME", str(home))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("views/data_health.py").run()
    assert _metrics(at)["Last run"] == "● succeeded"
    assert f"The last run ({last['run_id']}) found nothing new" in at.info[0].value


def test_a_night_waits_for_a_backup_and_one_that_cannot_start_is_recorded(
    refused_night, tmp_path, monkeypatch
):
    """A backup holds the data directory's lock (flows/warehouse/backup.py) for seconds: a night
    falling due waits for it; one still kept out past BLUELIGHT_RUN_LOCK_WAIT_SECONDS fails,
    recorded in runs.jsonl and reported, never lost without a word."""
    home = _copy(refused_night[0], tmp_path / "home")
    settings = settings_for(home)
    held, release = threading.Event(), threading.Event()

    def backup(seconds: float | None) -> None:
        with runlog.run_lock(home):
            held.set()
            release.wait(seconds)

    first = threading.Thread(target=backup, args=(2.0,))
    first.start()
    held.wait()
    monkeypatch.setenv("BLUELIGHT_RUN_LOCK_WAIT_SECONDS", "60")
    assert bluelight(home, "run") == 0  # waited two seconds, then found nothing new
    first.join()
    assert read_log(settings.run_log)[-1]["status"] == "succeeded"

    held.clear()
    second = threading.Thread(target=backup, args=(None,))
    second.start()
    held.wait()
    monkeypatch.setenv("BLUELIGHT_RUN_LOCK_WAIT_SECONDS", "1")
    try:
        assert bluelight(home, "run") == 1
    finally:
        release.set()
        second.join()
    last = read_log(settings.run_log)[-1]
    assert last["status"] == "failed"
    assert "a backup is using" in last["error"] and "waited 1 s" in last["error"]
    assert last["alerts"]


def _free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


@pytest.fixture
def small_disk(tmp_path):
    """Mounts a filesystem of its own for the test (tmpfs, sized by the test); needs root, as
    `.ci/run` has."""
    mounted = []

    def mount(size_bytes: int) -> Path:
        point = tmp_path / "small"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_a_disk_too_small_for_the_build_copy_is_refused_and_left_as_found(
    refused_night, small_disk, monkeypatch
):
    from conftest import run_flow

    source = refused_night[0]
    warehouse = settings_for(source).published_db.stat().st_size
    used = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    # Room for the home as it is and half a copy of its warehouse: not the night's build copy.
    disk = small_disk(used + warehouse // 2 + (4 << 20))
    home = _copy(source, disk / "home")
    write_handmade_inbox(home / "inbox")  # the same files again: a night's worth to load
    monkeypatch.setenv("BLUELIGHT_FREE_SPACE_MARGIN_MB", "0")
    published = settings_for(home).published_db
    sha, free = _sha(published), _free_bytes(disk)

    result = run_flow(home)
    assert result["status"] == "failed"
    error = read_log(settings_for(home).run_log)[-1]["error"]
    assert f"build copy {warehouse / 1e6:,.1f} MB" in error, error
    assert f"and {free / 1e6:,.1f} MB is free" in error, error
    assert _free_bytes(disk) == free  # the run's record fits the log's last page
    assert _sha(published) == sha and not settings_for(home).build_db.exists()
    assert (home / "inbox" / "bids").exists()  # the night's files wait for a disk with room


def _prefect_children(prefect_home: Path) -> list[int]:
    """Processes still running with `prefect_home` as their PREFECT_HOME."""
    found = []
    marker = f"PREFECT_HOME={prefect_home}".encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.append(int(pid))
        except OSError:
            continue
    return found


def _run_without_server(home: Path, allowances: str) -> subprocess.CompletedProcess:
    """`bluelight run` as a user runs it: no PREFECT_API_URL, so a temporary server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {
        "BLUELIGHT_HOME": str(home),
        "PREFECT_HOME": str(home / "prefect"),
        "BLUELIGHT_PREFECT_STARTUP_SECONDS": allowances,
    }
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_server_that_misses_its_start_is_tried_again_then_the_night_fails(
    refused_night, tmp_path
):
    """An allowance of 0 s cannot be met, as on a machine too busy to start the server in time:
    the next allowance is tried, and when none is left the night fails, recorded and told."""
    home = _copy(refused_night[0], tmp_path / "home")
    done = _run_without_server(home, "0,120")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "did not answer within 0 s (attempt 1 of 2)" in done.stderr
    assert "Nothing new" in done.stdout
    assert _prefect_children(home / "prefect") == []  # the server that missed was stopped

    done = _run_without_server(home, "0")
    assert done.returncode == 1
    last = read_log(settings_for(home).run_log)[-1]
    assert last["status"] == "failed"
    assert "BLUELIGHT_PREFECT_STARTUP_SECONDS" in last["error"]
    assert last["notified"].startswith("not configured")
    assert _prefect_children(home / "prefect") == []
