"""`bluelight backup` and `bluelight restore`: a consistent copy of the data directory with a
manifest of every file's sha256, restored into an empty data directory only after every sha256
is checked; and the next night on the restored directory publishes the marts the original's does."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import bluelight, mart_rows, open_published, published_night, run_flow
from handmade import fire_incident, write_dashboard_extras, write_handmade_inbox, write_rows

from flows.security import access_log, signin
from flows.settings import Settings
from flows.warehouse import runlog
from flows.warehouse.backup import MANIFEST, SUMS

RUN = "20260301T020000-abc123"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mode is not None:
        path.chmod(mode)


def _handmade_home(home: Path) -> Settings:
    """A data directory as a night and the dashboard leave it, made by hand: a published warehouse
    (read-only, kept as a version by a hard link), an archived and a refused file, the run log,
    Data Docs, a file waiting in the inbox with its sender, an empty inbox folder, the access
    log with two entries and the access file; and what a backup leaves out: the sign-in cookie
    key, a build copy left behind, a half-written upload and a tip's draft."""
    settings = Settings(home=home)
    settings.warehouse_dir.mkdir(parents=True)
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute("create schema audit")
        con.execute(
            "create table audit.load_runs (run_id varchar, finished_at timestamp, status varchar)"
        )
        con.execute("insert into audit.load_runs values (?, now(), 'succeeded')", [RUN])
    settings.published_db.chmod(0o444)
    settings.versions_dir.mkdir()
    os.link(settings.published_db, settings.versions_dir / f"bluelight-{RUN}.duckdb")
    _write(home / "archive" / "incidents" / "ab12.csv", "incident_id\nF1\n")
    _write(home / "rejected" / RUN / "staffing" / "x.csv", "month\n")
    _write(home / "rejected" / RUN / "staffing" / "x.csv.reason.txt", "no headcount column\n")
    _write(settings.run_log, json.dumps({"run_id": RUN, "status": "succeeded"}) + "\n")
    _write(home / "quality" / "index.html", "<html></html>\n")
    _write(home / "inbox" / "incidents" / "new.csv", "incident_id\nF2\n")
    _write(home / "inbox" / "incidents" / ".new.csv.sender.json", '{"sent_by": "a@b"}\n')
    (home / "inbox" / "staffing").mkdir(parents=True)
    _write(home / "inbox" / "incidents" / ".late.csv.partial", "incident_")
    _write(home / "build" / "bluelight.duckdb", "left by a night")
    _write(settings.access_file, '[[grant]]\nemail = "a@b"\nrole = "auditor"\n')
    access_log.append(settings.access_log, "sign-in", "a@b")
    access_log.append(settings.access_log, "page-view", "a@b", page="Overview")
    _write(access_log.tip_path(settings.access_log).with_suffix(".tip.draft"), "{")
    signin.cookie_secret(settings)
    _write(home / "services" / "prefect" / "prefect.db", "the services' own, written as they run")
    return settings


KEPT = {
    "warehouse/bluelight.duckdb",
    f"warehouse/versions/bluelight-{RUN}.duckdb",
    "archive/incidents/ab12.csv",
    f"rejected/{RUN}/staffing/x.csv",
    f"rejected/{RUN}/staffing/x.csv.reason.txt",
    "runs.jsonl",
    "quality/index.html",
    "inbox/incidents/new.csv",
    "inbox/incidents/.new.csv.sender.json",
    "access.toml",
    "access/access.jsonl",
    "access/access.jsonl.tip",
}


def _manifest(backup: Path) -> dict:
    return json.loads((backup / MANIFEST).read_text())


