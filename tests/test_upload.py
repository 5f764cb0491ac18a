"""The Upload page and what it stands on (flows/load/upload.py): a file sent is refused before it
is judged when it names no source, is of a type its source does not take or is too big; is
judged as `bluelight validate` judges it; and unless rejected waits in the inbox under a name no
other file has, with a sidecar saying who sent it. Every upload is in the access log. One real
night, on a copy of the demo warehouse, loads a file sent through the page and records its
sender in audit.loaded_files.sent_by (a file copied in by hand: none).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import bluelight, settings_for
from handmade import fire_incident
from streamlit.testing.v1 import AppTest

from flows.load import inbox, upload
from flows.load.recover import recover_interrupted
from flows.load.validate import LOAD, QUARANTINE, REJECT
from flows.security import access_log
from flows.sources.contracts import SOURCES
from flows.sources.errors import ContractError
from flows.sources.limits import UPLOAD_LIMIT_BYTES
from flows.warehouse.schema import ensure_schema

PAGE = Path(__file__).resolve().parents[1] / "dashboard" / "views" / "upload.py"
ANALYST = "analyst@northmoor.police.uk"
# A placed file's name: the name as sent, the UTC time, 8 hex digits of its sha256, its type.
STAMPED = r"{stem}_\d{{8}}T\d{{6}}Z_{sha8}\.csv"


def csv_bytes(source: str, rows: list[dict]) -> bytes:
    """Rows as an agency sends them: the contract's columns in its order."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SOURCES[source].column_names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def bid(bid_id: str, title: str) -> dict:
    return {**SOURCES["bids"].example, "bid_id": bid_id, "title": title}


