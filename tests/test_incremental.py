"""The nightly build is incremental for the incident models: it must equal a full rebuild."""

from __future__ import annotations

import shutil
from datetime import datetime

import duckdb
import pytest
from conftest import run_flow, settings_for
from handmade import fire_incident, write_handmade_inbox, write_rows

from flows.nightly import invoke_dbt

INCREMENTAL = {
    "staging.stg_agency__incidents": "service, incident_id",
    "intermediate.int_incidents__with_area": "service, incident_id",
    "marts.fct_response_times_monthly": "service, month, area_code, incident_category",
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
    write_rows(
        home / "inbox" / "incidents" / "fire_corrections.csv",
        "incidents",
        [
            fire_incident(3, "D1", datetime(2016, 8, 3, 10), 70, 300),
            fire_incident(50, "D1", datetime(2016, 9, 1, 10), 60, 540),
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
    assert may == (4, pytest.approx(7.5))
    assert months == [("2016-08", 1), ("2016-09", 1)]

    # The same warehouse rebuilt from raw in full gives the same rows.
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(published, rebuilt)
    rebuilt.chmod(0o644)
    result = invoke_dbt(
        ["run", "--full-refresh", "--select", "stg_agency__incidents+"], rebuilt, tmp_path
    )
    assert result.success, result.exception
    for table, order in INCREMENTAL.items():
        assert _rows(published, table, order) == _rows(rebuilt, table, order), table


def test_a_nights_tests_of_the_incident_models_read_only_the_rows_it_loaded(tmp_path):
    """Older rows were tested on the night they came, and an incremental build never rewrites
    them: a night's tests of the incremental models read only its own loads, so they do not
    grow with the history. Other models' tests, and dbt run by hand, still read every row."""
    write_handmade_inbox(tmp_path / "inbox")
    assert run_flow(tmp_path)["status"] == "succeeded"
    build = tmp_path / "build.duckdb"
    shutil.copy(settings_for(tmp_path).published_db, build)
    build.chmod(0o644)
    with duckdb.connect(str(build)) as con:  # two old rows go bad after their night's tests
        con.execute("update intermediate.int_incidents__with_area set county = null")
        con.execute("update staging.stg_agency__boundaries set county = null")

    def failed(**bookmark) -> set[str]:
        result = invoke_dbt(
            ["test", "--select", "int_incidents__with_area", "stg_agency__boundaries"],
            build,
            tmp_path,
            **bookmark,
        )
        assert result.exception is None, result.exception
        return {r.node.name for r in result.result.results if str(r.status) == "fail"}

    tonight = failed(tests_from_load="99991231T000000")  # a run later than every load
    by_hand = failed()
    assert tonight == {"not_null_stg_agency__boundaries_county"}
    assert by_hand == tonight | {"not_null_int_incidents__with_area_county"}
