"""The dashboard on a DuckLake (dashboard/warehouse.py, dashboard/lake_source.py): the published
warehouse of `two_areas_home` (a real night on the hand-made inbox) copied onto a lake with a
real PostgreSQL catalog (tests/postgres.py) and published there, then read by the dashboard's
own queries.

Every query of dashboard/queries/ returns the same frame on the lake as on the file; the scope
holds in SQL on the lake (Othershire's fire authority reads B4 and never B1); a publish on the
lake is seen by the next query, the held connection moving to the new snapshot and the version
before it read by time travel; the dashboard served on the lake shows its pages in Chromium.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import statistics
import time
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import test_lake
from conftest import bluelight, chromium_or_skip, served_page, settings_for
from test_roles import BENEFITS, BIDS, F2, FILES, SITES, STAFF

import dashboard.queries
from dashboard import lake_source, queries, warehouse
from dashboard.lake_source import Lake
from dashboard.queries import overview
from flows.security import roles
from flows.settings import Settings
from flows.warehouse import backend, lake

# The PostgreSQL server and extensions of tests/test_lake.py, one of each for this module too.
extensions, server = test_lake.extensions, test_lake.server
APP = Path(__file__).parent.parent / "dashboard" / "app.py"
LATER = "29990101T000000-next"  # the run of a second publish, after every real run's id


@pytest.fixture(scope="module")
def on_lake(server, two_areas_home, tmp_path_factory) -> Settings:
    """The lake's settings, its one published version the warehouse `two_areas_home` published."""
    data = tmp_path_factory.mktemp("lake_data")
    settings = Settings(
        tmp_path_factory.mktemp("lake_home"),
        backend="ducklake",
        lake_catalog=server.create_database("dashboard_lake"),
        lake_data_path=data,
    )
    published = settings_for(two_areas_home).published_db
    with backend.build(settings) as con:
        con.execute(f"attach '{published}' as file_warehouse (read_only)")
        lake.copy_warehouse(con, "file_warehouse", message="migrate")
        run_id = con.execute("select max(run_id) from lake.audit.load_runs").fetchone()[0]
        lake.publish(con, run_id)
    yield settings
    warehouse.forget()


@pytest.fixture
def shown_on(monkeypatch):
    """Make the dashboard's settings those of `settings` (the lake, or a file's home)."""

    def use(settings: Settings) -> None:
        for name in (
            "BLUELIGHT_LAKE_CATALOG",
            "BLUELIGHT_LAKE_DATA_PATH",
            "BLUELIGHT_SECRETS_FILE",
        ):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("BLUELIGHT_HOME", str(settings.home))
        monkeypatch.setenv("BLUELIGHT_BACKEND", settings.backend)
        if settings.backend == "ducklake":
            monkeypatch.setenv("BLUELIGHT_LAKE_CATALOG", settings.lake_catalog)
            monkeypatch.setenv("BLUELIGHT_LAKE_DATA_PATH", str(settings.lake_data_path))

    return use


def all_queries() -> dict[str, object]:
    """Every function of dashboard/queries/ made a query by `@warehouse.query`, by name."""
    package = dashboard.queries
    modules = [package] + [
        importlib.import_module(f"{package.__name__}.{m.name}")
        for m in pkgutil.iter_modules(package.__path__)
    ]
    return {
        f"{m.__name__}.{name}": f
        for m in modules
        for name, f in vars(m).items()
        if hasattr(f, "__wrapped__") and f.__module__ == m.__name__
    }


def arguments(file: Path) -> dict[str, object]:
    """A value for each parameter name the queries take, chosen so that each returns rows."""
    run_id = warehouse.publishing_run(path=file).run_id[0]
    return {
        "area": "Testshire",
        "county": "Testshire",
        "bid_id": "B1",
        "run_id": run_id,
        "service": "fire",
        "incident_category": None,
        "start": date(2015, 4, 1),
        "end": date(2019, 3, 31),
        "first": "2015-16",
        "last": "2018-19",
        "year": "2016-17",
        "table": "fct_bid_overview",
        "schema": "marts",
        "tables": ("dim_bids", "fct_bid_overview", "absent"),
        "marts": ("dim_bids", "fct_bid_overview"),
        "worker_type": None,
        "category": None,
        "complete_only": True,
        "complete_known": True,
        "with_evidence": True,
    }


