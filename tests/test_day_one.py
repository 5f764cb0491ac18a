"""Day one on real data: a data directory made by `bluelight init`, fed only the published
statistics a force can download today, publishes; the marts that need agency extracts wait for
them, by name and inbox folder; a later night with the extracts fills them and leaves the
national figures as they were. A mart whose sources did load but came out empty still fails."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from conftest import bluelight, mart_rows, run_flow, settings_for, write_public_inbox
from handmade import benefit, write_handmade_inbox, write_rows

from flows.demo.data import write_demo_inbox
from flows.sources.contracts import SOURCES

AGENCY = [name for name, source in SOURCES.items() if source.kind == "agency"]
NATIONAL_MARTS = [
    "marts.fct_police_workforce",
    "marts.fct_ambulance_response_monthly",
    "marts.dim_fire_stations",
    "marts.dim_district_lookups",
    "marts.fct_area_coterminosity",
]


def init(home) -> None:
    """`bluelight init` on `home`, as a user runs it."""
    assert bluelight(home, "init") == 0


@pytest.fixture(scope="module")
def day_one(tmp_path_factory):
    home = tmp_path_factory.mktemp("day_one")
    init(home)
    write_public_inbox(home / "inbox")
    result = run_flow(home)
    return home, result


@pytest.fixture
def day_one_marts(day_one):
    """The published warehouse, opened per test: DuckDB hands a process one instance per path,
    so a connection held across the later night would keep reading the file it replaced."""
    home, _result = day_one
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        yield con


def test_init_makes_an_inbox_folder_for_every_source(tmp_path):
    init(tmp_path / "new")
    assert sorted(p.name for p in (tmp_path / "new" / "inbox").iterdir()) == sorted(SOURCES)
    assert not (tmp_path / "new" / "warehouse" / "bluelight.duckdb").exists()


def test_a_night_of_published_statistics_alone_publishes(day_one):
    home, result = day_one
    assert result["status"] == "succeeded", result
    assert settings_for(home).published_db.exists()
    assert {o["status"] for o in result["outcomes"]} == {"loaded"}
    warnings = result["record"]["warnings"]
    assert (
        "fct_benefit_realisation is waiting for benefits_register (inbox/benefits_register/), "
        "bids (inbox/bids/), boundaries (inbox/boundaries/), estates (inbox/estates/), "
        "incidents (inbox/incidents/)" in warnings
    )
    assert (
        "dim_bids is waiting for benefits_register (inbox/benefits_register/), bids "
        in " ".join(warnings)
    )
    assert not any(w.startswith("fct_police_workforce") for w in warnings)


def test_waiting_marts_are_recorded_in_audit(day_one_marts):
    readiness = {
        mart: (status, waiting)
        for mart, status, waiting in day_one_marts.execute(
            "select mart, status, waiting_for from audit.mart_readiness"
        ).fetchall()
    }
    assert readiness["fct_response_times_monthly"] == ("waiting", ["boundaries", "incidents"])
    assert readiness["dim_bids"] == ("waiting", ["benefits_register", "bids"])
    assert readiness["fct_police_workforce"] == ("ready", [])
    assert readiness["dim_fire_stations"] == ("ready", [])
    # The row-count check of a waiting mart is recorded as a warning, not a critical failure.
    checks = day_one_marts.execute(
        "select level, success from audit.quality_results "
        "where suite = 'mart.fct_benefit_realisation' "
        "and expectation = 'expect_table_row_count_to_be_between'"
    ).fetchall()
    assert checks == [("warning", False)]


def test_national_figures_match_the_published_files(day_one_marts):
    con = day_one_marts
    # Table_1, row 50 of the ODS: Avon & Somerset's officers at 30 September 2015, 2,686.14 FTE.
    assert con.execute(
        "select fte from marts.fct_police_workforce where force_name = 'Avon & Somerset' "
        "and table_name = 'Table_1' and as_at_date = '2015-09-30'"
    ).fetchone() == (2686.14,)
    # AmbSYS.csv, Year 2019, Month 1, RRU (London): A26, the C1 90th centile, is 630 seconds.
    assert con.execute(
        "select p90_response_minutes from marts.fct_ambulance_response_monthly "
        "where trust_code = 'RRU' and month = '2019-01-01' and category = 'C1'"
    ).fetchone() == (10.5,)
    # The stations list has 21 rows whose FRS_FULLNAME is Avon.
    assert con.execute(
        "select count(*) from marts.dim_fire_stations where frs_name = 'Avon'"
    ).fetchone() == (21,)


def test_coterminosity_of_every_police_force_area(day_one_marts):
    areas = day_one_marts.execute(
        "select count(*) from marts.fct_area_coterminosity where area_type = 'police_force_area'"
    ).fetchone()
    assert areas == (43,)
    # Cleveland's four districts (Hartlepool, Middlesbrough, Redcar and Cleveland, Stockton-on-
    # Tees) are all in the Cleveland fire authority in the 2021 lookup, which holds no others.
    assert day_one_marts.execute(
        "select districts, matched_districts, main_partner_name, district_share, is_coterminous "
        "from marts.fct_area_coterminosity where area_code = 'E23000013'"
    ).fetchone() == (4, 4, "Cleveland", 1.0, True)


def test_status_says_what_loaded_and_what_waits(day_one, capsys):
    home, _result = day_one
    assert bluelight(home, "status") == 0
    text = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith("  ")}
    assert lines["ambsys"][1:4] == ["published", "1", "98,154"]
    assert lines["bids"][1:4] == ["agency", "0", "0"] and lines["bids"][-1] == "never"
    assert lines["fct_bid_value"][1:] == [
        "waiting",
        "0",
        "benefits_register,",
        "bid_costs,",
        "bids,",
        "boundaries,",
        "estates,",
        "incidents",
    ]
    assert lines["fct_police_workforce"][1:] == ["ready", "645"]
    assert "in force: run " in text


@pytest.fixture(scope="module")
def second_night(day_one, tmp_path_factory):
    """The demo's agency extracts (and none of its published files) arrive on a later night."""
    home, _result = day_one
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        before = {table: mart_rows(con, table) for table in NATIONAL_MARTS}
    demo = tmp_path_factory.mktemp("demo_inbox")
    write_demo_inbox(demo, seed=2014, scale=0.02, progress=lambda *_: None)
    for folder in AGENCY:
        for path in (demo / folder).iterdir():
            shutil.copy(path, home / "inbox" / folder)
    result = run_flow(home)
    return home, result, before


