"""The commands that read the published warehouse, on the lake (flows/warehouse/backend.py):
`versions` lists the published snapshots with their runs and row counts read at each, and says
how to attach one pinned; an older version reads by snapshot id and by date with its own
figures; `status` and `check` report the lake; `validate` judges a file against the lake's
reference rows as against the file's; `pack --version` reads the version a run published.

One lake-backed home for the module: the real nightly flow run twice with the backend set in
the environment, on a real PostgreSQL catalog (tests/postgres.py) and a folder of Parquet
files: the hand-made inbox (tests/handmade.py), then a night with two more incidents and the
next year's estate return.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import bluelight, run_flow
from handmade import fire_incident, site, write_handmade_inbox, write_rows
from test_lake import extensions, server  # noqa: F401  (the module's PostgreSQL and wheels)

from flows.load import validate
from flows.settings import Settings
from flows.sources.contracts import SOURCES
from flows.warehouse import backend, lake, lake_versions
from flows.warehouse.runlog import PUBLISHED_OUTCOMES

# Kept out of every message: the catalog is trusted on its socket, so it is never needed there.
PASSWORD = "not-to-be-shown"
# raw.incidents and raw.benefits_register after each night (the hand-made inbox has 11
# incidents and 4 benefits; the second night adds 2 incidents).
INCIDENTS = (11, 13)
REGISTER = (4, 4)


@dataclass(frozen=True)
class LakeHome:
    home: Path
    settings: Settings
    runs: tuple[str, str]


def _second_night(inbox: Path) -> None:
    call = datetime(2016, 6, 2, 9)
    write_rows(
        inbox / "incidents" / "fire_night2.csv",
        "incidents",
        [fire_incident(200 + i, "D1", call + timedelta(hours=i), 75, 400) for i in range(2)],
    )
    write_rows(
        inbox / "estates" / "estate_return_2017.csv",
        "estates",
        [
            site("S1", "2017-18", "police", "D1", 700_000),
            site("S2", "2017-18", "fire", "D2", 450_000),
        ],
    )


@pytest.fixture(scope="module")
def lake_home(server, tmp_path_factory):  # noqa: F811
    """Two nights published onto a new lake; the backend stays set for the module's tests."""
    catalog = server.create_database("readers_lake") + f" password={PASSWORD}"
    data = tmp_path_factory.mktemp("lake_data")
    home = tmp_path_factory.mktemp("lake_home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BLUELIGHT_BACKEND", "ducklake")
        env.setenv("BLUELIGHT_LAKE_CATALOG", catalog)
        env.setenv("BLUELIGHT_LAKE_DATA_PATH", str(data))
        runs = []
        for write in (write_handmade_inbox, _second_night):
            write(home / "inbox")
            result = run_flow(home)
            assert result["status"] in PUBLISHED_OUTCOMES, result
            runs.append(result["run_id"])
        env.setenv("BLUELIGHT_HOME", str(home))
        settings = Settings.from_env()
        assert settings.backend == "ducklake" and not settings.published_db.exists()
        yield LakeHome(home, settings, tuple(runs))


