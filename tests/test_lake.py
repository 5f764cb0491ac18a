"""The warehouse's second backend, a DuckLake (flows/warehouse/lake.py): on a real PostgreSQL
15 catalog started here (tests/postgres.py) and a folder of Parquet files, with the extensions
loaded from their wheels and nothing downloaded.

What the backend rests on: a transaction over several tables commits as one snapshot; a reader
in another process, knowing only the catalog's address and the data path, sees the state before
a commit until it commits and the new one whole after, never a mix; time travel by snapshot id
and by time; expiry and cleanup remove the files only expired snapshots read; dbt-duckdb builds
a table and an incremental model into the lake; a DuckDB file's tables copy in identical; a
read-only PostgreSQL role reads the lake and cannot write it.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml
from postgres import PostgresMissing, postgres_server

from flows.settings import PROJECT_ROOT, Settings, SettingsError
from flows.warehouse import lake

_databases = itertools.count(1)


@pytest.fixture(scope="module")
def extensions():
    """The extensions' wheels, installed (the test skips, saying what to install, without)."""
    try:
        return lake.extension_directory()
    except lake.LakeError as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def server(extensions):
    """One PostgreSQL server for the module; each test has a database of its own on it."""
    try:
        with postgres_server() as running:
            yield running
    except PostgresMissing as missing:
        pytest.skip(str(missing))


@pytest.fixture
def lake_settings(server, tmp_path) -> Settings:
    """A new lake: an empty catalog database and an empty data folder."""
    catalog = server.create_database(f"lake_{next(_databases)}")
    data = tmp_path / "lake_data"
    data.mkdir()
    return Settings(
        tmp_path / "home", backend="ducklake", lake_catalog=catalog, lake_data_path=data
    )


@pytest.fixture
def writer(lake_settings):
    con = lake.connect()
    lake.attach(con, lake_settings)
    yield con
    con.close()