def test_a_backup_copies_what_matters_and_lists_each_file_with_its_sha256(tmp_path, capsys):
    home = tmp_path / "home"
    _handmade_home(home)
    dest = tmp_path / "backup"

    assert bluelight(home, "backup", str(dest)) == 0

    manifest = _manifest(dest)
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == KEPT  # no build copy, half-written file, draft or lock
    for path, entry in listed.items():
        assert entry["sha256"] == _sha256(home / path) == _sha256(dest / path), path
        assert entry["size"] == (home / path).stat().st_size
    sums = (dest / SUMS).read_text().splitlines()
    assert sorted(sums) == sorted(f"{_sha256(home / p)}  {p}" for p in KEPT)
    assert manifest["file_count"] == 12 and manifest["source_home"] == str(home.resolve())
    assert manifest["published_run"] == RUN
    assert manifest["access_log"]["entries"] == 2 and manifest["access_log"]["whole"]
    left_out = {
        "build/",
        "signin/",
        "services/",
        "inbox/incidents/.late.csv.partial",
        ".run.lock",
    }
    assert left_out <= set(manifest["left_out"])
    assert not (dest / "signin").exists()  # the cookie key: whoever has it can forge a sign-in
    # The kept version is the published file in the backup too: one copy of its bytes.
    assert os.path.samefile(
        dest / "warehouse/bluelight.duckdb",
        dest / next(p for p in KEPT if p.startswith("warehouse/versions/")),
    )
    assert stat.S_IMODE((dest / "warehouse/bluelight.duckdb").stat().st_mode) == 0o444
    assert stat.S_IMODE((dest / "access/access.jsonl").stat().st_mode) == 0o640
    assert stat.S_IMODE((dest / "access").stat().st_mode) == 0o750
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700  # agency data and who viewed what
    assert (dest / "inbox/staffing").is_dir()  # an empty inbox folder is kept
    out = capsys.readouterr().out
    assert "12 files" in out and f"published by run {RUN}" in out
    assert "access log: 2 entries, chain whole" in out
    assert f"sha256 of {SUMS}: {_sha256(dest / SUMS)}" in out


def test_a_backup_goes_only_into_a_new_or_empty_folder_outside_the_data_directory(tmp_path, capsys):
    home = tmp_path / "home"
    _handmade_home(home)
    dest = tmp_path / "used"
    _write(dest / "old.txt", "an earlier backup")

    assert bluelight(home, "backup", str(dest)) == 2
    assert "is not empty (it holds old.txt)" in capsys.readouterr().err
    assert [p.name for p in dest.iterdir()] == ["old.txt"]

    assert bluelight(home, "backup", str(home / "backups" / "one")) == 2
    assert "outside the data directory" in capsys.readouterr().err
    assert not (home / "backups").exists()


def test_a_backup_is_refused_while_a_night_holds_the_lock_and_waits_for_it_with_wait(
    tmp_path, capsys
):
    home = tmp_path / "home"
    _handmade_home(home)
    dest = tmp_path / "backup"

    with runlog.run_lock(home):  # what a night holds from its start to its end
        assert bluelight(home, "backup", str(dest)) == 3
    assert "a night is running" in capsys.readouterr().err
    assert not dest.exists()

    night_over = threading.Event()

    def night() -> None:
        with runlog.run_lock(home):
            held.set()
            time.sleep(1.5)
            night_over.set()  # the last thing before the lock is let go

    held = threading.Event()
    thread = threading.Thread(target=night)
    thread.start()
    held.wait(10)
    assert bluelight(home, "backup", str(dest), "--wait", "30") == 0
    assert night_over.is_set()  # the copy began only once the night had ended
    thread.join()
    assert "waiting up to 30 s" in capsys.readouterr().err
    assert (dest / MANIFEST).exists()


def test_the_access_log_is_copied_whole_to_its_tip_while_the_dashboard_appends(tmp_path):
    """The dashboard appends while the backup copies: the backup's log ends at the entry its tip
    records, and its chain is whole."""
    home = tmp_path / "home"
    settings = _handmade_home(home)
    # A log big enough that the copy takes a while.
    for n in range(500):
        access_log.append(settings.access_log, "page-view", f"user{n}@b", page="Overview")
    stop = threading.Event()

    def dashboard() -> None:
        while not stop.is_set():
            access_log.append(settings.access_log, "page-view", "busy@b", page="Bid")

    thread = threading.Thread(target=dashboard)
    thread.start()
    try:
        assert bluelight(home, "backup", str(tmp_path / "backup")) == 0
    finally:
        stop.set()
        thread.join()
    copied = tmp_path / "backup" / "access" / "access.jsonl"
    verdict = access_log.verify(copied)
    assert verdict.whole, verdict
    assert verdict.count == verdict.tip["count"] >= 502
    assert verdict.count <= access_log.verify(settings.access_log).count
    assert _manifest(tmp_path / "backup")["access_log"]["entries"] == verdict.count


def test_restore_checks_every_sha256_copies_into_an_empty_home_and_checks_again(tmp_path, capsys):
    home = tmp_path / "home"
    _handmade_home(home)
    dest = tmp_path / "backup"
    assert bluelight(home, "backup", str(dest)) == 0
    restored = tmp_path / "restored"
    (restored / "services").mkdir(parents=True)  # as a server's install leaves it: no data

    assert bluelight(home, "restore", str(dest), "--home", str(restored)) == 0

    for path in KEPT:
        assert (restored / path).read_bytes() == (home / path).read_bytes(), path
    assert os.path.samefile(
        restored / "warehouse/bluelight.duckdb",
        restored / f"warehouse/versions/bluelight-{RUN}.duckdb",
    )
    assert stat.S_IMODE((restored / "access/access.jsonl").stat().st_mode) == 0o640
    assert stat.S_IMODE((restored / "warehouse/bluelight.duckdb").stat().st_mode) == 0o444
    assert (restored / "inbox/staffing").is_dir()
    assert not (restored / "build").exists()
    assert bluelight(restored, "access-log", "--verify") == 0
    out = capsys.readouterr().out
    assert "every sha256 matches" in out and "before copying and after" in out