def _count(con, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchone()[0]


def test_versions_lists_each_published_snapshot_with_its_run_and_row_counts(lake_home, capsys):
    assert bluelight(lake_home.home, "versions") == 0
    out = capsys.readouterr().out
    old, new = lake_versions.list_versions(lake_home.settings)
    assert (old.run_id, new.run_id) == lake_home.runs
    assert (old.current, new.current) == (False, True)
    assert (old.row_counts["raw.incidents"], new.row_counts["raw.incidents"]) == INCIDENTS
    assert (
        old.row_counts["raw.benefits_register"],
        new.row_counts["raw.benefits_register"],
    ) == REGISTER
    lines = {run: next(x for x in out.splitlines() if run in x) for run in lake_home.runs}
    assert lines[old.run_id].split()[:2] == [str(old.snapshot_id), old.run_id]
    assert lines[new.run_id].split()[:3] == ["*", str(new.snapshot_id), new.run_id]
    assert lines[old.run_id].split()[4:6] == [str(INCIDENTS[0]), str(REGISTER[0])]
    assert lines[new.run_id].split()[5:7] == [str(INCIDENTS[1]), str(REGISTER[1])]
    assert f"SNAPSHOT_VERSION {new.snapshot_id}, READ_ONLY" in out
    assert PASSWORD not in out


def test_an_older_version_reads_by_snapshot_id_and_by_date(lake_home, capsys):
    old, new = backend.versions(lake_home.settings)
    with backend.read(lake_home.settings, old.snapshot_id) as con:
        assert _count(con, "raw.incidents") == INCIDENTS[0]
    with backend.read(lake_home.settings) as con:
        assert _count(con, "raw.incidents") == INCIDENTS[1]

    seen = {}
    for name, moment in (("old", old.published_at), ("new", new.published_at)):
        when = f"{moment + timedelta(seconds=1):%Y-%m-%d %H:%M:%S}"
        assert bluelight(lake_home.home, "versions", "--as-of", when) == 0
        statement = capsys.readouterr().out.strip()
        assert PASSWORD not in statement
        con = lake.connect()  # what an auditor runs: the statement, in DuckDB with the wheels
        try:
            con.execute(statement)
            seen[name] = _count(con, "lake.raw.incidents")
        finally:
            con.close()
    assert (seen["old"], seen["new"]) == INCIDENTS
    before = f"{old.published_at - timedelta(days=1):%Y-%m-%d}"
    assert bluelight(lake_home.home, "versions", "--as-of", before) == 1
    assert "No kept version was published by the end of" in capsys.readouterr().err


def test_status_and_check_report_the_lakes_published_snapshot(lake_home, capsys):
    new = backend.newest(lake_home.settings)
    assert bluelight(lake_home.home, "status") == 0
    out = capsys.readouterr().out
    assert f"Published warehouse: {backend.where(lake_home.settings)}" in out
    assert f"in force: run {lake_home.runs[1]}" in out and f"snapshot {new.snapshot_id}" in out
    incidents = next(x for x in out.splitlines() if x.split()[:1] == ["incidents"])
    assert incidents.split()[2:4] == ["2", str(INCIDENTS[1])]  # two files, 13 rows

    assert bluelight(lake_home.home, "check") == 0
    out = capsys.readouterr().out
    assert f"published snapshot {new.snapshot_id}" in out
    assert "0 critical failure(s)" in out


def test_validate_names_a_bad_row_against_the_lakes_reference_rows(lake_home, tmp_path, capsys):
    """The district lookup reads the lake's boundaries (D1..D3): an unknown district is named by
    file, row and column, as on the file backend."""
    sent = tmp_path / "incidents" / "night.csv"
    sent.parent.mkdir()
    rows = [
        "G1,fire,rtc,D1,2016-05-02 10:00:00,2016-05-02 10:01:00,,2016-05-02 10:09:00",
        "G2,fire,rtc,ZZ9,2016-05-02 11:00:00,2016-05-02 11:01:00,,2016-05-02 11:09:00",
    ]
    sent.write_text("\n".join([",".join(SOURCES["incidents"].column_names), *rows]) + "\n")
    assert bluelight(lake_home.home, "validate", str(sent)) == 0
    out = capsys.readouterr().out
    assert (
        "incidents/night.csv (incidents): load with rows quarantined; 2 row(s), 1 set aside" in out
    )
    assert (
        "incidents/night.csv: row 3, district_code: unknown district_code: not in boundaries "
        "(value 'ZZ9')" in out
    )


def test_validate_says_when_the_bytes_are_already_on_the_lake(lake_home, tmp_path):
    with backend.read(lake_home.settings) as con:
        path, load_id = con.execute(
            "select archive_path, load_id from audit.loaded_files "
            "where original_name = 'bids/bids.csv' and status = 'loaded'"
        ).fetchone()
    copy = tmp_path / "bids" / "bids.csv"
    copy.parent.mkdir()
    shutil.copy(lake_home.settings.archive.parent / path, copy)
    published = backend.published(lake_home.settings)
    verdict = validate.validate(copy, None, published, lake_home.settings)
    assert (verdict.verdict, verdict.loaded_as) == (validate.LOAD, load_id)


def test_an_upload_outside_the_senders_areas_is_refused_by_the_lakes_areas(lake_home):
    """Fire authority F1 serves Testshire (D1, D2) in the lake's dim_organisations: an incident
    in Othershire's D3 is outside its areas, named by row, column and value."""
    from flows.load import upload

    header = ",".join(SOURCES["incidents"].column_names)
    rows = [
        "U1,fire,rtc,D1,2016-05-02 10:00:00,2016-05-02 10:01:00,,2016-05-02 10:09:00",
        "U2,fire,rtc,D3,2016-05-02 11:00:00,2016-05-02 11:01:00,,2016-05-02 11:09:00",
    ]
    data = ("\n".join([header, *rows]) + "\n").encode()
    receipt = upload.receive(
        lake_home.settings, "incidents.csv", data, "analyst@f1", organisations=frozenset({"F1"})
    )
    assert receipt.verdict.verdict == validate.REJECT and receipt.placed_as is None
    [problem] = receipt.verdict.problems
    assert (problem.row, problem.column, problem.value) == (3, "district_code", "D3")


def test_pack_names_the_runs_kept_on_the_lake_when_asked_for_another(lake_home, capsys):
    assert bluelight(lake_home.home, "pack", "B1", "--version", "no-such-run") == 2
    err = capsys.readouterr().err
    assert f"No kept version no-such-run. Kept: {', '.join(lake_home.runs)}" in err


def test_a_pack_of_the_older_version_on_the_lake_shows_that_versions_figure(lake_home, tmp_path):
    """The second night's estate return moves B1's estate benefit (BEN2) to a later year."""
    from test_pack import Pack

    shown = {}
    for name, argv in (("now", ()), ("then", ("--version", lake_home.runs[0]))):
        out = tmp_path / f"{name}.html"
        assert bluelight(lake_home.home, "pack", "B1", *argv, "--out", str(out)) == 0
        shown[name] = Pack(out.read_text()).figures["realised-BEN2"]
        assert f"--version {lake_home.runs[0 if argv else 1]}" in out.read_text()
    assert shown["now"] != shown["then"]


@pytest.mark.parametrize(
    "conninfo, shown",
    [
        (
            "host=db port=5432 dbname=lake user=auditor",
            "host=db port=5432 dbname=lake user=auditor",
        ),
        ("host=db password=s3cret dbname=lake", "host=db dbname=lake"),
        ("host=db password = 'a b\\'c' dbname=lake", "host=db dbname=lake"),
        ("postgresql://auditor:s3cret@db:5432/lake", "postgresql://auditor@db:5432/lake"),
        ("postgres://db/lake?user=auditor&password=s3cret", "postgres://db/lake?user=auditor"),
    ],
)
def test_the_attach_statement_an_auditor_is_shown_has_no_password(conninfo, shown, tmp_path):
    settings = Settings(
        tmp_path, backend="ducklake", lake_catalog=conninfo, lake_data_path=tmp_path
    )
    statement = lake_versions.attach_statement(settings, 7)
    assert f"'ducklake:postgres:{shown}'" in statement and "s3cret" not in statement
    assert statement.endswith("SNAPSHOT_VERSION 7, READ_ONLY)")