def test_every_query_returns_the_same_frame_on_the_lake_as_on_the_file(on_lake, two_areas_home):
    file = settings_for(two_areas_home).published_db
    values = arguments(file)
    found = all_queries()
    assert len(found) > 40  # every page's queries, not a few
    with_rows = 0
    for name, run in found.items():
        args = [values[p] for p in inspect.signature(run.__wrapped__).parameters]
        on_file, on_the_lake = run(*args, path=file), run(*args, path=Lake(on_lake))
        pd.testing.assert_frame_equal(on_the_lake, on_file, obj=name)
        with_rows += not on_file.empty
    assert with_rows > 30


def column(where, within: roles.Scope, sql: str) -> list:
    """The first column of `sql`'s rows, sorted, through the dashboard's held connection."""
    held = warehouse._open(where, within)
    with held.con.cursor() as cursor:
        cursor.execute("use warehouse")
        return sorted(row[0] for row in cursor.execute(sql).fetchall())


def test_the_scope_holds_in_sql_on_the_lake(on_lake, two_areas_home):
    shown = Lake(on_lake)
    # Othershire's fire authority: B4 alone, its site, the police staff, its files; no B1.
    assert column(shown, F2, BIDS) == ["B4"]
    assert column(shown, F2, BENEFITS) == ["BEN6"]
    assert column(shown, F2, SITES) == ["S4"]
    assert column(shown, F2, STAFF) == ["Test Police"] * 2
    b1 = "select count(*) from marts.fct_benefit_realisation where bid_id = 'B1'"
    assert column(shown, F2, b1) == [0]
    assert column(shown, roles.EVERYTHING, b1)[0] > 0
    with pytest.raises(duckdb.CatalogException, match="does not exist"):
        column(shown, F2, "select * from raw.bids")
    # Each scope reads on the lake what it reads on the file.
    file = settings_for(two_areas_home).published_db
    for within in (F2, roles.EVERYTHING):
        for sql in (BIDS, FILES, "select benefit_id from marts.fct_benefit_realisation"):
            assert column(shown, within, sql) == column(file, within, sql)
    with warehouse.within(F2):
        assert list(queries.bids(path=shown).bid_id) == ["B4"]


def test_a_publish_on_the_lake_is_seen_by_the_next_query(on_lake, shown_on):
    shown_on(on_lake)
    first = warehouse.version()
    old = lake_source.version(Lake(on_lake)).snapshot_id
    assert warehouse.target() == Lake(on_lake)
    assert warehouse.has_published()
    assert overview.bid_npv().set_index("bid_id").npv_gbp["B1"] == pytest.approx(-36_866, abs=1)
    assert warehouse.previous_version() is None  # one version published so far
    held = warehouse._held[(str(Lake(on_lake)), roles.EVERYTHING.key)]
    assert held.identity == (old,)

    with backend.build(on_lake) as con:  # what a second night publishes: a figure moved
        con.execute("update marts.fct_bid_value set npv_gbp = -1 where bid_id = 'B1'")
        con.execute(  # its run, recorded as the last run was
            "insert into audit.load_runs select * replace (?::varchar as run_id) "
            "from audit.load_runs where run_id = (select max(run_id) from audit.load_runs)",
            [LATER],
        )
        new = lake.publish(con, LATER).snapshot_id

    # The next query reads the new snapshot, through the held connection moved to it.
    assert warehouse.version() == LATER
    assert overview.bid_npv().set_index("bid_id").npv_gbp["B1"] == -1
    assert warehouse._held[(str(Lake(on_lake)), roles.EVERYTHING.key)].identity == (new,)
    shown = queries.published_version().iloc[0]
    assert (shown.run_id, shown.snapshot_id, shown.kept_versions) == (LATER, new, 2)
    assert shown.version_file is None and shown.file_size_bytes is None
    # The version before is the old snapshot, read by time travel.
    previous = warehouse.previous_version()
    assert previous == Lake(on_lake, old)
    assert warehouse.kept_as(previous) == f"snapshot {old} of the lake, read by time travel"
    assert warehouse.version(previous) == first
    before = overview.bid_npv(path=previous).set_index("bid_id").npv_gbp
    assert before["B1"] == pytest.approx(-36_866, abs=1)
    # The pack download reads the version shown as a later publish leaves it: its snapshot.
    assert warehouse.kept_version() == (Lake(on_lake, new), LATER)