def _reader_env(settings: Settings) -> dict[str, str]:
    """What a reader on another machine is given: the catalog's address and the data path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUELIGHT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), env.get("PYTHONPATH", "")])
    env["BLUELIGHT_LAKE_CATALOG"] = settings.lake_catalog
    env["BLUELIGHT_LAKE_DATA_PATH"] = str(settings.lake_data_path)
    return env


@pytest.fixture
def reader():
    """Start tests/lake_reader.py in a process of its own; returns it once it has attached the
    lake."""

    def start(settings: Settings, *argv: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("lake_reader.py")), *argv],
            env=_reader_env(settings),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=PROJECT_ROOT,
        )
        started.append(process)
        assert json.loads(process.stdout.readline()) == {"ready": True}
        return process

    started: list[subprocess.Popen] = []
    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _ask(reader: subprocess.Popen, sql: str):
    reader.stdin.write(sql + "\n")
    reader.stdin.flush()
    answer = json.loads(reader.stdout.readline())
    assert "error" not in answer, answer["error"]
    return answer["rows"]


def test_settings_name_the_backend_and_refuse_a_lake_without_catalog(monkeypatch, tmp_path):
    for variable in ("BLUELIGHT_SECRETS_FILE", "BLUELIGHT_BACKEND", "BLUELIGHT_LAKE_CATALOG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BLUELIGHT_LAKE_DATA_PATH", str(tmp_path / "lake" / ".." / "data"))
    settings = Settings.from_env()
    assert (settings.backend, settings.lake_catalog) == ("file", None)
    assert settings.lake_data_path == tmp_path / "data"
    monkeypatch.setenv("BLUELIGHT_BACKEND", "ducklake")
    with pytest.raises(SettingsError, match="needs BLUELIGHT_LAKE_CATALOG"):
        Settings.from_env()
    catalog = "dbname=bluelight user=loader password=s3cret"
    monkeypatch.setenv("BLUELIGHT_LAKE_CATALOG", catalog)
    settings = Settings.from_env()
    assert (settings.backend, settings.lake_catalog) == ("ducklake", catalog)
    assert "s3cret" not in repr(settings)
    monkeypatch.setenv("BLUELIGHT_BACKEND", "lake")
    with pytest.raises(SettingsError, match="BLUELIGHT_BACKEND=lake: it must be file or ducklake"):
        Settings.from_env()


def test_the_lake_catalog_may_be_kept_in_the_secrets_file(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('BLUELIGHT_LAKE_CATALOG = "dbname=bluelight password=s3cret"\n')
    monkeypatch.delenv("BLUELIGHT_LAKE_CATALOG", raising=False)
    monkeypatch.setenv("BLUELIGHT_SECRETS_FILE", str(secrets))
    monkeypatch.setenv("BLUELIGHT_BACKEND", "ducklake")
    assert Settings.from_env().lake_catalog == "dbname=bluelight password=s3cret"


def test_the_extensions_load_from_the_wheels_with_downloads_off(extensions):
    """DuckDB finds both extensions in the folder of links to the wheels; its own install and
    load stay off, so an extension it had to fetch would be an error, not a download."""
    with lake.connect() as con:
        loaded = dict(
            con.execute(
                "select extension_name, install_path from duckdb_extensions() where loaded"
            ).fetchall()
        )
        settings = con.execute(
            "select current_setting('autoinstall_known_extensions'), "
            "current_setting('autoload_known_extensions')"
        ).fetchone()
    assert settings == (False, False)
    for wheel_name, duckdb_name in lake.EXTENSIONS.items():
        assert Path(loaded[duckdb_name]).resolve() == lake.extension_file(wheel_name)


def test_a_transaction_over_several_tables_commits_as_one_snapshot(writer):
    writer.execute("create schema lake.marts")
    writer.execute("create table lake.marts.bids as select 'B1' as bid, 100 as award")
    before = lake.current_snapshot(writer)

    writer.execute("begin")
    lake.label_commit(writer, "night 2", extra_info='{"run": "r2"}')
    writer.execute("insert into lake.marts.bids values ('B2', 250)")
    writer.execute("create table lake.marts.benefits as select 'B2' as bid, 40 as saving")
    writer.execute("delete from lake.marts.bids where bid = 'B1'")
    writer.execute("commit")

    snapshots = lake.snapshots(writer)
    assert [s.snapshot_id for s in snapshots if s.snapshot_id > before] == [before + 1]
    night = snapshots[-1]
    assert (night.author, night.commit_message, night.commit_extra_info) == (
        "bluelight",
        "night 2",
        '{"run": "r2"}',
    )
    assert night.changes["tables_created"] == ["marts.benefits"]
    bids_then = f"select * from lake.marts.bids at (version => {before})"
    assert writer.execute(bids_then).fetchall() == [("B1", 100)]
    assert writer.execute("select * from lake.marts.bids").fetchall() == [("B2", 250)]


def test_a_reader_elsewhere_sees_the_old_state_until_the_commit_then_the_new_whole(
    writer, lake_settings, reader
):
    writer.execute("create schema lake.marts")
    writer.execute("create table lake.marts.a as select range as id from range(1000)")
    writer.execute("create table lake.marts.b as select range as id from range(2000)")
    elsewhere = reader(lake_settings, "serve")
    state = (
        "select (select count(*) from lake.marts.a), (select count(*) from lake.marts.b), "
        "(select count(*) from information_schema.tables where table_name = 'c')"
    )
    try:
        assert _ask(elsewhere, state) == [[1000, 2000, 0]]
        writer.execute("begin")
        writer.execute("insert into lake.marts.a select range from range(1000, 1500)")
        writer.execute("delete from lake.marts.b where id < 1000")
        writer.execute("create table lake.marts.c as select 1 as x")
        assert _ask(elsewhere, state) == [[1000, 2000, 0]]
        writer.execute("commit")
        assert _ask(elsewhere, state) == [[1500, 1000, 1]]
        elsewhere.stdin.write("insert into lake.marts.a values (-1)\n")
        elsewhere.stdin.flush()
        assert "read-only" in json.loads(elsewhere.stdout.readline())["error"]
    finally:
        elsewhere.stdin.close()
        elsewhere.wait(timeout=30)


LEDGER_STATE = (
    "select (select count(*) from lake.ledger.a) + (select count(*) from lake.ledger.b), "
    "(select sum(v) from lake.ledger.a) + (select sum(v) from lake.ledger.b), "
    "(select max(night) from lake.ledger.nights), (select count(*) from lake.ledger.a)"
)


def test_two_readers_elsewhere_see_each_night_whole_and_never_a_mix(
    writer, lake_settings, tmp_path, reader
):
    """Each night moves 100 rows from one table to another and records itself in a third, in
    one transaction. Two readers in other processes read all three throughout: every state
    they see is a whole night, `(2000 rows, the same sum, night n, 1000 - 100 n rows in a)`."""
    writer.execute("create schema lake.ledger")
    writer.execute(
        "create table lake.ledger.a as select range as id, range * 3 as v from range(1000)"
    )
    writer.execute(
        "create table lake.ledger.b as select range + 1000 as id, 7 as v from range(1000)"
    )
    writer.execute("create table lake.ledger.nights as select 0 as night")
    total = 3 * 999 * 1000 // 2 + 7 * 1000
    stop = tmp_path / "stop"
    readers = [reader(lake_settings, "poll", LEDGER_STATE, str(stop)) for _ in range(2)]
    nights = 5
    for night in range(1, nights + 1):
        low, high = 100 * (night - 1), 100 * night
        writer.execute("begin")
        moved = f"from lake.ledger.a where id >= {low} and id < {high}"
        writer.execute(f"insert into lake.ledger.b select * {moved}")
        writer.execute(f"delete {moved}")
        writer.execute(f"insert into lake.ledger.nights values ({night})")
        writer.execute("commit")
        time.sleep(0.3)
    stop.touch()
    whole = [[[2000, total, n, 1000 - 100 * n]] for n in range(nights + 1)]
    for elsewhere in readers:
        report = json.loads(elsewhere.stdout.readline())
        elsewhere.wait(timeout=30)
        assert report["errors"] == []
        assert report["reads"] > nights
        assert all(state in whole for state in report["seen"]), report["seen"]
        assert report["seen"][-1] == whole[-1]


def test_time_travel_by_snapshot_and_by_time(writer, lake_settings):
    writer.execute("create table lake.bids as select 'B1' as bid, 100 as award")
    first = lake.current_snapshot(writer)
    between = datetime.now(UTC)
    time.sleep(0.05)
    writer.execute("update lake.bids set award = 120")

    at_version = "select award from lake.bids at (version => ?)"
    at_time = "select award from lake.bids at (timestamp => ?)"
    assert writer.execute(at_version, [first]).fetchall() == [(100,)]
    assert writer.execute(at_time, [between]).fetchall() == [(100,)]
    assert writer.execute("select award from lake.bids").fetchall() == [(120,)]

    # A reader pinned to the first snapshot sees it in every query, as a kept version.
    with lake.connect() as pinned:
        lake.attach(pinned, lake_settings, read_only=True, snapshot=first)
        assert pinned.execute("select award from lake.bids").fetchall() == [(100,)]
    with pytest.raises(lake.LakeError, match="only to read"):
        lake.attach_sql(lake_settings, snapshot=first)


def test_expiry_then_cleanup_removes_the_files_only_expired_snapshots_read(writer):
    writer.execute("create table lake.incidents as select range as id from range(1000)")
    first = lake.current_snapshot(writer)
    (old_file,) = lake.data_files(writer, "main.incidents")
    time.sleep(0.05)
    kept_from = datetime.now(UTC)
    writer.execute("create or replace table lake.incidents as select range as id from range(500)")
    (new_file,) = lake.data_files(writer, "main.incidents")

    assert lake.expire_snapshots(writer, older_than=kept_from, dry_run=True) == [0, first]
    assert first in [s.snapshot_id for s in lake.snapshots(writer)]
    assert lake.expire_snapshots(writer, older_than=kept_from) == [0, first]
    assert first not in [s.snapshot_id for s in lake.snapshots(writer)]
    with pytest.raises(duckdb.Error, match="No snapshot found"):
        writer.execute(f"select count(*) from lake.incidents at (version => {first})")

    assert lake.cleanup_old_files(writer, dry_run=True) == [old_file]
    assert Path(old_file).exists()
    assert lake.cleanup_old_files(writer) == [old_file]
    assert not Path(old_file).exists()
    assert Path(new_file).exists()
    assert writer.execute("select count(*) from lake.incidents").fetchone() == (500,)


DBT_PROJECT = {
    "name": "lake_probe",
    "version": "0.1.0",
    "config-version": 2,
    "profile": "lake_probe",
    "flags": {"send_anonymous_usage_stats": False},
    "models": {"lake_probe": {"+materialized": "table"}},
}
DBT_MODELS = {
    "kind_counts.sql": (
        "select kind, count(*) as n from {{ source('raw', 'events') }} group by kind"
    ),
    "events_seen.sql": (
        "{{ config(materialized='incremental', unique_key='id') }}\n"
        "select id, kind from {{ source('raw', 'events') }}\n"
        "{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}\n"
    ),
    "sources.yml": yaml.safe_dump(
        {
            "version": 2,
            "sources": [{"name": "raw", "schema": "raw", "tables": [{"name": "events"}]}],
            "models": [
                {
                    "name": "kind_counts",
                    "columns": [{"name": "kind", "data_tests": ["not_null", "unique"]}],
                }
            ],
        }
    ),
}


@pytest.fixture
def dbt_build():
    """`dbt build` of a project, in a process of its own (dbt keeps state between runs)."""

    def build(project: Path) -> subprocess.CompletedProcess:
        command = ["build", "--project-dir", str(project), "--profiles-dir", str(project)]
        return subprocess.run(
            [sys.executable, "-m", "dbt.cli.main", *command, "--no-use-colors"],
            capture_output=True,
            text=True,
            cwd=project,
            check=False,
        )

    return build


def test_dbt_builds_a_table_and_an_incremental_model_into_the_lake(
    writer, lake_settings, tmp_path, dbt_build
):
    writer.execute("create schema lake.raw")
    writer.execute(
        "create table lake.raw.events as "
        "select range as id, ['a', 'b', 'c'][range % 3 + 1] as kind from range(30)"
    )
    project = tmp_path / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(yaml.safe_dump(DBT_PROJECT))
    profile = {
        "lake_probe": {"target": "lake", "outputs": {"lake": lake.dbt_output(lake_settings)}}
    }
    (project / "profiles.yml").write_text(yaml.safe_dump(profile))
    for name, text in DBT_MODELS.items():
        (project / "models" / name).write_text(text)
    table_id = "select table_id from ducklake_table_info('lake') where table_name = 'events_seen'"
    counts = "select kind, n from lake.main.kind_counts order by kind"

    built = dbt_build(project)
    assert built.returncode == 0, built.stdout[-3000:]
    writer.execute("select 1").fetchall()  # a new transaction: the latest snapshot
    assert writer.execute(counts).fetchall() == [("a", 10), ("b", 10), ("c", 10)]
    first_table = writer.execute(table_id).fetchone()

    writer.execute("insert into lake.raw.events select range, 'd' from range(30, 40)")
    built = dbt_build(project)
    assert built.returncode == 0, built.stdout[-3000:]
    assert "PASS=4" in built.stdout
    assert writer.execute(counts).fetchall() == [("a", 10), ("b", 10), ("c", 10), ("d", 10)]
    assert writer.execute("select count(*) from lake.main.events_seen").fetchone() == (40,)
    # The incremental model was added to, not built again: the same DuckLake table.
    assert writer.execute(table_id).fetchone() == first_table


def _hand_made_file(path: Path) -> None:
    """A DuckDB file with the warehouse's kinds of things: schemas, typed columns, NULLs, a
    primary key, comments, a view and a macro."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create schema marts; create schema audit")
        con.execute("create table audit.loaded_files (load_id varchar primary key, rows integer)")
        con.execute("insert into audit.loaded_files values ('L1', 2)")
        # parse_integer calls parse_number, made again after it (as ensure_schema does each
        # night): the copy makes them in the order calls need all the same.
        parse_number = "macro raw.parse_number(v) as try_cast(replace(trim(v), ',', '') as double)"
        con.execute(f"create {parse_number}")
        con.execute("create macro raw.parse_integer(v) as cast(raw.parse_number(v) as bigint)")
        con.execute(f"create or replace {parse_number}")
        con.execute(
            "create table raw.incidents (_load_id varchar, _loaded_at timestamp, "
            "_source_row integer, incident_id varchar, received_at varchar)"
        )
        con.execute(
            "insert into raw.incidents values "
            "('L1', '2024-04-01 02:00:00', 1, 'I-1', '2024-03-31T23:59:00'), "
            "('L1', '2024-04-01 02:00:00', 2, 'I-2', null)"
        )
        con.execute(
            "create table marts.fct_bid_value (bid varchar, npv decimal(18, 2), bcr double, "
            "first_month date, met boolean, measured_at timestamptz, months integer[])"
        )
        con.execute(
            "insert into marts.fct_bid_value values "
            "('B1', 1234567.89, 1.75, '2024-04-01', true, '2024-04-01 02:00:00+00', [1, 2]), "
            "('B2', -10.00, null, null, false, null, [])"
        )
        con.execute("create view marts.bids_met as select bid from marts.fct_bid_value where met")
        con.execute("comment on table marts.fct_bid_value is 'Each bid''s value'")
        con.execute("comment on column marts.fct_bid_value.npv is 'Net present value, pounds'")


