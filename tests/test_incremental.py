"""The nightly build is incremental for the incident models: it must equal a full rebuild."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import duckdb
import pytest
from conftest import mart_rows, run_flow, settings_for
from handmade import fire_incident, write_handmade_inbox, write_rows

from flows.settings import Settings
from flows.transform.dbt import invoke_dbt

INCREMENTAL = {
    "staging.stg_agency__incidents": "service, incident_id",
    "marts.fct_response_times_monthly": "service, month, area_code, incident_category",
    "intermediate.int_incident_measures_daily": "measure, county, rural_urban, call_date",
    # Not incremental: a view over the incremental staging, and marts from the daily sums above.
    "intermediate.int_incidents__with_area": "service, incident_id",
    "intermediate.int_benefit_measures": "measure, county, scope, financial_year",
    "marts.fct_benefit_attribution": "benefit_id",
}


def _rows(db, table: str, order: str) -> list[tuple]:
    """Rows in key order, doubles to 9 decimals (parallel sums differ in the last bit)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(f"select * from {table} order by {order}").fetchall()
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def test_a_night_on_top_equals_a_full_rebuild_even_when_a_correction_moves_an_incident(
    tmp_path,
):
    home = tmp_path
    write_handmade_inbox(home / "inbox")
    assert run_flow(home)["status"] == "succeeded"

    # Night two: F3 (May 2016, 300 s) is corrected to August 2016, and F50 arrives in September.
    # F10 and F11, July 2015's only fires, are corrected to August 2015: July must empty.
    write_rows(
        home / "inbox" / "incidents" / "fire_corrections.csv",
        "incidents",
        [
            fire_incident(3, "D1", datetime(2016, 8, 3, 10), 70, 300),
            fire_incident(50, "D1", datetime(2016, 9, 1, 10), 60, 540),
            fire_incident(10, "D3", datetime(2015, 8, 1, 9), 190, 3000),
            fire_incident(11, "D3", datetime(2015, 8, 3, 9), 210, 3000),
        ],
    )
    assert run_flow(home)["status"] == "succeeded"
    published = settings_for(home).published_db

    # May 2016 in D1 lost F3: four responses left, 360, 420, 480 and 1200 s: median 450 s.
    with duckdb.connect(str(published), read_only=True) as con:
        may = con.execute("""
            select incidents, median_response_minutes from marts.fct_response_times_monthly
            where service = 'fire' and month = date '2016-05-01' and area_code = 'D1'
              and incident_category = 'all'""").fetchone()
        months = con.execute("""
            select strftime(month, '%Y-%m'), incidents from marts.fct_response_times_monthly
            where service = 'fire' and area_code = 'D1' and incident_category = 'all'
              and month >= date '2016-08-01' order by month""").fetchall()
        othershire = con.execute("""
            select strftime(month, '%Y-%m'), incidents from marts.fct_response_times_monthly
            where service = 'fire' and area_code = 'D3' and incident_category = 'all'
            order by month""").fetchall()
        othershire_days = con.execute("""
            select strftime(call_date, '%Y-%m-%d'), value_sum
            from intermediate.int_incident_measures_daily
            where measure = 'fire_call_handling_mean_seconds' and county = 'Othershire'
            order by call_date""").fetchall()
        # F3's call handling (70 s) left 2 May for 3 August; F50 (60 s) came on 1 September.
        days = con.execute("""
            select strftime(call_date, '%Y-%m-%d'), observations, value_sum
            from intermediate.int_incident_measures_daily
            where measure = 'fire_call_handling_mean_seconds' and county = 'Testshire'
            order by call_date""").fetchall()
    assert may == (4, pytest.approx(7.5))
    assert months == [("2016-08", 1), ("2016-09", 1)]
    assert othershire == [("2015-08", 2), ("2016-05", 2)]  # July 2015 emptied
    assert othershire_days == [
        ("2015-08-01", 190),
        ("2015-08-03", 210),
        ("2016-05-02", 400),
        ("2016-05-03", 420),
    ]
    assert days == [
        ("2015-06-01", 1, 90),
        ("2015-06-02", 1, 110),
        ("2016-05-03", 1, 80),
        ("2016-05-04", 1, 80),
        ("2016-05-05", 1, 90),
        ("2016-05-06", 1, 80),
        ("2016-08-03", 1, 70),
        ("2016-09-01", 1, 60),
    ]

    # The night built only what its incidents touch; estates, staffing and the rest stayed.
    built = _built(home)
    assert {"stg_agency__incidents", "fct_response_times_monthly", "fct_bid_value"} <= built
    assert not built & {"stg_agency__estates", "stg_agency__staffing", "fct_staffing_monthly"}

    # The same warehouse rebuilt from raw in full gives the same rows, in every table.
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(published, rebuilt)
    rebuilt.chmod(0o644)
    result = invoke_dbt(["run", "--full-refresh"], Settings(), build_db=rebuilt, work_dir=tmp_path)
    assert result.success, result.exception
    for table, order in INCREMENTAL.items():
        assert _rows(published, table, order) == _rows(rebuilt, table, order), table
    with (
        duckdb.connect(str(published), read_only=True) as night,
        duckdb.connect(str(rebuilt), read_only=True) as full,
    ):
        tables = [
            f"{schema}.{name}"
            for schema, name in full.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('staging', 'intermediate', 'marts')"
            ).fetchall()
        ]
        assert len(tables) > 30
        for table in tables:
            assert mart_rows(night, table) == mart_rows(full, table), table