def hidden_and_all(folder: Path) -> list[str]:
    """Every file under `folder`, hidden ones too, by its path below it."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- before judging


def test_a_file_name_suggests_the_source_whose_name_it_starts_with():
    assert upload.suggested_source("incidents.csv") == "incidents"
    assert upload.suggested_source("incidents_2016-05.xlsx") == "incidents"
    assert upload.suggested_source("Bids - round 3.csv") == "bids"
    assert upload.suggested_source("bid_costs_2017.xlsx") == "bid_costs"
    assert upload.suggested_source("AmbSYS.csv") == "ambsys"
    assert upload.suggested_source("incidentsmay.csv") is None
    assert upload.suggested_source("export.csv") is None


def test_no_source_an_unknown_source_a_type_not_taken_and_too_big_are_refused_before_judging(
    tmp_path,
):
    settings = settings_for(tmp_path)
    # Bytes the judge would call unreadable: the refusal names the type, not the content.
    for name, source, rule in [
        ("export.csv", None, "say which source the file is for"),
        ("x.csv", "parking", "no source 'parking'"),
        ("AmbSYS.xlsx", None, "a .xlsx file: ambsys takes csv"),
        ("bids", "bids", "a file without a type (.csv, ...): bids takes csv, xlsx, ods, parquet"),
    ]:
        receipt = upload.receive(settings, name, b"\x00junk", ANALYST, source)
        assert not receipt.judged, name
        assert receipt.verdict.verdict == REJECT
        assert receipt.verdict.rows == 0
        [problem] = receipt.verdict.problems
        assert problem.rule.startswith(rule), (name, problem.rule)
        assert receipt.outcome() == "Not placed: the file was refused before it was judged."
    assert not settings.inbox.exists()
    assert upload.refused("bids.csv", UPLOAD_LIMIT_BYTES, "bids") is None
    too_big = upload.refused("bids.csv", UPLOAD_LIMIT_BYTES + 1, "bids")
    assert too_big.rule.startswith(
        f"{UPLOAD_LIMIT_BYTES + 1:,} bytes, over the Upload page's limit of 200 MB"
    )


# ---------------------------------------------------------------- placing


def test_a_file_is_placed_under_a_new_name_with_its_sender_beside_it(tmp_path):
    settings = settings_for(tmp_path)
    data = csv_bytes("bids", [bid("B1", "One"), bid("B2", "Two")])
    receipt = upload.receive(settings, "C:\\Users\\ana\\bids.csv", data, ANALYST)
    assert (receipt.file, receipt.source, receipt.verdict.verdict) == ("bids.csv", "bids", LOAD)
    assert (receipt.verdict.rows, receipt.verdict.problems) == (2, [])
    placed = settings.home / receipt.placed_as
    assert re.fullmatch(STAMPED.format(stem="bids", sha8=receipt.sha256[:8]), placed.name)
    assert placed.parent == settings.inbox / "bids"
    assert placed.read_bytes() == data
    assert hidden_and_all(settings.inbox) == [
        f"bids/.{placed.name}.sender.json",
        f"bids/{placed.name}",
    ]
    kept = json.loads(inbox.sidecar_of(placed).read_text())
    assert kept == {
        "sender": ANALYST,
        "sha256": receipt.sha256,
        "received_at": receipt.received_at,
        "original_name": "bids.csv",
        "source": "bids",
    }
    assert inbox.sender_of(placed, receipt.sha256) == ANALYST
    assert [f.path for f in inbox.discover(settings.inbox)] == [placed]  # the sidecar is hidden
    assert receipt.outcome() == (
        f"Placed in the inbox as `{receipt.placed_as}`: the next night loads it."
    )


def test_a_second_file_of_the_same_name_overwrites_nothing(tmp_path):
    settings = settings_for(tmp_path)
    first, second = csv_bytes("bids", [bid("B1", "One")]), csv_bytes("bids", [bid("B1", "Uno")])
    one = upload.receive(settings, "bids.csv", first, ANALYST)
    two = upload.receive(settings, "bids.csv", second, "other@northmoor.police.uk")
    assert one.placed_as != two.placed_as
    assert (settings.home / one.placed_as).read_bytes() == first
    assert (settings.home / two.placed_as).read_bytes() == second
    assert inbox.sender_of(settings.home / one.placed_as, one.sha256) == ANALYST
    assert inbox.sender_of(settings.home / two.placed_as, two.sha256) == "other@northmoor.police.uk"
    assert len(hidden_and_all(settings.inbox)) == 4  # two files, two sidecars, no draft left


def test_the_same_bytes_again_are_not_placed_twice(tmp_path):
    settings = settings_for(tmp_path)
    data = csv_bytes("bids", [bid("B1", "One")])
    first = upload.receive(settings, "bids.csv", data, ANALYST)
    again = upload.receive(settings, "bids_again.csv", data, ANALYST)
    assert (again.placed_as, again.waiting_as) == (None, first.placed_as)
    assert again.outcome() == (
        f"Not placed: the same bytes are already waiting in the inbox as `{first.placed_as}`, "
        "which the next night loads."
    )
    assert len(hidden_and_all(settings.inbox)) == 2


def test_a_rejected_file_is_not_placed_and_its_problem_is_named(tmp_path):
    settings = settings_for(tmp_path)
    receipt = upload.receive(settings, "bids.csv", b"bid_id,title\nB9,No round\n", ANALYST)
    assert receipt.judged and receipt.verdict.verdict == REJECT
    [problem] = receipt.verdict.problems
    assert (problem.row, problem.column) == (1, "fund_round")
    assert problem.rule.startswith("missing required column(s) fund_round, lead_organisation")
    assert receipt.placed_as is None
    assert receipt.outcome() == (
        "Not placed: a night would refuse this file. Correct it and send it again."
    )
    assert hidden_and_all(settings.home) == []  # not in the inbox, nor a draft or sidecar


def test_a_refused_file_keeps_its_sidecar_and_a_stopped_run_gives_both_back(tmp_path):
    """A night that refuses an uploaded file moves its sidecar with it to rejected/; the
    recovery after a stopped run takes the sidecar for no refused file of its own, and puts it
    back in the inbox beside its file."""
    settings = settings_for(tmp_path)
    placed = (
        settings.home
        / upload.receive(
            settings, "bids.csv", csv_bytes("bids", [bid("B1", "One")]), ANALYST
        ).placed_as
    )
    item = inbox.discover(settings.inbox)[0]
    with duckdb.connect() as stopped_build:  # the stopped run's build: never published
        ensure_schema(stopped_build)
        moved = inbox.reject(
            stopped_build,
            item,
            ContractError(item.relative(settings.inbox), "refused for the test"),
            run_id="20260101T020000-stopped",
            rejected_dir=settings.rejected,
            inbox=settings.inbox,
            sha256=inbox.sha256_of(placed),
        )
    assert inbox.sidecar_of(moved).exists() and not inbox.sidecar_of(placed).exists()
    with duckdb.connect() as next_build:
        ensure_schema(next_build)
        done = recover_interrupted(next_build, settings)
    assert len(done) == 1 and "back in the inbox" in done[0]
    assert inbox.sender_of(placed, inbox.sha256_of(placed)) == ANALYST
    assert hidden_and_all(settings.home) == [
        f"inbox/bids/.{placed.name}.sender.json",
        f"inbox/bids/{placed.name}",
    ]


# ---------------------------------------------------------------- the page, and one night


@pytest.fixture(scope="module")
def upload_home(demo_home, tmp_path_factory) -> Path:
    """A copy of the demo's data directory, whose published warehouse knows the districts."""
    home = tmp_path_factory.mktemp("upload") / "home"
    shutil.copytree(demo_home, home, symlinks=True)
    return home


