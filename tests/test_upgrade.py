"""Upgrades in place (issue 29): the warehouse records its schema version; a newer release moves
raw and audit forward with numbered migrations that change no row, and publishes the marts; a
release that cannot read a warehouse says so, naming both versions, before touching it.

The upgrade is tested on a warehouse built by an earlier commit of this repository, checked out
in a git worktree and run in a process of its own with this environment's packages.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import bluelight, mart_rows, published_night, run_flow, settings_for
from handmade import write_handmade_inbox

from flows.warehouse import migrations, publish, runlog
from flows.warehouse.migrations import LATEST, MIGRATIONS, Migration, WarehouseTooNew
from flows.warehouse.schema import ensure_schema

ROOT = Path(__file__).resolve().parents[1]
# The last commit before audit.loaded_files.sent_by (migration 9), found with
# `git log -S sent_by -- flows/warehouse/schema.py`: its warehouses record no schema version.
EARLIER = "5dddde2ba6856cdef1a9d94562d1db0ca593e3fc"
# Audit tables that hold the state the last run left, rewritten by every night: the manifest of
# the dbt build, the marts' readiness, the parse macros' fingerprint. Every other is a record.
STATE_TABLES = {"dbt_manifest", "mart_readiness", "accepted_parsed_by"}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _versions(con: duckdb.DuckDBPyConnection) -> list[int]:
    rows = con.execute("select version from audit.schema_versions order by 1").fetchall()
    return [version for (version,) in rows]


def _stamp_newer(path: Path) -> None:
    """A warehouse as a later release would leave it: a migration past this code's last."""
    with duckdb.connect(str(path)) as con:
        ensure_schema(con)
        con.execute(
            "insert into audit.schema_versions values (?, 'a table this code does not know', "
            "now(), 'a later run', '9.9.9 (later)')",
            [LATEST + 1],
        )


# ---------------------------------------------------------------- the migrations on their own


def test_a_new_warehouse_has_every_migration_once_in_order(tmp_path):
    assert [m.number for m in MIGRATIONS] == list(range(1, LATEST + 1))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        applied = ensure_schema(con, run_id="run-1")
        assert [m.number for m in applied] == list(range(1, LATEST + 1))
        assert _versions(con) == list(range(1, LATEST + 1))
        assert ensure_schema(con, run_id="run-2") == []  # nothing twice
        recorded = con.execute("select distinct run_id, release from audit.schema_versions")
        assert recorded.fetchall() == [("run-1", migrations.release())]
        assert migrations.recorded(con).version == LATEST


def test_a_migration_that_fails_is_not_recorded_and_leaves_nothing_half_done(tmp_path):
    def adds_then_fails(con):
        con.execute("alter table audit.load_runs add column half_done varchar")
        raise RuntimeError("stopped half-way")

    failing = (*MIGRATIONS, Migration(LATEST + 1, "adds, then fails", adds_then_fails))
    working = (*MIGRATIONS, Migration(LATEST + 1, "adds", migrations._sql("select 1")))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(RuntimeError, match="stopped half-way"):
            migrations.migrate(con, migrations=failing)
        columns = con.execute("select column_name from information_schema.columns").fetchall()
        assert ("half_done",) not in columns
        assert _versions(con) == list(range(1, LATEST + 1))  # those before it stay done
        assert [m.number for m in migrations.migrate(con, migrations=working)] == [LATEST + 1]


def test_a_warehouse_newer_than_this_code_is_left_as_it_is(tmp_path):
    path = tmp_path / "w.duckdb"
    _stamp_newer(path)
    with duckdb.connect(str(path)) as con:
        con.execute("drop table raw.incidents")
        with pytest.raises(WarehouseTooNew) as refused:
            ensure_schema(con)
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
        assert ("incidents",) not in tables  # not made again: nothing was done
        assert _versions(con)[-1] == LATEST + 1
    assert f"schema version {LATEST + 1}" in str(refused.value)
    assert f"up to {LATEST}" in str(refused.value) and "9.9.9 (later)" in str(refused.value)


