"""Bad data never reaches a commissioner: refused files, failed checks, nothing published."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import (
    ARTIFACTS,
    BACKENDS,
    CHROMIUM_FLAGS,
    backend_env,
    bluelight,
    chromium_or_skip,
    home_on,
    on_lake,
    open_published,
    published_state,
    run_flow,
    settings_for,
)
from handmade import fire_incident, write_b3, write_handmade_inbox, write_rows

from flows.load.accepted import fill_from_raw
from flows.quality.checks import check_loaded_rows, check_mart
from flows.quality.gate import Gate
from flows.quality.suites import (
    MART_SUITES_DIR,
    SOURCE_SUITES_DIR,
    source_suite,
    source_suites,
    suite_text,
)
from flows.sources.contracts import SOURCES
from flows.warehouse import backend
from flows.warehouse.runlog import read_log
from flows.warehouse.schema import ensure_schema

# The tests that run a night run it on each backend (tests/conftest.py): the file, and the lake.
each_backend = pytest.mark.parametrize("backend", BACKENDS)


@each_backend
def test_a_file_that_breaks_its_contract_is_refused_and_the_rest_still_loads(
    tmp_path, request, backend
):
    home = home_on(backend, tmp_path / "home", request)
    write_handmade_inbox(home / "inbox")
    (home / "inbox" / "bids" / "late_bids.csv").write_text("bid_id,title\nB9,No round\n")
    (home / "inbox" / "parking" / "notes.csv").parent.mkdir()
    (home / "inbox" / "parking" / "notes.csv").write_text("a,b\n1,2\n")
    result = run_flow(home)
    assert result["status"] == "succeeded with refusals", result
    refused = {o["path"]: o["reason"] for o in result["outcomes"] if o["status"] == "rejected"}
    assert set(refused) == {"bids/late_bids.csv", "parking/notes.csv"}
    reason = (home / "rejected").rglob("late_bids.csv.reason.txt").__next__().read_text()
    assert "file: bids/late_bids.csv\nrow: 1\ncolumn: fund_round\n" in reason
    assert "no source owns the folder 'parking'" in refused["parking/notes.csv"]
    assert next((home / "rejected").rglob("late_bids.csv")).read_text().startswith("bid_id,")
    with open_published(home) as con:
        assert con.execute("select count(*) from marts.dim_bids").fetchone()[0] == 2
        assert con.execute("select count(*) from audit.rejected_files").fetchone()[0] == 2


@each_backend
def test_a_critical_check_failure_publishes_nothing_and_keeps_the_file(tmp_path, request, backend):
    home = home_on(backend, tmp_path / "home", request)
    write_handmade_inbox(home / "inbox")
    assert run_flow(home)["status"] == "succeeded"
    settings = settings_for(home)
    before = published_state(home)
    archived = sorted(settings.archive.iterdir())

    # The next night brings a new bid but not its benefits register: every bid must have one.
    write_b3(home / "inbox", register=False)
    result = run_flow(home)
    assert result["status"] == "failed"
    assert published_state(home) == before  # the last good warehouse, as readers see it
    assert (home / "inbox" / "bids" / "bids_b3.csv").exists()  # kept for the next run
    # It takes back what it wrote: no build copy, none of its archive copies.
    assert not settings.build_db.exists() and sorted(settings.archive.iterdir()) == archived
    last = read_log(settings_for(home).run_log)[-1]
    assert last["status"] == "failed"
    assert (
        "mart.dim_bids: expect_column_values_to_be_between on column 'benefits' "
        "failed for 1 row(s), e.g. ['benefits=0, bid_id=B3']" in last["error"]
    )

    # The failed run's Data Docs: only the night's one new bid row was validated on the way in,
    # the failing mart suite is marked, and it all reads in a browser with no internet (the
    # pages are files in the home, made the same from the gate's results on either backend:
    # opened once, on the file's).
    docs = settings_for(home).quality_dir / "runs" / last["run_id"]
    pages = {p["suite"]: p for p in json.loads((docs / "_pages.json").read_text())}
    assert pages["source.bids"]["rows"] == 1 and pages["source.bids"]["batch"] == "bids/bids_b3.csv"
    assert pages["mart.dim_bids"]["success"] is False
    if backend == "file":
        _open_data_docs_in_chromium(settings_for(home).quality_dir, last["run_id"])

    # The register follows: the next run loads both, and its history shows the failed run.
    write_b3(home / "inbox", register=True)
    assert run_flow(home)["status"] == "succeeded"
    with open_published(home) as con:
        statuses = [
            r[0]
            for r in con.execute(
                "select status from audit.load_runs order by started_at, run_id"
            ).fetchall()
        ]
        assert statuses == ["succeeded", "failed", "succeeded"]
        # The failed run's results are in the audit too, though it published nothing.
        assert con.execute(
            "select r.suite, r.column_name, r.unexpected_count from audit.quality_results r "
            "join audit.load_runs l using (run_id) where l.status = 'failed' and not r.success "
            "and r.level = 'critical'"
        ).fetchall() == [("mart.dim_bids", "benefits", 1)]
        assert (
            con.execute("select benefits from marts.dim_bids where bid_id = 'B3'").fetchone()[0]
            == 1
        )


@each_backend
def test_rows_that_break_a_rule_are_quarantined_and_the_rest_load(tmp_path, request, backend):
    home = home_on(backend, tmp_path / "home", request)
    write_handmade_inbox(home / "inbox")
    # An incident that arrives before it was called, beside a good one, in the same file.
    bad = fire_incident(99, "D1", datetime(2016, 6, 1, 12), 60, 300)
    bad["first_arrival_time"] = "2016-06-01 11:00:00"
    good = fire_incident(100, "D1", datetime(2016, 6, 2, 12), 60, 300)
    write_rows(home / "inbox" / "incidents" / "fire_june.csv", "incidents", [bad, good])
    result = run_flow(home)
    assert result["status"] == "succeeded with refusals", result  # a row set aside
    assert result["record"]["rows_quarantined"] == 1
    with open_published(home) as con:
        held = con.execute("""
            select q.source_row, q.column_name, q.value, q.rule, f.original_name
            from audit.quarantine q join audit.loaded_files f using (load_id)""").fetchall()
        staged = {
            r[0]
            for r in con.execute("select incident_id from staging.stg_agency__incidents").fetchall()
        }
    assert held == [
        (
            2,
            "first_arrival_time",
            "2016-06-01 11:00:00",
            "first arrival before the call",
            "incidents/fire_june.csv",
        )
    ]
    assert "F100" in staged and "F99" not in staged


@each_backend
def test_a_warning_is_recorded_but_still_publishes(tmp_path, request, backend):
    home = home_on(backend, tmp_path / "home", request)
    write_handmade_inbox(home / "inbox")
    # An award above the fund's largest (4.8m): a warning in expectations/marts/dim_bids.json,
    # though within the contract's hard limit (10m).
    path = home / "inbox" / "bids" / "bids.csv"
    path.write_text(path.read_text().replace(",300000,", ",6000000,"))
    result = run_flow(home)
    assert result["status"] == "succeeded", result
    with open_published(home) as con:
        warned = con.execute("""
            select suite, expectation, column_name, unexpected_count from audit.quality_results
            where not success and suite not like '%.periods'""").fetchall()
        recorded = con.execute(
            "select count(*) from audit.quality_results where not success and level = 'warning'"
        ).fetchone()[0]
    # (The hand-made county has months without incidents: the trend-gap warning, tested alone.)
    assert warned == [("mart.dim_bids", "expect_column_values_to_be_between", "award_gbp", 1)]
    assert result["record"]["checks_warned"] == recorded


def _open_data_docs_in_chromium(quality_dir: Path, run_id: str) -> None:
    """From quality/index.html to the run, to the failed dim_bids results, as an analyst would."""
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    ARTIFACTS.mkdir(exist_ok=True)
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: requested.append(r.url))
        page.goto((quality_dir / "index.html").as_uri())
        assert "1 suite(s) failed a critical check: not published" in page.inner_text("body")
        page.click(f"text={run_id}")
        row = page.locator("tr", has_text="mart.dim_bids")
        assert "FAILED: critical, not published" in row.inner_text()
        page.screenshot(path=str(ARTIFACTS / "quality-run.png"), full_page=True)
        row.locator("text=results").click()
        text = " ".join(page.inner_text("body").split())
        page.screenshot(path=str(ARTIFACTS / "quality-dim-bids.png"), full_page=True)
        browser.close()
    assert "Expectation Suite: mart.dim_bids" in text and "Status: Failed" in text
    # The failing column, the rule in words, and the value found.
    assert "values must be greater than or equal to 1" in text
    assert "1 unexpected values found" in text
    assert [url for url in requested if not url.startswith("file://")] == []


def test_source_suites_are_written_from_the_contracts():
    files = {p.stem for p in SOURCE_SUITES_DIR.glob("*.json")}
    assert files == set(SOURCES), "run `bluelight sources --write`"
    for name, suite in source_suites().items():
        assert suite == json.loads(suite_text(source_suite(SOURCES[name]))), (
            f"expectations/sources/{name}.json is stale: run `bluelight sources --write`"
        )
    # Every declared rule is there: e.g. incidents' service is one of the three services.
    incidents = source_suites()["incidents"]["expectations"]
    assert {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "service", "value_set": ["police", "fire", "ambulance"]},
        "meta": {"level": "critical"},
    } in incidents


def test_a_month_missing_from_a_trend_is_named_in_a_warning(tmp_path):
    # Police in Testshire sent January, February, April and May 2016: March is missing.
    # Fire sent January to March: complete. So exactly one series fails, naming 2016-03.
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(
        "create schema marts; create table marts.fct_response_times_monthly (service varchar, "
        "month date, area_type varchar, area_code varchar, county varchar, "
        "incident_category varchar)"
    )
    months = [("police", f"2016-0{m}-01") for m in (1, 2, 4, 5)]
    months += [("fire", f"2016-0{m}-01") for m in (1, 2, 3)]
    con.executemany(
        "insert into marts.fct_response_times_monthly "
        "values (?, ?, 'county', 'Testshire', 'Testshire', 'all')",
        months,
    )
    path = MART_SUITES_DIR / "fct_response_times_monthly.periods.json"
    suite = json.loads(path.read_text())
    results = check_mart(con, suite, Gate(tmp_path / "quality", "t"))
    [failed] = [r for r in results if not r.success]
    assert failed.level == "warning"
    assert failed.column == "missing_months" and failed.unexpected_count == 1
    assert failed.sample == ["missing_months=2016-03, service=police, county=Testshire"]


def _check(home: Path) -> subprocess.CompletedProcess:
    """`bluelight check` in a process of its own, on `home` (on its backend)."""
    with backend_env(home):
        env = {**os.environ, "BLUELIGHT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_bluelight_check_runs_every_suite_on_the_published_warehouse(
    demo_on_each, tmp_path, request
):
    lake = backend.on_lake(settings_for(demo_on_each))
    clean = _check(demo_on_each)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 critical failure(s)" in clean.stdout

    # A copy of the demo file whose response-time mart has two months with p90 below the
    # median (on the lake, that copy moved onto a lake of its own, and the file gone).
    planted = tmp_path / "planted"
    copy = settings_for(planted).published_db
    copy.parent.mkdir(parents=True)
    shutil.copy(settings_for(request.getfixturevalue("demo_home")).published_db, copy)
    copy.chmod(0o644)
    with duckdb.connect(str(copy)) as con:
        con.execute("""
            update marts.fct_response_times_monthly set p90_response_minutes = 0.1
            where (service, month, area_code, incident_category) in (
                select (service, month, area_code, incident_category)
                from marts.fct_response_times_monthly order by all limit 2)""")
    if lake:
        on_lake(planted, request.getfixturevalue("catalog_server"))
        assert bluelight(planted, "migrate", "--to", "ducklake") == 0
        copy.unlink()
    found = _check(planted)
    assert found.returncode == 1
    assert (
        "CRITICAL mart.fct_response_times_monthly: expect_column_pair_values_a_to_be_greater_than_b"
        " on column 'p90_response_minutes' failed for 2 row(s)" in found.stdout
    )
    assert (planted / "quality" / "index.html").exists()


@pytest.mark.parametrize("upgraded", [True, False])
def test_a_key_repeated_rows_apart_in_one_load_is_found_with_both_rows_named(tmp_path, upgraded):
    """The gate reads a load's rows where they are, in one pass: a key sent twice, nine rows
    apart, fails uniqueness, and the sample names the file and both rows. The same from raw on a
    warehouse whose accepted tables its next night will make (`bluelight check` reads it so)."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    codes = [f"D{n}" for n in range(1, 10)] + ["D1"]  # D1 again in the last row, row 11
    for row, code in enumerate(codes, start=2):
        con.execute(
            "insert into raw.boundaries values "
            "(?, 'Dale', 'Shire', 'rural', '100', 'P', 'Police', 'F', 'Fire', 'A', 'Amb', "
            "'L1', now(), 'archive/x.csv', 'x', ?, ?)",
            [code, row, row - 1],
        )
    fill_from_raw(con, SOURCES["boundaries"])  # as the load parses them
    if not upgraded:
        con.execute("drop schema accepted cascade")
    con.execute(
        "insert into audit.loaded_files (load_id, source, original_name, status) "
        "values ('L1', 'boundaries', 'boundaries/districts.csv', 'loaded')"
    )
    gate = Gate(tmp_path / "quality", "run")
    results = check_loaded_rows(con, {"boundaries": ["L1"]}, gate)
    assert [(p["batch"], p["rows"]) for p in gate.pages] == [("boundaries/districts.csv", 10)]
    [repeated] = [r for r in results if r.expectation == "expect_compound_columns_to_be_unique"]
    assert not repeated.success and repeated.unexpected_count == 2
    assert "_row=2" in str(repeated.sample) and "_row=11" in str(repeated.sample)
    assert "_file=boundaries/districts.csv" in str(repeated.sample)
    assert all(r.success for r in results if r is not repeated)