@pytest.mark.skipif(os.geteuid() != 0, reason="root's restore")
def test_root_restores_into_the_services_data_directory_as_their_files(tmp_path):
    """A restore run as root into the data directory a server's install made for the services'
    account gives that account every file, so the services can write them; root's backup leaves
    them their run lock too."""
    home = tmp_path / "home"
    _handmade_home(home)
    assert bluelight(home, "backup", str(tmp_path / "backup")) == 0
    target = tmp_path / "target"
    target.mkdir()
    os.chown(target, 65534, 65534)  # nobody's, as `install -d -o bluelight` leaves it

    assert bluelight(home, "restore", str(tmp_path / "backup"), "--home", str(target)) == 0

    owners = {(p.stat().st_uid, p.stat().st_gid) for p in [target, *target.rglob("*")]}
    assert owners == {(65534, 65534)}


def test_restore_refuses_a_data_directory_that_is_not_empty_naming_what_is_there(tmp_path, capsys):
    home = tmp_path / "home"
    _handmade_home(home)
    assert bluelight(home, "backup", str(tmp_path / "backup")) == 0
    target = tmp_path / "target"
    (target / "inbox" / "incidents").mkdir(parents=True)  # as `bluelight init` leaves it
    _write(target / "runs.jsonl", "")

    assert bluelight(home, "restore", str(tmp_path / "backup"), "--home", str(target)) == 2

    assert "is not empty: it holds inbox/, runs.jsonl" in capsys.readouterr().err
    assert sorted(p.name for p in target.iterdir()) == ["inbox", "runs.jsonl"]


def test_restore_refuses_a_tampered_backup_naming_the_file_and_writes_nothing(tmp_path, capsys):
    home = tmp_path / "home"
    _handmade_home(home)
    backup = tmp_path / "backup"
    assert bluelight(home, "backup", str(backup)) == 0
    archived = backup / "archive/incidents/ab12.csv"
    archived.chmod(0o644)
    data = bytearray(archived.read_bytes())
    data[-2] ^= 1  # "F1" becomes "F0": one byte changed
    archived.write_bytes(bytes(data))
    target = tmp_path / "restored"

    assert bluelight(home, "restore", str(backup), "--home", str(target)) == 1
    err = capsys.readouterr().err
    assert "archive/incidents/ab12.csv: its sha256 is not the one the manifest lists" in err
    assert "nothing was written" in err
    assert not target.exists()
    assert bluelight(home, "restore", str(backup), "--check") == 1
    assert "ab12.csv" in capsys.readouterr().err

    # A file missing, and a file the manifest does not list, are named too.
    archived.write_bytes(data[:-2] + b"1\n")  # as it was
    (backup / "runs.jsonl").unlink()
    _write(backup / "archive/incidents/extra.csv", "incident_id\n")
    assert bluelight(home, "restore", str(backup), "--home", str(target)) == 1
    err = capsys.readouterr().err
    assert "runs.jsonl: missing" in err
    assert "archive/incidents/extra.csv: not in the manifest" in err
    assert "ab12.csv" not in err
    assert not target.exists()


def test_restore_refuses_when_the_two_lists_disagree(tmp_path, capsys):
    """A file changed and its line in MANIFEST.json edited to match: SHA256SUMS, which an
    auditor checks, still names the file."""
    home = tmp_path / "home"
    _handmade_home(home)
    backup = tmp_path / "backup"
    assert bluelight(home, "backup", str(backup)) == 0
    changed = backup / "runs.jsonl"
    changed.chmod(0o644)
    changed.write_text('{"run_id": "another"}\n')
    manifest = _manifest(backup)
    for entry in manifest["files"]:
        if entry["path"] == "runs.jsonl":
            entry["sha256"], entry["size"] = _sha256(changed), changed.stat().st_size
    (backup / MANIFEST).chmod(0o644)
    (backup / MANIFEST).write_text(json.dumps(manifest))

    assert bluelight(home, "restore", str(backup), "--check") == 1
    assert f"runs.jsonl: {SUMS} and {MANIFEST} do not list the same sha256" in (
        capsys.readouterr().err
    )