# ---------------------------------------------------------------- refused before it is touched


def test_a_night_status_and_the_dashboard_refuse_a_warehouse_newer_than_this_release(
    tmp_path, monkeypatch, capsys
):
    from streamlit.testing.v1 import AppTest

    from dashboard import warehouse

    home = tmp_path / "home"
    settings = settings_for(home)
    settings.published_db.parent.mkdir(parents=True)
    _stamp_newer(settings.published_db)
    os.chmod(settings.published_db, publish.READ_ONLY)  # as a publish leaves it
    before = _sha(settings.published_db)
    write_handmade_inbox(settings.inbox)  # a night that would publish, were it allowed
    waiting = sorted(p.relative_to(settings.inbox) for p in settings.inbox.rglob("*.*"))
    both = (f"schema version {LATEST + 1}", f"up to {LATEST}")

    result = run_flow(home)

    assert result["status"] == runlog.FAILED
    error = runlog.read_log(settings.run_log)[-1]["error"]
    assert error.startswith("WarehouseTooNew") and all(words in error for words in both)
    assert _sha(settings.published_db) == before  # not a byte changed
    assert publish.version_files(settings.published_db) == []  # nothing published or kept
    assert not settings.build_db.exists()
    assert sorted(p.relative_to(settings.inbox) for p in settings.inbox.rglob("*.*")) == waiting

    capsys.readouterr()
    assert bluelight(home, "status") == 1
    assert bluelight(home, "upgrade", "--check") == 1
    assert bluelight(home, "upgrade") == 1  # and runs no night
    assert bluelight(home, "check") == 1
    assert bluelight(home, "pack", "--all") == 1
    said = capsys.readouterr().err
    assert said.count(str(settings.published_db)) == 5 and all(words in said for words in both)
    assert len(runlog.read_log(settings.run_log)) == 1

    with pytest.raises(WarehouseTooNew) as refused:
        warehouse.version(settings.published_db)
    assert all(words in str(refused.value) for words in both)
    monkeypatch.setenv("BLUELIGHT_HOME", str(home))
    warehouse.forget()
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.run()
    assert not app.exception
    assert [e.value for e in app.error] == [str(refused.value)]
    assert _sha(settings.published_db) == before


# ---------------------------------------------------------------- a release one migration on


def test_the_night_after_a_release_migrates_and_publishes_with_nothing_new(
    tmp_path_factory, capsys
):
    """A warehouse of the release before the last migration (sent_by on audit.loaded_files): the
    next night, with an empty inbox and no model changed, applies that one and publishes."""
    home, _ = published_night(tmp_path_factory, "one_behind", write_handmade_inbox)
    published = settings_for(home).published_db
    os.chmod(published, 0o644)
    with duckdb.connect(str(published)) as con:
        con.execute("delete from audit.schema_versions where version = ?", [LATEST])
        con.execute("alter table audit.loaded_files drop column sent_by")
        files = con.execute("select * from audit.loaded_files order by load_id").fetchall()
    os.chmod(published, publish.READ_ONLY)
    before = publish.publishing_run(published)[0]
    capsys.readouterr()
    assert bluelight(home, "status") == 0
    status = capsys.readouterr().out
    assert f"schema version {LATEST - 1}; this release's is {LATEST}: the next night" in status

    result = run_flow(home)

    assert result["record"]["published"] is True
    with duckdb.connect(str(published), read_only=True) as con:
        assert publish.publishing_run(published)[0] == result["run_id"] != before
        assert con.execute(
            "select version, run_id from audit.schema_versions where version >= ?", [LATEST - 1]
        ).fetchall() == [(LATEST - 1, before), (LATEST, result["run_id"])]
        kept = con.execute(
            "select * exclude (sent_by) from audit.loaded_files order by load_id"
        ).fetchall()
        assert kept == files
    assert bluelight(home, "status") == 0
    assert f"schema version {LATEST}, this release's latest" in capsys.readouterr().out