COLUMNS_SQL = (
    "select column_name, data_type, comment from duckdb_columns() "
    "where database_name = ? and schema_name || '.' || table_name = ? order by column_index"
)


def test_a_duckdb_files_tables_copy_into_the_lake_identical_as_one_snapshot(writer, tmp_path):
    source = tmp_path / "bluelight.duckdb"
    _hand_made_file(source)
    writer.execute(f"attach '{source}' as file_warehouse (read_only)")
    before = lake.current_snapshot(writer)

    copied = lake.copy_warehouse(writer, "file_warehouse", message="migrate")

    assert copied == before + 1
    assert lake.snapshots(writer)[-1].commit_message == "migrate"
    tables = ("raw.incidents", "marts.fct_bid_value", "marts.bids_met", "audit.loaded_files")
    for table in tables:
        in_file = writer.execute(f"select * from file_warehouse.{table} order by all").fetchall()
        in_lake = writer.execute(f"select * from lake.{table} order by all").fetchall()
        assert in_lake == in_file and in_file
        columns = writer.execute(COLUMNS_SQL, ["lake", table]).fetchall()
        assert columns == writer.execute(COLUMNS_SQL, ["file_warehouse", table]).fetchall()
    comment = "select comment from duckdb_tables() where database_name = 'lake' and table_name = ?"
    assert writer.execute(comment, ["fct_bid_value"]).fetchone() == ("Each bid's value",)
    # Macros and views name what they call without a database: the lake, once it is the default.
    writer.execute("use lake")
    assert writer.execute("select raw.parse_integer(' 1,200 ')").fetchone() == (1200,)
    # The view reads the lake's table, not the file's: a row added to the lake shows in it.
    writer.execute("update lake.marts.fct_bid_value set met = true")
    assert writer.execute("select count(*) from lake.marts.bids_met").fetchone() == (2,)