def test_the_gate_lets_go_of_each_batch_once_it_is_checked(tmp_path):
    """Memory follows one batch, not the night: after validating, nothing in GX still holds
    the rows (GX's execution engines cache every batch they load)."""
    import gc
    import weakref

    import pandas as pd

    gate = Gate(tmp_path / "quality", "run")
    expectations = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}, "meta": {}}
    ]
    held = []
    for n in range(3):
        frame = pd.DataFrame({"x": [1, 2, 3]})
        held.append(weakref.ref(frame))
        [result] = gate.validate(frame, "hand", expectations, batch=f"b{n}")
        assert result.success
        del frame
    gc.collect()
    assert [ref() for ref in held] == [None, None, None]


@pytest.mark.parametrize("run_id", ["20261128T042327-3328ad", "20261128T042327-0522ad"])
def test_a_run_id_that_reads_like_a_time_zone_is_still_checked(tmp_path, run_id):
    """Run ids end in six random hex digits. GX reads a run's time from its name when it is not
    given one, and dateutil reads '-3328ad' as a time-zone offset of -33:28 (a failed run, as
    CI found) and '-0522ad' as -05:22 (a page filed under the wrong time)."""
    import pandas as pd

    gate = Gate(tmp_path / "quality", run_id)
    expectations = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}, "meta": {}}
    ]
    [result] = gate.validate(pd.DataFrame({"x": [1, 2]}), "hand", expectations)
    assert result.success
    [page] = gate.pages
    assert page["page"].startswith(f"validations/hand/{run_id}/{gate.run_time:%Y%m%dT%H%M%S}")
    assert (gate.docs_dir / "_results" / "hand" / run_id).is_dir()
