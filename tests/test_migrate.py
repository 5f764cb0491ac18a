"""`bluelight migrate --to ducklake` (flows/cli/lake.py, flows/warehouse/lake_migrate.py): the
session's demo warehouse, published by a real night, moved onto a lake with a real PostgreSQL
catalog (tests/postgres.py), then read back by a client of its own: every table of marts, raw
and audit identical to the file, row for row both ways. A second move into the same lake, and
one without the lake's settings, are refused, naming what is wrong.
"""

from __future__ import annotations

import json

import duckdb
import pytest
import test_lake
from conftest import bluelight

from flows.settings import Settings
from flows.warehouse import lake, lake_migrate

# The PostgreSQL server and extensions of tests/test_lake.py, one of each for this module too.
extensions, server = test_lake.extensions, test_lake.server
LAKE_VARIABLES = ("BLUELIGHT_LAKE_CATALOG", "BLUELIGHT_LAKE_DATA_PATH", "BLUELIGHT_BACKEND")


@pytest.fixture
def no_lake_settings(monkeypatch):
    for variable in (*LAKE_VARIABLES, "BLUELIGHT_SECRETS_FILE"):
        monkeypatch.delenv(variable, raising=False)


def _names(con: duckdb.DuckDBPyConnection, database: str, kind: str) -> list[str]:
    """The tables (`kind` table) or views (view) of `database`, as `schema.name`."""
    rows = con.execute(
        f"select schema_name || '.' || {kind}_name from duckdb_{kind}s() "
        "where database_name = ? and not internal order by all",
        [database],
    ).fetchall()
    return [row[0] for row in rows]


def _unmatched(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Rows of the file's table not in the lake's, and the other way round (EXCEPT ALL: a row
    twice in one and once in the other counts)."""
    in_file, in_lake = f"file_warehouse.{table}", f"lake.{table}"
    return tuple(
        con.execute(f"select count(*) from (from {one} except all from {other})").fetchone()[0]
        for one, other in ((in_file, in_lake), (in_lake, in_file))
    )


def test_migrate_moves_the_demo_warehouse_and_every_table_reads_back_identical(
    demo_home, server, tmp_path, capsys, monkeypatch, no_lake_settings
):
    catalog = server.create_database("migrated")
    data = tmp_path / "lake_data"
    published = demo_home / "warehouse" / "bluelight.duckdb"
    before = published.stat().st_mtime_ns

    status = bluelight(
        demo_home, "migrate", "--to", "ducklake", "--catalog", catalog, "--data-path", str(data)
    )

    told = capsys.readouterr()
    assert status == 0, told.err
    assert "every table identical to the file" in told.out
    assert published.stat().st_mtime_ns == before
    # Read back by a client of its own, knowing only the catalog and the data path.
    with lake.connect() as con:
        con.execute(f"attach '{published}' as file_warehouse (read_only)")
        lake.attach(con, Settings(lake_catalog=catalog, lake_data_path=data), read_only=True)
        tables = _names(con, "file_warehouse", "table")
        views = _names(con, "file_warehouse", "view")
        # The lake's own table beside the file's: the list of its published versions.
        in_lake = _names(con, "lake", "table")
        assert (in_lake, _names(con, "lake", "view")) == (
            sorted([*tables, "audit.published_versions"]),
            views,
        )
        for schema in ("marts", "raw", "audit"):
            assert any(t.startswith(f"{schema}.") for t in tables), schema
        assert "marts.fct_bid_overview" in views  # a mart that is a view, over the lake's tables
        unmatched = {table: _unmatched(con, table) for table in tables + views}
        assert {t: n for t, n in unmatched.items() if n != (0, 0)} == {}
        bids = "select count(*) from {}.marts.fct_bid_overview"
        assert con.execute(bids.format("lake")).fetchone()[0] > 0
        assert con.execute(bids.format("lake")).fetchone() == (
            con.execute(bids.format("file_warehouse")).fetchone()
        )
        (run_id,) = con.execute(
            "select run_id from file_warehouse.audit.load_runs order by run_id desc limit 1"
        ).fetchone()
        snapshot, publish = lake.snapshots(con)[-2:]
        # The copy is the lake's published version, under the run that published the file:
        # a night on the lake starts from it and puts nothing back.
        assert [(v.snapshot_id, v.run_id) for v in lake.published(con)] == [
            (publish.snapshot_id, run_id)
        ]
    with lake.connect() as con:
        lake.attach(con, Settings(lake_catalog=catalog, lake_data_path=data))
        assert lake.restore_published(con) is None
    assert f"Published as snapshot {publish.snapshot_id}" in told.out
    # The one snapshot records the file and the run it came from.
    assert snapshot.commit_message == f"migrate {published} (run {run_id})"
    origin = json.loads(snapshot.commit_extra_info)
    assert (origin["migrated_from"], origin["run_id"]) == (str(published), run_id)
    assert f"{len(tables)} tables" in told.out and f"snapshot {snapshot.snapshot_id}" in told.out
    assert all(f"] {table}  " in told.out for table in tables)  # a progress line per table
    assert any(path.suffix == ".parquet" for path in data.rglob("*"))

    # The same lake again, now from the settings: refused, naming the tables it holds.
    monkeypatch.setenv("BLUELIGHT_LAKE_CATALOG", catalog)
    monkeypatch.setenv("BLUELIGHT_LAKE_DATA_PATH", str(data))
    assert bluelight(demo_home, "migrate", "--to", "ducklake") == 1
    refused = capsys.readouterr().err
    assert f"the lake already holds {len(in_lake)} table(s): {', '.join(in_lake[:3])}" in refused
    with lake.connect() as con:
        lake.attach(con, Settings(lake_catalog=catalog, lake_data_path=data), read_only=True)
        assert lake.snapshots(con)[-1].snapshot_id == publish.snapshot_id  # nothing written


def test_migrate_without_the_lakes_settings_is_refused_naming_them(
    tmp_path, capsys, no_lake_settings
):
    assert bluelight(tmp_path, "migrate", "--to", "ducklake") == 2
    refused = capsys.readouterr().err
    assert "BLUELIGHT_LAKE_CATALOG (or --catalog CONN)" in refused
    assert "BLUELIGHT_LAKE_DATA_PATH (or --data-path DIR)" in refused
    assert bluelight(tmp_path, "migrate", "--to", "ducklake", "--catalog", "dbname=x") == 2
    refused = capsys.readouterr().err
    assert "BLUELIGHT_LAKE_DATA_PATH" in refused and "BLUELIGHT_LAKE_CATALOG" not in refused


def test_grants_for_a_reader_name_the_catalogs_database_and_owner(
    tmp_path, capsys, no_lake_settings
):
    catalog = "host=catalog.example.org dbname=bluelight user=loader"
    assert bluelight(tmp_path, "migrate", "--grants-for", "auditor", "--catalog", catalog) == 0
    printed = capsys.readouterr().out
    assert printed == ";\n".join(lake.reader_grants("auditor", "loader", "bluelight")) + ";\n"
    assert 'grant connect on database "bluelight" to "auditor"' in printed
    assert 'alter default privileges for role "loader"' in printed
    uri = "postgresql://loader@catalog.example.org:5432/lakes"
    first = lake_migrate.grants(uri, "auditor")[0]
    assert first == 'grant connect on database "lakes" to "auditor"'
    assert bluelight(tmp_path, "migrate", "--grants-for", "auditor") == 2
    assert "BLUELIGHT_LAKE_CATALOG" in capsys.readouterr().err