def test_a_read_only_postgres_role_reads_the_lake_and_cannot_write_it(
    server, tmp_path, monkeypatch
):
    """The loader's role owns the catalog; the auditor's is granted `lake.reader_grants` and
    connects over TCP with its password in a password file, not in the connection string."""
    server.psql(
        "create role loader login password 'loader-secret'; "
        "create role auditor login password 'auditor-secret'; "
        "create database audited_lake owner loader"
    )
    server.psql("revoke all on database audited_lake from public", "audited_lake")
    passwords = tmp_path / "pgpass"
    passwords.write_text(
        f"127.0.0.1:{server.port}:audited_lake:loader:loader-secret\n"
        f"127.0.0.1:{server.port}:audited_lake:auditor:auditor-secret\n"
    )
    passwords.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passwords))
    address = f"dbname=audited_lake host=127.0.0.1 port={server.port} user="
    data = tmp_path / "lake_data"
    loader_lake = Settings(tmp_path, lake_catalog=address + "loader", lake_data_path=data)
    auditor_lake = Settings(tmp_path, lake_catalog=address + "auditor", lake_data_path=data)

    with lake.connect() as loader:
        lake.attach(loader, loader_lake)
        loader.execute("create schema lake.marts")
        loader.execute("create table lake.marts.bids as select 'B1' as bid, 100 as award")
        server.psql(
            ";\n".join(lake.reader_grants("auditor", "loader", "audited_lake")), "audited_lake"
        )
        # Made after the grants: the new rows in the catalog are the auditor's to read too.
        loader.execute("create table lake.marts.benefits as select 'B1' as bid, 5 as saving")

        with lake.connect() as auditor:
            lake.attach(auditor, auditor_lake, read_only=True)
            assert auditor.execute("select * from lake.marts.bids").fetchall() == [("B1", 100)]
            assert auditor.execute("select * from lake.marts.benefits").fetchall() == [("B1", 5)]
        with lake.connect() as auditor:
            lake.attach(auditor, auditor_lake)  # not read-only in DuckDB: PostgreSQL refuses
            with pytest.raises(duckdb.Error, match="read-only transaction|permission denied"):
                auditor.execute("insert into lake.marts.bids values ('B9', 1)")
        assert loader.execute("select count(*) from lake.marts.bids").fetchone() == (1,)