def test_a_night_with_an_unreadable_call_time_quarantines_the_row_and_builds_the_rest(tmp_path):
    """A row quarantined for its call time has no day or month to recompute: the night leaves
    it out of the touched periods and publishes the rest."""
    home = tmp_path
    write_handmade_inbox(home / "inbox")
    assert run_flow(home)["status"] == "succeeded"
    unreadable = {**fire_incident(51, "D1", datetime(2016, 9, 2, 10), 60, 540), "call_time": "soon"}
    write_rows(
        home / "inbox" / "incidents" / "night_two.csv",
        "incidents",
        [fire_incident(50, "D1", datetime(2016, 9, 1, 10), 60, 540), unreadable],
    )
    result = run_flow(home)
    assert result["status"] == "succeeded with refusals", result["record"]["error"]
    assert [o["quarantined"] for o in result["outcomes"] if o["status"] == "loaded"] == [1]
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        september = con.execute("""
            select incidents from marts.fct_response_times_monthly
            where service = 'fire' and month = date '2016-09-01' and area_code = 'D1'
              and incident_category = 'all'""").fetchall()
    assert september == [(1,)]


def _last_build(home) -> tuple[set[str], bool]:
    """The models, snapshots and tests the last run's dbt build ran, and whether it was a full
    refresh."""
    results = json.loads(
        (settings_for(home).build_dir / "dbt_target" / "run_results.json").read_text()
    )
    built = {r["unique_id"].split(".")[2] for r in results["results"]}
    return built, bool(results["args"].get("full_refresh"))


def _built(home) -> set[str]:
    return _last_build(home)[0]


def _as_if_built_by_older_code(home, change) -> None:
    """Edit the record of the build the published warehouse holds, as if older code built it."""
    published = settings_for(home).published_db
    published.chmod(0o644)
    with duckdb.connect(str(published)) as con:
        manifest, fingerprint = con.execute(
            "select manifest, project_fingerprint from audit.dbt_manifest"
        ).fetchone()
        manifest, fingerprint = change(json.loads(manifest), fingerprint)
        con.execute(
            "update audit.dbt_manifest set manifest = ?, project_fingerprint = ?",
            [json.dumps(manifest), fingerprint],
        )
    published.chmod(0o444)


def test_a_night_builds_what_its_loads_touch_and_what_changed_in_the_project(tmp_path):
    write_handmade_inbox(tmp_path / "inbox")
    assert run_flow(tmp_path)["status"] == "succeeded"
    assert "stg_agency__estates" in _built(tmp_path)  # the first build: everything

    # Nothing new, and the project as the warehouse's last build left it: nothing to build.
    assert run_flow(tmp_path)["status"] == "succeeded"
    assert _last_build(tmp_path) == (set(), False)

    def edit(model):
        def change(manifest, fingerprint):
            manifest["nodes"][f"model.bluelight.{model}"]["raw_code"] += "\n-- older"
            return manifest, fingerprint

        return change

    # A table model's code changed since (as after an upgrade): it and what reads it are built
    # and tested, nothing else.
    _as_if_built_by_older_code(tmp_path, edit("stg_agency__staffing"))
    assert run_flow(tmp_path)["status"] == "succeeded"
    built, full = _last_build(tmp_path)
    assert {"stg_agency__staffing", "fct_staffing_monthly"} <= built and not full
    assert "not_null_stg_agency__staffing__load_id" in built
    assert not built & {"stg_agency__incidents", "stg_agency__estates"}

    # A change that reaches an incremental model: its history would keep the old logic, so
    # everything is rebuilt in full. So too when dbt_project.yml's vars or the parse macros
    # changed, which dbt's own comparison does not see.
    _as_if_built_by_older_code(tmp_path, edit("int_incident_measures"))
    assert run_flow(tmp_path)["status"] == "succeeded"
    built, full = _last_build(tmp_path)
    assert full and {"stg_agency__estates", "int_incident_measures_daily"} <= built
    _as_if_built_by_older_code(tmp_path, lambda manifest, _: (manifest, "older"))
    assert run_flow(tmp_path)["status"] == "succeeded"
    built, full = _last_build(tmp_path)
    assert full and "stg_agency__estates" in built


def test_a_nights_tests_of_the_incident_models_read_only_the_rows_it_loaded(tmp_path):
    """Older rows were tested on the night they came, and an incremental build never rewrites
    them: a night's tests of the incremental models, and of the views over them, read only its
    own loads, so they do not grow with the history. Other models' tests, and dbt run by hand,
    still read every row."""
    write_handmade_inbox(tmp_path / "inbox")
    assert run_flow(tmp_path)["status"] == "succeeded"
    # Named as the warehouse: the view names its tables with the file's catalog, "bluelight".
    build = tmp_path / "copy" / "bluelight.duckdb"
    build.parent.mkdir()
    shutil.copy(settings_for(tmp_path).published_db, build)
    build.chmod(0o644)
    with duckdb.connect(str(build)) as con:  # old rows go bad after their night's tests
        con.execute("update staging.stg_agency__incidents set incident_category = null")
        # The incident views read the county from here.
        con.execute("update staging.stg_agency__boundaries set county = null")

    def failed(**bookmark) -> set[str]:
        result = invoke_dbt(
            ["test", "--select", "int_incidents__with_area", "int_incident_measures"]
            + ["stg_agency__incidents", "stg_agency__boundaries"],
            Settings(),
            build_db=build,
            work_dir=tmp_path,
            **bookmark,
        )
        assert result.exception is None, result.exception
        return {r.node.name for r in result.result.results if str(r.status) == "fail"}

    tonight = failed(tests_from_load="99991231T000000")  # a run later than every load
    by_hand = failed()
    assert tonight == {"not_null_stg_agency__boundaries_county"}
    # The views are tested by load, like the incremental model under them.
    assert by_hand == tonight | {
        "not_null_stg_agency__incidents_incident_category",
        "not_null_int_incidents__with_area_incident_category",
        "not_null_int_incidents__with_area_county",
        "not_null_int_incident_measures_county",
    }