def test_a_folder_without_a_manifest_is_not_a_backup(tmp_path, capsys):
    (tmp_path / "half").mkdir()
    _write(tmp_path / "half" / "runs.jsonl", "")
    assert bluelight(tmp_path / "home", "restore", str(tmp_path / "half")) == 2
    assert "has no MANIFEST.json" in capsys.readouterr().err
    assert not (tmp_path / "home").exists()


def test_a_restored_home_publishes_the_same_marts_as_the_original_the_next_night(
    tmp_path_factory, tmp_path
):
    """A night's warehouse backed up while the dashboard reads it, checked with sha256sum -c,
    restored; then the same new file on both: each night publishes, and every mart's rows match."""
    home, _ = published_night(
        tmp_path_factory, "backup_original", write_handmade_inbox, write_dashboard_extras
    )
    settings = Settings(home=home)
    access_log.append(settings.access_log, "sign-in", "auditor@example.org")
    backup = tmp_path / "backup"
    with open_published(home) as reader:  # the dashboard's held read-only connection
        bids = reader.execute("select count(*) from marts.dim_bids").fetchone()
        assert bluelight(home, "backup", str(backup)) == 0
        assert reader.execute("select count(*) from marts.dim_bids").fetchone() == bids
    checked = subprocess.run(
        ["sha256sum", "-c", "--quiet", SUMS], cwd=backup, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    manifest = _manifest(backup)
    listed = {f["path"] for f in manifest["files"]}
    assert any(p.startswith("rejected/") for p in listed)  # the refused staffing file
    assert sum(p.startswith("archive/") for p in listed) >= 7
    assert {"runs.jsonl", "quality/index.html", "access/access.jsonl"} <= listed

    restored = tmp_path / "restored"
    assert bluelight(home, "restore", str(backup), "--home", str(restored)) == 0

    results, bids_sent = {}, (home / _archived(home, "bids.csv")).read_bytes()
    for each in (home, restored):
        # Night two: a new incident, and the bids file sent again (already loaded: skipped).
        write_rows(
            each / "inbox" / "incidents" / "night_two.csv",
            "incidents",
            [fire_incident(60, "D1", datetime(2016, 9, 1, 10), 60, 540)],
        )
        (each / "inbox" / "bids").mkdir(parents=True, exist_ok=True)
        (each / "inbox" / "bids" / "bids.csv").write_bytes(bids_sent)
        results[each] = run_flow(each)
    for each, result in results.items():
        record = result["record"]
        assert (result["status"], record["files_loaded"], record["files_skipped"]) == (
            "succeeded",
            1,
            1,
        ), each
        assert record["published"], each
    with open_published(home) as original, open_published(restored) as copy:
        marts = [
            f"marts.{name}"
            for (name,) in original.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        assert len(marts) > 20
        for table in marts:
            assert mart_rows(original, table) == mart_rows(copy, table), table
        september = (
            "select incidents from marts.fct_response_times_monthly where service = 'fire' "
            "and month = date '2016-09-01' and area_code = 'D1' and incident_category = 'all'"
        )
        assert copy.execute(september).fetchone() == (1,)
        runs = copy.execute("select run_id from audit.load_runs order by run_id").fetchall()
        assert runs[0] == (manifest["published_run"],) and len(runs) == 2


def _archived(home: Path, name: str) -> str:
    """Where the archive keeps the file first loaded as `name`, relative to the data directory."""
    with open_published(home) as con:
        (path,) = con.execute(
            "select archive_path from audit.loaded_files where original_name like ?",
            [f"%{name}"],
        ).fetchone()
    return path


@pytest.mark.parametrize("crafted", ["../outside.txt", "/tmp/outside.txt"])
def test_restore_refuses_a_manifest_naming_a_path_outside_the_data_directory(
    tmp_path, capsys, crafted
):
    """A crafted MANIFEST.json must not make restore write, link or chmod anywhere else."""
    home = tmp_path / "home"
    _handmade_home(home)
    backup = tmp_path / "backup"
    assert bluelight(home, "backup", str(backup)) == 0
    manifest = _manifest(backup)
    manifest["folders"][crafted.replace(".txt", "")] = "0777"
    (backup / MANIFEST).write_text(json.dumps(manifest))
    target = tmp_path / "target"

    assert bluelight(home, "restore", str(backup), "--home", str(target)) == 1

    assert "outside the data directory" in capsys.readouterr().err
    assert not target.exists() and not (tmp_path / "outside").exists()


def test_the_run_lock_is_never_taken_through_a_link(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("not a lock\n")
    (home / ".run.lock").symlink_to(precious)
    with pytest.raises(OSError), runlog.run_lock(home):
        pass
    assert precious.read_text() == "not a lock\n"