def test_the_demo_warehouse_copies_into_the_lake_and_every_table_reads_back_identical(
    writer, demo_home
):
    """The basis of `bluelight migrate --to ducklake`: the published demo warehouse, built by a
    real night, copied whole; each table's rows, compared both ways, and columns the same."""
    published = demo_home / "warehouse" / "bluelight.duckdb"
    writer.execute(f"attach '{published}' as file_warehouse (read_only)")
    lake.copy_warehouse(writer, "file_warehouse", message="migrate")
    tables = writer.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where database_name = 'file_warehouse' order by 1"
    ).fetchall()
    assert len(tables) > 50
    differing = []
    for (table,) in tables:
        file_rows, lake_rows = f"from file_warehouse.{table}", f"from lake.{table}"
        one_way = f"select count(*) from ({file_rows} except all {lake_rows})"
        other_way = f"select count(*) from ({lake_rows} except all {file_rows})"
        unmatched = [writer.execute(sql).fetchone()[0] for sql in (one_way, other_way)]
        columns = [
            writer.execute(COLUMNS_SQL, [database, table]).fetchall()
            for database in ("file_warehouse", "lake")
        ]
        if unmatched != [0, 0] or columns[0] != columns[1]:
            differing.append(table)
    assert differing == []
    assert writer.execute("select count(*) from lake.marts.fct_bid_overview").fetchone()[0] > 0


