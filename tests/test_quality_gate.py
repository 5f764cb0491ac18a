"""Bad data never reaches a commissioner: refused files, failed checks, nothing published."""

from __future__ import annotations

import hashlib
from datetime import datetime

import duckdb
from conftest import run_flow, settings_for
from handmade import benefit, fire_incident, write_handmade_inbox, write_rows

from flows.runlog import read_log


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_that_breaks_its_contract_is_refused_and_the_rest_still_loads(tmp_path):
    home = tmp_path
    write_handmade_inbox(home / "inbox")
    (home / "inbox" / "bids" / "late_bids.csv").write_text("bid_id,title\nB9,No round\n")
    (home / "inbox" / "parking" / "notes.csv").parent.mkdir()
    (home / "inbox" / "parking" / "notes.csv").write_text("a,b\n1,2\n")
    result = run_flow(home)
    assert result["status"] == "succeeded", result
    refused = {o["path"]: o["reason"] for o in result["outcomes"] if o["status"] == "rejected"}
    assert set(refused) == {"bids/late_bids.csv", "parking/notes.csv"}
    reason = (home / "rejected").rglob("late_bids.csv.reason.txt").__next__().read_text()
    assert "file: bids/late_bids.csv\nrow: 1\ncolumn: fund_round\n" in reason
    assert "no source owns the folder 'parking'" in refused["parking/notes.csv"]
    assert next((home / "rejected").rglob("late_bids.csv")).read_text().startswith("bid_id,")
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_bids").fetchone()[0] == 2
        assert con.execute("select count(*) from audit.rejected_files").fetchone()[0] == 2


def test_a_critical_check_failure_publishes_nothing_and_keeps_the_file(tmp_path):
    home = tmp_path
    write_handmade_inbox(home / "inbox")
    assert run_flow(home)["status"] == "succeeded"
    published = settings_for(home).published_db
    before = _sha(published)

    # The next night brings a new bid but not its benefits register: every bid must have one.
    late = {
        "bid_id": "B3",
        "title": "Bid B3",
        "fund_round": "PIF 2016/17",
        "lead_organisation": "Test PCC",
        "partners": "Test police;Test fire",
        "county": "Testshire",
        "award_gbp": 100_000,
        "partner_contribution_gbp": 0,
        "go_live_date": "2016-04-01",
    }
    write_rows(home / "inbox" / "bids" / "bids_b3.csv", "bids", [late])
    result = run_flow(home)
    assert result["status"] == "failed"
    assert _sha(published) == before  # byte for byte the last good warehouse
    assert (home / "inbox" / "bids" / "bids_b3.csv").exists()  # kept for the next run
    last = read_log(settings_for(home).run_log)[-1]
    assert last["status"] == "failed"
    assert (
        "mart.dim_bids: expect_column_values_to_be_between on column 'benefits' "
        "failed for 1 row(s)" in last["error"]
    )

    # The register follows: the next run loads both, and its history shows the failed run.
    write_rows(
        home / "inbox" / "benefits_register" / "B3.xlsx",
        "benefits_register",
        [
            benefit(
                "BEN5",
                "B3",
                "fire_call_handling_mean_seconds",
                "seconds",
                "decrease",
                100,
                90,
                "2017-03-31",
                1.0,
            )
        ],
    )
    assert run_flow(home)["status"] == "succeeded"
    with duckdb.connect(str(published), read_only=True) as con:
        statuses = [
            r[0]
            for r in con.execute(
                "select status from audit.load_runs order by started_at, run_id"
            ).fetchall()
        ]
        assert statuses == ["succeeded", "failed", "succeeded"]
        assert (
            con.execute("select benefits from marts.dim_bids where bid_id = 'B3'").fetchone()[0]
            == 1
        )


def test_rows_that_break_a_rule_are_quarantined_and_the_rest_load(tmp_path):
    home = tmp_path
    write_handmade_inbox(home / "inbox")
    # An incident that arrives before it was called, beside a good one, in the same file.
    bad = fire_incident(99, "D1", datetime(2016, 6, 1, 12), 60, 300)
    bad["first_arrival_time"] = "2016-06-01 11:00:00"
    good = fire_incident(100, "D1", datetime(2016, 6, 2, 12), 60, 300)
    write_rows(home / "inbox" / "incidents" / "fire_june.csv", "incidents", [bad, good])
    result = run_flow(home)
    assert result["status"] == "succeeded", result
    assert result["record"]["rows_quarantined"] == 1
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
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


def test_a_warning_is_recorded_but_still_publishes(tmp_path):
    home = tmp_path
    write_handmade_inbox(home / "inbox")
    # An award above the fund's largest (4.8m): a warning in expectations/marts/dim_bids.json,
    # though within the contract's hard limit (10m).
    path = home / "inbox" / "bids" / "bids.csv"
    path.write_text(path.read_text().replace(",300000,", ",6000000,"))
    result = run_flow(home)
    assert result["status"] == "succeeded", result
    assert result["record"]["checks_warned"] == 1
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        warned = con.execute("""
            select suite, expectation, column_name, unexpected_count from audit.quality_results
            where not success""").fetchall()
    assert warned == [("mart.dim_bids", "expect_column_values_to_be_between", "award_gbp", 1)]