def incidents(home: Path, ids: list[str], responses: list[int]) -> bytes:
    """Fire incidents on the demo's last day in its first district, one per `responses` (first
    arrival, seconds after the call)."""
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        district, day = con.execute(
            "select min(district_code), (select max(call_at) from staging.stg_agency__incidents) "
            "from staging.stg_agency__boundaries"
        ).fetchone()
    call = datetime.combine(day.date(), datetime.min.time()) + timedelta(hours=9)
    rows = [
        {**fire_incident(0, district, call + timedelta(hours=n), 60, response), "incident_id": i}
        for n, (i, response) in enumerate(zip(ids, responses, strict=True))
    ]
    return csv_bytes("incidents", rows)


@pytest.fixture(scope="module")
def sent(upload_home, monkeypatch_module):
    """An analyst, signed in, sends through the page an incidents file whose second row arrives
    five minutes before its call, then the same without its district column. Returns the page after
    each, the bytes, and the inbox as it stood after the first."""
    import streamlit as st

    monkeypatch_module.setenv("BLUELIGHT_HOME", str(upload_home))
    st.cache_data.clear()
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.user = {"is_logged_in": True, "email": ANALYST}
    at.run()
    good = incidents(upload_home, ["UPLOAD-1", "UPLOAD-2", "UPLOAD-3"], [480, -300, 420])
    at.file_uploader[0].set_value(("incidents_may.csv", good, "text/csv")).run()
    chosen = at.selectbox[0].value  # the source the file's name suggests
    at.button[0].click().run()
    first = _shown(at)
    waiting = hidden_and_all(settings_for(upload_home).inbox)
    lines = [line.split(",") for line in good.decode().splitlines()]
    broken = "".join(",".join(cells[:3] + cells[4:]) + "\n" for cells in lines)  # no district
    at.file_uploader[0].set_value(("incidents_late.csv", broken.encode(), "text/csv")).run()
    at.button[0].click().run()
    return {
        "chosen": chosen,
        "first": first,
        "second": _shown(at),
        "good": good,
        "broken": broken.encode(),
        "waiting": waiting,
    }


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _shown(at) -> dict:
    assert not at.exception, at.exception[0].value
    return {
        "verdict": [e.value for e in (*at.success, *at.warning, *at.error)],
        "problems": [
            tuple(None if pd.isna(v) else v for v in row)
            for row in at.table[0].value.reset_index().itertuples(index=False)
        ]
        if len(at.table)
        else [],
        "outcome": [m.value for m in at.markdown],
    }