# ---------------------------------------------------------------- an upgrade from an earlier commit


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


@contextmanager
def earlier_commit(commit: str, where: Path) -> Iterator[Path]:
    """This repository as it was at `commit`, checked out at `where` for the block; removed
    after it, whatever happened."""
    if _git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        pytest.skip(f"commit {commit} is not in this clone (a shallow one?): clone it whole")
    added = _git("worktree", "add", "--detach", str(where), commit)
    assert added.returncode == 0, added.stderr
    try:
        yield where
    finally:
        _git("worktree", "remove", "--force", str(where))
        shutil.rmtree(where, ignore_errors=True)
        _git("worktree", "prune")


def _earlier_night(code: Path, home: Path, sent: Path, outcome: str) -> None:
    """A night of the code at `code`, in a process of its own, on the files in `sent`, which
    must end in `outcome`. It runs on this session's Prefect server."""
    from prefect.settings import get_current_settings

    shutil.copytree(sent, home / "inbox", dirs_exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(code), "BLUELIGHT_HOME": str(home)}
    env["PREFECT_API_URL"] = str(get_current_settings().api.url)
    night = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run"],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
    )
    assert night.returncode == runlog.OUTCOMES[outcome], night.stdout[-3000:] + night.stderr[-3000:]


def _write_with(code: Path, writer: str, inbox: Path) -> None:
    """The hand-made files of tests/handmade.py's `writer`, as the code at `code` writes them."""
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, 'tests'); import handmade; "
        f"handmade.{writer}(Path(sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONPATH": str(code)}
    subprocess.run([sys.executable, "-c", script, str(inbox)], cwd=code, env=env, check=True)


def _tables(db: Path, schema: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table of `schema`: its columns, and its rows with every column."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type = 'BASE TABLE'",
            [schema],
        ).fetchall()
        found = {}
        for (name,) in names:
            rows = con.execute(f'select * from {schema}."{name}"')
            columns = [d[0] for d in rows.description]
            found[name] = (columns, [tuple(map(_hashable, row)) for row in rows.fetchall()])
        return found


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def _in_old_columns(after: tuple[list[str], list[tuple]], old: list[str]) -> Counter:
    columns, rows = after
    at = [columns.index(c) for c in old]
    return Counter(tuple(row[i] for i in at) for row in rows)


def _schema(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select table_schema, table_name, column_name, ordinal_position, data_type "
            "from information_schema.columns where table_schema in ('raw', 'accepted', 'audit') "
            "order by all"
        ).fetchall()


def test_a_warehouse_built_by_an_earlier_commit_is_upgraded_with_nothing_lost(tmp_path, capsys):
    home, sent = tmp_path / "home", tmp_path / "sent"
    settings = settings_for(home)
    with earlier_commit(EARLIER, tmp_path / "earlier") as code:
        # Two nights of the earlier code: the hand-made inbox, then a staffing return with a row
        # set aside, a refused file and another area's estates.
        _write_with(code, "write_handmade_inbox", sent / "1")
        _write_with(code, "write_dashboard_extras", sent / "2")
        _earlier_night(code, home, sent / "1", runlog.SUCCEEDED)
        _earlier_night(code, home, sent / "2", runlog.WITH_REFUSALS)
    old = tmp_path / "before-upgrade.duckdb"
    shutil.copy2(settings.published_db, old)  # to compare with: the published one moves on
    old_sha, old_run = _sha(old), publish.publishing_run(old)[0]
    audit = _tables(old, "audit")
    assert "schema_versions" not in audit and "sent_by" not in audit["loaded_files"][0]
    assert audit["quarantine"][1] and audit["rejected_files"][1]

    capsys.readouterr()
    assert bluelight(home, "upgrade", "--check") == 1
    listed = capsys.readouterr().out
    assert "no schema version" in listed and f"at schema version {LATEST}" in listed
    assert all(f"{m.number:>3}  {m.description}" in listed for m in MIGRATIONS)
    assert _sha(settings.published_db) == old_sha

    # The upgrade: a night of this code, with nothing in the inbox.
    assert bluelight(home, "upgrade") == runlog.OUTCOMES[runlog.SUCCEEDED]

    new_run = publish.publishing_run(settings.published_db)[0]
    assert new_run > old_run  # published: nothing new came in, but the schema moved
    assert _sha(publish.version_path(settings.published_db, old_run)) == old_sha  # as it was
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        assert _versions(con) == list(range(1, LATEST + 1))
        ran = con.execute("select distinct run_id from audit.schema_versions").fetchall()
        assert ran == [(new_run,)]
    _assert_raw_and_audit_kept(old, settings.published_db, settings.run_log)
    _assert_as_built_anew(old, settings.published_db, sent, tmp_path / "anew")