def test_a_later_night_of_agency_extracts_fills_the_benefit_marts(second_night):
    home, result, before = second_night
    assert result["status"] == "succeeded", result
    # FIRE1001 is still to come, but published statistics are optional: recorded, not warned.
    assert not [w for w in result["record"]["warnings"] if "waiting for" in w]
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_benefit_realisation").fetchone()[0] > 0
        assert con.execute("select count(*) from marts.fct_bid_value").fetchone()[0] > 0
        assert con.execute(
            "select count(*) from audit.mart_readiness where status <> 'ready'"
        ).fetchone() == (1,)  # fct_fire_response_yearly: no FIRE1001 yet
        after = {table: mart_rows(con, table) for table in NATIONAL_MARTS}
    assert after == before


def test_a_mart_whose_sources_loaded_but_came_out_empty_still_fails(tmp_path):
    """Every source of the benefit marts loads, but no register row is accepted (each names a
    bid that does not exist): the marts are empty for a reason, so nothing is published."""
    home = tmp_path / "home"
    write_handmade_inbox(home / "inbox")
    for path in (home / "inbox" / "benefits_register").iterdir():
        path.unlink()
    stray = benefit(
        "X1",
        "NO-SUCH-BID",
        "fire_call_handling_mean_seconds",
        "seconds",
        "decrease",
        100,
        40,
        "2017-03-31",
        1.0,
    )
    write_rows(home / "inbox" / "benefits_register" / "register.csv", "benefits_register", [stray])
    result = run_flow(home)
    assert result["status"] == "failed"
    assert "mart.fct_benefit_realisation: expect_table_row_count_to_be_between" in result["error"]
    assert not settings_for(home).published_db.exists()