def test_the_page_names_the_bad_row_and_the_file_waits_in_the_inbox(sent, upload_home):
    assert sent["chosen"] == "incidents"
    first = sent["first"]
    assert first["verdict"] == [
        "**load with rows quarantined**: incidents_may.csv (incidents), 3 row(s), 1 set aside"
    ]
    call = sent["good"].decode().splitlines()[2].split(",")[4]
    arrival = (datetime.fromisoformat(call) - timedelta(seconds=300)).isoformat(" ")
    assert first["problems"] == [
        (3, "first_arrival_time", "first arrival before the call", arrival)
    ]
    [outcome] = first["outcome"]
    placed = re.fullmatch(
        r"Placed in the inbox as `(inbox/incidents/(.+))`: the next night "
        r"loads it, setting aside the rows listed\.",
        outcome,
    )
    assert placed, outcome
    name = placed.group(2)
    assert re.fullmatch(STAMPED.format(stem="incidents_may", sha8=r"[0-9a-f]{8}"), name)
    assert sent["waiting"] == [f"incidents/.{name}.sender.json", f"incidents/{name}"]


def test_a_rejected_upload_names_its_problem_and_is_not_placed(sent):
    second = sent["second"]
    assert second["verdict"] == ["**reject**: incidents_late.csv (incidents), 0 row(s)"]
    [(row, column, rule, value)] = second["problems"]
    assert (row, column, rule, value) == (
        1,
        "district_code",
        "missing required column(s) district_code",
        None,
    )
    assert second["outcome"] == [
        "Not placed: a night would refuse this file. Correct it and send it again."
    ]


def test_the_access_log_holds_each_upload_with_its_sha256(sent, upload_home):
    import hashlib

    uploads = [
        e
        for _, e in access_log.entries(settings_for(upload_home).access_log)
        if e and e["event"] == "upload"
    ]
    assert [(e["who"], e["page"], e["sha256"], e["rows"]) for e in uploads] == [
        (ANALYST, "Upload", hashlib.sha256(sent["good"]).hexdigest(), 3),
        (ANALYST, "Upload", hashlib.sha256(sent["broken"]).hexdigest(), 0),
    ]
    assert [(e["detail"]["file"], e["detail"]["verdict"]) for e in uploads] == [
        ("incidents_may.csv", QUARANTINE),
        ("incidents_late.csv", REJECT),
    ]
    assert uploads[0]["detail"]["placed_as"].startswith("inbox/incidents/incidents_may_")
    assert uploads[1]["detail"]["placed_as"] is None


def test_the_night_records_who_sent_each_file(sent, upload_home):
    """The uploaded file and one copied in by hand load in one night: the first with its
    sender, the second with none; both leave the inbox, the sidecar going to the archive."""
    settings = settings_for(upload_home)
    by_hand = settings.inbox / "incidents" / "by_hand.csv"
    by_hand.write_bytes(incidents(upload_home, ["UPLOAD-4"], [400]))
    assert bluelight(upload_home, "run") == 3  # a row set aside: succeeded with refusals
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        loaded = con.execute(
            "select original_name, rows, rows_quarantined, sent_by, sha256, status "
            "from audit.loaded_files where original_name like 'incidents/%' and run_id = "
            "(select max(run_id) from audit.loaded_files) order by original_name"
        ).fetchall()
        held = con.execute(
            "select q.source_row, q.rule from audit.quarantine as q "
            "join audit.loaded_files as f using (load_id) where f.sent_by = ?",
            [ANALYST],
        ).fetchall()
    [by_hand_row, uploaded_row] = loaded
    assert by_hand_row[:4] == ("incidents/by_hand.csv", 1, 0, None)  # copied in by hand
    name, rows, quarantined, sender, sha256, status = uploaded_row
    assert name.startswith("incidents/incidents_may_")
    assert (rows, quarantined, sender, status) == (3, 1, ANALYST, "loaded")
    assert held == [(3, "first arrival before the call")]
    assert hidden_and_all(settings.inbox) == []
    archived = json.loads((settings.archive / f".{sha256}.csv.sender.json").read_text())
    assert (archived["sender"], archived["original_name"]) == (ANALYST, "incidents_may.csv")