def test_no_published_version_on_an_empty_lake(server, tmp_path, shown_on, capsys):
    settings = Settings(
        tmp_path,
        backend="ducklake",
        lake_catalog=server.create_database("dashboard_empty_lake"),
        lake_data_path=tmp_path / "data",
    )
    shown_on(settings)
    assert not warehouse.has_published()
    assert not backend.has_published(settings)
    assert warehouse.where().startswith("the lake at")
    assert bluelight(tmp_path, "dashboard") == 1  # refused before Streamlit starts
    assert "No published warehouse at the lake at" in capsys.readouterr().err


def test_the_cost_of_opening_the_lake_and_of_looking_up_its_newest_version(on_lake, two_areas_home):
    """Printed for the record (run with -s): opening a version (a connection pinned to the
    snapshot, as the dashboard holds it) against opening the file, and the look-up made before
    each query. Only the look-up is bounded: it runs before every query."""
    shown, file = Lake(on_lake), settings_for(two_areas_home).published_db

    def ms(action, times: int) -> float:
        taken = []
        for _ in range(times):
            start = time.perf_counter()
            action()
            taken.append((time.perf_counter() - start) * 1000)
        return statistics.median(taken)

    snapshot = lake_source.version(shown).snapshot_id
    lookup = ms(lambda: lake_source.version(shown), 30)
    lake_open = ms(lambda: warehouse._attach(shown, (snapshot,), roles.EVERYTHING).close(), 5)
    file_open = ms(lambda: warehouse._attach(file, (0,), roles.EVERYTHING).close(), 5)
    scoped_open = ms(lambda: warehouse._attach(shown, (snapshot,), F2).close(), 3)
    print(
        f"\nopening: lake {lake_open:.0f} ms (scoped {scoped_open:.0f} ms), "
        f"file {file_open:.0f} ms; newest-version look-up {lookup:.1f} ms (medians)"
    )
    assert lookup < 200


def test_the_pages_on_the_lake_name_its_snapshots(on_lake, shown_on):
    """Run after the second publish: Data health names the snapshot shown and the versions the
    lake keeps, the Overview compares with the snapshot before."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    shown_on(on_lake)
    st.cache_data.clear()
    kept = lake_source.versions(Lake(on_lake))
    assert len(kept) == 2  # the copied warehouse's publish and the second one
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception[0].value
    overview_text = " ".join(c.value for c in at.caption)
    assert f"(snapshot {kept[0].snapshot_id} of the lake, read by time travel)" in overview_text
    at.switch_page("views/data_health.py").run()
    assert not at.exception, at.exception[0].value
    shown = " ".join(i.value for i in at.info)
    assert f"published by run {kept[-1].run_id}" in shown
    assert f"snapshot {kept[-1].snapshot_id} of the lake, one of 2 published versions" in shown
    assert "MB" not in shown  # no file size on the lake


@pytest.mark.browser
def test_the_dashboard_served_on_the_lake_shows_data_health(on_lake, shown_on, tmp_path):
    chromium = chromium_or_skip()
    shown_on(on_lake)
    with served_page(chromium, on_lake.home, tmp_path) as (page, url, outside):
        page.goto(f"{url}/data_health")
        page.get_by_text("Warehouse shown").first.wait_for(timeout=60_000)
        text = page.inner_text("body")
        assert page.locator("[data-testid='stException']").count() == 0
    newest = lake_source.version(Lake(on_lake))
    assert f"snapshot {newest.snapshot_id} of the lake" in text
    assert f"published by run {newest.run_id}" in text
    assert outside == []