def _assert_raw_and_audit_kept(old: Path, new: Path, run_log: Path) -> None:
    """Every raw row of `old` in `new` as it was, every column; every audit record there,
    unchanged in its old columns."""
    raw_before, raw_after = _tables(old, "raw"), _tables(new, "raw")
    assert raw_after.keys() == raw_before.keys()
    for table, (columns, rows) in raw_before.items():
        assert raw_after[table][0] == columns, table
        assert Counter(raw_after[table][1]) == Counter(rows), table
    audit_before, audit_after = _tables(old, "audit"), _tables(new, "audit")
    old_run = publish.publishing_run(old)[0]
    for table, (columns, rows) in audit_before.items():
        if table in STATE_TABLES:
            continue
        if table == "load_runs":  # the run that published the old warehouse: below
            rows = [row for row in rows if row[0] != old_run]
        missing = Counter(rows) - _in_old_columns(audit_after[table], columns)
        assert not missing, (table, missing)
    # That run's row gains from runs.jsonl what it did after it published (when it ended, its
    # publish stage's time, how the operator was told), as in any next night; the rest stays.
    was = _row(audit_before["load_runs"], old_run)
    now = _row(audit_after["load_runs"], old_run)
    logged = next(r for r in runlog.read_log(run_log) if r["run_id"] == old_run)
    completed = {
        "finished_at": datetime.fromisoformat(logged["finished_at"]),
        "stage_seconds": json.dumps(logged["stage_seconds"]),
        "notified": logged["notified"],
    }
    assert {column: now[column] for column in was} == {**was, **completed}


def _assert_as_built_anew(old: Path, upgraded: Path, sent: Path, fresh: Path) -> None:
    """A warehouse this code builds anew from the same files, night by night, has the schema of
    `upgraded` and its marts, row for row: the one the earlier release (`old`) lacked too."""
    for night in sorted(sent.iterdir()):
        shutil.copytree(night, fresh / "inbox", dirs_exist_ok=True)
        assert run_flow(fresh)["status"] in runlog.PUBLISHED_OUTCOMES
    anew = settings_for(fresh).published_db
    assert _schema(upgraded) == _schema(anew)
    marts = _marts(anew)
    assert _marts(upgraded) == marts and "marts.dim_organisations" in marts
    assert "marts.dim_organisations" not in _marts(old)
    with (
        duckdb.connect(str(upgraded), read_only=True) as one,
        duckdb.connect(str(anew), read_only=True) as other,
    ):
        for mart in marts:
            assert mart_rows(one, mart) == mart_rows(other, mart), mart


def _row(table: tuple[list[str], list[tuple]], run_id: str) -> dict:
    columns, rows = table
    return dict(zip(columns, next(row for row in rows if row[0] == run_id), strict=True))


def _marts(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    return sorted(f"marts.{name}" for (name,) in names)