def test_put_back_makes_every_table_what_it_was_at_the_published_snapshot(writer):
    """A failed night wrote the lake (appended, updated and deleted rows, replaced a table,
    added a column to one, made a schema and a table, dropped one): putting it back to the
    published snapshot makes each table hold exactly that snapshot's rows, in one new snapshot,
    and the table made since gone."""
    writer.execute("create schema lake.raw; create schema lake.marts")
    writer.execute("create table lake.raw.incidents as select range as id from range(100)")
    writer.execute("create table lake.marts.bids as select range as bid from range(10)")
    writer.execute("create table lake.marts.old as select 1 as x")
    writer.execute("create table lake.marts.untouched as select 2 as y")
    writer.execute(
        "create table lake.marts.history as select range as k, null::varchar as ended from range(3)"
    )
    writer.execute("create table lake.marts.widened as select 3 as w")
    published = lake.current_snapshot(writer)
    # dbt's snapshot closes rows by an update, which keeps their row ids
    writer.execute("update lake.marts.history set ended = 'night' where k = 1")
    writer.execute("alter table lake.marts.widened add column extra integer")
    writer.execute("insert into lake.raw.incidents select range from range(100, 150)")
    writer.execute("delete from lake.raw.incidents where id < 5")
    writer.execute("create or replace table lake.marts.bids as select 99 as bid")
    writer.execute("create schema lake.build; create table lake.build.half as select 1 as z")
    writer.execute("drop table lake.marts.old")

    put = lake.put_back(writer, published, message="put back to the published snapshot")

    assert put == lake.current_snapshot(writer) and put > published
    assert lake.snapshots(writer)[-1].commit_message == "put back to the published snapshot"
    assert set(lake.tables_at(writer)) == set(lake.tables_at(writer, published))
    tables = ("raw.incidents", "marts.bids", "marts.old", "marts.untouched", "marts.history")
    for table in (*tables, "marts.widened"):
        now = writer.execute(f"select * from lake.{table} order by all").fetchall()
        then = f"select * from lake.{table} at (version => {published}) order by all"
        assert now == writer.execute(then).fetchall(), table
    assert writer.execute("select count(*), sum(id) from lake.raw.incidents").fetchone() == (
        100,
        4950,
    )
    assert writer.execute("select count(ended) from lake.marts.history").fetchone() == (0,)
    columns = "select column_name from duckdb_columns() where table_name = 'widened'"
    assert writer.execute(columns).fetchall() == [("w",)]
    # The untouched table kept its files: nothing of it was written again.
    assert (
        lake.tables_at(writer)[("marts", "untouched")]
        == (lake.tables_at(writer, published)[("marts", "untouched")])
    )


def test_files_a_killed_writer_left_are_deleted_once_older_than_the_grace(writer, lake_settings):
    """A writer killed before its commit leaves Parquet files no snapshot knows: the retention
    deletes those older than lake.READER_GRACE, and leaves a newer one (a writer may be about
    to commit it) and every file a snapshot reads."""
    writer.execute("create table lake.main.kept as select range as n from range(100)")
    data = Path(lake_settings.lake_data_path)
    kept = sorted(data.rglob("*.parquet"))
    old, new = data / "main" / "kept" / "left-old.parquet", data / "main" / "kept" / "left.parquet"
    for path in (old, new):
        writer.execute(f"copy (select 1 as n) to '{path}' (format parquet)")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))

    deleted = lake.delete_orphans(writer, datetime.now())

    assert [Path(p).name for p in deleted] == ["left-old.parquet"]
    assert not old.exists() and new.exists() and all(path.exists() for path in kept)
    assert writer.execute("select sum(n) from lake.main.kept").fetchone() == (4950,)
